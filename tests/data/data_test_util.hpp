// Helpers for the data tests: a temporary directory removed afterwards, the shared data folder
// (found through the OURO_SHARED_DATA compile definition), and small file helpers.
#pragma once

#include <ouro/core/rng.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

namespace ouro::testing {

/// A fresh directory under the system's temporary directory, removed with everything in it.
class TempDir {
public:
    TempDir() {
        static std::atomic<int> counter{0};
        path_ = std::filesystem::temp_directory_path() /
                ("ouro-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        std::filesystem::remove_all(path_);
        std::filesystem::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

/// `relative` inside the shared data folder, or an empty path when this build has no shared data
/// folder or the file is not there (the caller then says that it skipped).
inline std::filesystem::path shared_data(const std::string& relative) {
#ifdef OURO_SHARED_DATA
    const std::filesystem::path p = std::filesystem::path(OURO_SHARED_DATA) / relative;
    if (std::filesystem::exists(p))
        return p;
#endif
    (void)relative;
    return {};
}

inline void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), std::streamsize(bytes.size()));
}

inline std::string read_bytes(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

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
