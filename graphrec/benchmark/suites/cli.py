"""``graphrec benchmark --suite cli``: start-up of ``graphrec`` commands, as ratios to a bare ``import torch``.

Every command runs in a fresh process, ``--runs`` times (default 5), interleaved with the bare torch import so
that both see the same machine load; the table shows each command's median wall time and its ratio to the
torch import's median. All commands are warm: a first untimed round trains the default models on first use
and fills the processed-data cache. ``recommend --no-cache`` shows what parsing MovieLens and rebuilding the
split cost on every call. The new-user and new-movie rows score with a ``hetero-sage`` run (``--hetero-run``;
by default one trained for 2 epochs on first use beside the cache: training quality does not change the cost).
``--quick`` times only the commands that train nothing (``--help``), one run each. Writes ``cli.md`` and
``cli.json``.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ...errors import GraphrecError
from . import save

#: The folder holding the graphrec package, put first on the timed processes' path.
ROOT = Path(__file__).resolve().parents[3]
#: (label, graphrec arguments, target): a ratio to the bare torch import, or seconds when the target ends in "s".
COMMANDS = [
    ("graphrec --help", ["--help"], "0.3 s"),
    ("graphrec benchmark --help", ["benchmark", "--help"], "0.3 s"),
    ("graphrec recommend --user 1", ["recommend", "--user", "1"], "1.5x"),
    ('graphrec similar "Star Wars"', ["similar", "Star Wars"], "1.5x"),
    ("graphrec explain --user 1 --movie 50", ["explain", "--user", "1", "--movie", "50"], "2x"),
    ("graphrec recommend --all-users --out recs.csv", ["recommend", "--all-users", "--out", "{tmp}/recs.csv"], "2x"),
    ("graphrec recommend --user 1 --no-cache", ["recommend", "--user", "1", "--no-cache"], ""),
    ('graphrec recommend --new-user --gender F --age 25 --occupation student --liked "Star Wars;Fargo" --run RUN',
     ["recommend", "--new-user", "--gender", "F", "--age", "25", "--occupation", "student", "--liked",
      "Star Wars;Fargo", "--run", "{run}"], "1.5x"),
    ("graphrec recommend --user 1 --include-new-movies new.csv --run RUN",
     ["recommend", "--user", "1", "--include-new-movies", "{tmp}/new.csv", "--run", "{run}"], ""),
]
#: The rows of ``--quick``: nothing to train first.
QUICK = ("graphrec --help", "graphrec benchmark --help")
#: The new titles ranked by the last row.
NEW_MOVIES = "title,year,genres\nA,1999,Drama|Romance\nB,1960,Action\nC,2001,Animation|Children's|Comedy\n"
BASELINE = ("python -c 'import torch'", [sys.executable, "-c", "import torch"])


def wall(argv: list[str], env: dict) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise GraphrecError(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()[-300:]}")
    return seconds


def run(args, out: Path) -> list[Path]:
    runs = args.runs or (1 if args.quick else 5)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
           "OMP_NUM_THREADS": str(args.threads or 1)}
    if args.data_dir:
        env["GRAPHREC_DATA"] = str(Path(args.data_dir).resolve())
    if args.home:
        env["GRAPHREC_HOME"] = str(Path(args.home).resolve())
    chosen = [c for c in COMMANDS if not args.quick or c[0] in QUICK]
    with tempfile.TemporaryDirectory() as tmp:
        home = env.get("GRAPHREC_HOME") or tmp
        run_dir = Path(args.hetero_run or Path(home) / "bench-runs" / "hetero-sage")
        if any("{run}" in a for _, argv, _ in chosen for a in argv) and not (run_dir / "metrics.json").is_file():
            print(f"training a hetero-sage run for the new-user rows in {run_dir} ...", file=sys.stderr, flush=True)
            wall([sys.executable, "-m", "graphrec", "train", "hetero-sage", "--epochs", "2", "--quiet", "--out",
                  str(run_dir.parent), "--name", run_dir.name], env)
        save(Path(tmp, "new.csv"), NEW_MOVIES)
        commands = [(label, [sys.executable, "-m", "graphrec", *(a.format(tmp=tmp, run=run_dir) for a in argv)],
                     target) for label, argv, target in chosen]
        print("warming up (trains the default models on first use) ...", file=sys.stderr, flush=True)
        for _, argv, _ in commands:
            wall(argv, env)
        times: dict[str, list[float]] = {label: [] for label in [BASELINE[0], *(c[0] for c in commands)]}
        for n in range(runs):
            times[BASELINE[0]].append(wall(BASELINE[1], env))
            for label, argv, _ in commands:
                times[label].append(wall(argv, env))
            print(f"round {n + 1}/{runs} done", file=sys.stderr, flush=True)
    base = statistics.median(times[BASELINE[0]])
    rows = [{"command": BASELINE[0], "median_s": base, "ratio": 1.0, "target": "", "met": None}]
    for label, _, target in commands:
        m = statistics.median(times[label])
        ok = (m <= float(target[:-2]) if target.endswith("s") else m / base <= float(target[:-1])) if target else None
        rows.append({"command": label, "median_s": m, "ratio": m / base, "target": target, "met": ok})
    lines = [f"median of {runs} runs; ratio = median / median of the bare torch import ({base:.2f} s)\n",
             "| command | median (s) | ratio | target | met |", "|---|---:|---:|---:|:---:|"]
    lines += [f"| `{r['command']}` | {r['median_s']:.2f} | {r['ratio']:.2f}x | {r['target']} | "
              f"{'' if r['met'] is None else ('yes' if r['met'] else 'NO')} |" for r in rows]
    text = "\n".join(lines) + "\n"
    print(text)
    return [save(out / "cli.md", text), save(out / "cli.json", {"runs": runs, "rows": rows, "times": times})]
