"""Export a checkpoint to a llama-architecture GGUF (v3, all f32) with a small
self-contained writer (the `gguf` PyPI package is not needed).

    /usr/bin/python3 export_gguf.py --ckpt ckpt.pt --out ../../models/tiny-reasoner.gguf

Tensors are written as torch stores them (row-major, last dim fastest), which is
ggml's layout with the dims listed fastest first. No Q/K permutation: model.py
already uses llama.cpp's adjacent-pair ("normal") rope.
"""
import argparse
import json
import struct

import numpy as np
import torch

import task
from model import load

ALIGN = 32
T_UINT32, T_INT32, T_FLOAT32, T_BOOL, T_STRING, T_ARRAY = 4, 5, 6, 7, 8, 9
GGML_F32 = 0

CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{%- if message['role'] != 'system' -%}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' -}}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}"
    "{{- '<|im_start|>assistant\\n<think>\\n' -}}"
    "{%- endif -%}"
)


def s_str(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def kv(key, vtype, value):
    out = s_str(key) + struct.pack("<I", vtype)
    if vtype == T_UINT32:
        out += struct.pack("<I", value)
    elif vtype == T_INT32:
        out += struct.pack("<i", value)
    elif vtype == T_FLOAT32:
        out += struct.pack("<f", value)
    elif vtype == T_BOOL:
        out += struct.pack("<?", value)
    elif vtype == T_STRING:
        out += s_str(value)
    else:
        raise ValueError(vtype)
    return out


def kv_array(key, etype, values):
    out = s_str(key) + struct.pack("<I", T_ARRAY) + struct.pack("<IQ", etype, len(values))
    if etype == T_STRING:
        out += b"".join(s_str(v) for v in values)
    elif etype == T_FLOAT32:
        out += struct.pack("<%df" % len(values), *values)
    elif etype == T_INT32:
        out += struct.pack("<%di" % len(values), *values)
    else:
        raise ValueError(etype)
    return out


def tensors_of(model):
    sd = {k: v.detach().float().contiguous() for k, v in model.state_dict().items()}
    out = [("token_embd.weight", sd["tok_emb.weight"])]
    for i in range(model.cfg.n_layers):
        p = "blocks.%d." % i
        out += [
            ("blk.%d.attn_norm.weight" % i, sd[p + "attn_norm.weight"]),
            ("blk.%d.attn_q.weight" % i, sd[p + "wq.weight"]),
            ("blk.%d.attn_k.weight" % i, sd[p + "wk.weight"]),
            ("blk.%d.attn_v.weight" % i, sd[p + "wv.weight"]),
            ("blk.%d.attn_output.weight" % i, sd[p + "wo.weight"]),
            ("blk.%d.ffn_norm.weight" % i, sd[p + "ffn_norm.weight"]),
            ("blk.%d.ffn_gate.weight" % i, sd[p + "w_gate.weight"]),
            ("blk.%d.ffn_up.weight" % i, sd[p + "w_up.weight"]),
            ("blk.%d.ffn_down.weight" % i, sd[p + "w_down.weight"]),
        ]
    out += [("output_norm.weight", sd["norm.weight"]), ("output.weight", sd["out.weight"])]
    return out


DESCRIPTIONS = {
    "tiny-reasoner": "Thinkscope tiny reasoner: a ~1M-parameter character-level model trained on synthetic "
                     "addition with think-tags traces, for offline budget-forcing demos only.",
    "tiny-reasoner-rl": "Thinkscope tiny reasoner, sharpened twin: the tiny reasoner fine-tuned on its own "
                        "correct and short samples (rejection-sampling fine-tuning), for offline demos only.",
}


def export(model, path, name="tiny-reasoner"):
    cfg = model.cfg
    kvs = [
        kv("general.architecture", T_STRING, "llama"),
        kv("general.name", T_STRING, name),
        kv("general.description", T_STRING, DESCRIPTIONS[name]),
        kv("general.license", T_STRING, "MIT"),
        kv("general.alignment", T_UINT32, ALIGN),
        kv("general.file_type", T_UINT32, 0),  # all F32
        kv("llama.context_length", T_UINT32, cfg.ctx),
        kv("llama.embedding_length", T_UINT32, cfg.dim),
        kv("llama.block_count", T_UINT32, cfg.n_layers),
        kv("llama.feed_forward_length", T_UINT32, cfg.ffn_dim),
        kv("llama.attention.head_count", T_UINT32, cfg.n_heads),
        kv("llama.attention.head_count_kv", T_UINT32, cfg.n_heads),
        kv("llama.attention.layer_norm_rms_epsilon", T_FLOAT32, cfg.eps),
        kv("llama.rope.freq_base", T_FLOAT32, cfg.rope_base),
        kv("llama.rope.dimension_count", T_UINT32, cfg.dim // cfg.n_heads),
        kv("llama.vocab_size", T_UINT32, cfg.vocab_size),
        kv("tokenizer.ggml.model", T_STRING, "llama"),
        kv_array("tokenizer.ggml.tokens", T_STRING, task.TOKENS),
        kv_array("tokenizer.ggml.scores", T_FLOAT32, task.TOKEN_SCORES),
        kv_array("tokenizer.ggml.token_type", T_INT32, task.TOKEN_TYPES),
        kv("tokenizer.ggml.bos_token_id", T_UINT32, task.BOS_ID),
        kv("tokenizer.ggml.eos_token_id", T_UINT32, task.IM_END),
        kv("tokenizer.ggml.eot_token_id", T_UINT32, task.IM_END),
        kv("tokenizer.ggml.unknown_token_id", T_UINT32, task.TOK2ID["<unk>"]),
        kv("tokenizer.ggml.padding_token_id", T_UINT32, task.TOK2ID["<unk>"]),
        kv("tokenizer.ggml.add_bos_token", T_BOOL, False),
        kv("tokenizer.ggml.add_eos_token", T_BOOL, False),
        kv("tokenizer.ggml.add_space_prefix", T_BOOL, False),
        kv("tokenizer.chat_template", T_STRING, CHAT_TEMPLATE),
    ]
    tens = tensors_of(model)
    infos, datas, offset = [], [], 0
    for name, t in tens:
        arr = t.numpy().astype(np.float32)
        dims = list(arr.shape)[::-1]  # fastest first
        infos.append(s_str(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
                     + struct.pack("<IQ", GGML_F32, offset))
        raw = arr.tobytes(order="C")
        pad = (-len(raw)) % ALIGN
        datas.append(raw + b"\0" * pad)
        offset += len(raw) + pad
    header = b"GGUF" + struct.pack("<IQQ", 3, len(tens), len(kvs)) + b"".join(kvs) + b"".join(infos)
    header += b"\0" * ((-len(header)) % ALIGN)
    with open(path, "wb") as f:
        f.write(header)
        for d in datas:
            f.write(d)
    return len(header) + offset


def parity_cases(model, max_new=64):
    """~10 prompts with torch's greedy continuation ids, for a llama.cpp parity test."""
    from eval import greedy, run
    probs = task.heldout_problems()
    texts = []
    for a, b in probs[:4]:  # plain prompts: quick pass, </think>, answer
        texts.append(("plain %d+%d" % (a, b), task.prompt_text(a, b)))
    # budget-forcing continuations: the model's own thinking with "Wait" / a forced close appended
    for (a, b) in probs[4:6]:  # "Wait" right after the quick pass: the first check
        p = task.prompt_text(a, b)
        think = run(model, [task.encode(p)], waits=0, ctx=768)[0]["text"].split("</think>")[0]
        texts.append(("Wait after the quick pass %d+%d" % (a, b), p + think + "Wait"))
    for (a, b), waits in [(probs[6], 1), (probs[7], 2), (probs[10], 4)]:  # "Wait" after 1, 2, 4 checks
        p = task.prompt_text(a, b)
        think = run(model, [task.encode(p)], waits=waits, ctx=768)[0]["text"].split("</think>")[0]
        texts.append(("Wait after %d checks %d+%d" % (waits, a, b), p + think + "Wait"))
    a, b = probs[9]
    p = task.prompt_text(a, b)
    r = run(model, [task.encode(p)], waits=1, cap=110, ctx=768)[0]  # inside the first check
    texts.append(("forced close mid-check %d+%d" % (a, b), p + r["text"].split("Final Answer:")[0] + "Final Answer:"))
    a, b = probs[8]
    texts.append(("raw text with special tokens %d+%d" % (a, b), task.prompt_text(a, b) + "%d + %d = " % (a, b)))
    cases = []
    for name, text in texts:
        ids = task.encode(text)
        out = greedy(model, ids, max_new)
        cases.append(dict(name=name, text=text, prompt_ids=ids, continuation_ids=out,
                          continuation_text=task.decode(out)))
    return cases


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default="ckpt.pt")
    ap.add_argument("--out", default="../../models/tiny-reasoner.gguf")
    ap.add_argument("--parity", default=None, help="default: next to --out, .parity.json")
    ap.add_argument("--max-new", type=int, default=128)
    ap.add_argument("--name", default="tiny-reasoner", choices=sorted(DESCRIPTIONS))
    args = ap.parse_args()
    torch.set_num_threads(1)
    model = load(args.ckpt)
    n = export(model, args.out, args.name)
    print("wrote %s (%d bytes)" % (args.out, n))
    ppath = args.parity or args.out[:-len(".gguf")] + ".parity.json"
    cases = parity_cases(model, args.max_new)
    with open(ppath, "w") as f:
        json.dump(cases, f, indent=1)
        f.write("\n")
    print("wrote %s (%d cases)" % (ppath, len(cases)))


if __name__ == "__main__":
    main()
