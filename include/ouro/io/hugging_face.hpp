// Hugging Face model folders, as transformers' from_pretrained reads them and save_pretrained
// writes them: config.json (the architecture), generation_config.json (the ids generate() starts
// and stops with), model.safetensors (the weights, float32, metadata {"format": "pt"}) and the
// tokenizer files. Two architectures hold what ouro's GPT can be:
//
//   GPT2LMHeadModel (model_type "gpt2"): learned positions, LayerNorm, GELU (tanh form, HF's
//     "gelu_new"), biases, n_kv_head = n_head. Keys "h.0.attn.c_attn.weight" etc.; Conv1D layers
//     store (in, out), the transpose of ouro's (out, in). The head is tied unless the config says
//     tie_word_embeddings false (then "lm_head.weight").
//   LlamaForCausalLM (model_type "llama"): RoPE, RMSNorm, SwiGLU, any divisor of n_head as key/
//     value heads. Keys "model.layers.0.self_attn.q_proj.weight" etc., nn.Linear layout; ouro's
//     attn.c_attn is q_proj, k_proj, v_proj stacked, mlp.c_fc is gate_proj then up_proj.
//     HF's Llama rotates halves of each head (RoPE pairs (i, i + HS/2)); a model with interleaved
//     pairs (llama2.c, Meta) is written with the rows of q_proj and k_proj permuted within each
//     head, as HF's own convert_llama_weights_to_hf.py does, and reading undoes it: an imported
//     Llama has interleaved pairs, like GPTConfig::llama and llama2.c's files.
//
// Tokenizer files: a byte-level BPE is written as vocab.json + merges.txt (GPT2Tokenizer) and
// tokenizer.json (GPT2TokenizerFast: ByteLevel pre-tokenizer and decoder, BPE model); a llama2.c
// tokenizer as tokenizer.json in the form HF's LlamaConverter writes (BPE with byte fallback,
// merges ranked by the merged piece's score, the "▁" metaspace normalizer; unlike HF's, runs of
// unknown characters are not fused into one <unk>, as ouro and run.c do not) plus llama2.c's own
// tokenizer.bin, which ouro's programs read. tokenizer_config.json and special_tokens_map.json
// name the special tokens. config.json and generation_config.json carry bos_token_id and
// eos_token_id: "<|endoftext|>" for both with a BPE; 1 and 2 with a llama2.c tokenizer, and
// generation stops at 1 too, since llama2.c's TinyStories models end a story with BOS.
#pragma once

#include "ouro/data/tokenizer.hpp"
#include "ouro/nn/gpt.hpp"

#include <filesystem>
#include <memory>
#include <string>

namespace ouro::io {

enum class HfArchitecture { gpt2, llama };

/// "GPT2LMHeadModel", "LlamaForCausalLM".
const char* to_string(HfArchitecture a);

/// The architecture that holds a model of `config`. Throws ConfigError naming what neither can
/// represent: "Hugging Face: no architecture holds this model (position 'rope', norm 'layernorm',
/// mlp 'gelu', bias on): GPT2LMHeadModel needs learned positions, LayerNorm, GELU, biases and
/// n_kv_head = n_head; LlamaForCausalLM needs RoPE, RMSNorm and SwiGLU".
HfArchitecture hf_architecture(const nn::GPTConfig& config);

/// The same model with its RoPE pairs in `layout`: the rows of the queries and keys in
/// attn.c_attn (weights and biases) permuted within each head, which computes the same logits.
/// A copy when the layout is already `layout`. Throws ConfigError when the model has no RoPE.
std::unique_ptr<nn::GPT<float>> with_rope_layout(const nn::GPT<float>& model,
                                                 ops::RopeLayout layout);

/// Whether `path` is a folder holding config.json. Never throws.
bool is_hf_folder(const std::filesystem::path& path);

/// Writes `model` into the folder `dir` (created when needed): config.json, model.safetensors
/// and, when `tokenizer` is given, generation_config.json and the tokenizer files (see the top of
/// this file). Files are written atomically, one by one. Throws ConfigError as hf_architecture,
/// ConfigError "Hugging Face: the tokenizer has 512 tokens, but the model's vocabulary is 520",
/// FormatError when a llama2.c piece is not UTF-8, IoError when writing fails.
void export_hf(const std::filesystem::path& dir, const nn::GPT<float>& model,
               const data::Tokenizer* tokenizer);

/// The model of a Hugging Face folder (config.json + model.safetensors; F32, F16 or BF16 weights
/// are read as float). Every field the computation depends on is checked, and every tensor's
/// presence and shape, before the model is allocated. Throws IoError when a file cannot be read
/// and FormatError naming the file, e.g. "<dir>/config.json: model_type 'mistral' is not
/// supported (gpt2, llama)", "<dir>/config.json: rope_scaling of type \"linear\" is not supported
/// (only the default RoPE)",
/// "<dir>/config.json: activation_function 'relu' is not supported (gelu_new)", "<dir>: no
/// model.safetensors (a sharded checkpoint, model.safetensors.index.json, is not supported)",
/// "<dir>/model.safetensors: no tensor named 'model.norm.weight'".
struct HfModel {
    std::unique_ptr<nn::GPT<float>> model;
    HfArchitecture architecture = HfArchitecture::gpt2;
};
HfModel import_hf(const std::filesystem::path& dir);

/// tokenizer.json for `tokenizer` (see the top of this file), as text. Throws FormatError when a
/// llama2.c piece is not valid UTF-8 or two pieces are spelled alike in HF's form.
std::string hf_tokenizer_json(const data::Tokenizer& tokenizer);

} // namespace ouro::io
