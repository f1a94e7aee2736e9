"""``graphrec cache info|clear``: the processed-data cache under ``$GRAPHREC_HOME``."""
from __future__ import annotations

from .common import print_json, print_table


def add_parser(sub) -> None:
    p = sub.add_parser("cache", help="show or clear the processed-data cache (parsed datasets and splits)")
    csub = p.add_subparsers(dest="cache_command", metavar="<info|clear>", required=True)
    info = csub.add_parser("info", help="cached datasets and splits, with their sizes")
    info.add_argument("--json", action="store_true", help="print JSON")
    info.set_defaults(func=run_info)
    clear = csub.add_parser("clear", help="delete every cached dataset and split (models and embeddings stay)")
    clear.set_defaults(func=run_clear)


def _mb(n: int) -> str:
    return f"{n / 2**20:.1f} MB"


def run_info(args) -> int:
    from ..data.processed import cache_info

    info = cache_info()
    if args.json:
        print_json(info)
        return 0
    print(f"processed-data cache: {info['path']} ({_mb(info['bytes'])} in {len(info['entries'])} entries)")
    print_table([{"entry": e["entry"], "source": e["source"] or "", "files": ", ".join(e["files"]),
                  "size": _mb(e["bytes"])} for e in info["entries"]])
    return 0


def run_clear(args) -> int:
    from ..data.processed import cache_root, clear_cache

    print(f"removed {_mb(clear_cache())} from {cache_root()}")
    return 0
