"""``graphrec serve``: trained runs over HTTP (FastAPI), with a web page.

:func:`create_app` builds the app from a :class:`Registry` of loaded runs::

    from graphrec.serve import Registry, create_app
    app = create_app(Registry.load(["runs/neumf", "runs/hetero-sage"]))   # then: uvicorn.run(app)

FastAPI and uvicorn are the ``serve`` extra (``pip install graphrec[serve]``).
"""
from .app import create_app
from .registry import Registry, Served

__all__ = ["Registry", "Served", "create_app"]
