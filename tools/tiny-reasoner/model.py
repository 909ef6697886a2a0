"""Llama-architecture decoder, laid out exactly as llama.cpp's LLM_ARCH_LLAMA computes it.

- RMSNorm (eps 1e-5), pre-norm blocks, SwiGLU FFN, no biases, untied output.
- RoPE is llama.cpp's "normal" (non-NeoX) rope: adjacent pairs (x[2i], x[2i+1])
  of each head are rotated by pos * base^(-2i/head_dim). The head layout is the
  plain view (n_head, head_dim) of the projection output, which is what
  llama.cpp does, so the weights are exported without any Q/K permutation.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class Config:
    def __init__(self, vocab_size, dim=128, n_layers=4, n_heads=4, ffn_dim=384, ctx=1024,
                 rope_base=10000.0, eps=1e-5):
        self.vocab_size = vocab_size
        self.dim = dim
        self.n_layers = n_layers
        self.n_heads = n_heads
        self.ffn_dim = ffn_dim
        self.ctx = ctx
        self.rope_base = rope_base
        self.eps = eps

    def to_dict(self):
        return dict(self.__dict__)


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(head_dim, positions, base):
    inv = base ** (-torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim)
    ang = positions.float()[:, None] * inv[None, :]  # (T, hd/2)
    return torch.cos(ang), torch.sin(ang)


def apply_rope(x, cos, sin):
    # x: (B, T, H, hd); rotate adjacent pairs
    x0 = x[..., 0::2]
    x1 = x[..., 1::2]
    c = cos[None, :, None, :]
    s = sin[None, :, None, :]
    y0 = x0 * c - x1 * s
    y1 = x0 * s + x1 * c
    return torch.stack((y0, y1), dim=-1).flatten(-2)


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg.dim
        self.n_heads = cfg.n_heads
        self.hd = d // cfg.n_heads
        self.attn_norm = RMSNorm(d, cfg.eps)
        self.wq = nn.Linear(d, d, bias=False)
        self.wk = nn.Linear(d, d, bias=False)
        self.wv = nn.Linear(d, d, bias=False)
        self.wo = nn.Linear(d, d, bias=False)
        self.ffn_norm = RMSNorm(d, cfg.eps)
        self.w_gate = nn.Linear(d, cfg.ffn_dim, bias=False)
        self.w_up = nn.Linear(d, cfg.ffn_dim, bias=False)
        self.w_down = nn.Linear(cfg.ffn_dim, d, bias=False)

    def forward(self, x, cos, sin, cache=None):
        B, T, D = x.shape
        h = self.attn_norm(x)
        q = self.wq(h).view(B, T, self.n_heads, self.hd)
        k = self.wk(h).view(B, T, self.n_heads, self.hd)
        v = self.wv(h).view(B, T, self.n_heads, self.hd)
        q = apply_rope(q, cos, sin).transpose(1, 2)  # B H T hd
        k = apply_rope(k, cos, sin).transpose(1, 2)
        v = v.transpose(1, 2)
        if cache is not None:
            if "k" in cache:
                k = torch.cat([cache["k"], k], dim=2)
                v = torch.cat([cache["v"], v], dim=2)
            cache["k"], cache["v"] = k, v
        S = k.shape[2]
        att = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(self.hd))
        if T > 1:
            mask = torch.ones(T, S, dtype=torch.bool).tril(diagonal=S - T)
            att = att.masked_fill(~mask, float("-inf"))
        att = F.softmax(att, dim=-1)
        o = (att @ v).transpose(1, 2).reshape(B, T, D)
        x = x + self.wo(o)
        h = self.ffn_norm(x)
        x = x + self.w_down(F.silu(self.w_gate(h)) * self.w_up(h))
        return x


class TinyLlama(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.tok_emb = nn.Embedding(cfg.vocab_size, cfg.dim)
        self.blocks = nn.ModuleList([Block(cfg) for _ in range(cfg.n_layers)])
        self.norm = RMSNorm(cfg.dim, cfg.eps)
        self.out = nn.Linear(cfg.dim, cfg.vocab_size, bias=False)
        self.apply(self._init)
        for b in self.blocks:
            nn.init.normal_(b.wo.weight, std=0.02 / math.sqrt(2 * cfg.n_layers))
            nn.init.normal_(b.w_down.weight, std=0.02 / math.sqrt(2 * cfg.n_layers))

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)

    def forward(self, idx, start_pos=0, caches=None):
        B, T = idx.shape
        pos = torch.arange(start_pos, start_pos + T)
        cos, sin = rope_tables(self.cfg.dim // self.cfg.n_heads, pos, self.cfg.rope_base)
        x = self.tok_emb(idx)
        for i, blk in enumerate(self.blocks):
            x = blk(x, cos, sin, None if caches is None else caches[i])
        return self.out(self.norm(x))


def load(path):
    ck = torch.load(path, map_location="cpu")
    cfg = Config(**ck["config"])
    m = TinyLlama(cfg)
    m.load_state_dict(ck["model"])
    m.eval()
    return m


@torch.no_grad()
def decode_step(model, tokens, pos, kbufs, vbufs):
    """One decoding step for a batch that advances in lockstep: tokens (B,) sit at
    position pos in every row. kbufs/vbufs: per-layer (B, H, ctx, hd) buffers."""
    cfg = model.cfg
    hd = cfg.dim // cfg.n_heads
    cos, sin = rope_tables(hd, torch.tensor([pos]), cfg.rope_base)
    x = model.tok_emb(tokens[:, None])
    B = x.shape[0]
    for i, blk in enumerate(model.blocks):
        h = blk.attn_norm(x)
        q = apply_rope(blk.wq(h).view(B, 1, cfg.n_heads, hd), cos, sin).transpose(1, 2)
        k = apply_rope(blk.wk(h).view(B, 1, cfg.n_heads, hd), cos, sin).transpose(1, 2)
        v = blk.wv(h).view(B, 1, cfg.n_heads, hd).transpose(1, 2)
        kbufs[i][:, :, pos:pos + 1] = k
        vbufs[i][:, :, pos:pos + 1] = v
        K = kbufs[i][:, :, :pos + 1]
        V = vbufs[i][:, :, :pos + 1]
        att = F.softmax((q @ K.transpose(-1, -2)) * (1.0 / math.sqrt(hd)), dim=-1)
        o = (att @ V).transpose(1, 2).reshape(B, 1, cfg.dim)
        x = x + blk.wo(o)
        h = blk.ffn_norm(x)
        x = x + blk.w_down(F.silu(blk.w_gate(h)) * blk.w_up(h))
    return model.out(model.norm(x))[:, 0]


def new_buffers(model, B, ctx=None):
    cfg = model.cfg
    ctx = ctx or cfg.ctx
    hd = cfg.dim // cfg.n_heads
    mk = lambda: [torch.zeros(B, cfg.n_heads, ctx, hd) for _ in range(cfg.n_layers)]
    return mk(), mk()
