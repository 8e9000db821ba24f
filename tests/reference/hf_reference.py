#!/usr/bin/env python3
"""Recomputes a Hugging Face model folder's next-token distributions in PyTorch from its
config.json and model.safetensors alone, the way transformers' modeling_gpt2.py (GPT2LMHeadModel)
and modeling_llama.py (LlamaForCausalLM) compute them, and compares them with what ouro's
`sample` traced. Nothing of ouro is used here: the safetensors reader is written from the format's
description, and the forward passes from transformers' modeling code (in float64, so that the
reference is the exact value that ouro's float32 must approach).

  GPT-2: h = wte[ids] + wpe[pos]; per layer h += attn(ln_1(h)), h += mlp(ln_2(h)), Conv1D layers
         computing x @ W + b with W stored (in, out); attention scaled by 1/sqrt(head size) under
         a causal mask; mlp = c_proj(gelu_new(c_fc(x))); logits = ln_f(h) @ wte^T (or lm_head).
  Llama: h = embed_tokens[ids]; per layer h += o_proj(attn(rms(h))), h += down(silu(gate(x)) *
         up(x)) with x = rms(h); RoPE rotates halves (rotate_half) with inv_freq =
         1 / rope_theta^(2i / head_dim); key/value head j // n_rep serves query head j; logits =
         norm(h) @ lm_head^T (or embed_tokens when tied).

Usage:
  hf_reference.py FOLDER TRACE.jsonl
      TRACE.jsonl is `sample --greedy --prompt "" --end-of-text new_story --trace TRACE.jsonl`
      of the same model in any of its formats (new_story: the end token is not masked, so the
      traced distribution is the model's own). Every generated token must be the reference's
      argmax (unless the two best are within 1e-5), and its probability, the entropy and the
      top-5 probabilities must agree within 5e-5 (float32 against float64). The prompt is
      config.json's bos_token_id, as `sample` starts every story with the story separator.
      Prints the largest differences; exit code 0 when all agree, 1 otherwise.
"""
import json
import math
import struct
import sys
from pathlib import Path

import numpy as np
import torch

DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I32": np.int32}


def read_safetensors(path):
    """{name: float64 tensor}: an 8-byte little-endian header length, a JSON header of
    {name: {dtype, shape, data_offsets}} (and __metadata__), then the data."""
    data = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    base = 8 + n
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        begin, end = e["data_offsets"]
        raw = data[base + begin : base + end]
        if e["dtype"] == "BF16":
            a = (np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)
        else:
            a = np.frombuffer(raw, dtype=DTYPES[e["dtype"]])
        out[name] = torch.from_numpy(a.astype(np.float64).reshape(e["shape"]))
    return out


def causal_attention(q, k, v):
    """q (nh, T, hs), k and v (nh, T, hs) -> (T, nh * hs)."""
    T, hs = q.shape[1], q.shape[2]
    scores = q @ k.transpose(1, 2) / math.sqrt(hs)
    mask = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
    att = torch.softmax(scores.masked_fill(mask, float("-inf")), dim=-1)
    return (att @ v).transpose(0, 1).reshape(T, -1)


