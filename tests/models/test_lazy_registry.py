"""The static name lists the CLI parses with agree with the registry, and naming one model imports
only its own module."""
import os
import subprocess
import sys
from pathlib import Path

from graphrec.models import FITTED, REGISTRY, TRAINABLE, capabilities, import_all, names

ROOT = Path(__file__).resolve().parents[2]


def test_static_lists_match_the_registered_capabilities():
    registry = import_all()
    assert set(REGISTRY) <= set(registry)  # (tests may register throw-away models on top)
    assert all(registry[n].__module__ == f"graphrec.models.{s.module}" and registry[n].__name__ == s.cls
               for n, s in REGISTRY.items())
    assert list(TRAINABLE) == [n for n in names(trainable=True) if n in REGISTRY]
    assert list(FITTED) == [n for n in names(fit=True) if n in REGISTRY]
    assert all(registry[n].registry_name == n for n in REGISTRY)


def test_a_model_class_imported_directly_knows_its_name_and_capabilities():
    from graphrec.models.att_neumf import AttentionNeuMFAll
    from graphrec.models.baselines import MostPop

    assert AttentionNeuMFAll.registry_name == "att-neumf-all" and AttentionNeuMFAll.capabilities.explainable
    assert MostPop.registry_name == "mostpop" and MostPop.capabilities.fit and not MostPop.capabilities.trainable
    assert capabilities("mostpop") == MostPop.capabilities


def test_building_a_neumf_imports_neither_pyg_nor_sklearn():
    code = ("import sys; from graphrec.models import model_class; "
            "m = model_class('neumf')(5, 7, factors=2, layers=[4, 2]); "
            "print(sorted(x for x in ('torch_geometric', 'sklearn', 'shap', 'captum') if x in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
