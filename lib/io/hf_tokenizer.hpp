// The tokenizer files of a Hugging Face folder (hf_tokenizer.cpp); see io/hugging_face.hpp.
// Internal to the library.
#pragma once

#include "ouro/data/tokenizer.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <vector>

namespace ouro::io::detail {

/// The ids generate() starts and stops with: a BPE's "<|endoftext|>" for both (none when it has
/// none); a llama2.c tokenizer's BOS 1 and EOS 2, and BOS as a second stop id (its TinyStories
/// models end a story with BOS).
struct HfSpecialIds {
    std::optional<std::int32_t> bos, eos;
    std::vector<std::int32_t> stop; ///< generation_config.json's eos_token_id
};
HfSpecialIds hf_special_ids(const data::Tokenizer& tokenizer);

/// generation_config.json.
void write_generation_config(const std::filesystem::path& dir, const HfSpecialIds& ids);

/// tokenizer.json, tokenizer_config.json, special_tokens_map.json and the tokenizer's own files
/// (vocab.json + merges.txt, or tokenizer.bin).
void write_hf_tokenizer(const std::filesystem::path& dir, const data::Tokenizer& tokenizer,
                        std::int64_t model_max_length);

} // namespace ouro::io::detail
