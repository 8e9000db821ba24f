// TokenPrinter: writes generated text to a stream token by token, flushing after each, either
// plain or coloured for a terminal. In colour, each token's background shows how probable the
// model found it (p under the raw logits, six bands from dark red to dark green, see legend()),
// and a token that extends a 4-gram already seen in prompt + output (TraceRecord::repeats[3], the
// sign of a loop, COLLAPSE.md mechanism 1) is underlined in red.
//
// A byte-level BPE token can end in the middle of a UTF-8 character; in colour the printer holds
// such a tail back until the token that completes it, so that no escape sequence splits a
// character. Line breaks are written outside the colouring, so a background never runs on to the
// end of a terminal line.
//
// With stop strings (start()), the printer holds back the tail of the text that may still turn
// out to be the start of a stop string (gen::StopStrings::settled), prints it once it cannot, and
// never prints a stop string or what follows it. Text held back and then released is coloured
// as the token that released it.
#pragma once

#include <ouro/gen/stop_strings.hpp>

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace sample {

/// Whether to colour: "always", "never", or "auto" (when `stream` is a terminal and the NO_COLOR
/// environment variable is unset or empty, https://no-color.org).
bool use_color(std::string_view mode, std::FILE* stream);

class TokenPrinter {
public:
    TokenPrinter(std::FILE* out, bool color) : out_(out), color_(color) {}

    bool color() const { return color_; }
    /// Two lines explaining the colours (bands of p, then the underline), coloured themselves;
    /// "" when not colouring.
    std::string legend() const;
    /// Text outside any token (the prompt), uncoloured.
    void plain(std::string_view text);
    /// Starts the generated text of a sample, which ends before the first of `stops` (none:
    /// all of it is printed). Throws ouro::ConfigError for an empty stop string.
    void start(std::vector<std::string> stops = {});
    /// One generated token: its bytes, its probability under the raw logits and whether it
    /// extends a 4-gram seen before.
    void token(std::string_view text, double prob, bool repeats_4gram);
    /// Ends a sample: writes what was held back and a line break, and flushes.
    void finish();

private:
    void write_token(std::string_view text, double prob, bool repeats_4gram);
    void write_styled(std::string_view text, const std::string& style);

    std::FILE* out_;
    bool color_;
    std::string pending_;          ///< the start of a UTF-8 character whose last bytes are to come
    ouro::gen::StopStrings stops_; ///< the sample's text, and its stop strings
    double last_prob_ = 1.0;       ///< the last token's, to colour a held-back tail
    bool last_repeats_ = false;
};

} // namespace sample
