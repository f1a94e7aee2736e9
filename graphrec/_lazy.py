"""Lazy package exports: ``from graphrec.data import Split`` imports only the module defining ``Split``.

Keeps ``graphrec --help`` and light commands from importing torch_geometric,
scikit-learn, SHAP or Captum through a package ``__init__``.
"""
from __future__ import annotations

from importlib import import_module
from typing import Callable


def lazy_exports(package: str, exports: dict[str, str]) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """Module-level ``__getattr__`` and ``__dir__`` for ``package``.

    ``exports`` maps each exported name to the submodule (relative, without the
    dot) that defines it; the submodule is imported on first access.
    """

    def __getattr__(name: str):
        if name in exports:
            return getattr(import_module(f"{package}.{exports[name]}"), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted({*vars(import_module(package)), *exports})

    return __getattr__, __dir__
