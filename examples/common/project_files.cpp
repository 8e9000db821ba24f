// Finding the files of the source tree at run time; see project_files.hpp.
#include "common/project_files.hpp"

#include <ouro/core/error.hpp>

#include <algorithm>

namespace project_files {

namespace fs = std::filesystem;

fs::path program_file() {
    std::error_code ec;
    fs::path p = fs::read_symlink("/proc/self/exe", ec);
    return ec ? fs::path() : p;
}

std::vector<fs::path> search_folders(const fs::path& program, const fs::path& working) {
    std::vector<fs::path> out;
    if (!program.empty())
        for (fs::path dir = program.parent_path(); !dir.empty(); dir = dir.parent_path()) {
            out.push_back(dir);
            if (dir == dir.root_path() || dir == dir.parent_path())
                break;
        }
    if (!working.empty() && std::find(out.begin(), out.end(), working) == out.end())
        out.push_back(working);
    return out;
}

fs::path find(const fs::path& relative, const std::string& what, const std::string& instead,
              const fs::path& program, const fs::path& working) {
    std::error_code ec;
    for (const fs::path& dir : search_folders(program, working))
        if (fs::exists(dir / relative, ec))
            return dir / relative;
    std::string looked;
    if (!program.empty())
        looked = "under " + program.parent_path().string() + " and every folder above it";
    if (!working.empty())
        looked += (looked.empty() ? "under " : ", and under ") + working.string() +
                  " (the current folder)";
    throw ouro::ConfigError(what + " " + relative.string() + " was not found: looked " +
                            (looked.empty() ? std::string("nowhere") : looked) + "; " + instead);
}

fs::path find(const fs::path& relative, const std::string& what, const std::string& instead) {
    std::error_code ec;
    fs::path working = fs::current_path(ec);
    return find(relative, what, instead, program_file(), ec ? fs::path() : working);
}

} // namespace project_files
