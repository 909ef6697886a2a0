"""Synthetic addition task, trace generator and character-level tokenizer.

The task: "What is A + B?" with A, B of 3 or 4 digits. Traces use the
think-tags format with the think start pre-inserted by the chat template:

    <|im_start|>user\nWhat is 4821 + 397?<|im_end|>\n<|im_start|>assistant\n<think>\n
    4821 + 397 = 5208\n                       <- quick one-shot pass (may slip)
    Wait, let me check digit by digit:\n      <- only in some traces
    1+7=8: 8\n
    2+9=11: 18\n
    8+3+1=12: 218\n
    4+0+1=5: 5218\n
    So 4821 + 397 = 5218\n
    </think>\n\nThe answer is \\boxed{5218}.<|im_end|>

The quick pass is a mental sum that forgets the carry out of the ones column
(a classic slip): it is wrong whenever the ones digits add up to 10 or more
(about 45% of problems). Whether a trace goes on with "Wait" is independent of
whether the quick pass was right, so a model trained on it usually stops after
the quick pass (like a real model that stops thinking too early) and, when
budget forcing appends "Wait", does the careful column check that repairs it.

Run `python3 task.py` to write the held-out set (models/tiny-reasoner.heldout.jsonl).
"""
import json
import os
import random
import re

# ---------------------------------------------------------------- tokenizer
SPECIALS = ["<|im_start|>", "<|im_end|>", "<think>", "</think>"]
SPECIAL_TYPES = [3, 3, 4, 4]  # control, control, user-defined, user-defined


def build_vocab():
    """SPM-style vocabulary as llama.cpp expects for tokenizer.ggml.model=llama.

    Returns (tokens, types, scores). Types: 1 normal, 2 unknown, 3 control,
    4 user-defined, 6 byte.
    """
    tokens, types = ["<unk>", "<s>", "</s>"], [2, 3, 3]
    for b in range(256):
        tokens.append("<0x%02X>" % b)
        types.append(6)
    tokens.append("\u2581")  # the SPM space marker, llama.cpp maps " " to it
    types.append(1)
    for c in range(0x21, 0x7F):  # printable ASCII
        tokens.append(chr(c))
        types.append(1)
    tokens += SPECIALS
    types += SPECIAL_TYPES
    scores = [0.0] * len(tokens)
    return tokens, types, scores


TOKENS, TOKEN_TYPES, TOKEN_SCORES = build_vocab()
TOK2ID = {t: i for i, t in enumerate(TOKENS)}
VOCAB_SIZE = len(TOKENS)
BOS_ID = TOK2ID["<s>"]
IM_START = TOK2ID["<|im_start|>"]
IM_END = TOK2ID["<|im_end|>"]  # eos
THINK = TOK2ID["<think>"]
END_THINK = TOK2ID["</think>"]
NEWLINE = TOK2ID["<0x0A>"]
_SPECIAL_RE = re.compile("(" + "|".join(re.escape(s) for s in SPECIALS) + ")")


def encode(text):
    """Tokenize like llama.cpp does with parse_special=true, add_space_prefix=false, no BOS."""
    ids = []
    for part in _SPECIAL_RE.split(text):
        if not part:
            continue
        if part in TOK2ID and part in SPECIALS:
            ids.append(TOK2ID[part])
            continue
        for ch in part:
            if ch == " ":
                ids.append(TOK2ID["\u2581"])
            elif ch in TOK2ID and len(ch) == 1 and TOKEN_TYPES[TOK2ID[ch]] == 1:
                ids.append(TOK2ID[ch])
            else:
                for b in ch.encode("utf-8"):
                    ids.append(TOK2ID["<0x%02X>" % b])
    return ids


def decode(ids):
    out = bytearray()
    for i in ids:
        t = TOKENS[i]
        ty = TOKEN_TYPES[i]
        if ty == 6:
            out.append(int(t[3:5], 16))
        elif ty in (3, 4):
            out += t.encode()
        elif ty == 1:
            out += t.replace("\u2581", " ").encode()
    return out.decode("utf-8", errors="replace")


# ---------------------------------------------------------------- problems
def prompt_text(a, b):
    return "<|im_start|>user\nWhat is %d + %d?<|im_end|>\n<|im_start|>assistant\n<think>\n" % (a, b)


def problem_text(a, b):
    return "What is %d + %d?" % (a, b)


def rand_operand(rng):
    return rng.randint(100, 999) if rng.random() < 0.5 else rng.randint(1000, 9999)


def quick_sum(a, b):
    """The quick mental sum: forgets the carry out of the ones column."""
    s = a + b
    if a % 10 + b % 10 >= 10:
        s -= 10
    return s


