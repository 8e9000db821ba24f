#!/usr/bin/env python3
"""PyTorch's side of the training comparison (benchmarks/compare_pytorch.sh).

The same GPT as ouro's bench_train, in PyTorch eager, nanoGPT-style: learned positions, pre-norm
LayerNorm blocks with biases, GELU (tanh form), a tied classifier, no dropout; the same step
(zero the gradients, forward, cross-entropy, backward, global-norm clipping to 1, AdamW with weight
decay 0.1, foreach when the installed torch has it) on a fixed random batch; the same configs:

  xs: V=512,  T=128, C=128, L=4, NH=4, B=32
  s:  V=4096, T=256, C=256, L=6, NH=8, B=16

Attention uses torch's scaled_dot_product_attention where it exists (torch 2.x), else the plain
masked softmax. Prints one line: config, threads, tokens/s over the timed steps (all tokens over
all their time, as Google Benchmark's rate in ouro_bench_train), peak RSS.

  pytorch_train.py --config s --threads 2 [--steps 20] [--warmup 3]
"""
import argparse
import math
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

CONFIGS = {
    "xs": dict(vocab=512, block=128, embd=128, layers=4, heads=4, batch=32),
    "s": dict(vocab=4096, block=256, embd=256, layers=6, heads=8, batch=16),
}
HAS_SDPA = hasattr(F, "scaled_dot_product_attention")


class Attention(nn.Module):
    def __init__(self, embd, heads, block):
        super().__init__()
        self.heads = heads
        self.c_attn = nn.Linear(embd, 3 * embd)
        self.c_proj = nn.Linear(embd, embd)
        if not HAS_SDPA:
            mask = torch.tril(torch.ones(block, block, dtype=torch.bool))
            self.register_buffer("mask", mask.view(1, 1, block, block), persistent=False)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.heads, C // self.heads).transpose(1, 2) for t in (q, k, v))
        if HAS_SDPA:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = att.masked_fill(~self.mask[:, :, :T, :T], float("-inf"))
            y = F.softmax(att, dim=-1) @ v
        return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))


class Block(nn.Module):
    def __init__(self, embd, heads, block):
        super().__init__()
        self.ln_1 = nn.LayerNorm(embd)
        self.attn = Attention(embd, heads, block)
        self.ln_2 = nn.LayerNorm(embd)
        self.c_fc = nn.Linear(embd, 4 * embd)
        self.c_proj = nn.Linear(4 * embd, embd)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.c_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self, vocab, block, embd, layers, heads):
        super().__init__()
        self.wte = nn.Embedding(vocab, embd)
        self.wpe = nn.Embedding(block, embd)
        self.blocks = nn.ModuleList(Block(embd, heads, block) for _ in range(layers))
        self.ln_f = nn.LayerNorm(embd)
        self.lm_head = nn.Linear(embd, vocab, bias=False)
        self.lm_head.weight = self.wte.weight  # tied, as ouro's GPT
        for name, p in self.named_parameters():
            if p.dim() == 2:
                nn.init.normal_(p, std=0.02)

    def forward(self, idx, targets):
        T = idx.size(1)
        x = self.wte(idx) + self.wpe(torch.arange(T))
        for block in self.blocks:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", choices=sorted(CONFIGS), required=True)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--steps", type=int, default=20, help="timed steps (default 20)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first (default 3)")
    args = parser.parse_args()
    if args.threads < 1 or args.steps < 1 or args.warmup < 0:
        parser.error("--threads and --steps must be at least 1, --warmup at least 0")

    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    c = CONFIGS[args.config]
    model = GPT(c["vocab"], c["block"], c["embd"], c["layers"], c["heads"])
    try:
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.1, foreach=True)
    except TypeError:  # a torch without foreach kernels
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.1)
    x = torch.randint(c["vocab"], (c["batch"], c["block"]))
    y = torch.randint(c["vocab"], (c["batch"], c["block"]))

    def step():
        opt.zero_grad(set_to_none=True)
        loss = model(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss.item()

    first = step()
    if abs(first - math.log(c["vocab"])) > 0.05 * math.log(c["vocab"]):
        raise SystemExit(f"pytorch_train: first loss {first:.3f} is not near log(V)")
    for _ in range(args.warmup):
        step()
    times = []
    for _ in range(args.steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    tokens = c["batch"] * c["block"]
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"config {args.config} threads {args.threads} tokens/s "
          f"{tokens * len(times) / sum(times):.1f} peak_rss_mb {rss_mb:.1f} "
          f"torch {torch.__version__} sdpa {'yes' if HAS_SDPA else 'no'}")


if __name__ == "__main__":
    main()
