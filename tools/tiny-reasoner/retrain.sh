#!/bin/sh
# Retrain the tiny reasoner from scratch and re-export it (about 50 min of
# training on 2 shared CPU cores), then measure it and check llama.cpp parity.
# The schedule has four stages because it was found in steps (see README.md);
# each stage starts from the previous one's weights with a fresh optimizer.
set -e
cd "$(dirname "$0")"
PY=/usr/bin/python3
mkdir -p checkpoints
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
# 1. format and copying (8k-token batches); the first 400 steps of a 1700-step schedule
$PY train.py --steps 1700 --stop-at 400 --lr 2.5e-3 --tokens 8192 --warmup 100 --threads 1 \
  --quick-noise 0 --out checkpoints/stage1.pt
# 2. smaller batches, more updates
$PY train.py --init-from checkpoints/stage1.pt --steps 900 --warmup 30 --lr 2e-3 --tokens 3072 \
  --seed 1235 --threads 1 --quick-noise 0 --out checkpoints/stage2.pt
# 3. corrupt the quick pass so the check must be computed, not copied
$PY train.py --init-from checkpoints/stage2.pt --steps 1200 --warmup 30 --lr 1.5e-3 --tokens 3072 \
  --seed 1236 --threads 1 --quick-noise 0.35 --out checkpoints/stage3.pt
# 4. more checks per trace, more noise
$PY train.py --init-from checkpoints/stage3.pt --steps 900 --warmup 20 --lr 1.5e-3 --tokens 3072 \
  --seed 1237 --threads 1 --quick-noise 0.5 --checks-weights 0.25,0.45,0.12,0.06,0.05,0.04,0.03 \
  --out checkpoints/tiny-reasoner.pt
$PY task.py
$PY export_gguf.py --ckpt checkpoints/tiny-reasoner.pt --out ../../models/tiny-reasoner.gguf
$PY eval.py --ckpt checkpoints/tiny-reasoner.pt --threads 1 --json results.json
node parity.mjs
