"""Load test of ``graphrec serve``: N concurrent clients for a fixed time, on 127.0.0.1 only.

Starts ``graphrec serve`` itself (a child process on a free port of 127.0.0.1), runs each scenario with
``--clients`` closed-loop asyncio clients (httpx, keep-alive; each sends its next request when its last
one is answered) for ``--seconds`` or ``--max-requests``, whichever comes first, then stops the server.
Reports per scenario: requests, errors, requests/s, p50/p90/p99/max latency, the server's and the
client's CPU time per request, the machine's load average, the server's RSS at the start and end and its
peak (VmHWM), and which run ids answered.

Scenarios: ``recommend`` (GET /users/{u}/recommendations?k=10, users cycled), ``similar``
(GET /movies/{m}/similar?k=10), ``new-user`` (POST /new-user with a few liked titles; needs a
hetero-sage ``--run``), ``reload`` (``recommend`` while model.pt of a copy of the first run is replaced
by ``--swap-with``'s every ``--reload-every`` seconds and POST /runs/reload is called: counts failed
requests and checks that every answer is exactly the list its run id gives, computed beforehand).

    python scripts/load_serve.py --run RUN [--run SAGE_RUN] --swap-with OTHER_RUN --scenarios recommend,similar
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx


def rss(pid: int) -> dict:
    """The process's resident memory now and at its peak, in MiB (Linux /proc)."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = round(int(value.split()[0]) / 1024, 1)
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used (Linux /proc), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_server(runs: list[str], extra: list[str]) -> tuple[subprocess.Popen, str]:
    cmd = [sys.executable, "-m", "graphrec", "serve", "--host", "127.0.0.1", "--port", "0", "--quiet", *extra]
    for r in runs:
        cmd += ["--run", r]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 900
    while time.time() < deadline:
        line = proc.stderr.readline()
        if not line and proc.poll() is not None:
            raise SystemExit(f"load_serve: the server exited: {proc.returncode}")
        sys.stderr.write(line)
        m = re.search(r"at (http://127\.0\.0\.1:\d+)/", line)
        if m:
            return proc, m.group(1)
    proc.kill()
    raise SystemExit("load_serve: the server did not start in 15 minutes")


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


