// The command-line conventions shared by the example programs (sample, lab, train, prepare,
// download, autograd), on top of CLI11:
//  - every bad invocation ends with one line on stderr, "PROGRAM: what was wrong (see --help)",
//    and exit code 1 (parse() and fail()); a run that fails later (a file that is not a model,
//    data that does not fit) prints "PROGRAM: what was wrong", also exit code 1;
//  - numeric flags are range-checked on the text the user typed, before CLI11 converts it, so the
//    message quotes that text and the range in the flag's own units:
//      "--max-new-tokens 10000000000: must be between 1 and 1048576"
//      "--temperature -1: must be >= 0", "--top-p 2: must be in (0, 1]"
//    and no value reaches a program that would wrap around, overflow or ask for terabytes;
//  - files and folders named by flags are checked to exist and to be what is expected (a FIFO or
//    a directory given as a prompt file would block or confuse the reader);
//  - the short flags shared by the programs: -n (tokens to generate), -p (prompt), -f (prompt
//    file, read whole), -t (threads), -s (seed).
#pragma once

#include <ouro/core/error.hpp>

#include <CLI/CLI.hpp>

#include <cstdint>
#include <exception>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace flags {

/// A mistake on the command line (a value out of range, flags that do not go together), found by
/// the checks below or by a program's own checks. fail() prints it with "(see --help)".
class UsageError : public ouro::ConfigError {
public:
    using ouro::ConfigError::ConfigError;
};

/// The most tokens a program generates per sample, and the most a context may hold: 2^20.
inline constexpr std::int64_t max_tokens = std::int64_t(1) << 20;
/// The most OpenMP threads a program accepts.
inline constexpr std::int64_t max_threads = 1024;

/// Whole numbers in [min, max], written in decimal. Throws UsageError at parse time:
///   "--max-new-tokens 10000000000: must be between 1 and 1048576"
///   "--threads two: must be a whole number between 1 and 1024"
/// The text is rewritten in plain decimal before CLI11 converts it (CLI11 alone reads "010" as
/// octal and "-1" as 2^64 - 1 for an unsigned flag).
CLI::Option* whole(CLI::Option* option, std::int64_t min, std::int64_t max);

/// A 64-bit seed: a whole number from 0 to 2^64 - 1.
///   "--seed -1: must be a whole number between 0 and 18446744073709551615"
CLI::Option* seed(CLI::Option* option);

/// A range of real numbers; every bound is finite or infinite, open or closed.
struct Interval {
    double lo = -std::numeric_limits<double>::infinity();
    double hi = std::numeric_limits<double>::infinity();
    bool lo_open = false, hi_open = false;
    /// ">= 0", "> 0", "in (0, 1]", or "finite" when both bounds are infinite.
    std::string describe() const;
};
inline Interval at_least(double lo) {
    return {lo, std::numeric_limits<double>::infinity()};
}
inline Interval above(double lo) {
    return {lo, std::numeric_limits<double>::infinity(), true, false};
}
inline Interval closed(double lo, double hi) {
    return {lo, hi};
}
inline Interval open_closed(double lo, double hi) {
    return {lo, hi, true, false};
}
inline Interval closed_open(double lo, double hi) {
    return {lo, hi, false, true};
}
inline Interval any_finite() {
    return {};
}

/// Finite real numbers in `range`. Throws UsageError at parse time:
///   "--top-p 2: must be in (0, 1]", "--temperature -1: must be >= 0",
///   "--lr abc: must be a number > 0", "--alpha nan: must be a finite number in [0, 1]"
CLI::Option* real(CLI::Option* option, const Interval& range);

/// An existing regular file (symbolic links followed) that can be read:
///   "--prompt-file /no/such: no such file", "--prompt-file /tmp: is a folder, not a file",
///   "--valid /dev/zero: is a character device, not a regular file"
CLI::Option* existing_file(CLI::Option* option);
/// An existing file or folder (a model, a tokenizer file or folder): "--tokenizer x: no such file
/// or folder", "--checkpoint /dev/zero: is a character device, not a file or folder".
CLI::Option* existing_path(CLI::Option* option);
/// An existing folder: "--data /no/such: no such folder", "--data x.bin: is a file, not a folder".
CLI::Option* existing_folder(CLI::Option* option);
/// A folder to write into: absent (it will be made) or a folder; "--out x.bin: is a file, not a
/// folder".
CLI::Option* output_folder(CLI::Option* option);
/// A file to write: the path must not be a folder, and (`folder_must_exist`) its folder must exist:
///   "--trace no/such/x.csv: the folder no/such does not exist", "--log /tmp: is a folder, not a
///   file". Without `folder_must_exist` the program checks the folder itself (train makes --out).
CLI::Option* output_file(CLI::Option* option, bool folder_must_exist = true);

/// "-t,--threads N": OpenMP threads, 1 to max_threads; `threads` stays 0 when not given. `chosen`:
/// the program decodes or trains through the library's ThreadChooser, which then runs with all the
/// cores or one, whichever it measures faster (--help says so); otherwise all the cores.
/// Also "--isa NAME", the instruction-set path of the dispatched kernels (ouro/core/isa.hpp),
/// set at parse time; avx2 gives the same results on every machine. Throws UsageError at parse
/// time: "--isa sse: must be avx2 or avx512", "--isa avx512: this CPU has no AVX-512 (F, VL, BW,
/// DQ)". parse() also fails, in one line, on a bad OURO_ISA.
CLI::Option* add_threads(CLI::App& app, int& threads, bool chosen);
/// Applies add_threads' value: set_num_threads when it was given.
void apply_threads(int threads);

/// A seed for a run that did not ask for one (std::random_device).
std::uint64_t random_seed();

/// The bytes of the text file `path` named by `flag` (a prompt file), at most 64 MiB (a prompt
/// cannot hold more than 2^20 tokens anyway): UsageError "-f big.txt: 100.0 MB, more than the
/// 64 MiB a prompt file may hold", IoError when it cannot be read.
std::string read_text_file(const std::string& flag, const std::string& path);

/// printf's %.15g of `v` ("0.6", "1e-05", "1000000"): numbers in messages as the user would
/// write them.
std::string number(double v);

/// Parses the command line. Returns the exit code when the program should stop now: 0 after
/// --help (laid out within 100 columns: text_width.hpp), 1 after a one-line error "PROGRAM:
/// message (see --help)" on stderr.
std::optional<int> parse(CLI::App& app, std::string_view program, int argc, char** argv);

/// Prints `error` as one line on stderr, "PROGRAM: message", with "(see --help)" after a
/// UsageError or a CLI11 error, and returns 1 (the exit code). Flushes stdout first, so the line
/// comes after any output.
int fail(std::string_view program, const std::exception& error);

} // namespace flags
