"""Train the tiny reasoner (CPU, fixed seed).

    /usr/bin/python3 train.py --steps 3000 --out ckpt.pt

Batches group examples of similar length (about --tokens padded tokens per
batch). Loss is on the assistant part only (the thinking, the answer and
<|im_end|>), not on the random question, and not on the injected "Wait"s and
forced closes (see task.py).
"""
import argparse
import math
import random
import time

import torch

import task
from model import Config, TinyLlama


def example(rng, heldout):
    a, b = task.train_problem(rng, heldout)
    pr, co, masked = task.make_trace(a, b, rng)
    p_ids, c_ids = task.encode(pr), task.encode(co)
    ids = p_ids + c_ids
    w = [0.0] * (len(ids) - 1)  # loss weight of target ids[t+1]
    for j in range(len(c_ids)):
        w[len(p_ids) + j - 1] = 1.0
    for j in masked:
        w[len(p_ids) + j - 1] = 0.0
    return ids, w


def batches(rng, heldout, tokens_per_batch, pool=2048):
    """Yields (x, y, w) batches of examples of similar length (padding gets no loss)."""
    while True:
        exs = sorted((example(rng, heldout) for _ in range(pool)), key=lambda e: len(e[0]))
        groups, cur = [], []
        for e in exs:
            if cur and (len(cur) + 1) * len(e[0]) > tokens_per_batch:
                groups.append(cur)
                cur = []
            cur.append(e)
        if cur:
            groups.append(cur)
        rng.shuffle(groups)
        for g in groups:
            L = max(len(e[0]) for e in g)
            x = torch.zeros(len(g), L - 1, dtype=torch.long)
            y = torch.zeros(len(g), L - 1, dtype=torch.long)
            w = torch.zeros(len(g), L - 1)
            for r, (ids, wt) in enumerate(g):
                n = len(ids)
                x[r, :n - 1] = torch.tensor(ids[:-1])
                y[r, :n - 1] = torch.tensor(ids[1:])
                w[r, :n - 1] = torch.tensor(wt)
            yield x, y, w


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--tokens", type=int, default=8192, help="tokens per batch (padded)")
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--ffn", type=int, default=384)
    ap.add_argument("--seed", type=int, default=task.TRAIN_SEED)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default="ckpt.pt")
    ap.add_argument("--save-every", type=int, default=250)
    ap.add_argument("--stop-at", type=int, default=None, help="stop after this many steps of the --steps schedule")
    ap.add_argument("--init-from", default=None, help="start from this checkpoint's weights (fresh optimizer)")
    ap.add_argument("--quick-noise", type=float, default=task.QUICK_NOISE)
    ap.add_argument("--quick-format", choices=["pairs", "columns", "inline"], default=task.QUICK_FORMAT)
    args = ap.parse_args()
    task.QUICK_NOISE = args.quick_noise
    task.QUICK_FORMAT = args.quick_format

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    heldout = task.heldout_pairs()
    cfg = Config(task.VOCAB_SIZE, dim=args.dim, n_layers=args.layers, n_heads=args.heads,
                 ffn_dim=args.ffn, ctx=1024)
    model = TinyLlama(cfg)
    if args.init_from:
        model.load_state_dict(torch.load(args.init_from, map_location="cpu")["model"])
    nparams = sum(p.numel() for p in model.parameters())
    print("params", nparams, flush=True)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    nodecay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05},
                             {"params": nodecay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.98), eps=1e-8)

    def lr_at(s):
        if s < args.warmup:
            return args.lr * (s + 1) / args.warmup
        p = (s - args.warmup) / max(1, args.steps - args.warmup)
        return args.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * p)))

    data = batches(rng, heldout, args.tokens)
    t0 = time.time()
    ema = None
    last = min(args.steps, args.stop_at or args.steps)
    for step in range(last):
        x, y, w = next(data)
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        logits = model(x)
        nll = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1),
                                                reduction="none")
        loss = (nll * w.reshape(-1)).sum() / w.sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        ema = loss.item() if ema is None else 0.95 * ema + 0.05 * loss.item()
        if step % 25 == 0 or step == last - 1:
            el = time.time() - t0
            print("step %d loss %.4f ema %.4f lr %.2e %.1fs (%.2fs/step)" % (
                step, loss.item(), ema, lr_at(step), el, el / (step + 1)), flush=True)
        if (step + 1) % args.save_every == 0 or step == last - 1:
            torch.save({"config": cfg.to_dict(), "model": model.state_dict(), "step": step + 1,
                        "args": vars(args)}, args.out)
    print("done in %.1fs" % (time.time() - t0), flush=True)


if __name__ == "__main__":
    main()
