// SHA-256 (FIPS 180-4, "Secure Hash Standard", section 6.2), used by the downloader to check that
// a downloaded file is the one its publisher announced. Small and dependency-free; tested against
// the FIPS 180-2 example vectors.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

namespace ouro::data {

/// Incremental SHA-256: feed bytes with update() in any pieces, then read the digest once.
class Sha256 {
public:
    using Digest = std::array<std::uint8_t, 32>;

    Sha256();
    /// Hashes `bytes` after everything fed so far.
    void update(std::span<const std::uint8_t> bytes);
    void update(std::string_view bytes);
    /// The digest of everything fed. Finishes the hash: call it once, then reset() to reuse.
    Digest finish();
    /// Starts over, as newly constructed.
    void reset();

private:
    void compress(const std::uint8_t* block);

    std::array<std::uint32_t, 8> state_;
    std::array<std::uint8_t, 64> buffer_;
    std::size_t buffered_ = 0;
    std::uint64_t total_bytes_ = 0;
};

/// The digest as 64 lowercase hexadecimal digits.
std::string to_hex(const Sha256::Digest& digest);

/// SHA-256 of `bytes`, as 64 lowercase hexadecimal digits.
std::string sha256_hex(std::string_view bytes);

/// SHA-256 of the whole file, as 64 lowercase hexadecimal digits. Throws IoError naming the path
/// when the file cannot be read or is not a regular file.
std::string sha256_file(const std::filesystem::path& path);

} // namespace ouro::data
