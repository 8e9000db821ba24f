// Atomic file writes: the bytes go to a temporary file beside the target, are flushed to disk
// (fsync), and the temporary file is renamed over the target, then the directory is synced. A
// crash at any moment leaves either the old file or the new one, never a torn one.
#pragma once

#include <functional>
#include <ostream>
#include <string>

namespace ouro::io {

/// Calls `write` with a stream onto a temporary file, then atomically replaces `path` with it.
/// Throws IoError naming the path when anything fails; the target is then untouched and the
/// temporary file removed.
void write_file_atomically(const std::string& path,
                           const std::function<void(std::ostream&)>& write);

/// Reads a whole file; throws IoError naming the path when it cannot be opened or read.
std::string read_file(const std::string& path);

} // namespace ouro::io
