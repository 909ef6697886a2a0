"""Synthetic addition task, trace generator and character-level tokenizer.

The task: "What is A + B?" with A, B of 3 or 4 digits. Traces use the
think-tags format with the think start pre-inserted by the chat template:

    <|im_start|>user\nWhat is 4821 + 397?<|im_end|>\n<|im_start|>assistant\n<think>\n
    Quick, without carrying: 1+7=8 2+9=1 8+3=1 4+0=4\n   <- quick pass: every carry forgotten
    So 4821 + 397 = 4118\n
    Wait, let me check the columns:\n         <- a check (forced or the model's own)
    1+7=8\n                                   <- re-add the columns from the right...
    2+9=11\n
    8+3+1=12, not 1\n                         <- ...up to the first wrong digit
    So 4821 + 397 = 4218\n                    <- fix that one digit, restate the sum
    Wait, let me check again:\n               <- the next check finds the next one
    1+7=8\n
    2+9=11\n
    8+3+1=12\n
    4+0+1=5, not 4\n
    So 4821 + 397 = 5218\n
    </think>\n\nThe answer is \\boxed{5218}.<|im_end|>

The quick pass adds each column without the carry coming into it (the top
column is written in full), so it is wrong in exactly the columns that receive
a carry: its number of mistakes is the number of carries of the problem, which
the model computes deterministically. Each check re-adds the columns from the
right, stops at the first column whose digit differs from the current sum,
fixes that digit and restates the sum; a check that finds nothing restates the
sum unchanged. So with w checks a problem with k carries is right if k <= w:
greedy accuracy against forced waits is the share of problems with at most w
carries, a curve that rises with diminishing returns when problems with more
carries are rarer, and is flat once every carry is fixed.

Whether a trace goes on with "Wait" is independent of whether the sum is
right, and the model's own choice to write "Wait" is trained at a rate below
one half: greedy decoding closes the thinking after the quick pass (the model
stops too early) and needs the forced "Wait"s; sampling sometimes checks on
its own.

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


def columns(a, b):
    """The columns from the ones up: (x, y, carry in, column sum)."""
    da, db = str(a)[::-1], str(b)[::-1]
    out, carry = [], 0
    for i in range(max(len(da), len(db))):
        x = int(da[i]) if i < len(da) else 0
        y = int(db[i]) if i < len(db) else 0
        s = x + y + carry
        out.append((x, y, carry, s))
        carry = s // 10
    return out


def true_digits(a, b):
    """The sum as one string per column, ones first; the top column holds its whole sum."""
    cols = columns(a, b)
    return [str(s % 10) for _, _, _, s in cols[:-1]] + [str(cols[-1][3])]


def quick_digits(a, b):
    """The quick pass: every column added without its carry in (the top one in full)."""
    cols = columns(a, b)
    return [str((x + y) % 10) for x, y, _, _ in cols[:-1]] + [str(cols[-1][0] + cols[-1][1])]


def join(digits):
    return "".join(reversed(digits))


def n_carries(a, b):
    """The number of columns that receive a carry = the quick pass's mistakes."""
    return sum(c for _, _, c, _ in columns(a, b))


def quick_sum(a, b):
    return int(join(quick_digits(a, b)))


def check(a, b, cur, first):
    """One check after "Wait": re-add the columns from the right, stop at the first
    column whose digit in the current sum `cur` (per-column strings) is wrong, fix it,
    restate the sum. Returns (text without the leading "Wait", the new cur)."""
    text = ", let me check the columns:\n" if first else ", let me check again:\n"
    cols = columns(a, b)
    good = true_digits(a, b)
    cur = list(cur)
    for i, (x, y, c, s) in enumerate(cols):
        text += ("%d+%d+%d=%d" % (x, y, c, s)) if c else ("%d+%d=%d" % (x, y, s))
        if cur[i] != good[i]:
            text += ", not %s\n" % cur[i]
            cur[i] = good[i]
            break
        text += "\n"
    text += "So %d + %d = %s\n" % (a, b, join(cur))
    return text, cur


