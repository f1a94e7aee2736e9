"""``graphrec benchmark --suite NAME --quick`` end to end on synthetic data: each suite writes its files; a wrong
suite or a flag the suite does not take is one clear line and exit 2."""
import json

import pytest

from graphrec.benchmark.suites import COMMON, SUITES, refused
from graphrec.cli import main


def bench(*argv) -> int:
    try:
        return main(["benchmark", *argv])
    except SystemExit as e:  # argparse's errors exit
        return e.code


@pytest.fixture
def quick(synth_dir, tmp_path):
    def run(suite: str, *extra) -> tuple[int, object]:
        out = tmp_path / suite
        return bench("--suite", suite, "--quick", "--out", str(out), *extra), out
    return run


def test_every_suite_has_a_module_with_run():
    for name, suite in SUITES.items():
        if name != "models":
            assert callable(suite.module().run), name


@pytest.mark.parametrize("suite,extra,files", [
    ("data", (), ("data.md", "data.json")),
    ("speed", ("--max-len", "8"), ("speed.md", "speed.json")),
    ("explain", ("--pairs", "4"), ("explain.md", "explain.json")),
    ("embeddings", ("--set", "dim=4"), ("embeddings.md", "embeddings.json")),
    ("similar", ("--only", "old default"), ("similar.md", "similar.json")),
    ("coldstart", ("--skip-warm",), ("coldstart.md", "coldstart.json")),
])
def test_suite_quick_writes_its_files(quick, synth_dir, suite, extra, files, capsys):
    code, out = quick(suite, "--data-dir", str(synth_dir), *extra)
    assert code == 0
    for name in files:
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    assert "wrote " in capsys.readouterr().out


def test_data_suite_counts_the_data(quick, synth_dir):
    code, out = quick("data", "--data-dir", str(synth_dir), "--neg", "2")
    d = json.loads((out / "data.json").read_text())
    assert code == 0 and d["num_ng"] == 2 and d["repeat"] == 1 and set(d["seconds"]) and \
        all(v > 0 for v in d["seconds"].values())
    assert "| build HeteroData |" in (out / "data.md").read_text()


def test_embeddings_sweep_and_settings(quick, synth_dir):
    code, out = quick("embeddings", "--data-dir", str(synth_dir), "--vary", "window=2,3", "--set", "center=false")
    rows = json.loads((out / "sweep.json").read_text())
    assert code == 0 and [r["setting"] for r in rows] == ["base", "window=2", "window=3"]
    assert [r["config"]["window"] for r in rows][1:] == [2, 3] and not any(r["config"]["center"] for r in rows)


def test_coldstart_choices_on_validation_splits(quick, synth_dir):
    code, out = quick("coldstart", "--data-dir", str(synth_dir), "--tune-term")
    assert code == 0
    tuned = json.loads((out / "hetero-sage.json").read_text())
    assert tuned["tuning"]["new_user_term"]["split"] == "cold splits seeds [100]"
    assert tuned["hparams"]["demo_prior"] in (20.0, 50.0, 100.0, 1000.0)
    code, out = quick("coldstart", "--data-dir", str(synth_dir), "--liked-order")
    assert code == 0 and "| 5 |" in (out / "coldstart.md").read_text()


def test_cli_suite_times_help(quick, synth_dir):
    code, out = quick("cli")
    rows = json.loads((out / "cli.json").read_text())["rows"]
    assert code == 0 and [r["command"] for r in rows][1:] == ["graphrec --help", "graphrec benchmark --help"]
    assert all(r["median_s"] > 0 for r in rows)


def test_scale_suite_in_a_child_process(quick):
    code, out = quick("scale", "--sizes", "200K", "--eval-users", "100")
    rows = json.loads((out / "scale.json").read_text())["rows"]
    assert code == 0 and rows[0]["ratings"] == 200_000 and rows[0]["GMF epoch"] > 0


def test_serve_suite_load_and_batching(quick, neumf_run):
    code, out = quick("serve", "--run", str(neumf_run), "--scenarios", "recommend,batching", "--max-requests", "20")
    res = json.loads((out / "serve.json").read_text())["scenarios"]
    assert code == 0 and res["recommend"]["requests"] == 20 and res["recommend"]["errors"] == 0
    assert [r["batch"] for r in res["batching"]] == [1, 2]


@pytest.mark.parametrize("argv,message", [
    (["--suite", "nope"], "invalid choice: 'nope'"),
    (["--suite", "data", "--sizes", "1M"], "--suite data does not take --sizes"),
    (["--suite", "scale", "--seeds", "2"], "--suite scale does not take --seeds"),
    (["--suite", "cli", "--models", "neumf"], "--suite cli does not take --models"),
    (["--sizes", "1M"], "--suite models does not take --sizes"),
    (["--suite", "serve", "--seconds", "601"], "must be <= 600"),
    (["--suite", "serve", "--scenarios", "recommend"], "--suite serve needs --run DIR"),
    (["--suite", "serve", "--run", "x", "--server-args", "--host 0.0.0.0"], "127.0.0.1 and a free port only"),
    (["--suite", "embeddings", "--set", "nope=1"], "unknown embedding setting 'nope'"),
    (["--suite", "scale", "--sizes", "lots"], "--sizes lots: not a number of ratings"),
])
def test_wrong_suite_or_flag_is_one_line_exit_2(argv, message, tmp_path, capsys):
    assert bench(*argv, "--out", str(tmp_path / "o")) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1, err


def test_refused_flags_are_those_of_other_suites():
    assert refused("data", {"sizes", "repeat", "out", "quick"}) == ["sizes"]
    assert refused("coldstart", {"seeds", "tune", "out"}) == []
    assert all(not (s.takes & COMMON) for s in SUITES.values())
