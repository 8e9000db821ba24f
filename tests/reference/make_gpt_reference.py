#!/usr/bin/env python3
"""Writes the PyTorch reference fixtures that tests/nn/test_gpt_parity.cpp compares ouro against.

For each variant (dtype x positional encoding) it builds a tiny GPT in PyTorch with the same
architecture and parameter names as ouro's (nanoGPT's), draws its weights and one batch from a fixed
seed, and records:
  param.<name>           the initial weights (ouro loads them by name)
  input.idx, input.targets  the batch (B, T) as int32; two targets are -1 (ignored)
  expected.logits        (B, T, V) logits
  expected.loss          () mean cross-entropy
  expected.grad.<name>   the gradient of every parameter after one backward
  expected.losses        (10,) the loss before each of 10 AdamW steps on the same batch
  expected.final.<name>  the weights after those 10 steps
Metadata holds ouro's config JSON and the optimiser settings. Needs Debian's python3-torch and
numpy; the C++ tests only read the committed .safetensors files.

Usage: /usr/bin/python3 tests/reference/make_gpt_reference.py [output_dir]
"""
import json
import math
import struct
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

CONFIG = dict(vocab_size=64, block_size=16, n_layer=2, n_head=4, n_embd=32, dropout=0.0, bias=True)
BATCH = 4
STEPS = 10
OPTIM = dict(lr=3e-3, beta1=0.9, beta2=0.95, eps=1e-8, weight_decay=0.1, clip=1.0)
VARIANTS = [("float32", "learned"), ("float64", "learned"), ("float64", "rope"), ("float64", "alibi")]


def alibi_slopes(n_head):
    """ALiBi head slopes (Press et al. 2022): a geometric sequence starting at 2^(-8/n) for n a
    power of two; otherwise the slopes of the closest smaller power of two, then every other slope
    of the next power of two."""
    def power_of_two(n):
        start = 2.0 ** (-8.0 / n)
        return [start ** (i + 1) for i in range(n)]
    if math.log2(n_head).is_integer():
        return power_of_two(n_head)
    closest = 2 ** math.floor(math.log2(n_head))
    return power_of_two(closest) + power_of_two(2 * closest)[0::2][: n_head - closest]


def rope(x, n_head, base=10000.0):
    """Rotary embedding, "rotate half" layout: channel i pairs with i + HS/2 within each head."""
    B, T, C = x.shape
    hs = C // n_head
    half = hs // 2
    inv_freq = base ** (-torch.arange(0, half, dtype=torch.float64) * 2.0 / hs)
    angle = torch.arange(T, dtype=torch.float64)[:, None] * inv_freq[None, :]  # (T, half)
    cos, sin = angle.cos().to(x.dtype), angle.sin().to(x.dtype)
    x = x.view(B, T, n_head, hs)
    x1, x2 = x[..., :half], x[..., half:]
    cos, sin = cos[None, :, None, :], sin[None, :, None, :]
    out = torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)
    return out.view(B, T, C)


class CausalSelfAttention(nn.Module):
    def __init__(self, c, position):
        super().__init__()
        self.c_attn = nn.Linear(c["n_embd"], 3 * c["n_embd"], bias=c["bias"])
        self.c_proj = nn.Linear(c["n_embd"], c["n_embd"], bias=c["bias"])
        self.n_head = c["n_head"]
        self.position = position

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        if self.position == "rope":
            q, k = rope(q, self.n_head), rope(k, self.n_head)
        hs = C // self.n_head
        q = q.view(B, T, self.n_head, hs).transpose(1, 2)  # (B, NH, T, HS)
        k = k.view(B, T, self.n_head, hs).transpose(1, 2)
        v = v.view(B, T, self.n_head, hs).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hs))  # (B, NH, T, T)
        if self.position == "alibi":
            slopes = torch.tensor(alibi_slopes(self.n_head), dtype=x.dtype)
            distance = torch.arange(T)[:, None] - torch.arange(T)[None, :]  # t - s
            att = att - slopes[:, None, None] * distance.to(x.dtype)[None]
        mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
        att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c_fc = nn.Linear(c["n_embd"], 4 * c["n_embd"], bias=c["bias"])
        self.c_proj = nn.Linear(4 * c["n_embd"], c["n_embd"], bias=c["bias"])

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))


