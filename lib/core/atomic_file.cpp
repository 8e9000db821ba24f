// Atomic file writes (temp file + fsync + rename + directory fsync) and whole-file reads.
#include "ouro/core/atomic_file.hpp"

#include "ouro/core/error.hpp"
#include "ouro/core/file_checks.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

namespace ouro {

namespace {

constexpr std::size_t buffer_limit = std::size_t(1) << 20;

std::string errno_text() {
    return std::strerror(errno);
}

// Writes all of [data, data + size) at the file's position, retrying short writes.
bool write_all(int fd, const char* data, std::size_t size) {
    while (size > 0) {
        const ssize_t n = ::write(fd, data, size);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        data += n;
        size -= std::size_t(n);
    }
    return true;
}

} // namespace

AtomicFile::AtomicFile(std::filesystem::path path) : path_(std::move(path)) {
    std::string templ = path_.string() + ".tmp-XXXXXX";
    std::vector<char> name(templ.begin(), templ.end());
    name.push_back('\0');
    fd_ = ::mkstemp(name.data());
    if (fd_ < 0)
        throw IoError("cannot create a temporary file for " + path_.string() + ": " + errno_text());
    temp_path_ = name.data();
    // mkstemp makes the file private (0600); a finished data file is readable by all, like one
    // written with the usual umask (reading the umask is not thread-safe, so it is not consulted).
    ::fchmod(fd_, 0644);
}

AtomicFile::~AtomicFile() {
    if (fd_ >= 0)
        ::close(fd_);
    if (!committed_ && !temp_path_.empty())
        ::unlink(temp_path_.c_str());
}

void AtomicFile::flush_buffer() {
    if (buffer_.empty())
        return;
    if (!write_all(fd_, buffer_.data(), buffer_.size()))
        throw IoError("cannot write " + path_.string() + ": " + errno_text());
    buffer_.clear();
}

void AtomicFile::write(const void* data, std::size_t size) {
    buffer_.append(static_cast<const char*>(data), size);
    size_ += size;
    if (buffer_.size() >= buffer_limit)
        flush_buffer();
}

void AtomicFile::write_at(std::uint64_t offset, const void* data, std::size_t size) {
    if (offset + size > size_)
        throw IoError("cannot write " + path_.string() + ": write_at past the end");
    flush_buffer();
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
        const ssize_t n = ::pwrite(fd_, p, size, off_t(offset));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            throw IoError("cannot write " + path_.string() + ": " + errno_text());
        }
        p += n;
        size -= std::size_t(n);
        offset += std::uint64_t(n);
    }
}

void AtomicFile::commit() {
    if (committed_)
        return;
    flush_buffer();
    if (::fsync(fd_) != 0)
        throw IoError("cannot sync " + path_.string() + ": " + errno_text());
    if (::close(fd_) != 0) {
        fd_ = -1;
        throw IoError("cannot close " + path_.string() + ": " + errno_text());
    }
    fd_ = -1;
    if (::rename(temp_path_.c_str(), path_.c_str()) != 0)
        throw IoError("cannot rename " + temp_path_.string() + " to " + path_.string() + ": " +
                      errno_text());
    committed_ = true;
    // Make the rename itself durable. Some file systems refuse fsync on a directory; the data is
    // already safe then, so that is not an error.
    std::filesystem::path dir = path_.parent_path();
    if (dir.empty())
        dir = ".";
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
}

void write_file_atomic(const std::filesystem::path& path, std::string_view bytes) {
    AtomicFile file(path);
    file.write(bytes);
    file.commit();
}

std::string read_file(const std::filesystem::path& path, std::string_view what) {
    const int fd = open_regular_file(path, what);
    std::string bytes;
    struct stat st {};
    if (::fstat(fd, &st) == 0)
        bytes.reserve(std::size_t(st.st_size));
    char buf[1 << 16];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof(buf));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            const std::string err = errno_text();
            ::close(fd);
            throw IoError(std::string(what) + ": cannot read " + path.string() + ": " + err);
        }
        if (n == 0)
            break;
        bytes.append(buf, std::size_t(n));
    }
    ::close(fd);
    return bytes;
}

} // namespace ouro
