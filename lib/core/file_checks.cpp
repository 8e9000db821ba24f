// Regular-file checks before reading: stat the path, then open without blocking and check the
// descriptor again (the file may have been replaced in between).
#include "ouro/core/file_checks.hpp"

#include "ouro/core/error.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace ouro {

namespace {

const char* kind_of(mode_t mode) {
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISSOCK(mode))
        return "a socket";
    return "not a file";
}

[[noreturn]] void not_regular(const std::filesystem::path& path, std::string_view what,
                              mode_t mode) {
    throw IoError(std::string(what) + ": " + path.string() + " is not a regular file (it is " +
                  kind_of(mode) + ")");
}

[[noreturn]] void cannot_open(const std::filesystem::path& path, std::string_view what, int err) {
    throw IoError(std::string(what) + ": cannot open " + path.string() + ": " + std::strerror(err));
}

} // namespace

void require_regular_file(const std::filesystem::path& path, std::string_view what) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        cannot_open(path, what, errno);
    if (!S_ISREG(st.st_mode))
        not_regular(path, what, st.st_mode);
}

int open_regular_file(const std::filesystem::path& path, std::string_view what) {
    require_regular_file(path, what);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        cannot_open(path, what, errno);
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        const int err = errno;
        const mode_t mode = st.st_mode;
        ::close(fd);
        if (mode == 0)
            cannot_open(path, what, err);
        not_regular(path, what, mode);
    }
    // Regular files ignore O_NONBLOCK; cleared anyway so the descriptor reads as usual.
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
}

} // namespace ouro