class Block(nn.Module):
    def __init__(self, c, position):
        super().__init__()
        self.ln_1 = nn.LayerNorm(c["n_embd"], elementwise_affine=True)
        self.attn = CausalSelfAttention(c, position)
        self.ln_2 = nn.LayerNorm(c["n_embd"], elementwise_affine=True)
        self.mlp = MLP(c)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, c, position):
        super().__init__()
        layers = dict(wte=nn.Embedding(c["vocab_size"], c["n_embd"]))
        if position == "learned":
            layers["wpe"] = nn.Embedding(c["block_size"], c["n_embd"])
        layers["h"] = nn.ModuleList([Block(c, position) for _ in range(c["n_layer"])])
        layers["ln_f"] = nn.LayerNorm(c["n_embd"])
        self.transformer = nn.ModuleDict(layers)
        self.position = position

    def forward(self, idx):
        x = self.transformer.wte(idx)
        if self.position == "learned":
            x = x + self.transformer.wpe(torch.arange(idx.shape[1]))
        for block in self.transformer.h:
            x = block(x)
        x = self.transformer.ln_f(x)
        return x @ self.transformer.wte.weight.T  # tied LM head


def decays(name, p):
    return p.dim() >= 2 and "wte" not in name and "wpe" not in name


def write_safetensors(path, tensors, metadata):
    names = {np.dtype(np.float32): "F32", np.dtype(np.float64): "F64", np.dtype(np.int32): "I32"}
    header = {"__metadata__": metadata}
    blobs, offset = [], 0
    for name, arr in tensors.items():
        arr = np.array(arr, order="C", copy=True)  # keeps 0-d arrays 0-d (ascontiguousarray would not)
        data = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": names[arr.dtype], "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for data in blobs:
            f.write(data)


DTYPES = {"float32": torch.float32, "float64": torch.float64}


def make_fixture(dtype_name, position, out_dir):
    torch.manual_seed(1234)
    model = GPT(CONFIG, position).to(DTYPES[dtype_name])
    config = dict(CONFIG, position=position, rope_base=10000.0)
    record_fixture(model, config, dtype_name, out_dir / f"gpt_{position}_{dtype_name}.safetensors")


def record_fixture(model, config, dtype_name, path):
    """Draws the weights and the batch (continuing the torch generator the caller seeded before
    building the model), runs the model and the optimiser and writes the fixture to path. Shared
    with make_llama_reference.py; `config` is ouro's config JSON as a dict."""
    with torch.no_grad():  # GPT-2 style initial values (any values would do for parity)
        for name, p in model.named_parameters():
            if name.endswith("ln_1.weight") or name.endswith("ln_2.weight") or "ln_f.weight" in name:
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
            elif name.endswith("bias"):
                p.copy_(0.02 * torch.randn_like(p))
            else:
                p.copy_(0.2 * torch.randn_like(p))
    B, T, V = BATCH, config["block_size"], config["vocab_size"]
    idx = torch.randint(0, V, (B, T), dtype=torch.int64)
    targets = torch.randint(0, V, (B, T), dtype=torch.int64)
    targets[0, 3] = -1
    targets[2, 15] = -1

    tensors = {}
    for name, p in model.named_parameters():
        tensors["param." + name] = p.detach().numpy().copy()
    tensors["input.idx"] = idx.numpy().astype(np.int32)
    tensors["input.targets"] = targets.numpy().astype(np.int32)

    logits = model(idx)
    loss = F.cross_entropy(logits.view(-1, V), targets.view(-1), ignore_index=-1)
    loss.backward()
    tensors["expected.logits"] = logits.detach().numpy()
    tensors["expected.loss"] = loss.detach().numpy().reshape(())
    for name, p in model.named_parameters():
        tensors["expected.grad." + name] = p.grad.numpy().copy()

    groups = [
        {"params": [p for n, p in model.named_parameters() if decays(n, p)],
         "weight_decay": OPTIM["weight_decay"]},
        {"params": [p for n, p in model.named_parameters() if not decays(n, p)], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=OPTIM["lr"], betas=(OPTIM["beta1"], OPTIM["beta2"]),
                            eps=OPTIM["eps"], foreach=False)
    losses = []
    for _ in range(STEPS):
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(idx).view(-1, V), targets.view(-1), ignore_index=-1)
        losses.append(loss.item())
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), OPTIM["clip"])
        opt.step()
    tensors["expected.losses"] = np.array(losses, dtype=np.float64)
    for name, p in model.named_parameters():
        tensors["expected.final." + name] = p.detach().numpy().copy()

    metadata = {"config": json.dumps(config), "optim": json.dumps(OPTIM), "steps": str(STEPS),
                "torch": torch.__version__, "dtype": dtype_name}
    write_safetensors(path, tensors, metadata)
    print(f"wrote {path}: loss {losses[0]:.6f} -> {losses[-1]:.6f}")


def main():
    out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    for dtype_name, position in VARIANTS:
        make_fixture(dtype_name, position, out_dir)


if __name__ == "__main__":
    main()
