"""Decoding in torch with s1 budget forcing simulated, on the 200 held-out problems.

    /usr/bin/python3 eval.py --ckpt ckpt.pt [--limit 200] [--json results.json]          # greedy table
    /usr/bin/python3 eval.py --ckpt ckpt.pt --mode sampled --limit 24 --samples 8 --seed 1  # s1 metrics, sampled
    /usr/bin/python3 eval.py --ckpt ckpt.pt --mode passk --samples 64                     # pass@1..64, no forced waits

Budget forcing as the engine does it (think-tags format, prompt ends with "<think>\\n"):
- extend: when the model emits </think> and fewer than `waits` extensions were
  used, </think> is dropped and "Wait" is appended; generation continues.
- cut: when the thinking segment (generated + injected tokens) reaches `cap`
  tokens, "\\n</think>\\n\\n" (no leading \\n if the text ends in one) and
  "Final Answer:" are appended and the model answers.
Accuracy = the last \\boxed{N} in the answer equals the true sum.
Sampling: temperature, then top-p (nucleus) over the softmax, as llama.cpp's
defaults do for these two settings.
"""
import argparse
import json
import math
import re
import time

import torch

import task
from model import decode_step, load, new_buffers

BOXED = re.compile(r"\\boxed\{(-?\d+)\}")
WAIT_IDS = task.encode("Wait")


def sample_tokens(logits, temperature, top_p, gen):
    if temperature <= 0:
        return logits.argmax(-1)
    probs = torch.softmax(logits / temperature, dim=-1)
    if top_p < 1.0:
        sp, si = probs.sort(dim=-1, descending=True)
        drop = (sp.cumsum(-1) - sp) > top_p  # keep the smallest prefix whose mass reaches top_p
        sp = sp.masked_fill(drop, 0.0)
        probs = torch.zeros_like(probs).scatter_(-1, si, sp)
    return torch.multinomial(probs, 1, generator=gen)[:, 0]


@torch.no_grad()
def run(model, prompts, waits=0, cap=None, max_answer=32, ctx=None, runaway=None,
        temperature=0.0, top_p=1.0, seed=0):
    """prompts: list of token-id lists. Returns a list of dicts per prompt.
    runaway: stop a trace whose thinking grows past this many tokens (wrong, unfinished).
    Rows that finish are dropped from the batch as it goes (the rest keep decoding)."""
    ctx = ctx or model.cfg.ctx
    B = len(prompts)
    gen = torch.Generator().manual_seed(seed)
    if runaway is not None:
        ctx = min(ctx, max(len(p) for p in prompts) + runaway + 64 + max_answer + 8)
    kb, vb = new_buffers(model, B, ctx)
    st = [dict(pq=list(p[1:]), queue=[], out=[], injected=[], phase="think", think=0, waits=0, ans=0,
               done=False, forced_close=False, runaway=False) for p in prompts]
    rows = list(range(B))  # buffer row r decodes prompt rows[r] (None: finished, waiting for compaction)
    nxt = torch.tensor([p[0] for p in prompts])
    for pos in range(ctx):
        logits = decode_step(model, nxt, pos, kb, vb)
        pred = sample_tokens(logits, temperature, top_p, gen).tolist()
        feed = []
        for r, i in enumerate(rows):
            if i is None:
                feed.append(0)
                continue
            s = st[i]
            if s["pq"]:  # still reading the prompt
                feed.append(s["pq"].pop(0))
                continue
            inj = bool(s["queue"])
            if inj:  # injected text (Wait, forced close)
                tok = s["queue"].pop(0)
            else:
                p = pred[r]
                tok = None
                if s["phase"] == "think":
                    if cap is not None and s["think"] >= cap:
                        text = task.decode(prompts[i] + s["out"])
                        close = ("" if text.endswith("\n") else "\n") + "</think>\n\nFinal Answer:"
                        s["queue"] = task.encode(close)
                        s["phase"] = "answer"
                        s["forced_close"] = True
                        tok, inj = s["queue"].pop(0), True
                    elif p == task.END_THINK:
                        if s["waits"] < waits:
                            s["waits"] += 1
                            s["queue"] = list(WAIT_IDS)
                            s["think"] += len(WAIT_IDS)
                            tok, inj = s["queue"].pop(0), True
                        else:
                            tok = p
                            s["phase"] = "answer"
                    elif p == task.IM_END:
                        s["done"] = True
                    elif runaway is not None and s["think"] >= runaway:
                        s["done"] = s["runaway"] = True  # a runaway trace (e.g. a digit loop): counted as unfinished
                    else:
                        tok = p
                        s["think"] += 1
                else:
                    if p == task.IM_END or s["ans"] >= max_answer:
                        if p == task.IM_END:
                            s["out"].append(p)
                            s["injected"].append(False)
                        s["done"] = True
                    else:
                        tok = p
                        s["ans"] += 1
                if s["done"]:
                    rows[r] = None
                    feed.append(0)
                    continue
            s["out"].append(tok)
            s["injected"].append(inj)
            feed.append(tok)
        live = [r for r, i in enumerate(rows) if i is not None]
        if not live or pos + 1 >= ctx:
            break
        if len(live) <= 0.75 * len(rows):  # drop the finished rows from the buffers
            idx = torch.tensor(live)
            kb = [k.index_select(0, idx) for k in kb]
            vb = [v.index_select(0, idx) for v in vb]
            rows = [rows[r] for r in live]
            feed = [feed[r] for r in live]
        nxt = torch.tensor(feed)
    res = []
    for i, s in enumerate(st):
        text = task.decode(s["out"])
        m = BOXED.findall(text.split("</think>")[-1]) if "</think>" in text else []
        res.append(dict(text=text, ids=s["out"], injected=s["injected"], answer=int(m[-1]) if m else None,
                        think_tokens=s["think"], waits=s["waits"], forced_close=s["forced_close"],
                        own_waits=text.count("Wait") - s["waits"],
                        finished=s["done"] and not s["runaway"]))
    return res


