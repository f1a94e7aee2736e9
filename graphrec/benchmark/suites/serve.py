"""``graphrec benchmark --suite serve``: load test of ``graphrec serve``, on 127.0.0.1 only, bounded in time and
requests; and whether batching concurrent requests would help.

Starts ``graphrec serve`` itself (a child process on a free port of 127.0.0.1) with the ``--run`` directories,
runs each scenario with ``--clients`` closed-loop asyncio clients (httpx, keep-alive; each sends its next
request when its last one is answered) for ``--seconds`` (at most 600) or ``--max-requests``, whichever comes
first, then stops the server. Reports per scenario: requests, errors, requests/s, p50/p90/p99/max latency,
the server's and the client's CPU time per request, the load average, the server's RSS at the start and end
and its peak (VmHWM), and which run ids answered.

Scenarios (``--scenarios``, default recommend,similar): ``recommend`` (GET /users/{u}/recommendations?k=10,
users cycled), ``similar`` (GET /movies/{m}/similar?k=10), ``new-user`` (POST /new-user with a few liked
titles; needs a hetero-sage ``--run``), ``reload`` (``recommend`` while model.pt of a copy of the first run is
replaced by ``--swap-with``'s every ``--reload-every`` seconds and POST /runs/reload is called: counts failed
requests and checks that every answer is exactly the list its run id gives, computed beforehand), and
``batching`` (no server: one model call scoring ``b`` users and ranking their top 10 against ``b`` calls of
one user, best of 5 repeats, for the first run). ``--quick``: 2 clients, 2 seconds, 200 requests a scenario.
Writes ``serve.json`` and ``serve.md``.
"""
from __future__ import annotations

import asyncio
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

import numpy as np
import torch

from ...api import load_run
from ...errors import GraphrecError
from . import save

SCENARIOS = ("recommend", "similar", "new-user", "reload", "batching")
TITLES = ["Star Wars", "Fargo", "Toy Story", "Contact", "Scream", "Titanic", "Liar Liar", "Air Force One"]
BATCHES = (1, 2, 4, 8, 16)


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


def start_server(runs: list[str], extra: list[str], timeout: float = 900) -> tuple[subprocess.Popen, str]:
    cmd = [sys.executable, "-m", "graphrec", "serve", "--host", "127.0.0.1", "--port", "0", "--quiet", *extra]
    for r in runs:
        cmd += ["--run", r]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + timeout
    while time.time() < deadline:
        line = proc.stderr.readline()
        if not line and proc.poll() is not None:
            raise GraphrecError(f"the server exited ({proc.returncode}) before it answered")
        sys.stderr.write(line)
        m = re.search(r"at (http://127\.0\.0\.1:\d+)/", line)
        if m:
            return proc, m.group(1)
    proc.kill()
    raise GraphrecError(f"the server did not start in {timeout:.0f} s")


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


async def load(url: str, make_request, clients: int, seconds: float, max_requests: int, check=None,
               during=None) -> dict:
    """``clients`` closed-loop clients sending ``make_request(n)`` -> (method, path, json) until the time or
    request budget is spent; ``check(request, response) -> error text or None``; ``during()`` runs alongside."""
    import httpx

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


