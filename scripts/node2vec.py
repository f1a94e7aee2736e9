"""node2vec movie embeddings on MovieLens: the same as ``graphrec embed node2vec``.

    python scripts/node2vec.py --p 1 --q 1 [--trainer word2vec|pyg] [--graph bipartite|comovie] [--out DIR]

Writes embeddings.pt/.json, movies.tsv, pca.png and a TensorBoard projector log
(``tensorboard --logdir DIR/tensorboard``). ``--help`` lists every flag.
"""
from __future__ import annotations

import sys

from graphrec.cli import main

if __name__ == "__main__":
    sys.exit(main(["embed", "node2vec", *sys.argv[1:]]))