async def load(url: str, make_request, clients: int, seconds: float, max_requests: int, check=None,
               during=None) -> dict:
    """``clients`` closed-loop clients sending ``make_request(n)`` -> (method, path, json) until the time or
    request budget is spent; ``check(request, response) -> error text or None``; ``during()`` runs alongside."""
    lat, errors, ids, sent = [], [], {}, 0
    stop = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        async def worker():
            nonlocal sent
            while time.perf_counter() < stop and sent < max_requests:
                n = sent
                sent += 1
                method, path, body = make_request(n)
                t = time.perf_counter()
                try:
                    r = await client.request(method, path, json=body)
                    dt = time.perf_counter() - t
                    if r.status_code != 200:
                        errors.append(f"{r.status_code} {r.text[:200]}")
                        continue
                    data = r.json()
                    ids[data.get("run")] = ids.get(data.get("run"), 0) + 1
                    problem = check(n, data) if check else None
                    if problem:
                        errors.append(problem)
                        continue
                    lat.append(dt)
                except httpx.HTTPError as e:
                    errors.append(repr(e))

        side = asyncio.create_task(during(client)) if during else None
        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        wall = time.perf_counter() - t0
        extra = await side if side else None
    lat.sort()
    ms = [x * 1000 for x in lat]
    return {"requests": sent, "ok": len(lat), "errors": len(errors), "error_samples": errors[:3],
            "seconds": round(wall, 1), "rps": round(sent / wall, 1),
            "p50_ms": round(percentile(ms, 0.50), 2), "p90_ms": round(percentile(ms, 0.90), 2),
            "p99_ms": round(percentile(ms, 0.99), 2), "max_ms": round(ms[-1], 2) if ms else None,
            "run_ids": ids, **({"during": extra} if extra is not None else {})}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run", action="append", required=True, help="run directories to serve (the first answers "
                                                                 "recommend/similar; a hetero-sage one new-user)")
    p.add_argument("--swap-with", help="a run of the same model whose model.pt the reload scenario swaps in")
    p.add_argument("--scenarios", default="recommend,similar,new-user,reload")
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--max-requests", type=int, default=500_000, help="stop a scenario after this many requests")
    p.add_argument("--reload-every", type=float, default=5.0)
    p.add_argument("--server-args", default="", help="more flags for graphrec serve, e.g. '--threads 1'")
    p.add_argument("--out", help="also write the results as JSON here")
    args = p.parse_args()
    scenarios = [s for s in args.scenarios.split(",") if s]

    from graphrec.api import load_run

    work = Path(tempfile.mkdtemp(prefix="load-serve-"))
    runs = list(args.run)
    expected = {}
    if "reload" in scenarios:
        if not args.swap_with:
            raise SystemExit("load_serve: the reload scenario needs --swap-with OTHER_RUN")
        live = work / "live"  # a copy whose weights are swapped; the originals are never touched
        shutil.copytree(runs[0], live)
        runs[0] = str(live)
        from graphrec.serve.registry import weights_hash

        for src in (args.run[0], args.swap_with):
            r = load_run(src)
            users, items, _ = r.recommend_all(10)
            expected[f"live@{weights_hash(Path(src))}"] = dict(zip(users.tolist(), items.tolist()))
    first = load_run(runs[0])
    user_ids = first.catalog.user_ids.tolist()
    popular = first.catalog.movie_ids[:200].tolist()
    titles = ["Star Wars", "Fargo", "Toy Story", "Contact", "Scream", "Titanic", "Liar Liar", "Air Force One"]

    proc, url = start_server(runs, args.server_args.split())
    results = {"command": " ".join([Path(sys.executable).name, *sys.argv]), "clients": args.clients,
               "seconds": args.seconds, "server": url, "scenarios": {}}
    try:
        for name in scenarios:
            before, cpu0, own0 = rss(proc.pid), cpu_seconds(proc.pid), time.process_time()
            check, during = None, None
            if name in ("recommend", "reload"):
                def make(n):
                    return "GET", f"/users/{user_ids[n % len(user_ids)]}/recommendations?k=10", None
                if name == "reload":
                    def check(n, data):
                        got = [x["movie_id"] for x in data["recommendations"]]
                        want = expected.get(data["run"], {}).get(data["user"])
                        return None if got == want else f"answer of {data['run']} for user {data['user']} is not its list"

                    async def during(client):
                        swaps, refused, sources = 0, 0, [args.swap_with, args.run[0]]
                        end = time.perf_counter() + args.seconds - args.reload_every
                        while time.perf_counter() < end:
                            await asyncio.sleep(args.reload_every)
                            src = Path(sources[swaps % 2])
                            shutil.copyfile(src / "model.pt", live / "model.pt.new")
                            os.replace(live / "model.pt.new", live / "model.pt")
                            r = await client.post("/runs/reload")
                            swaps += 1
                            refused += r.status_code != 200
                        return {"reloads": swaps, "reloads_refused": refused}
            elif name == "similar":
                def make(n):
                    return "GET", f"/movies/{popular[n % len(popular)]}/similar?k=10", None
            elif name == "new-user":
                def make(n):
                    r = random.Random(n)
                    return "POST", "/new-user", {"gender": r.choice("FM"), "age": r.randint(15, 70),
                                                 "occupation": "student", "liked": r.sample(titles, 3), "k": 10}
            else:
                raise SystemExit(f"load_serve: unknown scenario {name!r}")
            samples = []

            async def sampled(make=make, check=check, during=during):
                async def sample():
                    while True:
                        samples.append(rss(proc.pid)["VmRSS"])
                        await asyncio.sleep(5)
                task = asyncio.create_task(sample())
                try:
                    return await load(url, make, args.clients, args.seconds, args.max_requests, check, during)
                finally:
                    task.cancel()
            res = asyncio.run(sampled())
            res["rss_every_5s_mib"] = samples
            after, cpu, own = rss(proc.pid), cpu_seconds(proc.pid) - cpu0, time.process_time() - own0
            res.update(server_cpu_ms_per_request=round(1000 * cpu / max(res["requests"], 1), 2),
                       client_cpu_ms_per_request=round(1000 * own / max(res["requests"], 1), 2),
                       load_average=round(os.getloadavg()[0], 1), cores=os.cpu_count(),
                       rss_start_mib=before["VmRSS"], rss_end_mib=after["VmRSS"], rss_peak_mib=after["VmHWM"])
            results["scenarios"][name] = res
            print(json.dumps({name: res}), flush=True)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(work, ignore_errors=True)
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
