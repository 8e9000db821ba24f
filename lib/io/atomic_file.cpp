// Atomic file replacement with temp file + fsync + rename + directory fsync (POSIX).
#include "ouro/io/atomic_file.hpp"

#include "ouro/core/error.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace ouro::io {
namespace {

std::string errno_text() {
    return std::strerror(errno);
}

void fsync_path(const std::string& path, int flags) {
    const int fd = ::open(path.c_str(), flags);
    if (fd < 0)
        throw IoError(path + ": cannot open for fsync: " + errno_text());
    const int rc = ::fsync(fd);
    ::close(fd);
    if (rc != 0)
        throw IoError(path + ": fsync failed: " + errno_text());
}

} // namespace

void write_file_atomically(const std::string& path,
                           const std::function<void(std::ostream&)>& write) {
    namespace fs = std::filesystem;
    const fs::path target(path);
    const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
    const std::string tmp =
        (dir / ("." + target.filename().string() + ".tmp-" + std::to_string(::getpid()))).string();
    try {
        {
            std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
            if (!out)
                throw IoError(path + ": cannot create temporary file " + tmp + ": " + errno_text());
            write(out);
            out.flush();
            if (!out)
                throw IoError(path + ": writing " + tmp + " failed");
        }
        fsync_path(tmp, O_RDONLY);
        if (std::rename(tmp.c_str(), path.c_str()) != 0)
            throw IoError(path + ": cannot rename " + tmp + " over it: " + errno_text());
        fsync_path(dir.string(), O_RDONLY | O_DIRECTORY);
    } catch (...) {
        std::error_code ec;
        fs::remove(tmp, ec);
        throw;
    }
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw IoError(path + ": cannot open: " + errno_text());
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad())
        throw IoError(path + ": read failed");
    return std::move(ss).str();
}

} // namespace ouro::io
