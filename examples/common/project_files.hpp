// Files that ship with the source tree (the bundled model) found at run time, so that no path of
// the machine that built a program is compiled into it: a program built in <tree>/build finds
// <tree>/models by looking in the folders above its own file (/proc/self/exe), and a program
// copied elsewhere finds them under the folder it is started from.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace project_files {

/// The running program's file (the target of /proc/self/exe), empty where that is unknown.
std::filesystem::path program_file();

/// The folders where a file of the source tree is looked for, in order: the program's folder and
/// every folder above it, then `working` (the current folder). Duplicates are left out.
std::vector<std::filesystem::path> search_folders(const std::filesystem::path& program,
                                                  const std::filesystem::path& working);

/// The first `folder / relative` of search_folders(program, working) that exists. Throws
/// ouro::ConfigError, one line naming where it looked and how to do without:
///   "the bundled model models/tinystories-2.6m/model.safetensors was not found: looked under
///    /opt/ouro/build/examples/lab and every folder above it, and under /home/me (the current
///    folder); pass --checkpoint MODEL"
/// `what` names the file ("the bundled model"), `instead` says what to pass instead.
std::filesystem::path find(const std::filesystem::path& relative, const std::string& what,
                           const std::string& instead, const std::filesystem::path& program,
                           const std::filesystem::path& working);

/// find() from this program (program_file()) and the current folder.
std::filesystem::path find(const std::filesystem::path& relative, const std::string& what,
                           const std::string& instead);

} // namespace project_files
