// The files of a run in its output folder (checkpoints ckpt-<step>.safetensors, the log, the
// synthetic shards) and what keeps them whole across kills, full disks and reruns:
//  - one train process per folder, held by an advisory lock (flock) on the folder itself;
//  - the temporary files "<name>.tmp-XXXXXX" that the atomic writer of a killed run left are
//    removed at the next start, only those of the names train writes;
//  - the log has one row per step: on resume the rows of steps after the checkpoint (written by
//    the run that was stopped after it, and replayed now) are cut off, and every write is checked.
#pragma once

#include "common/output_folder.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace ouro::train {

using examples::FileHandle;

/// "ckpt-000100.safetensors" for step 100.
std::string checkpoint_name(std::int64_t step);

/// The checkpoints in `dir` (ckpt-<digits>.safetensors), oldest first; none when `dir` is missing.
std::vector<std::filesystem::path> find_checkpoints(const std::filesystem::path& dir);

/// Creates `dir` when needed and locks it while the handle lives (common/output_folder.hpp).
/// Throws IoError "<dir> is in use by another train process" when another one holds it.
FileHandle lock_run_folder(const std::filesystem::path& dir);

/// The files train writes atomically into its folder: ckpt-<digits>.safetensors,
/// synthetic-train.bin and synthetic-val.bin.
bool is_own_output(std::string_view name);

/// Removes the temporary files of a killed run whose <name> is_own_output, as
/// examples::remove_leftovers. Returns the names removed.
std::vector<std::string> remove_leftovers(const std::filesystem::path& dir);

/// The CSV or JSONL log (JSONL when the name ends in .jsonl): one line per step, the step first.
class TrainingLog {
public:
    /// Opens `path`, creating it. A new log (`keep_through` < 0) is emptied; a resumed one keeps
    /// the rows of steps up to `keep_through` and loses later rows and an unfinished last line
    /// (one truncate: a kill leaves the file whole or cut). An empty CSV log gets the header. A
    /// log that is not a regular file (/dev/stdout, a FIFO) is only appended to. Throws IoError
    /// "<path>: cannot open the training log: <reason>" or as append().
    TrainingLog(std::filesystem::path path, std::int64_t keep_through);

    /// Appends `line` (with its newline). Throws IoError "cannot write <path> (the training log):
    /// <reason>".
    void append(std::string_view line);
    /// Makes the rows written so far durable (before a checkpoint that counts them). Throws
    /// IoError "cannot sync <path> (the training log): <reason>".
    void sync();
    bool jsonl() const { return jsonl_; }

    /// Whether the regular file at `path` holds rows (a line after a CSV header, or any JSONL).
    static bool has_rows(const std::filesystem::path& path);

private:
    std::filesystem::path path_;
    FileHandle fd_;
    bool jsonl_ = false;
};

} // namespace ouro::train
