#!/bin/sh
# Retrain the tiny reasoner and its sharpened twin from scratch and re-export
# them (about 3 h of training on 2 shared CPU cores, one torch thread), then
# measure them and check llama.cpp parity. The base schedule has three stages
# because it was found in steps (see README.md); each stage starts from the
# previous one's weights with a fresh optimizer.
set -e
cd "$(dirname "$0")"
PY=/usr/bin/python3
mkdir -p checkpoints runs
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
# 1. the format and the checks, with the quick pass written inline (`A + B = N`)
$PY train.py --steps 4500 --tokens 4096 --lr 2e-3 --warmup 100 --threads 1 \
  --quick-format inline --quick-noise 0.15 --out checkpoints/stage1.pt
# 2. the quick pass as column digits; heavy quick-pass noise so the checks add the columns themselves
#    (the first 1000 steps of a 2000-step schedule)
$PY train.py --init-from checkpoints/stage1.pt --steps 2000 --stop-at 1000 --tokens 4096 --lr 1.5e-3 \
  --warmup 30 --seed 1235 --threads 1 --quick-format columns --quick-noise 0.5 --out checkpoints/stage2.pt
# 3. the final format: the quick pass with each column's digits written out
$PY train.py --init-from checkpoints/stage2.pt --steps 2000 --tokens 4096 --lr 1.5e-3 --warmup 30 \
  --seed 1236 --threads 1 --quick-format pairs --quick-noise 0.5 --out checkpoints/tiny-reasoner.pt
# 4. the twin: rejection-sampling fine-tuning on the base model's own correct samples that fit
#    150 thinking tokens (one round of 1024 problems x 8 samples at temperature 0.6)
$PY rl.py --init-from checkpoints/tiny-reasoner.pt --out checkpoints/tiny-reasoner-rl.pt --rounds 1 \
  --problems 1024 --temperature 0.6 --rollout-cap 150 --steps 200 --seed 4324 --log runs/rl.json
$PY task.py
$PY export_gguf.py --ckpt checkpoints/tiny-reasoner.pt --out ../../models/tiny-reasoner.gguf
$PY export_gguf.py --ckpt checkpoints/tiny-reasoner-rl.pt --out ../../models/tiny-reasoner-rl.gguf --name tiny-reasoner-rl
$PY measure.py
node parity.mjs ../../models/tiny-reasoner.gguf
node parity.mjs ../../models/tiny-reasoner-rl.gguf
