"""Every number of README.md, measured in torch on the 200 held-out problems, into results.json.

    /usr/bin/python3 measure.py [--base checkpoints/tiny-reasoner.pt] [--twin checkpoints/tiny-reasoner-rl.pt]

- greedy: both models, forced waits 0, 1, 2, 3, 4, 6 and thinking caps (eval.GREEDY_SETTINGS);
- sampled: the base model at --sampled-temperature (0.3, as the s1-curve preset) / top-p 0.95 over the same settings on the
  first --sampled-limit problems, --sampled-samples samples each, with two seeds, and the
  s1 Scaling metric of each seed;
- pass@k: both models, 64 samples per problem at temperature 0.6 / top-p 0.95, no forced
  waits (the model stops or checks on its own), unbiased pass@1..64.
"""
import argparse
import json
import time

import torch

import task
from eval import GREEDY_SETTINGS, passk, s1_scaling, table
from model import load


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", default="checkpoints/tiny-reasoner.pt")
    ap.add_argument("--twin", default="checkpoints/tiny-reasoner-rl.pt")
    ap.add_argument("--out", default="results.json")
    ap.add_argument("--sampled-limit", type=int, default=24)
    ap.add_argument("--sampled-samples", type=int, default=4)
    ap.add_argument("--sampled-temperature", type=float, default=0.3)
    ap.add_argument("--seeds", default="1,2")
    ap.add_argument("--passk-samples", type=int, default=64)
    ap.add_argument("--only", default="greedy,sampled,passk")
    args = ap.parse_args()
    torch.set_num_threads(1)
    probs = task.heldout_problems()
    models = {"tiny-reasoner": load(args.base), "tiny-reasoner-rl": load(args.twin)}
    try:
        with open(args.out) as f:
            out = json.load(f)
    except (OSError, ValueError):
        out = {}
    out["n"] = len(probs)
    out["oracle_greedy"] = task.oracle_curve(probs)
    only = args.only.split(",")
    if "greedy" in only:
        out["greedy"] = {}
        for name, m in models.items():
            print("== greedy", name, flush=True)
            t0 = time.time()
            out["greedy"][name] = dict(rows=table(m, probs, GREEDY_SETTINGS), seconds=round(time.time() - t0, 1))
    if "sampled" in only:
        out["sampled"] = []
        sub = probs[:args.sampled_limit]
        for seed in [int(s) for s in args.seeds.split(",")]:
            print("== sampled, seed", seed, flush=True)
            rows = table(models["tiny-reasoner"], sub, GREEDY_SETTINGS, samples=args.sampled_samples,
                         temperature=args.sampled_temperature, top_p=0.95, seed=seed)
            out["sampled"].append(dict(
                model="tiny-reasoner", problems=len(sub), samples=args.sampled_samples,
                temperature=args.sampled_temperature,
                top_p=0.95, seed=seed, rows=rows,
                scaling_all=s1_scaling([(r["mean_thinking_tokens"], r["accuracy"]) for r in rows]),
                scaling_waits=s1_scaling([(r["mean_thinking_tokens"], r["accuracy"]) for r in rows
                                          if r["setting"] == "waits"])))
            print("scaling: all %.1f, waits %.1f" % (out["sampled"][-1]["scaling_all"],
                                                     out["sampled"][-1]["scaling_waits"]), flush=True)
    if "passk" in only:
        out["passk"] = {}
        for name, m in models.items():
            print("== pass@k", name, flush=True)
            r = passk(m, probs, args.passk_samples, 0.6, 0.95, seed=7)
            print(json.dumps({k: v for k, v in r.items() if k != "correct_per_problem"}), flush=True)
            out["passk"][name] = r
        b, t = out["passk"]["tiny-reasoner"]["pass_at_k"], out["passk"]["tiny-reasoner-rl"]["pass_at_k"]
        out["passk_crossover_k"] = next((k for k in b if b[k] > t[k]), None)
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)
    print("wrote", args.out)


if __name__ == "__main__":
    main()
