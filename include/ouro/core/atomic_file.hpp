// Files that appear whole or not at all: the bytes go to a temporary file in the same directory,
// which is flushed to disk (fsync) and then renamed over the target (rename is atomic on POSIX
// file systems), and the directory entry is synced too. A crash or an exception midway leaves the
// previous file, if any, untouched and the temporary file removed (or, after a crash, a stray
// "<name>.tmp-XXXXXX" file).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string_view>

namespace ouro {

class AtomicFile {
public:
    /// Creates the temporary file beside `path`. Throws IoError naming the path when it cannot.
    explicit AtomicFile(std::filesystem::path path);
    /// Removes the temporary file unless commit() succeeded.
    ~AtomicFile();
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;

    /// Appends bytes. Throws IoError naming the path on failure.
    void write(const void* data, std::size_t size);
    void write(std::string_view bytes) { write(bytes.data(), bytes.size()); }
    /// Overwrites bytes at `offset` of what was written (e.g. a header whose counts are known
    /// only at the end); the write position stays at the end.
    void write_at(std::uint64_t offset, const void* data, std::size_t size);
    /// Bytes written so far.
    std::uint64_t size() const { return size_; }
    /// fsync, rename over the target, sync the directory. Throws IoError naming the path.
    void commit();

    const std::filesystem::path& path() const { return path_; }

private:
    void flush_buffer();

    std::filesystem::path path_, temp_path_;
    int fd_ = -1;
    std::uint64_t size_ = 0;
    std::string buffer_;
    bool committed_ = false;
};

/// Writes `bytes` to `path` atomically.
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes);

/// The whole file as bytes; throws IoError naming the path (and "what" it was read for) when it
/// cannot be read: "<what>: cannot open <path>: No such file or directory", or when it is not a
/// regular file (a directory, FIFO or device; see file_checks.hpp): "<what>: <path> is not a
/// regular file (it is a FIFO)".
std::string read_file(const std::filesystem::path& path, std::string_view what);

} // namespace ouro