# Each decision point (after the quick pass and after each check) goes on with
# a forced "Wait" (trained text after it, but no loss on the "W": budget forcing
# wrote it), with the model's own "Wait" (loss on it), or closes the thinking.
# The model learns P(own Wait) = OWN_WAIT_P < 1/2 at every decision point, so
# greedy decoding always closes, while long multi-check traces are common.
FORCED_WAIT_P = 0.5
OWN_WAIT_P = 0.35
MAX_CHECKS = 7
# Share of training traces whose quick pass has one more digit (sometimes two)
# replaced at random: the check must add the columns itself and compare with
# the digits actually written. With few corrupted quick passes (15%) the model
# learned to write each check's column sum as the quick pass's digit plus the
# carry, which is right when the quick pass is, and fails on its own slips.
QUICK_NOISE = 0.5
FORCED_CLOSE_SHARE = 0.08
RESULT_RE = re.compile(r"\d+ \+ \d+ = (\d+)\n")


def latest_result(think, fallback):
    last = None
    for m in RESULT_RE.finditer(think):
        last = m.group(1)
    return int(last) if last else fallback


def noisy(digits, rng):
    d = list(digits)
    if QUICK_NOISE <= 0 or rng.random() >= QUICK_NOISE:
        return d
    for _ in range(1 if rng.random() < 0.75 else 2):
        i = rng.randrange(len(d))
        if i == len(d) - 1:  # the top column: any other non-empty value without a leading 0
            opts = [str(v) for v in range(1, 19) if str(v) != d[i] and len(str(v)) <= max(1, len(d[i]))]
        else:
            opts = [str(v) for v in range(10) if str(v) != d[i]]
        d[i] = rng.choice(opts)
    return d


# How the quick pass is written. "pairs" (the model's format): each column
# from the ones up with its digit but no carry (the top column in full), then
# the number they make:
#     Quick, without carrying: 1+7=8 2+9=1 8+3=1 4+0=4\nSo 4821 + 397 = 4118\n
# The earlier formats are kept for the first training stages, which teach the
# checks: "inline" (`4821 + 397 = 4118`: after 4000 steps the model wrote 36% of
# these digits right, it never learned to right-align the columns in one go)
# and "columns" (`Quick sum, right to left: 8 1 1 4` + the number: 15% right
# after 750 steps, adding two looked-up digits in one token is not learned);
# with the digits written out, each token is one lookup or one local sum.
QUICK_FORMAT = "pairs"


def quick_text(a, b, cur):
    if QUICK_FORMAT == "inline":
        return "%d + %d = %s\n" % (a, b, join(cur))
    if QUICK_FORMAT == "columns":
        return "Quick sum, right to left: %s\nSo %d + %d = %s\n" % (" ".join(cur), a, b, join(cur))
    pairs = " ".join("%d+%d=%s" % (x, y, d) for (x, y, _, _), d in zip(columns(a, b), cur))
    return "Quick, without carrying: %s\nSo %d + %d = %s\n" % (pairs, a, b, join(cur))


def make_trace(a, b, rng, checks=None):
    """Returns (prompt, completion, masked): masked holds the character offsets in
    the completion whose token gets no loss (a forced "Wait", an injected close).
    Every character of the thinking is one token, so offsets equal token offsets.
    checks: force this many checks (for tests); default: drawn per decision point."""
    cur = noisy(quick_digits(a, b), rng)
    quick = int(join(cur))
    think = quick_text(a, b, cur)
    masked = []
    k = 0
    while k < MAX_CHECKS:
        if checks is not None:
            go, forced = k < checks, True
        else:
            forced = rng.random() < FORCED_WAIT_P
            go = forced or rng.random() < OWN_WAIT_P
        if not go:
            break
        if forced:
            masked.append(len(think))
        body, cur = check(a, b, cur, first=(k == 0))
        think += "Wait" + body
        k += 1
    if checks is None and rng.random() < FORCED_CLOSE_SHARE:
        cut = rng.randint(0, len(think))
        think = think[:cut]
        masked = [i for i in masked if i < cut]
        ans = latest_result(think, quick)
        close = ("" if (think == "" or think.endswith("\n")) else "\n") + "</think>\n\nFinal Answer:"
        # the forced close itself is injected by the engine: no loss on it
        masked += list(range(len(think), len(think) + len(encode(close))))
        return prompt_text(a, b), think + close + " The answer is \\boxed{%d}.<|im_end|>" % ans, masked
    return (prompt_text(a, b), think + "</think>\n\nThe answer is \\boxed{%d}.<|im_end|>" % int(join(cur)),
            masked)


