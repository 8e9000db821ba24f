// Stop strings: generation ends once the text of the generated tokens contains one of a set of
// strings, and the text handed back ends just before it. These are the semantics of the OpenAI
// API's and llama.cpp server's `stop`: the stop string itself is not part of the output.
//
// Matching is on bytes, over the concatenated text of the generated tokens only: a stop string in
// the prompt, or one that begins in the prompt and ends in the generated text, does not count. A
// stop string may span several tokens, and a byte-level BPE token that holds part of a UTF-8
// character is matched byte by byte, so "é" is found when its two bytes come in two tokens. When
// several stop strings are found, the one that starts earliest in the text wins (at equal starts,
// the shorter one, which was complete first).
//
// For streaming, settled() says how much of the text can be shown now: all of it but the longest
// tail that is the beginning of some stop string (it may still turn into one), and, once stopped,
// the text before the stop string. Nothing of a stop string is ever settled.
//
//   StopStrings stops({"\n\n", "The end"});
//   for (each generated token) {
//       const bool stop = stops.push(text_of(token));
//       show(stops.take_settled());
//       if (stop) break;
//   }
//   show(stops.take_rest()); // a held-back tail that never became a stop string
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ouro::gen {

class StopStrings {
public:
    /// No stop strings: push() only collects the text.
    StopStrings() = default;
    /// Throws ConfigError for an empty string (it would match before any text), naming its
    /// index from 0: "stop strings: string 1 is empty".
    explicit StopStrings(std::vector<std::string> strings);

    /// Appends the text of one more token. Returns true when the text now contains a stop string
    /// (the text is then cut before it); after that, push() ignores its argument and returns true.
    bool push(std::string_view piece);

    bool stopped() const { return match_ >= 0; }
    /// Index in strings() of the stop string that was found, -1 before one is.
    std::int64_t matched() const { return match_; }
    /// Everything pushed, or once stopped, everything before the stop string.
    const std::string& text() const { return text_; }
    /// Bytes at the start of text() that can no longer change: all of it but the longest tail
    /// that is a proper prefix of a stop string; all of it once stopped.
    std::size_t settled() const;
    /// The settled text not taken yet (text()[taken, settled())), now marked taken.
    std::string_view take_settled();
    /// All of the text not taken yet, held-back tail included (when no more text will come).
    std::string_view take_rest();

    const std::vector<std::string>& strings() const { return strings_; }

private:
    std::vector<std::string> strings_;
    std::string text_;
    std::size_t taken_ = 0;
    std::int64_t match_ = -1;
};

} // namespace ouro::gen
