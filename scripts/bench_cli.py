"""Start-up cost of the ``graphrec`` command line, as ratios to a bare ``python -c "import torch"``.

Every command runs in a fresh process, ``--runs`` times, interleaved with the
bare torch import so that both see the same machine load; the table shows each
command's median wall time and its ratio to the torch import's median.

All commands are warm: a first untimed round trains the default models on first
use and fills the processed-data cache. ``recommend --no-cache`` shows what
parsing MovieLens and rebuilding the split cost on every call without the cache.
The new-user and new-movie rows score with a ``hetero-sage`` run (``--hetero-run``;
by default one trained for 2 epochs on first use beside the cache: training
quality does not change the cost of a recommendation).

    python scripts/bench_cli.py --data-dir ../shared/data/ml-100k [--runs 5] [--home DIR] [--hetero-run DIR]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: (label, graphrec arguments, target): a ratio to the bare torch import, or seconds when the target ends in "s".
COMMANDS = [
    ("graphrec --help", ["--help"], "0.3 s"),
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
#: The new titles ranked by the last row.
NEW_MOVIES = "title,year,genres\nA,1999,Drama|Romance\nB,1960,Action\nC,2001,Animation|Children's|Comedy\n"
BASELINE = ("python -c 'import torch'", [sys.executable, "-c", "import torch"])


def wall(argv: list[str], env: dict) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        sys.exit(f"bench_cli: {' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return seconds


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=5, help="timed runs per command (default 5)")
    p.add_argument("--data-dir", help="MovieLens-100K folder (else $GRAPHREC_DATA)")
    p.add_argument("--home", help="GRAPHREC_HOME to use (default: $GRAPHREC_HOME or the platform's cache folder); "
                                  "default models are trained there on first use")
    p.add_argument("--hetero-run", help="a hetero-sage run directory for the new-user rows (default: trained for "
                                        "2 epochs on first use, under --home or a temporary folder)")
    args = p.parse_args()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    if args.data_dir:
        env["GRAPHREC_DATA"] = str(Path(args.data_dir).resolve())
    if args.home:
        env["GRAPHREC_HOME"] = str(Path(args.home).resolve())
    with tempfile.TemporaryDirectory() as tmp:
        home = env.get("GRAPHREC_HOME") or tmp
        run = Path(args.hetero_run or Path(home) / "bench-runs" / "hetero-sage")
        if not (run / "metrics.json").is_file():
            print(f"training a hetero-sage run for the new-user rows in {run} ...", file=sys.stderr, flush=True)
            wall([sys.executable, "-m", "graphrec", "train", "hetero-sage", "--epochs", "2", "--quiet", "--out",
                  str(run.parent), "--name", run.name], env)
        Path(tmp, "new.csv").write_text(NEW_MOVIES)
        commands = [(label, [sys.executable, "-m", "graphrec", *(a.format(tmp=tmp, run=run) for a in argv)], target)
                    for label, argv, target in COMMANDS]
        print("warming up (trains the default models on first use) ...", file=sys.stderr, flush=True)
        for _, argv, _ in commands:
            wall(argv, env)
        times: dict[str, list[float]] = {label: [] for label, _, _ in [(*BASELINE, ""), *commands]}
        for n in range(args.runs):
            times[BASELINE[0]].append(wall(BASELINE[1], env))
            for label, argv, _ in commands:
                times[label].append(wall(argv, env))
            print(f"round {n + 1}/{args.runs} done", file=sys.stderr, flush=True)
    base = statistics.median(times[BASELINE[0]])
    rows = [(BASELINE[0], base, 1.0, "", "")]
    for label, _, target in commands:
        m = statistics.median(times[label])
        if target.endswith("s"):
            ok = m <= float(target[:-2])
        else:
            ok = m / base <= float(target[:-1]) if target else None
        rows.append((label, m, m / base, target, "" if ok is None else ("yes" if ok else "NO")))
    print(f"median of {args.runs} runs; ratio = median / median of the bare torch import ({base:.2f} s)\n")
    print("| command | median (s) | ratio | target | met |")
    print("|---|---:|---:|---:|:---:|")
    for label, m, ratio, target, ok in rows:
        print(f"| `{label}` | {m:.2f} | {ratio:.2f}x | {target} | {ok} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