def gpt2_logits(cfg, w, ids):
    p = "transformer." if "transformer.wte.weight" in w else ""
    eps = cfg.get("layer_norm_epsilon", 1e-5)
    nh = cfg["n_head"]

    def ln(x, name):
        return torch.nn.functional.layer_norm(
            x, x.shape[-1:], w[p + name + ".weight"], w[p + name + ".bias"], eps)

    def conv1d(x, name):
        return x @ w[p + name + ".weight"] + w[p + name + ".bias"]

    def gelu_new(x):
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))

    T = len(ids)
    h = w[p + "wte.weight"][ids] + w[p + "wpe.weight"][:T]
    for i in range(cfg["n_layer"]):
        b = f"h.{i}."
        qkv = conv1d(ln(h, b + "ln_1"), b + "attn.c_attn")
        C = h.shape[1]
        q, k, v = (t.view(T, nh, C // nh).transpose(0, 1) for t in qkv.split(C, dim=1))
        h = h + conv1d(causal_attention(q, k, v), b + "attn.c_proj")
        h = h + conv1d(gelu_new(conv1d(ln(h, b + "ln_2"), b + "mlp.c_fc")), b + "mlp.c_proj")
    h = ln(h, "ln_f")
    head = w["lm_head.weight"] if not cfg.get("tie_word_embeddings", True) else w[p + "wte.weight"]
    return h @ head.T


def llama_logits(cfg, w, ids):
    p = "model." if "model.embed_tokens.weight" in w else ""
    eps = cfg.get("rms_norm_eps", 1e-6)
    nh = cfg["num_attention_heads"]
    nkv = cfg.get("num_key_value_heads") or nh
    C = cfg["hidden_size"]
    hs = cfg.get("head_dim") or C // nh
    theta = cfg.get("rope_theta", 10000.0)
    bias = cfg.get("attention_bias", False)

    def rms(x, name):
        return w[name] * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))

    def linear(x, name, with_bias):
        y = x @ w[name + ".weight"].T
        return y + w[name + ".bias"] if with_bias else y

    T = len(ids)
    inv_freq = 1.0 / (theta ** (torch.arange(0, hs, 2, dtype=torch.float64) / hs))
    freqs = torch.outer(torch.arange(T, dtype=torch.float64), inv_freq)
    emb = torch.cat([freqs, freqs], dim=-1)
    cos, sin = emb.cos(), emb.sin()  # (T, hs)

    def rotate_half(x):
        x1, x2 = x[..., : hs // 2], x[..., hs // 2 :]
        return torch.cat([-x2, x1], dim=-1)

    def rope(x):  # (heads, T, hs)
        return x * cos + rotate_half(x) * sin

    h = w[p + "embed_tokens.weight"][ids]
    for i in range(cfg["num_hidden_layers"]):
        b = f"{p}layers.{i}."
        x = rms(h, b + "input_layernorm.weight")
        q = linear(x, b + "self_attn.q_proj", bias).view(T, nh, hs).transpose(0, 1)
        k = linear(x, b + "self_attn.k_proj", bias).view(T, nkv, hs).transpose(0, 1)
        v = linear(x, b + "self_attn.v_proj", bias).view(T, nkv, hs).transpose(0, 1)
        q, k = rope(q), rope(k)
        k = k.repeat_interleave(nh // nkv, dim=0)
        v = v.repeat_interleave(nh // nkv, dim=0)
        h = h + linear(causal_attention(q, k, v), b + "self_attn.o_proj", bias)
        x = rms(h, b + "post_attention_layernorm.weight")
        mlp_bias = cfg.get("mlp_bias", False)
        gate = torch.nn.functional.silu(linear(x, b + "mlp.gate_proj", mlp_bias))
        h = h + linear(gate * linear(x, b + "mlp.up_proj", mlp_bias), b + "mlp.down_proj", mlp_bias)
    h = rms(h, p + "norm.weight")
    tied = cfg.get("tie_word_embeddings", False)
    return h @ (w[p + "embed_tokens.weight"] if tied else w["lm_head.weight"]).T


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip().split("Usage:")[1], file=sys.stderr)
        return 2
    folder, trace = Path(sys.argv[1]), Path(sys.argv[2])
    cfg = json.loads((folder / "config.json").read_text())
    w = read_safetensors(folder / "model.safetensors")
    forward = {"gpt2": gpt2_logits, "llama": llama_logits}[cfg["model_type"]]
    records = [json.loads(line) for line in trace.read_text().splitlines() if line.strip()]
    records = [r for r in records if r["sequence"] == 0]
    ids = [cfg["bos_token_id"]]
    worst = {"prob": 0.0, "entropy": 0.0, "top5": 0.0}
    failures = 0
    with torch.no_grad():
        for r in records:
            probs = torch.softmax(forward(cfg, w, ids)[-1], dim=-1)
            best = torch.topk(probs, 2)
            entropy = -(probs * torch.log(probs.clamp_min(1e-300))).sum().item()
            token = r["token"]
            diffs = {"prob": abs(probs[token].item() - r["prob_raw"]),
                     "entropy": abs(entropy - r["entropy_raw"]),
                     "top5": max(abs(probs[t].item() - pr) for t, pr in r["top5"])}
            for key, d in diffs.items():
                worst[key] = max(worst[key], d)
            tie = best.values[0].item() - best.values[1].item() < 1e-5
            argmax_ok = token == best.indices[0].item() or tie
            if not argmax_ok or max(diffs.values()) > 5e-5:
                failures += 1
                print(f"step {r['step']}: ouro chose {token} (p {r['prob_raw']:.6f}), the "
                      f"reference's argmax is {best.indices[0].item()} "
                      f"(p {best.values[0].item():.6f}); differences {diffs}")
            ids.append(token)
    print(f"{len(records)} tokens of {folder} ({cfg['model_type']}): largest differences "
          f"p {worst['prob']:.2e}, entropy {worst['entropy']:.2e}, top-5 {worst['top5']:.2e}; "
          f"{len(records) - failures} passed, {failures} failed")
    return 0 if failures == 0 and records else 1


if __name__ == "__main__":
    sys.exit(main())
