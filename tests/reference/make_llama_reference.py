#!/usr/bin/env python3
"""Writes the PyTorch reference fixtures for Llama-style configurations of ouro's GPT, which
tests/nn/test_gpt_parity.cpp compares ouro against.

The model is written here independently of ouro, in the manner of Meta's Llama 2 as llama2.c's
model.py writes it: RMSNorm, rotary embeddings, grouped-query attention (keys and values repeated
over the query heads of their group), a SwiGLU MLP and a classifier separate from the token
embedding. Parameter names and weight layouts are ouro's (GPT-2's names):
  attn.c_attn   one Linear C -> C + 2 KVD, rows q, then k, then v (KVD = n_kv_head x HS)
  mlp.c_fc      one Linear C -> 2H, the gate's rows (llama's w1) first, then the up projection (w3)
  mlp.c_proj    H -> C (llama's w2)
  ln_1, ln_2, ln_f   RMSNorm weights (never a bias)
  lm_head       (V, C), only when the head is not tied to transformer.wte
The fixture contents, the initial values, the batch and the optimiser (10 AdamW steps, weight
decay on matrices except embeddings, so on lm_head.weight too) are those of
make_gpt_reference.py, whose record_fixture writes them.

Variants:
  llama_gqa_float32, llama_gqa_float64   4 heads over 2 key/value heads, RoPE on interleaved
                                         pairs, no biases, separate lm_head (GPTConfig::llama)
  llama_mqa_float64                      one key/value head, RoPE rotate-half, Linear biases,
                                         head tied to wte

Usage: /usr/bin/python3 tests/reference/make_llama_reference.py [output_dir]
"""
import math
import sys
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from make_gpt_reference import DTYPES, record_fixture


def llama_hidden_size(n_embd, multiple_of):
    """llama2.c's SwiGLU width: two thirds of 4 C, rounded up to a multiple of multiple_of."""
    hidden = 2 * (4 * n_embd) // 3
    return -(-hidden // multiple_of) * multiple_of


BASE = dict(vocab_size=64, block_size=16, n_layer=2, n_head=4, n_embd=32, dropout=0.0,
            position="rope", rope_base=10000.0, norm="rmsnorm", norm_eps=1e-5, mlp="swiglu",
            mlp_hidden=llama_hidden_size(32, 16))
GQA = dict(BASE, bias=False, rope_layout="interleaved", n_kv_head=2, tied_head=False)
MQA = dict(BASE, bias=True, rope_layout="half", n_kv_head=1, tied_head=True)
VARIANTS = [("llama_gqa", "float32", GQA), ("llama_gqa", "float64", GQA),
            ("llama_mqa", "float64", MQA)]


def rotary(x, n_head, layout, base):
    """RoPE on x (B, T, n_head * HS). Pair i of a head (i < HS/2) is channels (2i, 2i+1) when
    interleaved, (i, i + HS/2) when half, and is rotated at position t by t * base^(-2i/HS).
    The angles and their cosines and sines are taken in float64 and then rounded to x's dtype."""
    B, T, C = x.shape
    hs = C // n_head
    pairs = torch.arange(hs // 2, dtype=torch.float64)
    angle = torch.outer(torch.arange(T, dtype=torch.float64), base ** (-2.0 * pairs / hs))
    cos = angle.cos().to(x.dtype)[None, :, None, :]  # (1, T, 1, HS/2)
    sin = angle.sin().to(x.dtype)[None, :, None, :]
    heads = x.view(B, T, n_head, hs)
    if layout == "interleaved":
        even, odd = heads[..., 0::2], heads[..., 1::2]
        rotated = torch.stack([even * cos - odd * sin, odd * cos + even * sin], dim=-1)
    else:
        first, second = heads[..., : hs // 2], heads[..., hs // 2 :]
        rotated = torch.cat([first * cos - second * sin, second * cos + first * sin], dim=-1)
    return rotated.reshape(B, T, C)


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):  # in x's own dtype (llama2.c upcasts to float32, which f64 must not)
        return x * torch.rsqrt(x.square().mean(dim=-1, keepdim=True) + self.eps) * self.weight


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.n_head, self.n_kv_head = c["n_head"], c["n_kv_head"]
        self.hs = c["n_embd"] // c["n_head"]
        self.kv_dim = self.n_kv_head * self.hs
        self.layout, self.base = c["rope_layout"], c["rope_base"]
        self.c_attn = nn.Linear(c["n_embd"], c["n_embd"] + 2 * self.kv_dim, bias=c["bias"])
        self.c_proj = nn.Linear(c["n_embd"], c["n_embd"], bias=c["bias"])

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split([C, self.kv_dim, self.kv_dim], dim=2)
        q = rotary(q, self.n_head, self.layout, self.base)
        k = rotary(k, self.n_kv_head, self.layout, self.base)
        # Each key/value head serves n_head / n_kv_head consecutive query heads.
        group = self.n_head // self.n_kv_head
        q = q.view(B, T, self.n_head, self.hs).transpose(1, 2)  # (B, NH, T, HS)
        k = k.view(B, T, self.n_kv_head, self.hs).repeat_interleave(group, dim=2).transpose(1, 2)
        v = v.view(B, T, self.n_kv_head, self.hs).repeat_interleave(group, dim=2).transpose(1, 2)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.hs)  # (B, NH, T, T)
        future = torch.ones(T, T, dtype=torch.bool).triu(diagonal=1)
        weights = scores.masked_fill(future, float("-inf")).softmax(dim=-1)
        y = (weights @ v).transpose(1, 2).reshape(B, T, C)
        return self.c_proj(y)


class SwiGLU(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.hidden = c["mlp_hidden"]
        self.c_fc = nn.Linear(c["n_embd"], 2 * self.hidden, bias=c["bias"])
        self.c_proj = nn.Linear(self.hidden, c["n_embd"], bias=c["bias"])

    def forward(self, x):
        gate, up = self.c_fc(x).split(self.hidden, dim=-1)
        return self.c_proj(F.silu(gate) * up)


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.ln_1 = RMSNorm(c["n_embd"], c["norm_eps"])
        self.attn = Attention(c)
        self.ln_2 = RMSNorm(c["n_embd"], c["norm_eps"])
        self.mlp = SwiGLU(c)

    def forward(self, x):
        h = x + self.attn(self.ln_1(x))
        return h + self.mlp(self.ln_2(h))


class Llama(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(c["vocab_size"], c["n_embd"]),
            h=nn.ModuleList([Block(c) for _ in range(c["n_layer"])]),
            ln_f=RMSNorm(c["n_embd"], c["norm_eps"])))
        self.lm_head = None if c["tied_head"] else nn.Linear(c["n_embd"], c["vocab_size"],
                                                             bias=False)

    def forward(self, idx):
        x = self.transformer.wte(idx)
        for block in self.transformer.h:
            x = block(x)
        x = self.transformer.ln_f(x)
        head = self.transformer.wte.weight if self.lm_head is None else self.lm_head.weight
        return x @ head.T


def main():
    out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    for name, dtype_name, config in VARIANTS:
        torch.manual_seed(1234)
        model = Llama(config).to(DTYPES[dtype_name])
        record_fixture(model, config, dtype_name, out_dir / f"{name}_{dtype_name}.safetensors")


if __name__ == "__main__":
    main()