def batching(run, batches) -> list[dict]:
    """Per batch size ``b``: the best seconds per user of one ``score_all`` + top 10 over ``b`` users."""
    model = run.model.eval()
    users = np.arange(run.catalog.num_users)
    rows, base = [], None
    for b in batches:
        calls, best = max(4, 64 // b), float("inf")
        with torch.no_grad():
            for rep in range(6):
                t = time.perf_counter()
                for c in range(calls):
                    u = torch.as_tensor(users[(c * b) % max(1, len(users) - b):][:b])
                    torch.topk(model.score_all(u), 10, dim=1)
                if rep:  # the first repeat warms up
                    best = min(best, (time.perf_counter() - t) / (calls * b))
        base = base or best
        rows.append({"batch": b, "ms_per_user": best * 1e3, "speed_vs_one": base / best})
    return rows


def run(args, out: Path) -> list[Path]:
    scenarios = [s for s in (args.scenarios or "recommend,similar").split(",") if s]
    unknown = [s for s in scenarios if s not in SCENARIOS]
    if unknown:
        raise GraphrecError(f"--scenarios: unknown scenario {unknown[0]!r}: choose among {', '.join(SCENARIOS)}")
    if not args.run:
        raise GraphrecError("--suite serve needs --run DIR (the runs to serve; the first answers recommend and similar)")
    extra = (args.server_args or "").split()
    if any(a.split("=")[0] in ("--host", "--port") for a in extra):
        raise GraphrecError("--server-args: the load test serves on 127.0.0.1 and a free port only")
    if args.data_dir:
        extra += ["--data-dir", args.data_dir]
    clients = args.clients or (2 if args.quick else 16)
    seconds = args.seconds or (2.0 if args.quick else 60.0)
    max_requests = args.max_requests or (200 if args.quick else 500_000)
    reload_every = args.reload_every or 5.0
    results = {"clients": clients, "seconds": seconds, "max_requests": max_requests, "scenarios": {}}
    work = Path(tempfile.mkdtemp(prefix="load-serve-"))
    runs = list(args.run)
    try:
        first = load_run(runs[0], data_dir=args.data_dir, progress=False)
        if "batching" in scenarios:
            results["scenarios"]["batching"] = batching(first, BATCHES[:2] if args.quick else BATCHES)
        served = [s for s in scenarios if s != "batching"]
        if served:
            serve(args, runs, served, first, extra, work, results, clients, seconds, max_requests, reload_every)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    lines = ["| scenario | requests | errors | req/s | p50 ms | p99 ms | server CPU ms/req | RSS peak MiB |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, r in results["scenarios"].items():
        if name != "batching":
            lines.append(f"| {name} | {r['requests']} | {r['errors']} | {r['rps']} | {r['p50_ms']} | {r['p99_ms']} | "
                         f"{r['server_cpu_ms_per_request']} | {r['rss_peak_mib']} |")
    for r in results["scenarios"].get("batching", []):
        lines.append(f"\nbatch {r['batch']:>3}: {r['ms_per_user']:.3f} ms a user "
                     f"({r['speed_vs_one']:.2f}x the speed of one user a call)")
    text = (f"{clients} clients, at most {seconds:g} s and {max_requests} requests a scenario, 127.0.0.1\n\n"
            + "\n".join(lines) + "\n")
    print(text)
    return [save(out / "serve.md", text), save(out / "serve.json", results)]


def serve(args, runs, scenarios, first, extra, work: Path, results: dict, clients: int, seconds: float,
          max_requests: int, reload_every: float) -> None:
    expected = {}
    live = work / "live"
    if "reload" in scenarios:
        if not args.swap_with:
            raise GraphrecError("the reload scenario needs --swap-with OTHER_RUN")
        from ...serve.registry import weights_hash

        shutil.copytree(runs[0], live)  # a copy whose weights are swapped; the originals are never touched
        runs[0] = str(live)
        for src in (args.run[0], args.swap_with):
            users, items, _ = load_run(src, data_dir=args.data_dir, progress=False).recommend_all(10)
            expected[f"live@{weights_hash(Path(src))}"] = dict(zip(users.tolist(), items.tolist()))
    user_ids = first.catalog.user_ids.tolist()
    popular = first.catalog.movie_ids[:200].tolist()
    proc, url = start_server(runs, extra)
    results["server"] = url
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
                        end = time.perf_counter() + seconds - reload_every
                        while time.perf_counter() < end:
                            await asyncio.sleep(reload_every)
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
            else:  # new-user
                def make(n):
                    r = random.Random(n)
                    return "POST", "/new-user", {"gender": r.choice("FM"), "age": r.randint(15, 70),
                                                 "occupation": "student", "liked": r.sample(TITLES, 3), "k": 10}
            samples = []

            async def sampled(make=make, check=check, during=during):
                async def sample():
                    while True:
                        samples.append(rss(proc.pid)["VmRSS"])
                        await asyncio.sleep(5)
                task = asyncio.create_task(sample())
                try:
                    return await load(url, make, clients, seconds, max_requests, check, during)
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
            print(f"{name}: {res['requests']} requests, {res['errors']} errors, {res['rps']} req/s", flush=True)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
