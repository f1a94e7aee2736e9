"""node2vec movie embeddings on MovieLens: the same as ``graphrec embed node2vec``.

    python scripts/node2vec.py [--trainer word2vec|pyg] [--graph comovie|bipartite] [--map pca|tsne] [--out DIR]

The defaults are the setting with the best item-to-item HR@10 on validation (docs/embeddings.md);
the slides' setting is ``--graph bipartite --window 2 --negatives 4``.

Writes embeddings.pt/.json, movies.tsv, pca.png and a TensorBoard projector log
(``tensorboard --logdir DIR/tensorboard``). ``--help`` lists every flag.
"""
from __future__ import annotations

import sys

from graphrec.cli import main

if __name__ == "__main__":
    sys.exit(main(["embed", "node2vec", *sys.argv[1:]]))
