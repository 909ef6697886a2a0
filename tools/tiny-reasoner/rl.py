"""The sharpened twin: rejection-sampling fine-tuning (RFT) of the tiny reasoner on
its own samples, the simplest form of the RL that Yue et al. 2025 compare with
their base models.

    /usr/bin/python3 rl.py --init-from checkpoints/tiny-reasoner.pt --out checkpoints/tiny-reasoner-rl.pt

Each round:
1. rollouts: the current model answers --problems fresh problems (drawn like the
   held-out set, never one of them) --samples times each, sampling at
   --temperature with no budget forcing, its thinking capped at --rollout-cap
   tokens as RL runs cap the response length;
2. reward: a rollout is rewarded when its answer is right and it closed its
   thinking by itself within the cap (a cut rollout earns nothing); of each
   problem's rewarded rollouts only the shortest is kept (correct AND short);
3. fine-tune on the kept rollouts (loss on the model's own tokens).
The kept rollouts hold only as many checks as fit the cap: with the shipped cap
of 150 tokens (retrain.sh) that is the quick pass and rarely one check, so the
twin learns to answer in one careful pass: right more often in one sample, and
no longer sampling the checking paths the base sometimes takes on its own,
which is how the base overtakes it at large k.
"""
import argparse
import json
import math
import random
import time

import torch

import task
from eval import run_batched
from model import load


def fit(model, examples, steps, lr, tokens_per_batch, rng, warmup=10):
    """examples: list of (ids, weights) with weights[t] the loss weight of target ids[t+1]."""
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    nodecay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05},
                             {"params": nodecay, "weight_decay": 0.0}], lr=lr, betas=(0.9, 0.98), eps=1e-8)
    model.train()
    order = sorted(examples, key=lambda e: len(e[0]))
    groups, cur = [], []
    for e in order:
        if cur and (len(cur) + 1) * len(e[0]) > tokens_per_batch:
            groups.append(cur)
            cur = []
        cur.append(e)
    if cur:
        groups.append(cur)
    ema = None
    for step in range(steps):
        if step % len(groups) == 0:
            rng.shuffle(groups)
        g = groups[step % len(groups)]
        L = max(len(e[0]) for e in g)
        x = torch.zeros(len(g), L - 1, dtype=torch.long)
        y = torch.zeros(len(g), L - 1, dtype=torch.long)
        w = torch.zeros(len(g), L - 1)
        for r, (ids, wt) in enumerate(g):
            n = len(ids)
            x[r, :n - 1] = torch.tensor(ids[:-1])
            y[r, :n - 1] = torch.tensor(ids[1:])
            w[r, :n - 1] = torch.tensor(wt)
        for pg in opt.param_groups:
            pg["lr"] = lr * min(1.0, (step + 1) / warmup) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / steps)))
        logits = model(x)
        nll = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="none")
        loss = (nll * w.reshape(-1)).sum() / w.sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        ema = loss.item() if ema is None else 0.9 * ema + 0.1 * loss.item()
        if step % 25 == 0 or step == steps - 1:
            print("  fit step %d loss %.4f ema %.4f" % (step, loss.item(), ema), flush=True)
    model.eval()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--init-from", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--problems", type=int, default=1024)
    ap.add_argument("--samples", type=int, default=8)
    ap.add_argument("--temperature", type=float, default=1.0)
    ap.add_argument("--rollout-cap", type=int, default=250)
    ap.add_argument("--steps", type=int, default=150, help="fine-tuning steps per round")
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--tokens", type=int, default=4096)
    ap.add_argument("--seed", type=int, default=4321)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--log", default=None, help="write per-round statistics (JSON) here")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    heldout = task.heldout_pairs()
    model = load(args.init_from)
    ck = torch.load(args.init_from, map_location="cpu")
    weights = [c / sum(task.HELDOUT_CARRY_COUNTS) for c in task.HELDOUT_CARRY_COUNTS]
    stats = []
    t0 = time.time()
    for rnd in range(args.rounds):
        t1 = time.time()
        probs = []
        while len(probs) < args.problems:
            k = rng.choices(range(len(weights)), weights=weights)[0]
            a, b = task.problem_with_carries(rng, k)
            if (a, b) not in heldout:
                probs.append((a, b))
        prompts = []
        for a, b in probs:
            prompts += [task.encode(task.prompt_text(a, b))] * args.samples
        res = run_batched(model, prompts, batch=512, waits=0, cap=args.rollout_cap, runaway=args.rollout_cap + 8,
                          temperature=args.temperature, top_p=1.0, seed=args.seed * 1000 + rnd)
        kept, n_right, n_cut = [], 0, 0
        by_checks = {}
        for i, (a, b) in enumerate(probs):
            best = None
            for j in range(args.samples):
                r = res[i * args.samples + j]
                n_cut += r["forced_close"] or not r["finished"]
                ok = r["answer"] == a + b and not r["forced_close"] and r["finished"]
                n_right += ok
                if ok and (best is None or r["think_tokens"] < best["think_tokens"]):
                    best = r
            if best is not None:
                p = task.encode(task.prompt_text(a, b))
                ids = p + best["ids"]
                wts = [0.0] * (len(ids) - 1)
                for t in range(len(best["ids"])):
                    wts[len(p) + t - 1] = 0.0 if best["injected"][t] else 1.0
                kept.append((ids, wts))
                c = best["text"].count("Wait")
                by_checks[c] = by_checks.get(c, 0) + 1
        st = dict(round=rnd, rollouts=len(res), right=n_right / len(res), cut=n_cut / len(res),
                  solved_problems=len(kept) / len(probs), kept_by_checks=dict(sorted(by_checks.items())),
                  mean_think=sum(r["think_tokens"] for r in res) / len(res),
                  rollout_seconds=round(time.time() - t1, 1))
        print("round %d: %s" % (rnd, json.dumps(st)), flush=True)
        t2 = time.time()
        fit(model, kept, args.steps, args.lr, args.tokens, rng)
        st["fit_seconds"] = round(time.time() - t2, 1)
        stats.append(st)
        torch.save({"config": ck["config"], "model": model.state_dict(), "round": rnd + 1, "args": vars(args)},
                   args.out)
    print("done in %.1fs" % (time.time() - t0), flush=True)
    if args.log:
        with open(args.log, "w") as f:
            json.dump(dict(args=vars(args), rounds=stats, seconds=round(time.time() - t0, 1)), f, indent=1)


if __name__ == "__main__":
    main()
