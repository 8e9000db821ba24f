// GPT-2 pre-tokenisation with PCRE2 (UTF + UCP + JIT, invalid UTF-8 tolerated). See the header.
#include "ouro/data/pretokenizer.hpp"

#include "ouro/core/error.hpp"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <string>

namespace ouro::data {

namespace {

constexpr const char* gpt2_pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

std::string pcre2_message(int code) {
    PCRE2_UCHAR buf[256];
    const int n = pcre2_get_error_message(code, buf, sizeof(buf));
    return n < 0 ? "PCRE2 error " + std::to_string(code)
                 : std::string(reinterpret_cast<char*>(buf));
}

struct MatchDataDeleter {
    void operator()(pcre2_match_data* md) const { pcre2_match_data_free(md); }
};

} // namespace

struct Pretokenizer::Impl {
    pcre2_code* code = nullptr;
    bool jit = false;
    ~Impl() { pcre2_code_free(code); }
};

Pretokenizer::Pretokenizer() : impl_(std::make_unique<Impl>()) {
    int error = 0;
    PCRE2_SIZE offset = 0;
    // UCP makes \s and friends Unicode-aware, as in the regex module GPT-2 was written with;
    // MATCH_INVALID_UTF lets any byte string be a subject.
    impl_->code =
        pcre2_compile(reinterpret_cast<PCRE2_SPTR>(gpt2_pattern), PCRE2_ZERO_TERMINATED,
                      PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &error, &offset, nullptr);
    if (impl_->code == nullptr)
        throw ConfigError("Pretokenizer: PCRE2 rejected the GPT-2 pattern at offset " +
                          std::to_string(offset) + ": " + pcre2_message(error));
    // JIT is a speed-up only: when the platform has none, the interpreter gives the same pieces.
    impl_->jit = pcre2_jit_compile(impl_->code, PCRE2_JIT_COMPLETE) == 0;
}

Pretokenizer::~Pretokenizer() = default;
Pretokenizer::Pretokenizer(Pretokenizer&&) noexcept = default;
Pretokenizer& Pretokenizer::operator=(Pretokenizer&&) noexcept = default;

const char* Pretokenizer::pattern() {
    return gpt2_pattern;
}

void Pretokenizer::split(std::string_view text, std::vector<std::string_view>& pieces) const {
    std::unique_ptr<pcre2_match_data, MatchDataDeleter> md(
        pcre2_match_data_create_from_pattern(impl_->code, nullptr));
    if (!md)
        throw std::bad_alloc();
    const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(md.get());
    std::size_t pos = 0;
    while (pos < text.size()) {
        const int rc =
            impl_->jit
                ? pcre2_jit_match(impl_->code, subject, text.size(), pos, 0, md.get(), nullptr)
                : pcre2_match(impl_->code, subject, text.size(), pos, 0, md.get(), nullptr);
        if (rc == PCRE2_ERROR_NOMATCH) {
            // Only invalid UTF-8 is left.
            pieces.push_back(text.substr(pos));
            return;
        }
        if (rc < 0)
            throw ConfigError("Pretokenizer: PCRE2 match failed: " + pcre2_message(rc));
        const std::size_t start = ovector[0], end = ovector[1];
        // Bytes skipped before the match are invalid UTF-8: keep them, as one piece.
        if (start > pos)
            pieces.push_back(text.substr(pos, start - pos));
        // Every alternative consumes at least one character, so end > start.
        pieces.push_back(text.substr(start, end - start));
        pos = end;
    }
}

std::vector<std::string_view> Pretokenizer::split(std::string_view text) const {
    std::vector<std::string_view> pieces;
    split(text, pieces);
    return pieces;
}

} // namespace ouro::data
