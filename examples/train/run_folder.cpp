// The run folder's lock, leftovers and log; see run_folder.hpp.
#include "run_folder.hpp"

#include <ouro/core/atomic_file.hpp>
#include <ouro/core/error.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <optional>
#include <utility>

namespace ouro::train {
namespace fs = std::filesystem;

namespace {

std::string errno_text() {
    return std::strerror(errno);
}

bool all_digits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c)) != 0;
    });
}

bool is_checkpoint_name(std::string_view name) {
    constexpr std::string_view prefix = "ckpt-", suffix = ".safetensors";
    return name.size() > prefix.size() + suffix.size() && name.starts_with(prefix) &&
           name.ends_with(suffix) &&
           all_digits(name.substr(prefix.size(), name.size() - prefix.size() - suffix.size()));
}

// The step a log line starts with: "12,3.4,..." (CSV) or {"step":12,...} (JSONL, as log_row
// writes it); none for the header or anything else.
std::optional<std::int64_t> row_step(std::string_view line, bool jsonl) {
    constexpr std::string_view json_prefix = "{\"step\":";
    if (jsonl) {
        if (!line.starts_with(json_prefix))
            return std::nullopt;
        line.remove_prefix(json_prefix.size());
    }
    std::size_t digits = 0;
    while (digits < line.size() && std::isdigit(static_cast<unsigned char>(line[digits])))
        ++digits;
    if (digits == 0 || digits > 18 || digits == line.size() || line[digits] != ',')
        return std::nullopt;
    return std::stoll(std::string(line.substr(0, digits)));
}

// The length of the part of `text` to keep: it ends before the first row of a step after
// `keep_through`, or before an unfinished last line.
std::size_t kept_length(std::string_view text, std::int64_t keep_through, bool jsonl) {
    std::size_t pos = 0;
    while (pos < text.size()) {
        const std::size_t end = text.find('\n', pos);
        if (end == std::string_view::npos)
            break;
        const auto step = row_step(text.substr(pos, end - pos), jsonl);
        if (step && *step > keep_through)
            break;
        pos = end + 1;
    }
    return pos;
}

} // namespace

std::string checkpoint_name(std::int64_t step) {
    char name[64];
    std::snprintf(name, sizeof name, "ckpt-%06lld.safetensors", (long long)step);
    return name;
}

std::vector<fs::path> find_checkpoints(const fs::path& dir) {
    std::vector<std::pair<std::int64_t, fs::path>> found;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        if (is_checkpoint_name(name))
            found.emplace_back(std::stoll(name.substr(5)), entry.path());
    }
    std::sort(found.begin(), found.end());
    std::vector<fs::path> paths;
    for (auto& [step, path] : found)
        paths.push_back(std::move(path));
    return paths;
}

FileHandle lock_run_folder(const fs::path& dir) {
    return examples::lock_output_folder(dir, "train");
}

bool is_own_output(std::string_view name) {
    return is_checkpoint_name(name) || name == "synthetic-train.bin" || name == "synthetic-val.bin";
}

std::vector<std::string> remove_leftovers(const fs::path& dir) {
    return examples::remove_leftovers(dir, is_own_output);
}

TrainingLog::TrainingLog(fs::path path, std::int64_t keep_through) : path_(std::move(path)) {
    jsonl_ = path_.extension() == ".jsonl";
    std::error_code ec;
    const bool regular = fs::is_regular_file(path_, ec);
    const bool fresh = keep_through < 0;
    fd_ = FileHandle(::open(
        path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (fresh ? O_TRUNC : 0), 0644));
    if (fd_.get() < 0)
        throw IoError(path_.string() + ": cannot open the training log: " + errno_text());
    std::size_t size = 0;
    if (regular && !fresh) {
        const std::string text = read_file(path_, "the training log");
        size = kept_length(text, keep_through, jsonl_);
        if (size < text.size()) {
            if (::ftruncate(fd_.get(), off_t(size)) != 0)
                throw IoError("cannot truncate " + path_.string() +
                              " (the training log): " + errno_text());
            sync();
        }
    }
    if (size == 0 && !jsonl_)
        append("step,loss,val_loss,lr,grad_norm,tokens_per_s\n");
}

void TrainingLog::append(std::string_view line) {
    while (!line.empty()) {
        const ssize_t n = ::write(fd_.get(), line.data(), line.size());
        if (n < 0) {
            if (errno == EINTR)
                continue;
            throw IoError("cannot write " + path_.string() +
                          " (the training log): " + errno_text());
        }
        line.remove_prefix(std::size_t(n));
    }
}

void TrainingLog::sync() {
    // A pipe or a device cannot be synced (EINVAL, EROFS); there is nothing to lose there.
    if (::fsync(fd_.get()) != 0 && errno != EINVAL && errno != EROFS)
        throw IoError("cannot sync " + path_.string() + " (the training log): " + errno_text());
}

bool TrainingLog::has_rows(const fs::path& path) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec))
        return false;
    const std::string text = read_file(path, "the training log");
    if (path.extension() == ".jsonl")
        return text.find_first_not_of(" \t\r\n") != std::string::npos;
    const std::size_t header_end = text.find('\n');
    return header_end != std::string::npos && header_end + 1 < text.size();
}

} // namespace ouro::train
