// The output folder's lock and leftovers; see output_folder.hpp.
#include "common/output_folder.hpp"

#include <ouro/core/error.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <utility>

namespace ouro::examples {
namespace fs = std::filesystem;

FileHandle::FileHandle(FileHandle&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

FileHandle& FileHandle::operator=(FileHandle&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
}

FileHandle::~FileHandle() {
    if (fd_ >= 0)
        ::close(fd_);
}

FileHandle lock_output_folder(const fs::path& dir, std::string_view program) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec)
        throw IoError("cannot create " + dir.string() + ": " + ec.message());
    FileHandle fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0)
        throw IoError("cannot open " + dir.string() + ": " + std::strerror(errno));
    // Released by the kernel when the process ends, however it ends. A file system without
    // locks (some network ones) answers with another error: the run goes on unlocked.
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK)
        throw IoError(dir.string() + " is in use by another " + std::string(program) + " process");
    return fd;
}

std::vector<std::string> remove_leftovers(const fs::path& dir,
                                          const std::function<bool(std::string_view)>& is_own) {
    std::vector<std::string> removed;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        const std::size_t tmp = name.rfind(".tmp-");
        if (tmp == std::string::npos || name.size() != tmp + 11 ||
            !std::all_of(name.begin() + std::ptrdiff_t(tmp + 5), name.end(),
                         [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }) ||
            !is_own(std::string_view(name).substr(0, tmp)))
            continue;
        // Never a link or a folder, whatever its name.
        std::error_code type_ec;
        if (!fs::is_regular_file(entry.symlink_status(type_ec)))
            continue;
        std::error_code rm_ec;
        fs::remove(entry.path(), rm_ec);
        if (rm_ec)
            throw IoError("cannot remove " + entry.path().string() +
                          " (left by a stopped run): " + rm_ec.message());
        removed.push_back(name);
    }
    std::sort(removed.begin(), removed.end());
    return removed;
}

} // namespace ouro::examples
