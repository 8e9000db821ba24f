// GPT-2 weights in the formats other projects use, so a user with real GPT-2 124M weights can
// load them, and a model trained here can be used elsewhere:
//
// - Hugging Face GPT-2 safetensors: keys "h.0.attn.c_attn.weight" etc., with or without a
//   "transformer." prefix; Conv1D layers store weights as (in, out), the transpose of ouro's
//   (out, in) Linear layout. The LM head is tied to wte and not stored.
// - llm.c's checkpoint (train_gpt2.c, gpt2_124M.bin): a header of 256 int32 (magic 20240326,
//   version 3 for float32 or 5 for bfloat16, maxT, V, L, NH, C, padded V), then the parameters in
//   llm.c's order: wte (Vp, C), wpe (maxT, C), ln1w (L, C), ln1b (L, C), qkvw (L, 3C, C),
//   qkvb (L, 3C), attprojw (L, C, C), attprojb (L, C), ln2w, ln2b (L, C), fcw (L, 4C, C),
//   fcb (L, 4C), fcprojw (L, C, 4C), fcprojb (L, C), lnfw (C), lnfb (C). Rows V..Vp of wte are
//   padding.
// Both hold the GPT-2 architecture only: learned positions, biases, tied head.
#pragma once

#include "ouro/nn/gpt.hpp"

#include <memory>
#include <string>

namespace ouro::io {

/// Writes `model` as a Hugging Face GPT-2 checkpoint into `directory` (created if needed):
/// model.safetensors with Conv1D layouts and config.json, as GPT2LMHeadModel.from_pretrained
/// reads them (io::export_hf without a tokenizer; see hugging_face.hpp for the whole folder).
/// Throws ConfigError when the model is not GPT-2 shaped (learned positions, biases, LayerNorm,
/// GELU over 4 C, n_kv_head = n_head, tied head), IoError when writing fails.
void export_hf_gpt2(const std::string& directory, const nn::GPT<float>& model);

/// Reads a Hugging Face GPT-2 model.safetensors. Vocabulary, context, width and depth come from
/// the tensor shapes; the head count cannot, so it is given (12 for GPT-2 124M). Throws
/// FormatError naming the file for a missing or mis-shaped tensor, checked for every tensor
/// before the model is allocated.
std::unique_ptr<nn::GPT<float>> import_hf_gpt2(const std::string& path, std::int64_t n_head);

/// Writes `model` in llm.c's version-3 (float32) checkpoint format, vocabulary padded to a
/// multiple of 128 as llm.c does. Throws ConfigError for models that are not GPT-2 shaped (as
/// export_hf_gpt2; llm.c's layer norm epsilon is fixed at 1e-5), IoError on failure.
void export_llmc(const std::string& path, const nn::GPT<float>& model);

/// Reads an llm.c checkpoint (version 3, float32, or 5, bfloat16). Throws FormatError naming the
/// file for a bad magic number, an unknown version, impossible sizes or a truncated file; the
/// sizes the header implies are multiplied with overflow checks and compared with the file's
/// size before anything is allocated ("<path>: file is 1028 bytes, but its header describes more
/// than 2^63 bytes (maxT 1, padded V 1, L 1, C 1073741824)").
std::unique_ptr<nn::GPT<float>> import_llmc(const std::string& path);

} // namespace ouro::io
