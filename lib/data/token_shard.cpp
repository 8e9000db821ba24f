// llm.c token shards: streaming atomic writer, memory-mapped checked reader.
#include "ouro/data/token_shard.hpp"

#include "ouro/core/error.hpp"
#include "ouro/core/file_checks.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <bit>
#include <cerrno>
#include <climits>
#include <cstring>
#include <string>
#include <utility>

namespace ouro::data {

// The format is little-endian, and both sides copy raw memory.
static_assert(std::endian::native == std::endian::little,
              "token shards assume a little-endian host");

ShardWriter::ShardWriter(std::filesystem::path path) : file_(std::move(path)) {
    // A zero header holds the place; commit() writes the real one.
    const std::array<std::int32_t, shard_header_ints> header{};
    file_.write(header.data(), shard_header_bytes);
    buffer_.reserve(1 << 16);
}

void ShardWriter::append(std::span<const std::int32_t> tokens) {
    if (count_ + std::int64_t(tokens.size()) > INT32_MAX)
        throw ConfigError("ShardWriter: " + file_.path().string() + ": more than 2^31 - 1 tokens " +
                          "do not fit the header's int32 count");
    for (std::int32_t t : tokens)
        if (t < 0 || t > 65535)
            throw ConfigError("ShardWriter: " + file_.path().string() + ": token " +
                              std::to_string(t) + " does not fit in 16 bits");
    for (std::int32_t t : tokens) {
        buffer_.push_back(std::uint16_t(t));
        if (buffer_.size() == buffer_.capacity()) {
            file_.write(buffer_.data(), buffer_.size() * sizeof(std::uint16_t));
            buffer_.clear();
        }
    }
    count_ += std::int64_t(tokens.size());
}

void ShardWriter::commit() {
    file_.write(buffer_.data(), buffer_.size() * sizeof(std::uint16_t));
    buffer_.clear();
    std::array<std::int32_t, shard_header_ints> header{};
    header[0] = shard_magic;
    header[1] = shard_version;
    header[2] = std::int32_t(count_);
    file_.write_at(0, header.data(), shard_header_bytes);
    file_.commit();
}

void write_shard(const std::filesystem::path& path, std::span<const std::int32_t> tokens) {
    ShardWriter writer(path);
    writer.append(tokens);
    writer.commit();
}

TokenShard::TokenShard(const std::filesystem::path& path) : path_(path) {
    const int fd = open_regular_file(path, "TokenShard");
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        const std::string err = std::strerror(errno);
        ::close(fd);
        throw IoError("TokenShard: cannot stat " + path.string() + ": " + err);
    }
    const auto file_bytes = std::uint64_t(st.st_size);
    const std::string where = "TokenShard: " + path.string() + ": ";
    if (file_bytes < shard_header_bytes) {
        ::close(fd);
        throw FormatError(where + "file of " + std::to_string(file_bytes) +
                          " bytes is shorter than the " + std::to_string(shard_header_bytes) +
                          "-byte header");
    }
    map_ = ::mmap(nullptr, file_bytes, PROT_READ, MAP_PRIVATE, fd, 0);
    const int map_errno = errno;
    ::close(fd); // the mapping keeps the file
    if (map_ == MAP_FAILED) {
        map_ = nullptr;
        throw IoError("TokenShard: cannot map " + path.string() + ": " + std::strerror(map_errno));
    }
    map_bytes_ = file_bytes;
    std::array<std::int32_t, 3> header;
    std::memcpy(header.data(), map_, sizeof(header));
    const std::uint64_t body = file_bytes - shard_header_bytes;
    std::string problem;
    if (header[0] != shard_magic)
        problem = "bad magic " + std::to_string(header[0]) + " (expected " +
                  std::to_string(shard_magic) + "): not a token shard";
    else if (header[1] != shard_version)
        problem = "unsupported version " + std::to_string(header[1]) + " (expected " +
                  std::to_string(shard_version) + ")";
    else if (header[2] < 0 || std::uint64_t(header[2]) * 2 != body)
        problem = "the header says " + std::to_string(header[2]) + " tokens (" +
                  std::to_string(std::int64_t(header[2]) * 2) + " bytes) but " +
                  std::to_string(body) + " bytes follow it";
    if (!problem.empty()) {
        release();
        throw FormatError(where + problem);
    }
    tokens_ =
        reinterpret_cast<const std::uint16_t*>(static_cast<const char*>(map_) + shard_header_bytes);
    size_ = header[2];
}

TokenShard::~TokenShard() {
    release();
}

void TokenShard::release() {
    if (map_ != nullptr)
        ::munmap(map_, map_bytes_);
    map_ = nullptr;
    map_bytes_ = 0;
    tokens_ = nullptr;
    size_ = 0;
}

TokenShard::TokenShard(TokenShard&& other) noexcept
    : path_(std::move(other.path_)), map_(std::exchange(other.map_, nullptr)),
      map_bytes_(std::exchange(other.map_bytes_, 0)),
      tokens_(std::exchange(other.tokens_, nullptr)), size_(std::exchange(other.size_, 0)) {}

TokenShard& TokenShard::operator=(TokenShard&& other) noexcept {
    if (this != &other) {
        release();
        path_ = std::move(other.path_);
        map_ = std::exchange(other.map_, nullptr);
        map_bytes_ = std::exchange(other.map_bytes_, 0);
        tokens_ = std::exchange(other.tokens_, nullptr);
        size_ = std::exchange(other.size_, 0);
    }
    return *this;
}

std::vector<std::int32_t> read_shard(const std::filesystem::path& path) {
    const TokenShard shard(path);
    const auto t = shard.tokens();
    return {t.begin(), t.end()};
}

} // namespace ouro::data