@torch.no_grad()
def greedy(model, ids, max_new=64):
    """Plain greedy continuation (no budget forcing), stopping at eos."""
    kb, vb = new_buffers(model, 1, len(ids) + max_new + 1)
    out = []
    for pos, t in enumerate(ids):
        logits = decode_step(model, torch.tensor([t]), pos, kb, vb)
    pos = len(ids)
    for _ in range(max_new):
        t = int(logits.argmax(-1)[0])
        out.append(t)
        if t == task.IM_END:
            break
        logits = decode_step(model, torch.tensor([t]), pos, kb, vb)
        pos += 1
    return out


def run_batched(model, prompts, batch=256, **kw):
    out = []
    seed = kw.pop("seed", 0)
    for j in range(0, len(prompts), batch):
        out += run(model, prompts[j:j + batch], seed=seed + j, **kw)
    return out


def runaway_for(waits):
    # a check is about 80 tokens: anything far beyond (waits + 1) checks is a loop
    return 150 * (waits + 3)


GREEDY_SETTINGS = [("waits", w, None) for w in (0, 1, 2, 3, 4, 6)] + \
    [("cap", 6, c) for c in (32, 64, 128, 192, 256, 384)]


def s1_scaling(points):
    """The s1 paper's Scaling (as packages/core's s1Metrics, log2 axis): mean slope over all
    pairs of runs of accuracy (points) against log2 of thinking tokens."""
    tot, pairs = 0.0, 0
    for i in range(len(points)):
        for j in range(i + 1, len(points)):
            pairs += 1
            (ta, fa), (tb, fb) = points[i], points[j]
            run_ = math.log2(tb) - math.log2(ta)
            if run_ != 0:
                tot += 100 * (fb - fa) / run_
    return tot / pairs if pairs else None


def pass_at_k(n, c, k):
    """Unbiased estimator (Chen et al. 2021): 1 - C(n-c, k) / C(n, k)."""
    if n - c < k:
        return 1.0
    return 1.0 - math.prod((n - c - i) / (n - i) for i in range(k))