# Problems are drawn by their number of carries (= the quick pass's mistakes).
# Training: all counts common. Held-out: fewer problems the more carries they
# have, so each further check repairs fewer of them (s1's diminishing returns).
TRAIN_CARRY_WEIGHTS = [0.2, 0.3, 0.3, 0.2]
HELDOUT_CARRY_COUNTS = [20, 80, 60, 40]  # 200 problems with 0, 1, 2, 3 carries
HELDOUT_SEED = 20250717
TRAIN_SEED = 1234


def problem_with_carries(rng, k):
    while True:
        a, b = rand_operand(rng), rand_operand(rng)
        if n_carries(a, b) == k:
            return a, b


def train_problem(rng, exclude=()):
    while True:
        k = rng.choices(range(len(TRAIN_CARRY_WEIGHTS)), weights=TRAIN_CARRY_WEIGHTS)[0]
        a, b = problem_with_carries(rng, k)
        if (a, b) not in exclude:
            return a, b


def heldout_problems():
    rng = random.Random(HELDOUT_SEED)
    seen, out = set(), []
    for k, n in enumerate(HELDOUT_CARRY_COUNTS):
        got = 0
        while got < n:
            a, b = problem_with_carries(rng, k)
            if (a, b) in seen:
                continue
            seen.add((a, b))
            out.append((a, b))
            got += 1
    rng.shuffle(out)
    return out


def heldout_pairs():
    return set(heldout_problems())


def oracle_curve(problems, waits=(0, 1, 2, 3, 4, 6)):
    """Accuracy of a model that reproduces the traces exactly: right iff carries <= waits."""
    ks = [n_carries(a, b) for a, b in problems]
    return {w: sum(k <= w for k in ks) / len(ks) for w in waits}


def write_heldout(path):
    with open(path, "w") as f:
        for a, b in heldout_problems():
            f.write(json.dumps({"problem": problem_text(a, b), "answer": a + b}) + "\n")


def _self_test():
    global QUICK_NOISE
    saved, QUICK_NOISE = QUICK_NOISE, 0.0
    rng = random.Random(7)
    for _ in range(3000):
        a, b = rand_operand(rng), rand_operand(rng)
        k = n_carries(a, b)
        assert int(join(true_digits(a, b))) == a + b
        wrong = sum(q != t for q, t in zip(quick_digits(a, b), true_digits(a, b)))
        assert wrong == k, (a, b)
        for w in range(6):
            _, co, _ = make_trace(a, b, rng, checks=w)
            ans = int(re.search(r"\\boxed\{(\d+)\}", co).group(1))
            assert (ans == a + b) == (k <= w), (a, b, w, co)
    QUICK_NOISE = saved


if __name__ == "__main__":
    _self_test()
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    os.makedirs(os.path.join(root, "models"), exist_ok=True)
    p = os.path.join(root, "models", "tiny-reasoner.heldout.jsonl")
    write_heldout(p)
    print("wrote", p)
    rng = random.Random(0)
    for _ in range(3):
        a, b = train_problem(rng)
        pr, co, masked = make_trace(a, b, rng)
        print(pr + co)
        print(len(encode(pr + co)), "tokens, masked", masked)
    print("oracle greedy curve on the held-out set (waits: accuracy):", oracle_curve(heldout_problems()))
