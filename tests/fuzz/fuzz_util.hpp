// Shared by the fuzz targets: the input as a file (for loaders that take a path), and the rule
// every target checks: a loader either succeeds or throws an ouro::Error. Any other exception
// (std::bad_alloc, std::length_error, a nlohmann exception) escapes LLVMFuzzerTestOneInput and
// libFuzzer reports it as a crash, as it does any sanitizer report.
#pragma once

#include <ouro/core/error.hpp>

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace ouro::fuzz {

/// A folder of this process's own under the temporary directory (removed at exit).
inline const std::filesystem::path& scratch_dir() {
    static const std::filesystem::path dir = [] {
        const auto d =
            std::filesystem::temp_directory_path() / ("ouro-fuzz-" + std::to_string(::getpid()));
        std::filesystem::create_directories(d);
        std::atexit([] {
            std::error_code ec;
            std::filesystem::remove_all(std::filesystem::temp_directory_path() /
                                            ("ouro-fuzz-" + std::to_string(::getpid())),
                                        ec);
        });
        return d;
    }();
    return dir;
}

/// Writes `bytes` to `name` in the scratch folder and returns its path.
inline std::filesystem::path write_scratch(const std::string& name, std::string_view bytes) {
    const std::filesystem::path p = scratch_dir() / name;
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), std::streamsize(bytes.size()));
    return p;
}

/// Stops the run with a message: a property of the library that must hold did not.
[[noreturn]] inline void broken(const char* what) {
    std::fprintf(stderr, "fuzz: property broken: %s\n", what);
    std::abort();
}

/// Calls f(); an ouro::Error is an accepted outcome (the input was refused).
template <typename F> void refused_or_ok(F&& f) {
    try {
        f();
    } catch (const ouro::Error&) {
    }
}

/// Reads a little-endian uint32 at `data + at` (0 past the end) for length-prefixed inputs.
inline std::uint32_t read_u32(const std::uint8_t* data, std::size_t size, std::size_t at) {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4 && at + i < size; ++i)
        v |= std::uint32_t(data[at + i]) << (8 * i);
    return v;
}

} // namespace ouro::fuzz
