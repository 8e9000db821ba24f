// What keeps a program's output folder whole across kills and concurrent runs (train, prepare):
//  - one writing process per folder, held by an advisory lock (flock) on the folder itself;
//  - the temporary files "<name>.tmp-XXXXXX" that the atomic writer (core/atomic_file.hpp) of a
//    killed run left are removed at the next start, only those of the names the program writes.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace ouro::examples {

/// A POSIX file descriptor, closed when the handle goes (move-only).
class FileHandle {
public:
    FileHandle() = default;
    explicit FileHandle(int fd) : fd_(fd) {}
    FileHandle(FileHandle&& other) noexcept;
    FileHandle& operator=(FileHandle&& other) noexcept;
    FileHandle(const FileHandle&) = delete;
    FileHandle& operator=(const FileHandle&) = delete;
    ~FileHandle();
    int get() const { return fd_; }

private:
    int fd_ = -1;
};

/// Creates `dir` when needed and locks it while the handle lives. Throws IoError "<dir> is in use
/// by another <program> process" when another process holds it, "cannot create <dir>: <reason>".
FileHandle lock_output_folder(const std::filesystem::path& dir, std::string_view program);

/// Removes the regular files "<name>.tmp-XXXXXX" in `dir` (six letters or digits: the temporary
/// files of the atomic writer, left by a killed run) for which `is_own(<name>)`; never a link or
/// a folder. Returns the names removed, sorted. Throws IoError "cannot remove <file> (left by a
/// stopped run): <reason>".
std::vector<std::string> remove_leftovers(const std::filesystem::path& dir,
                                          const std::function<bool(std::string_view)>& is_own);

} // namespace ouro::examples
