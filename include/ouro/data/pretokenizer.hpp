// GPT-2's pre-tokenisation: before byte-pair merges, text is cut into words, numbers, runs of
// punctuation and runs of whitespace, and merges never cross those cuts (Radford et al. 2019,
// "Language Models are Unsupervised Multitask Learners", section 2.2). The cut is GPT-2's regular
// expression, run by PCRE2 in UTF mode with Unicode properties (\s, \p{L}, \p{N} by Unicode
// category) and JIT compilation:
//
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// e.g. "Hello  world's 42!" -> "Hello", " ", " world", "'s", " 42", "!".
//
// Any bytes work, not only valid UTF-8: the pattern is compiled with PCRE2_MATCH_INVALID_UTF, so
// bytes that are not valid UTF-8 never match, and each maximal run of them between two matches
// becomes a piece of its own. The pieces always concatenate back to the input.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

namespace ouro::data {

class Pretokenizer {
public:
    /// Compiles the GPT-2 pattern. Throws ConfigError if PCRE2 rejects it (a PCRE2 built without
    /// Unicode support).
    Pretokenizer();
    ~Pretokenizer();
    Pretokenizer(Pretokenizer&&) noexcept;
    Pretokenizer& operator=(Pretokenizer&&) noexcept;
    Pretokenizer(const Pretokenizer&) = delete;
    Pretokenizer& operator=(const Pretokenizer&) = delete;

    /// Appends the pieces of `text` to `pieces` (views into `text`), in order. Safe to call from
    /// several threads at once.
    void split(std::string_view text, std::vector<std::string_view>& pieces) const;

    /// The pieces of `text`, for tests and small inputs.
    std::vector<std::string_view> split(std::string_view text) const;

    /// The GPT-2 pattern, as compiled.
    static const char* pattern();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace ouro::data
