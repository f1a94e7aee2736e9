"""What a benchmark worker process runs first: a watch that ends it with its parent.

Kept apart from the runner, and light (no torch), so that a spawned worker starts watching before it
imports the heavy modules its first task needs (under load that import alone can take a minute).
"""
from __future__ import annotations

import os
import threading
import time


def exit_with_parent(parent: int, every: float = 2.0) -> None:
    """(A worker's initializer.) End this worker when the benchmark that started it, ``parent``, is gone:
    killed rather than interrupted (a Ctrl-C reaches every process of the group, a ``kill`` only the parent)."""
    def watch() -> None:
        while True:
            time.sleep(every)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, daemon=True).start()
