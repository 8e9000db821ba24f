// llama2.c's model files (github.com/karpathy/llama2.c): the checkpoints of the "tinyllamas"
// TinyStories models (stories260K, stories15M, stories42M, stories110M) and of anything trained
// with its train.py. A Llama 2 model is a GPT of ouro with GPTConfig::llama's choices (RMSNorm,
// SwiGLU, rotary embeddings on interleaved pairs, grouped-query attention, no biases).
//
// Three layouts, all little-endian, told apart by their contents (never by the file's name):
//   legacy (run.c, "version 0"): 7 int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads,
//     vocab_size, seq_len; a negative vocab_size means a separate classifier), then float32:
//     token embedding (V, dim), rms_att (L, dim), wq (L, dim, dim), wk (L, kv_dim, dim),
//     wv (L, kv_dim, dim), wo (L, dim, dim), rms_ffn (L, dim), w1 (L, hidden, dim),
//     w2 (L, dim, hidden), w3 (L, hidden, dim), rms_final (dim), RoPE tables (seq_len x
//     head_size, skipped on reading, written as model.py computes them), classifier (V, dim) when
//     not shared. Recognised by its size, which these fields fix exactly.
//   version 1 (export.py): a 256-byte header (uint32 magic "ak42", int32 version 1, the same 7
//     int32 with a positive vocab_size, uint8 shared classifier, zeros), then float32: rms_att,
//     rms_ffn, rms_final, token embedding, wq, wk, wv, wo, w1, w2, w3, classifier if not shared.
//   version 2 (export.py): the same header with version 2 and an int32 group size after the flag,
//     the norms in float32, then every matrix of version 1's list as int8 (Q8_0: symmetric, one
//     float32 scale per group of group_size values), all the int8 data first, then all scales.
//     Read only: the matrices are dequantised to float on load (value = q x scale).
//
// In ouro's model: wq, wk and wv are the rows of attn.c_attn (q, then k, then v); w1 and w3 are
// the gate and up rows of mlp.c_fc; w2 is mlp.c_proj, wo attn.c_proj; the classifier is lm_head.
#pragma once

#include "ouro/nn/gpt.hpp"

#include <filesystem>
#include <memory>

namespace ouro::io {

enum class Llama2cFormat { legacy, version1, version2 };

/// "legacy", "version1", "version2".
const char* to_string(Llama2cFormat f);

/// Whether `path` is a llama2.c model file (a regular file whose header and size match one of
/// the layouts above). Never throws for an unreadable file: it answers false.
bool is_llama2c_model(const std::filesystem::path& path);

/// The model in `path`, its config and the layout it was stored in. Every header field is
/// checked against sane bounds and the file's size before anything is allocated. Throws IoError
/// (unreadable, not a regular file) and FormatError naming the file and the field:
///   "<path>: not a llama2.c model: 1000 bytes, but a legacy header with dim 64, ... needs 1049088"
///   "<path>: header field n_kv_heads = 3 does not divide n_heads = 8"
struct Llama2cModel {
    std::unique_ptr<nn::GPT<float>> model;
    Llama2cFormat format = Llama2cFormat::legacy;
};
Llama2cModel import_llama2c(const std::filesystem::path& path);

/// Writes `model` in llama2.c's legacy layout (what run.c reads) or version 1, atomically. The
/// model must be a Llama: rmsnorm, swiglu, rope with interleaved pairs, no biases; throws
/// ConfigError naming the first choice that llama2.c cannot represent.
void export_llama2c(const nn::GPT<float>& model, const std::filesystem::path& path,
                    Llama2cFormat format = Llama2cFormat::legacy);

} // namespace ouro::io
