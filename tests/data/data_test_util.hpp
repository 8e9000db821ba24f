// Helpers for the data tests: random byte strings and random UTF-8 (the generic file helpers are
// in test_util.hpp).
#pragma once

#include "test_util.hpp"

#include <ouro/core/rng.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

namespace ouro::testing {

/// `n` random bytes, every value possible.
inline std::string random_bytes(Rng& rng, std::size_t n) {
    std::string s(n, '\0');
    for (char& c : s)
        c = char(rng.below(256));
    return s;
}

/// `n` random code points, valid UTF-8: ASCII, Latin-1, CJK and emoji ranges mixed.
inline std::string random_utf8(Rng& rng, std::size_t n) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) {
        char32_t c = 0;
        switch (rng.below(4)) {
        case 0:
            c = char32_t(0x20 + rng.below(0x5F)); // printable ASCII
            break;
        case 1:
            c = char32_t(rng.below(0x100)); // Latin-1, controls included
            break;
        case 2:
            c = char32_t(0x4E00 + rng.below(0x5000)); // CJK
            break;
        default:
            c = char32_t(0x1F300 + rng.below(0x300)); // emoji
        }
        if (c < 0x80) {
            s += char(c);
        } else if (c < 0x800) {
            s += char(0xC0 | (c >> 6));
            s += char(0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
            s += char(0xE0 | (c >> 12));
            s += char(0x80 | ((c >> 6) & 0x3F));
            s += char(0x80 | (c & 0x3F));
        } else {
            s += char(0xF0 | (c >> 18));
            s += char(0x80 | ((c >> 12) & 0x3F));
            s += char(0x80 | ((c >> 6) & 0x3F));
            s += char(0x80 | (c & 0x3F));
        }
    }
    return s;
}

} // namespace ouro::testing
