"""``graphrec benchmark --jobs`` (models in parallel processes) and ``--readme`` (the table written into a file)."""
import csv

from graphrec.benchmark.report import README_BEGIN, README_END, replace_readme_block
from graphrec.cli import main

MODELS = "mostpop,itemknn,gmf,mlp,neumf-pre"


def _seeds(out):
    return [(r["model"], r["seed"], r["setting"], r["HR@10"], r["full_NDCG@10"], r["best_epoch"])
            for r in csv.DictReader(open(out / "seeds.csv"))]


def test_parallel_jobs_give_the_sequential_results(synth_dir, tmp_path):
    runs = {}
    for jobs in (1, 2):
        out = tmp_path / f"jobs{jobs}"
        assert main(["benchmark", "--quick", "--models", MODELS, "--seeds", "2", "--jobs", str(jobs), "--threads", "1",
                     "--out", str(out), "--data-dir", str(synth_dir), "--quiet"]) == 0
        runs[jobs] = _seeds(out)
        # NeuMF-pre started from this benchmark's own GMF and MLP runs in both modes
        assert (out / "runs" / "gmf").is_dir() and (out / "runs" / "neumf-pre").is_dir()
        md = (out / "results.md").read_text()
        assert ("2 processes" in md) == (jobs == 2) and "Wall time" in md
    assert runs[1] == runs[2] and [r[0] for r in runs[1][::2]] == MODELS.split(",")


def test_readme_block_is_replaced_and_the_rest_kept():
    text = f"# Title\n\nintro\n{README_BEGIN}\nold table\n{README_END}\n\n## After\n"
    new = replace_readme_block(text, "| model |\n|---|\n| ease |\n")
    assert new == f"# Title\n\nintro\n{README_BEGIN}\n| model |\n|---|\n| ease |\n{README_END}\n\n## After\n"
    assert replace_readme_block(new, "| model |\n|---|\n| ease |\n") == new  # idempotent


def test_benchmark_writes_its_table_into_the_readme(synth_dir, tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text(f"before\n{README_BEGIN}\nstale\n{README_END}\nafter\n")
    assert main(["benchmark", "--quick", "--models", "mostpop,itemknn", "--seeds", "1", "--out", str(tmp_path / "r"),
                 "--data-dir", str(synth_dir), "--readme", str(readme), "--quiet"]) == 0
    text = readme.read_text()
    assert text.startswith(f"before\n{README_BEGIN}\n") and text.endswith(f"{README_END}\nafter\n")
    assert "stale" not in text and "| itemknn |" in text and text.count("| model |") == 1


def test_a_readme_without_markers_is_refused_before_any_training(synth_dir, tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text("no markers here\n")
    out = tmp_path / "r"
    assert main(["benchmark", "--quick", "--models", "mostpop", "--out", str(out), "--data-dir", str(synth_dir),
                 "--readme", str(readme)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("graphrec: error: --readme needs one line") and err.count("\n") == 1
    assert readme.read_text() == "no markers here\n" and not out.exists()
