// Opening a user's file for reading, refusing what is not a regular file. A FIFO given as a
// checkpoint would block the reader forever, /dev/zero would be read until memory runs out, and a
// directory gives a confusing "Is a directory" midway; every loader of user files (checkpoints,
// safetensors, tokenizer files, token shards, TinyStories files, llm.c files) goes through here
// and refuses them up front with an IoError naming the path:
//   "Safetensors::read: /tmp/fifo is not a regular file (it is a FIFO)"
#pragma once

#include <filesystem>
#include <string_view>

namespace ouro {

/// Throws IoError unless `path` (symbolic links followed) names an existing regular file:
/// "<what>: cannot open <path>: No such file or directory" when it does not exist (or cannot be
/// examined), "<what>: <path> is not a regular file (it is a directory)" (or a FIFO, a
/// character device, a block device, a socket) otherwise. Opens nothing.
void require_regular_file(const std::filesystem::path& path, std::string_view what);

/// Opens `path` read-only, after require_regular_file, without ever blocking (a FIFO swapped in
/// between the check and the open is refused too) and close-on-exec. Returns the descriptor, which
/// the caller closes. Throws IoError as require_regular_file, or "<what>: cannot open <path>:
/// <reason>".
int open_regular_file(const std::filesystem::path& path, std::string_view what);

} // namespace ouro
