#!/usr/bin/env python3
"""Writes a llama2.c model with random weights and a matching tokenizer.bin, for speed comparisons
between ouro and llama2.c's run.c on the same file (benchmarks/compare_llama2c.sh).

The model is in run.c's legacy layout (7 int32 header, float32 weights, RoPE tables, no separate
classifier); weights are N(0, 0.02^2), norm weights 1, so the numbers are those of a freshly
initialised Llama 2. The tokenizer has `vocab` pieces: <unk>, <s>, </s>, the 256 byte pieces
<0x00>..<0xFF>, then made-up two-letter pieces, every score 0: enough for run.c to encode an empty
prompt and print whatever it decodes.

Usage: python3 benchmarks/make_random_llama2c.py OUT_DIR [--dim 288 --hidden 768 --layers 6
       --heads 6 --kv-heads 6 --vocab 32000 --seq 256]   (defaults: stories15M's shape)
Needs numpy (Debian: python3-numpy).
"""
import argparse
import struct
from pathlib import Path

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out_dir")
    ap.add_argument("--dim", type=int, default=288)
    ap.add_argument("--hidden", type=int, default=768)
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--heads", type=int, default=6)
    ap.add_argument("--kv-heads", type=int, default=6)
    ap.add_argument("--vocab", type=int, default=32000)
    ap.add_argument("--seq", type=int, default=256)
    a = ap.parse_args()
    out = Path(a.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    hs = a.dim // a.heads
    kv_dim = a.kv_heads * hs

    def normal(*shape):
        return (0.02 * rng.standard_normal(shape)).astype("<f4")

    with open(out / "model.bin", "wb") as f:
        f.write(struct.pack("<7i", a.dim, a.hidden, a.layers, a.heads, a.kv_heads, a.vocab, a.seq))
        f.write(normal(a.vocab, a.dim).tobytes())
        L = a.layers
        f.write(np.ones((L, a.dim), "<f4").tobytes())  # rms_att
        for rows in (a.dim, kv_dim, kv_dim, a.dim):  # wq, wk, wv, wo
            f.write(normal(L, rows, a.dim).tobytes())
        f.write(np.ones((L, a.dim), "<f4").tobytes())  # rms_ffn
        f.write(normal(L, a.hidden, a.dim).tobytes())  # w1
        f.write(normal(L, a.dim, a.hidden).tobytes())  # w2
        f.write(normal(L, a.hidden, a.dim).tobytes())  # w3
        f.write(np.ones(a.dim, "<f4").tobytes())  # rms_final
        f.write(np.zeros((2, a.seq, hs // 2), "<f4").tobytes())  # RoPE tables (unused by run.c)

    pieces = [b"<unk>", b"<s>", b"</s>"] + [b"<0x%02X>" % i for i in range(256)]
    letters = b"abcdefghijklmnopqrstuvwxyz"
    i = 0
    while len(pieces) < a.vocab:
        pieces.append(b" " + bytes([letters[i % 26], letters[(i // 26) % 26]]) + str(i).encode())
        i += 1
    with open(out / "tokenizer.bin", "wb") as f:
        f.write(struct.pack("<i", max(len(p) for p in pieces)))
        for p in pieces:
            f.write(struct.pack("<fi", 0.0, len(p)))
            f.write(p)
    print(f"wrote {out / 'model.bin'} and {out / 'tokenizer.bin'}")


if __name__ == "__main__":
    main()
