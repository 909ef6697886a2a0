"""Greedy decoding in torch with s1 budget forcing simulated, on the 200 held-out problems.

    /usr/bin/python3 eval.py --ckpt ckpt.pt [--limit 200] [--json results.json]

Budget forcing as the engine does it (think-tags format, prompt ends with "<think>\\n"):
- extend: when the model emits </think> and fewer than `waits` extensions were
  used, </think> is dropped and "Wait" is appended; generation continues.
- cut: when the thinking segment (generated + injected tokens) reaches `cap`
  tokens, "\\n</think>\\n\\n" (no leading \\n if the text ends in one) and
  "Final Answer:" are appended and the model answers.
Accuracy = the last \\boxed{N} in the answer equals the true sum.
"""
import argparse
import json
import re
import time

import torch

import task
from model import decode_step, load, new_buffers

BOXED = re.compile(r"\\boxed\{(-?\d+)\}")
WAIT_IDS = task.encode("Wait")


def run(model, prompts, waits=0, cap=None, max_answer=32, ctx=None, runaway=None):
    """prompts: list of token-id lists. Returns a list of dicts per prompt.
    runaway: stop a trace whose thinking grows past this many tokens (wrong, unfinished)."""
    ctx = ctx or model.cfg.ctx
    B = len(prompts)
    kb, vb = new_buffers(model, B, ctx)
    st = [dict(pq=list(p[1:]), queue=[], out=[], phase="think", think=0, waits=0, ans=0, done=False,
               forced_close=False, runaway=False) for p in prompts]
    nxt = torch.tensor([p[0] for p in prompts])
    for pos in range(ctx):
        logits = decode_step(model, nxt, pos, kb, vb)
        pred = logits.argmax(-1).tolist()
        feed = []
        for i, s in enumerate(st):
            if s["done"]:
                feed.append(0)
                continue
            if s["pq"]:  # still reading the prompt
                feed.append(s["pq"].pop(0))
                continue
            if s["queue"]:  # injected text (Wait, forced close)
                tok = s["queue"].pop(0)
            else:
                p = pred[i]
                tok = None
                if s["phase"] == "think":
                    if cap is not None and s["think"] >= cap:
                        text = task.decode(prompts[i] + s["out"])
                        close = ("" if text.endswith("\n") else "\n") + "</think>\n\nFinal Answer:"
                        s["queue"] = task.encode(close)
                        s["phase"] = "answer"
                        s["forced_close"] = True
                        tok = s["queue"].pop(0)
                    elif p == task.END_THINK:
                        if s["waits"] < waits:
                            s["waits"] += 1
                            s["queue"] = list(WAIT_IDS)
                            s["think"] += len(WAIT_IDS)
                            tok = s["queue"].pop(0)
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
                        s["done"] = True
                    else:
                        tok = p
                        s["ans"] += 1
                if s["done"]:
                    feed.append(0)
                    continue
            s["out"].append(tok)
            feed.append(tok)
        if all(s["done"] for s in st) or pos + 1 >= ctx:
            break
        nxt = torch.tensor(feed)
    res = []
    for i, s in enumerate(st):
        text = task.decode(s["out"])
        m = BOXED.findall(text.split("</think>")[-1]) if "</think>" in text else []
        res.append(dict(text=text, answer=int(m[-1]) if m else None, think_tokens=s["think"],
                        waits=s["waits"], forced_close=s["forced_close"], finished=s["done"] and not s["runaway"]))
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


SETTINGS = [("waits", w, None) for w in (0, 1, 2, 4, 6)] + [("cap", 2, c) for c in (16, 32, 64, 128, 256)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default="ckpt.pt")
    ap.add_argument("--limit", type=int, default=200)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", default=None)
    ap.add_argument("--show", type=int, default=0, help="print this many traces per setting")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = load(args.ckpt)
    probs = task.heldout_problems()[:args.limit]
    prompts = [task.encode(task.prompt_text(a, b)) for a, b in probs]
    answers = [a + b for a, b in probs]
    rows = []
    t0 = time.time()
    for kind, w, cap in SETTINGS:
        t1 = time.time()
        # a check is about 100 tokens: anything far beyond (waits + 1) checks is a loop
        res = run(model, prompts, waits=w, cap=cap, runaway=150 * (w + 2))
        acc = sum(r["answer"] == y for r, y in zip(res, answers)) / len(res)
        mt = sum(r["think_tokens"] for r in res) / len(res)
        row = dict(setting=kind, waits=w, cap=cap, accuracy=acc, mean_thinking_tokens=mt,
                   forced_closes=sum(r["forced_close"] for r in res),
                   unfinished=sum(not r["finished"] for r in res), seconds=round(time.time() - t1, 1))
        rows.append(row)
        print("%-5s waits=%d cap=%-4s acc=%.3f mean_think=%.1f forced=%d unfinished=%d (%.1fs)" % (
            kind, w, cap, acc, mt, row["forced_closes"], row["unfinished"], row["seconds"]), flush=True)
        for r, y in list(zip(res, answers))[:args.show]:
            print("   [%s] %r" % ("ok" if r["answer"] == y else "WRONG", r["text"]))
    print("total %.1fs" % (time.time() - t0))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(n=len(probs), rows=rows), f, indent=1)


if __name__ == "__main__":
    main()