def column_check(a, b, first):
    head = ", let me check digit by digit:\n" if first else ", let me check again:\n"
    da, db = str(a)[::-1], str(b)[::-1]
    n = max(len(da), len(db))
    carry, sofar, lines = 0, "", []
    for i in range(n):
        x = int(da[i]) if i < len(da) else 0
        y = int(db[i]) if i < len(db) else 0
        s = x + y + carry
        expr = "%d+%d+%d" % (x, y, carry) if carry else "%d+%d" % (x, y)
        if i == n - 1:
            sofar = str(s) + sofar
        else:
            sofar = str(s % 10) + sofar
        lines.append("%s=%d: %s\n" % (expr, s, sofar))
        carry = s // 10
    assert int(sofar) == a + b
    return "Wait" + head + "".join(lines) + "So %d + %d = %d\n" % (a, b, a + b)


# How many checks a training trace holds, and how often a "Wait" in it is
# trained as the model's own choice. Most "Wait"s are treated as forced by budget
# forcing: the text after them is trained but not the choice to write "Wait"
# (its loss is masked), so long multi-check traces are common in training while
# the model, decoding greedily, still almost always closes its thinking itself.
N_CHECKS_WEIGHTS = [0.45, 0.20, 0.12, 0.08, 0.06, 0.05, 0.04]  # 0..6 checks
OWN_WAIT_SHARE = 0.15
# Each digit of the quick pass is replaced by a random digit with this
# probability in training traces. Without it the check can be "learned" by
# copying the quick pass (which differs from the truth in one digit at most),
# and the model never learns to add in the check; with it the check has to be
# computed from the question's digits.
QUICK_NOISE = 0.35
FORCED_CLOSE_SHARE = 0.08
RESULT_RE = re.compile(r"^\d+ \+ \d+ = (\d+)|^So \d+ \+ \d+ = (\d+)", re.M)


def latest_result(think, fallback):
    last = None
    for m in RESULT_RE.finditer(think):
        last = m.group(1) or m.group(2)
    return int(last) if last else fallback


def noisy(q, rng):
    if QUICK_NOISE <= 0:
        return q  # (draws nothing from rng: the first training stages ran without noise)
    d = [c if rng.random() >= QUICK_NOISE else str(rng.randint(0, 9)) for c in str(q)]
    if d[0] == "0":
        d[0] = str(q)[0]
    return int("".join(d))


def make_trace(a, b, rng):
    """Returns (prompt, completion, masked): masked holds the character offsets in
    the completion whose token gets no loss (a forced "Wait"). Every character of
    the thinking is one token, so offsets equal token offsets."""
    q = noisy(quick_sum(a, b), rng)
    think = "%d + %d = %d\n" % (a, b, q)
    n = rng.choices(range(len(N_CHECKS_WEIGHTS)), weights=N_CHECKS_WEIGHTS)[0]
    masked = []
    for k in range(n):
        if rng.random() >= OWN_WAIT_SHARE:
            masked.append(len(think))
        think += column_check(a, b, first=(k == 0))
    if rng.random() < FORCED_CLOSE_SHARE:
        cut = rng.randint(0, len(think))
        think = think[:cut]
        masked = [i for i in masked if i < cut]
        ans = latest_result(think, q)
        close = ("" if (think == "" or think.endswith("\n")) else "\n") + "</think>\n\nFinal Answer:"
        # the forced close itself is injected by the engine: no loss on it
        masked += list(range(len(think), len(think) + len(task_close_tokens(close))))
        return prompt_text(a, b), think + close + " The answer is \\boxed{%d}.<|im_end|>" % ans, masked
    return (prompt_text(a, b), think + "</think>\n\nThe answer is \\boxed{%d}.<|im_end|>" % latest_result(think, q),
            masked)


def task_close_tokens(close):
    return encode(close)


HELDOUT_SEED = 20250131
TRAIN_SEED = 1234


def heldout_problems(n=200):
    rng = random.Random(HELDOUT_SEED)
    seen, out = set(), []
    while len(out) < n:
        a, b = rand_operand(rng), rand_operand(rng)
        if (a, b) in seen:
            continue
        seen.add((a, b))
        out.append((a, b))
    return out


def heldout_pairs():
    return set(heldout_problems())


def write_heldout(path):
    with open(path, "w") as f:
        for a, b in heldout_problems():
            f.write(json.dumps({"problem": problem_text(a, b), "answer": a + b}) + "\n")


if __name__ == "__main__":
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    os.makedirs(os.path.join(root, "models"), exist_ok=True)
    p = os.path.join(root, "models", "tiny-reasoner.heldout.jsonl")
    write_heldout(p)
    print("wrote", p)
    rng = random.Random(0)
    for _ in range(4):
        a, b = rand_operand(rng), rand_operand(rng)
        pr, co, masked = make_trace(a, b, rng)
        print(repr(pr + co), len(encode(pr + co)), masked)
    hp = heldout_problems()
    print("quick-pass accuracy on held-out:", sum(quick_sum(a, b) == a + b for a, b in hp) / len(hp))
