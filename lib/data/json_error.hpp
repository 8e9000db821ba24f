// nlohmann-json's exceptions at the library's boundary. Its exceptions are not ouro::Error types,
// so every reader translates them into a FormatError naming its file; this gives their text
// without the "[json.exception.out_of_range.406] " tag, e.g. "number overflow parsing '1e400'".
// Internal to the library.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace ouro::detail {

inline std::string json_error_text(const nlohmann::json::exception& e) {
    std::string s = e.what();
    if (s.rfind("[json.exception.", 0) == 0) {
        const std::size_t close = s.find("] ");
        if (close != std::string::npos)
            s.erase(0, close + 2);
    }
    return s;
}

} // namespace ouro::detail
