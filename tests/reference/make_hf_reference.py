#!/usr/bin/env python3
"""Writes two small Hugging Face model folders and the logits transformers' modeling code gives
for them, which tests/io/test_hugging_face.cpp compares ouro's import with (so that the check runs
where PyTorch is not installed):

  hf_gpt2_tiny/    GPT2LMHeadModel: 2 layers, 2 heads, C 16, n_inner 24, untied lm_head,
                   layer_norm_epsilon 1e-6, keys without "transformer." (as GPT-2 124M's file)
  hf_llama_tiny/   LlamaForCausalLM: 2 layers, 4 query heads over 2 key/value heads, C 16,
                   intermediate 40, rope_theta 500, rms_norm_eps 1e-6, untied lm_head

Each folder holds config.json, model.safetensors (written here from the format's description)
and expected.safetensors: "tokens" (I32, (T,)) and "logits" (F32, (T, V)), computed in float64
by hf_reference.py, the forward passes written from transformers' modeling_gpt2.py and
modeling_llama.py. The weights are drawn large enough (queries and keys at scale 1) that
attention is far from uniform, so a wrong RoPE pair layout or a transposed layer shows.

Usage: /usr/bin/python3 tests/reference/make_hf_reference.py [output_dir]
"""
import json
import struct
import sys
from pathlib import Path

import numpy as np
import torch

from hf_reference import gpt2_logits, llama_logits

TOKENS = [3, 17, 5, 39, 0, 12, 12, 7, 30, 2]


def write_safetensors(path, tensors, metadata=None):
    """tensors: {name: (dtype string, numpy array)}, written in the order given."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, (dtype, a) in tensors.items():
        raw = np.ascontiguousarray(a).tobytes()
        header[name] = {"dtype": dtype, "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    Path(path).write_bytes(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def draw(gen, shape, scale):
    return (torch.randn(shape, generator=gen, dtype=torch.float64) * scale).float()


def save(folder, config, weights, forward):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    write_safetensors(folder / "model.safetensors",
                      {k: ("F32", v.numpy()) for k, v in weights.items()}, {"format": "pt"})
    with torch.no_grad():
        logits = forward(config, {k: v.double() for k, v in weights.items()}, TOKENS)
    write_safetensors(folder / "expected.safetensors",
                      {"tokens": ("I32", np.array(TOKENS, dtype=np.int32)),
                       "logits": ("F32", logits.float().numpy())})


def gpt2(out):
    gen = torch.Generator().manual_seed(1)
    V, T, C, L, H = 40, 12, 16, 2, 24
    cfg = {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "vocab_size": V,
           "n_positions": T, "n_ctx": T, "n_embd": C, "n_layer": L, "n_head": 2, "n_inner": H,
           "activation_function": "gelu_new", "layer_norm_epsilon": 1e-6,
           "tie_word_embeddings": False, "bos_token_id": 0, "eos_token_id": 0}
    w = {"wte.weight": draw(gen, (V, C), 0.5), "wpe.weight": draw(gen, (T, C), 0.5)}
    for i in range(L):
        p = f"h.{i}."
        for norm in ("ln_1", "ln_2"):
            w[p + norm + ".weight"] = 1 + draw(gen, (C,), 0.2)
            w[p + norm + ".bias"] = draw(gen, (C,), 0.2)
        for name, (n_in, n_out) in {"attn.c_attn": (C, 3 * C), "attn.c_proj": (C, C),
                                    "mlp.c_fc": (C, H), "mlp.c_proj": (H, C)}.items():
            w[p + name + ".weight"] = draw(gen, (n_in, n_out), 0.4)  # Conv1D: (in, out)
            w[p + name + ".bias"] = draw(gen, (n_out,), 0.1)
    w["ln_f.weight"] = 1 + draw(gen, (C,), 0.2)
    w["ln_f.bias"] = draw(gen, (C,), 0.2)
    w["lm_head.weight"] = draw(gen, (V, C), 0.5)
    save(out / "hf_gpt2_tiny", cfg, w, gpt2_logits)


def llama(out):
    gen = torch.Generator().manual_seed(2)
    V, T, C, L, NH, NKV, H = 40, 12, 16, 2, 4, 2, 40
    hs = C // NH
    cfg = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": V,
           "hidden_size": C, "intermediate_size": H, "num_hidden_layers": L,
           "num_attention_heads": NH, "num_key_value_heads": NKV, "hidden_act": "silu",
           "max_position_embeddings": T, "rms_norm_eps": 1e-6, "rope_theta": 500.0,
           "tie_word_embeddings": False, "bos_token_id": 1, "eos_token_id": 2}
    w = {"model.embed_tokens.weight": draw(gen, (V, C), 0.5)}
    for i in range(L):
        p = f"model.layers.{i}."
        w[p + "input_layernorm.weight"] = 1 + draw(gen, (C,), 0.2)
        w[p + "post_attention_layernorm.weight"] = 1 + draw(gen, (C,), 0.2)
        w[p + "self_attn.q_proj.weight"] = draw(gen, (C, C), 1.0)
        w[p + "self_attn.k_proj.weight"] = draw(gen, (NKV * hs, C), 1.0)
        w[p + "self_attn.v_proj.weight"] = draw(gen, (NKV * hs, C), 0.4)
        w[p + "self_attn.o_proj.weight"] = draw(gen, (C, C), 0.4)
        w[p + "mlp.gate_proj.weight"] = draw(gen, (H, C), 0.4)
        w[p + "mlp.up_proj.weight"] = draw(gen, (H, C), 0.4)
        w[p + "mlp.down_proj.weight"] = draw(gen, (C, H), 0.4)
    w["model.norm.weight"] = 1 + draw(gen, (C,), 0.2)
    w["lm_head.weight"] = draw(gen, (V, C), 0.5)
    save(out / "hf_llama_tiny", cfg, w, llama_logits)


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent
    gpt2(out)
    llama(out)
