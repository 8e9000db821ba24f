// StopStrings: finding stop strings in a stream of token texts (see stop_strings.hpp).
#include "ouro/gen/stop_strings.hpp"

#include "ouro/core/error.hpp"

#include <algorithm>
#include <utility>

namespace ouro::gen {

StopStrings::StopStrings(std::vector<std::string> strings) : strings_(std::move(strings)) {
    for (std::size_t i = 0; i < strings_.size(); ++i)
        if (strings_[i].empty())
            throw ConfigError("stop strings: string " + std::to_string(i) + " is empty");
}

bool StopStrings::push(std::string_view piece) {
    if (stopped())
        return true;
    const std::size_t old = text_.size();
    text_.append(piece);
    // No stop string was in the old text, so a new match ends in `piece`: it starts at most
    // size - 1 bytes before it.
    std::size_t best = std::string::npos;
    for (std::size_t i = 0; i < strings_.size(); ++i) {
        const std::string& s = strings_[i];
        const std::size_t from = old >= s.size() ? old - s.size() + 1 : 0;
        const std::size_t at = text_.find(s, from);
        if (at == std::string::npos)
            continue;
        if (at < best || (at == best && s.size() < strings_[std::size_t(match_)].size())) {
            best = at;
            match_ = std::int64_t(i);
        }
    }
    if (!stopped())
        return false;
    // What was settled before could not start a stop string, so taken_ <= best.
    text_.resize(best);
    return true;
}

std::size_t StopStrings::settled() const {
    if (stopped())
        return text_.size();
    std::size_t longest = 0;
    for (const std::string& s : strings_)
        longest = std::max(longest, s.size());
    // The longest tail of the text that some stop string starts with (and is longer than).
    const std::size_t n = text_.size();
    for (std::size_t tail = std::min(n, longest == 0 ? 0 : longest - 1); tail > 0; --tail) {
        const std::string_view end = std::string_view(text_).substr(n - tail);
        for (const std::string& s : strings_)
            if (s.size() > tail && std::string_view(s).substr(0, tail) == end)
                return n - tail;
    }
    return n;
}

std::string_view StopStrings::take_settled() {
    const std::size_t end = settled();
    const std::string_view out = std::string_view(text_).substr(taken_, end - taken_);
    taken_ = end;
    return out;
}

std::string_view StopStrings::take_rest() {
    const std::string_view out = std::string_view(text_).substr(taken_);
    taken_ = text_.size();
    return out;
}

} // namespace ouro::gen
