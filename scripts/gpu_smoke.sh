#!/usr/bin/env bash
# GPU smoke test: trains and evaluates GMF, NeuMF, LightGCN and the word2vec node2vec trainer on CUDA.
#
#   scripts/gpu_smoke.sh [VENV]          # default VENV: .venv-gpu (kept apart from the CPU .venv)
#
# Installs the CUDA build of torch (TORCH_SPEC, CUDA_INDEX), builds torch-cluster against it and
# installs graphrec into VENV, then runs every step with --device cuda on MovieLens-100K
# ($GRAPHREC_DATA, the cache, or a download). Exits non-zero at the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${1:-.venv-gpu}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}
CUDA_INDEX=${CUDA_INDEX:-https://download.pytorch.org/whl/cu128}
PY="$VENV/bin/python"

test -x "$PY" || python3 -m venv "$VENV"
"$PY" -m pip install -q --upgrade pip setuptools wheel ninja
"$PY" -m pip install -q "$TORCH_SPEC" --index-url "$CUDA_INDEX"
"$PY" -c "import torch_cluster" 2>/dev/null || \
  FORCE_CUDA=1 MAX_JOBS=$(nproc) "$PY" -m pip install -q --no-build-isolation torch-cluster
"$PY" -m pip install -q -e ".[dev]"
"$PY" -c "import torch; assert torch.cuda.is_available(), 'no CUDA device visible'; \
print('torch', torch.__version__, 'CUDA', torch.version.cuda, torch.cuda.get_device_name(0))"

OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
run() { echo "+ graphrec $*"; "$PY" -m graphrec "$@"; }
common=(--device cuda --epochs 3 --quiet --out "$OUT")
run train gmf --factors 16 --lr 0.01 --batch-size 4096 --name gmf "${common[@]}"
run train neumf --factors 16 --layers 64,32,16,8 --lr 0.01 --batch-size 4096 --name neumf "${common[@]}"
run train lightgcn --num-layers 2 --lr 0.005 --l2 1e-3 --batch-size 2048 --name lightgcn "${common[@]}"
for m in gmf neumf lightgcn; do run evaluate "$OUT/$m" --full --device cuda; done
run embed node2vec --device cuda --dim 64 --walk-length 20 --walks-per-node 4 --window 5 --out "$OUT/node2vec" --no-progress
echo "gpu smoke: all steps passed on cuda"
