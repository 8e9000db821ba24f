// Token shards in llm.c's format (Karpathy, llm.c, dev/data/data_common.py): a header of 256
// little-endian int32 (magic 20240520, version 1, token count, the rest zero) followed by the
// tokens as little-endian uint16. Documents are joined with the end-of-text token. GPT-2's 50,257
// ids and any smaller vocabulary fit in 16 bits.
//
// Writing is atomic (see atomic_file.hpp); reading memory-maps the file and checks the header.
#pragma once

#include "ouro/core/atomic_file.hpp"

#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

namespace ouro::data {

inline constexpr std::int32_t shard_magic = 20240520;
inline constexpr std::int32_t shard_version = 1;
inline constexpr std::size_t shard_header_ints = 256;
inline constexpr std::size_t shard_header_bytes = shard_header_ints * sizeof(std::int32_t);

/// Writes a shard token by token; the header is filled in by commit(), so a shard can be streamed
/// out without holding all its tokens.
class ShardWriter {
public:
    /// Starts the temporary file beside `path` (IoError when it cannot be created).
    explicit ShardWriter(std::filesystem::path path);
    /// Appends tokens. Throws ConfigError when a token is outside [0, 65535], or the shard would
    /// pass 2^31 - 1 tokens (the header's count is an int32).
    void append(std::span<const std::int32_t> tokens);
    /// Tokens appended so far.
    std::int64_t size() const { return count_; }
    /// Writes the header and moves the finished shard into place (IoError on failure). A writer
    /// destroyed without commit leaves no file.
    void commit();

private:
    AtomicFile file_;
    std::int64_t count_ = 0;
    std::vector<std::uint16_t> buffer_;
};

/// Writes `tokens` as a shard at `path`, atomically.
void write_shard(const std::filesystem::path& path, std::span<const std::int32_t> tokens);

/// A shard memory-mapped read-only. Move-only; the tokens stay valid while it lives.
class TokenShard {
public:
    /// Maps and checks the file. Throws IoError ("TokenShard: cannot open <path>: ...", or
    /// "TokenShard: <path> is not a regular file (it is a FIFO)" for a directory, FIFO or device)
    /// and FormatError naming the path when the header is wrong: "TokenShard: <path>: bad magic 7
    /// (expected 20240520): not a token shard", "... unsupported version 2 (expected 1)",
    /// "... the header says 1000 tokens (2000 bytes) but 500 bytes follow it", "... file of 12
    /// bytes is shorter than the 1024-byte header".
    explicit TokenShard(const std::filesystem::path& path);
    ~TokenShard();
    TokenShard(TokenShard&& other) noexcept;
    TokenShard& operator=(TokenShard&& other) noexcept;
    TokenShard(const TokenShard&) = delete;
    TokenShard& operator=(const TokenShard&) = delete;

    std::span<const std::uint16_t> tokens() const { return {tokens_, std::size_t(size_)}; }
    std::int64_t size() const { return size_; }
    const std::filesystem::path& path() const { return path_; }

private:
    void release();

    std::filesystem::path path_;
    void* map_ = nullptr;
    std::size_t map_bytes_ = 0;
    const std::uint16_t* tokens_ = nullptr;
    std::int64_t size_ = 0;
};

/// The tokens of a shard as int32 ids.
std::vector<std::int32_t> read_shard(const std::filesystem::path& path);

} // namespace ouro::data