def table(model, probs, settings, samples=1, temperature=0.0, top_p=1.0, seed=0, show=0, batch=256):
    prompts = [task.encode(task.prompt_text(a, b)) for a, b in probs] * samples
    answers = [a + b for a, b in probs] * samples
    rows = []
    for kind, w, cap in settings:
        t1 = time.time()
        res = run_batched(model, prompts, batch=batch, waits=w, cap=cap, runaway=runaway_for(w),
                          temperature=temperature, top_p=top_p, seed=seed)
        acc = sum(r["answer"] == y for r, y in zip(res, answers)) / len(res)
        mt = sum(r["think_tokens"] for r in res) / len(res)
        row = dict(setting=kind, waits=w, cap=cap, accuracy=acc, mean_thinking_tokens=mt,
                   forced_closes=sum(r["forced_close"] for r in res),
                   own_waits=sum(r["own_waits"] for r in res) / len(res),
                   unfinished=sum(not r["finished"] for r in res), seconds=round(time.time() - t1, 1))
        rows.append(row)
        print("%-5s waits=%d cap=%-4s acc=%.3f mean_think=%.1f forced=%d own_waits=%.2f unfinished=%d (%.1fs)" % (
            kind, w, cap, acc, mt, row["forced_closes"], row["own_waits"], row["unfinished"], row["seconds"]),
            flush=True)
        for r, y in list(zip(res, answers))[:show]:
            print("   [%s] %r" % ("ok" if r["answer"] == y else "WRONG", r["text"]))
    return rows


def passk(model, probs, n, temperature, top_p, seed, waits=0, batch=512):
    prompts, answers = [], []
    for a, b in probs:
        prompts += [task.encode(task.prompt_text(a, b))] * n
        answers += [a + b] * n
    t0 = time.time()
    res = run_batched(model, prompts, batch=batch, waits=waits, runaway=runaway_for(max(waits, 4)),
                      temperature=temperature, top_p=top_p, seed=seed)
    correct = [sum(res[i * n + j]["answer"] == answers[i * n] for j in range(n)) for i in range(len(probs))]
    ks = range(1, n + 1)
    curve = {k: sum(pass_at_k(n, c, k) for c in correct) / len(probs) for k in ks}
    mt = sum(r["think_tokens"] for r in res) / len(res)
    by_carries = {}
    for (a, b), c in zip(probs, correct):
        by_carries.setdefault(task.n_carries(a, b), []).append(c / n)
    return dict(n=n, temperature=temperature, top_p=top_p, seed=seed, waits=waits, pass_at_k=curve,
                correct_per_problem=correct, mean_thinking_tokens=mt,
                mean_own_waits=sum(r["own_waits"] for r in res) / len(res),
                accuracy_by_carries={k: sum(v) / len(v) for k, v in sorted(by_carries.items())},
                seconds=round(time.time() - t0, 1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default="ckpt.pt")
    ap.add_argument("--mode", choices=["greedy", "sampled", "passk"], default="greedy")
    ap.add_argument("--limit", type=int, default=200)
    ap.add_argument("--samples", type=int, default=1)
    ap.add_argument("--temperature", type=float, default=0.6)
    ap.add_argument("--top-p", type=float, default=0.95)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--waits", type=int, default=0, help="passk: forced waits (0: plain sampling)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", default=None)
    ap.add_argument("--show", type=int, default=0, help="print this many traces per setting")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = load(args.ckpt)
    probs = task.heldout_problems()[:args.limit]
    t0 = time.time()
    if args.mode == "greedy":
        rows = table(model, probs, GREEDY_SETTINGS, show=args.show)
        out = dict(n=len(probs), rows=rows)
    elif args.mode == "sampled":
        rows = table(model, probs, GREEDY_SETTINGS, samples=args.samples, temperature=args.temperature,
                     top_p=args.top_p, seed=args.seed, show=args.show)
        pts = [(r["mean_thinking_tokens"], r["accuracy"]) for r in rows]
        wpts = [(r["mean_thinking_tokens"], r["accuracy"]) for r in rows if r["setting"] == "waits"]
        out = dict(n=len(probs), samples=args.samples, temperature=args.temperature, top_p=args.top_p,
                   seed=args.seed, rows=rows, scaling_all=s1_scaling(pts), scaling_waits=s1_scaling(wpts))
        print("s1 Scaling (points per doubling): all settings %.1f, waits only %.1f" % (
            out["scaling_all"], out["scaling_waits"]))
    else:
        out = passk(model, probs, args.samples, args.temperature, args.top_p, args.seed, args.waits)
        print(json.dumps({k: v for k, v in out.items() if k != "correct_per_problem"}))
    print("total %.1fs" % (time.time() - t0))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
