"""The static name lists the CLI parses with agree with the registry, and naming one model imports
only its own module."""
import os
import subprocess
import sys
from pathlib import Path

from graphrec.models import FITTED, MODEL_MODULES, TRAINABLE, import_all, names

ROOT = Path(__file__).resolve().parents[2]


def test_static_lists_match_the_registered_capabilities():
    registry = import_all()
    assert set(MODEL_MODULES) <= set(registry)  # (tests may register throw-away models on top)
    assert all(registry[n].__module__ == f"graphrec.models.{m}" for n, m in MODEL_MODULES.items())
    assert list(TRAINABLE) == [n for n in names(trainable=True) if n in MODEL_MODULES]
    assert list(FITTED) == [n for n in names(fit=True) if n in MODEL_MODULES]


def test_building_a_neumf_imports_neither_pyg_nor_sklearn():
    code = ("import sys; from graphrec.models import model_class; "
            "m = model_class('neumf')(5, 7, factors=2, layers=[4, 2]); "
            "print(sorted(x for x in ('torch_geometric', 'sklearn', 'shap', 'captum') if x in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
