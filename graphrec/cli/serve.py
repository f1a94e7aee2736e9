"""``graphrec serve``: the HTTP API and web page of :mod:`graphrec.serve`, on uvicorn."""
from __future__ import annotations

import sys

from ..errors import GraphrecError
from .common import int_at_least, positive_int, show_bars


def add_parser(sub) -> None:
    p = sub.add_parser("serve", help="answer recommendations, similar movies and new users over HTTP, with a web page")
    p.add_argument("--run", action="append", metavar="DIR",
                   help="a run directory to serve (repeat for several; the first is the default; default: the "
                        "default recommender (sasrec), the default feature model and the default hetero-sage on ML-100K, trained on first use)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int_at_least(0), default=8000, help="port (default 8000; 0: any free port)")
    p.add_argument("--threads", type=positive_int, default=1,
                   help="torch threads, and threads for new users, explanations and reloads (default 1: the "
                        "server never takes every core)")
    p.add_argument("--watch", type=float, default=2.0, metavar="SECONDS",
                   help="reload a run whose model.pt or config.json was replaced, checking every SECONDS "
                        "(default 2; 0: only on POST /runs/reload)")
    p.add_argument("--max-body", type=positive_int, default=None, metavar="BYTES",
                   help="refuse request bodies over this size (default 16384)")
    p.add_argument("--precompute", type=int_at_least(0), default=None, metavar="ENTRIES",
                   help="score every known user once at load when users x movies is at most ENTRIES "
                        "(default 32000000; 0: score each request)")
    p.add_argument("--http", choices=["auto", "h11", "httptools"], default="auto",
                   help="uvicorn's HTTP parser (default auto: httptools when installed, as with the serve extra)")
    p.add_argument("--access-log", action="store_true", help="log every request on stderr")
    p.add_argument("--data-dir", default=None, help="folder holding the MovieLens files (else $GRAPHREC_DATA, "
                                                    "the cache, or a download)")
    g = p.add_argument_group("progress")
    g.add_argument("--quiet", dest="progress", action="store_false", default=None,
                   help="no progress bars while a default trains")
    p.set_defaults(func=run)


def default_runs(data_dir: str | None, progress) -> list:
    """The default recommender (sasrec), the default feature model (explanation groups) and the default
    hetero-sage (new users), trained on first use exactly as ``graphrec recommend``, ``recommend --explain``
    and ``recommend --new-user`` train them."""
    from ..data import load_movielens
    from ..defaults import default_feature_model, default_hetero_sage, default_recommender

    recommender = default_recommender(data_dir, progress=show_bars(progress))
    ml = load_movielens("ml-100k", data_dir)
    return [recommender, default_feature_model(ml, progress=show_bars(progress)),
            default_hetero_sage(data_dir, progress=show_bars(progress))]


def listen(host: str, port: int):
    import socket

    try:
        info = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as e:
        raise GraphrecError(f"--host {host}: {e.strerror or e}") from None
    sock = socket.socket(info[0], socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(info[4])
    except OSError as e:
        sock.close()
        raise GraphrecError(f"cannot listen on {host}:{port}: {e.strerror or e}; choose another --port") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def watch(registry, every: float) -> None:
    """Reload runs whose files were replaced, every ``every`` seconds (a daemon thread)."""
    import threading
    import time

    def loop():
        while True:
            time.sleep(every)
            try:
                report = registry.reload(changed_only=True)
            except Exception as e:  # noqa: BLE001 - the watcher reports and keeps going
                print(f"graphrec: warning: reload failed: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
                continue
            for rid in report["reloaded"]:
                print(f"graphrec: reloaded {rid}", file=sys.stderr, flush=True)
            for x in report["refused"]:
                print(f"graphrec: warning: {x['error']} (still serving {x['serving']})", file=sys.stderr, flush=True)

    threading.Thread(target=loop, name="graphrec-watch", daemon=True).start()


def run(args) -> int:
    import torch
    import uvicorn

    from ..serve import Registry, create_app
    from ..serve.app import MAX_BODY
    from ..serve.registry import PRECOMPUTE_LIMIT

    torch.set_num_threads(args.threads)
    if args.watch < 0:
        raise GraphrecError(f"--watch must be >= 0, got {args.watch}")
    paths = args.run or default_runs(args.data_dir, args.progress)
    sock = listen(args.host, args.port)  # a taken port fails before anything loads
    registry = Registry.load(paths, args.data_dir,
                             PRECOMPUTE_LIMIT if args.precompute is None else args.precompute)
    app = create_app(registry, max_body=args.max_body or MAX_BODY, workers=args.threads)
    if args.watch:
        watch(registry, args.watch)
    host, port = sock.getsockname()[:2]
    print(f"graphrec: serving {', '.join(registry.runs)} at http://{host}:{port}/ (API docs at /docs; "
          "Ctrl-C stops)", file=sys.stderr, flush=True)
    # keep-alive longer than clients keep idle connections (httpx: 5 s, as uvicorn's default): a client never
    # reuses a connection the server is closing
    config = uvicorn.Config(app, log_level="warning", access_log=args.access_log, lifespan="off", http=args.http,
                            timeout_keep_alive=75)
    uvicorn.Server(config).run(sockets=[sock])
    return 0
