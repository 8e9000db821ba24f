// The shared command-line checks of the example programs; see flags.hpp.
#include "common/flags.hpp"
#include "common/text_width.hpp"

#include <ouro/core/isa.hpp>
#include <ouro/core/parallel.hpp>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <new>
#include <random>
#include <system_error>
#include <unistd.h>

namespace fs = std::filesystem;

namespace flags {

namespace {

// The user's text as quoted in a message, on one line; a number's text (`shorten`) at most 40
// characters, a path whole.
std::string quoted(const std::string& text, bool shorten) {
    std::string t = shorten && text.size() > 40 ? text.substr(0, 37) + "..." : text;
    std::replace(t.begin(), t.end(), '\n', ' ');
    return t.empty() ? "''" : t;
}

[[noreturn]] void refuse(const CLI::Option* option, const std::string& text,
                         const std::string& what, bool shorten = false) {
    throw UsageError(option->get_name() + " " + quoted(text, shorten) + ": " + what);
}

// Parses all of `text` as a base-10 integer of type T (a leading '+' allowed).
template <class T> std::optional<T> parse_whole(const std::string& text, bool& overflow) {
    overflow = false;
    const char* first = text.data();
    const char* last = first + text.size();
    if (first != last && *first == '+')
        ++first;
    T value{};
    const auto [end, ec] = std::from_chars(first, last, value);
    if (first == last || end != last)
        return std::nullopt;
    if (ec == std::errc::result_out_of_range) {
        overflow = true;
        return std::nullopt;
    }
    return value;
}

// What a path is, for messages: "a folder", "a FIFO", ...
std::string kind_of(fs::file_type type) {
    switch (type) {
    case fs::file_type::regular:
        return "a file";
    case fs::file_type::directory:
        return "a folder";
    case fs::file_type::fifo:
        return "a FIFO";
    case fs::file_type::character:
        return "a character device";
    case fs::file_type::block:
        return "a block device";
    case fs::file_type::socket:
        return "a socket";
    default:
        return "not a file";
    }
}

fs::file_type type_of(const std::string& path) {
    std::error_code ec;
    return fs::status(path, ec).type(); // not_found when it does not exist or cannot be examined
}

void require_readable(const CLI::Option* option, const std::string& path) {
    if (::access(path.c_str(), R_OK) != 0)
        refuse(option, path, std::string("cannot be read (") + std::strerror(errno) + ")");
}

} // namespace

CLI::Option* whole(CLI::Option* option, std::int64_t min, std::int64_t max) {
    const std::string range = "[" + std::to_string(min) + ", " + std::to_string(max) + "]";
    return option->check(CLI::Validator(
        [option, min, max](std::string& text) {
            const std::string between =
                "between " + std::to_string(min) + " and " + std::to_string(max);
            bool overflow = false;
            const std::optional<std::int64_t> v = parse_whole<std::int64_t>(text, overflow);
            if (!v && !overflow)
                refuse(option, text, "must be a whole number " + between, true);
            if (overflow || *v < min || *v > max)
                refuse(option, text, "must be " + between, true);
            text = std::to_string(*v);
            return std::string();
        },
        range));
}

CLI::Option* seed(CLI::Option* option) {
    return option->check(CLI::Validator(
        [option](std::string& text) {
            bool overflow = false;
            const std::optional<std::uint64_t> v = parse_whole<std::uint64_t>(text, overflow);
            if (!v)
                refuse(option, text,
                       "must be a whole number between 0 and " +
                           std::to_string(std::numeric_limits<std::uint64_t>::max()),
                       true);
            text = std::to_string(*v);
            return std::string();
        },
        "[0, 2^64)"));
}

std::string Interval::describe() const {
    const bool has_lo = std::isfinite(lo), has_hi = std::isfinite(hi);
    if (has_lo && has_hi)
        return std::string("in ") + (lo_open ? "(" : "[") + number(lo) + ", " + number(hi) +
               (hi_open ? ")" : "]");
    if (has_lo)
        return (lo_open ? "> " : ">= ") + number(lo);
    if (has_hi)
        return (hi_open ? "< " : "<= ") + number(hi);
    return "finite";
}

CLI::Option* real(CLI::Option* option, const Interval& range) {
    const std::string d = range.describe();
    return option->check(CLI::Validator(
        [option, range, d](std::string& text) {
            const std::string in_range = d == "finite" ? "" : " " + d;
            char* end = nullptr;
            errno = 0;
            const double v = std::strtod(text.c_str(), &end);
            const bool whole_text = !text.empty() && end == text.c_str() + text.size();
            if (!whole_text)
                refuse(option, text, "must be a number" + in_range, true);
            if (!std::isfinite(v) || (errno == ERANGE && std::fabs(v) > 1.0))
                refuse(option, text, "must be a finite number" + in_range, true);
            const bool low = range.lo_open ? !(v > range.lo) : !(v >= range.lo);
            const bool high = range.hi_open ? !(v < range.hi) : !(v <= range.hi);
            if (low || high)
                refuse(option, text, "must be " + d, true);
            return std::string();
        },
        d == "finite"            ? ""
        : d.rfind("in ", 0) == 0 ? d.substr(3)
                                 : d));
}

CLI::Option* existing_file(CLI::Option* option) {
    return option->check(CLI::Validator(
        [option](std::string& path) {
            const fs::file_type type = type_of(path);
            if (type == fs::file_type::not_found)
                refuse(option, path, "no such file");
            if (type == fs::file_type::directory)
                refuse(option, path, "is a folder, not a file");
            if (type != fs::file_type::regular)
                refuse(option, path, "is " + kind_of(type) + ", not a regular file");
            require_readable(option, path);
            return std::string();
        },
        "FILE"));
}

CLI::Option* existing_path(CLI::Option* option) {
    return option->check(CLI::Validator(
        [option](std::string& path) {
            const fs::file_type type = type_of(path);
            if (type == fs::file_type::not_found)
                refuse(option, path, "no such file or folder");
            if (type != fs::file_type::regular && type != fs::file_type::directory)
                refuse(option, path, "is " + kind_of(type) + ", not a file or folder");
            require_readable(option, path);
            return std::string();
        },
        "PATH"));
}

CLI::Option* existing_folder(CLI::Option* option) {
    return option->check(CLI::Validator(
        [option](std::string& path) {
            const fs::file_type type = type_of(path);
            if (type == fs::file_type::not_found)
                refuse(option, path, "no such folder");
            if (type != fs::file_type::directory)
                refuse(option, path, "is " + kind_of(type) + ", not a folder");
            require_readable(option, path);
            return std::string();
        },
        "DIR"));
}

CLI::Option* output_folder(CLI::Option* option) {
    return option->check(CLI::Validator(
        [option](std::string& path) {
            if (path.empty())
                refuse(option, path, "is empty (name a folder)");
            const fs::file_type type = type_of(path);
            if (type != fs::file_type::not_found && type != fs::file_type::directory)
                refuse(option, path, "is " + kind_of(type) + ", not a folder");
            return std::string();
        },
        "DIR"));
}

CLI::Option* output_file(CLI::Option* option, bool folder_must_exist) {
    return option->check(CLI::Validator(
        [option, folder_must_exist](std::string& path) {
            if (path.empty())
                refuse(option, path, "is empty (name a file)");
            const fs::file_type type = type_of(path);
            if (type == fs::file_type::directory)
                refuse(option, path, "is a folder, not a file");
            const fs::path folder = fs::path(path).parent_path();
            if (folder_must_exist && !folder.empty() &&
                type_of(folder.string()) != fs::file_type::directory)
                refuse(option, path, "the folder " + folder.string() + " does not exist");
            return std::string();
        },
        "FILE"));
}

CLI::Option* add_threads(CLI::App& app, int& threads, bool chosen) {
    app.add_option_function<std::string>(
           "--isa",
           [](const std::string& name) {
               if (name != "avx2" && name != "avx512")
                   throw UsageError("--isa " + name + ": must be avx2 or avx512");
               const ouro::Isa isa = ouro::parse_isa(name);
               if (!ouro::cpu_supports(isa))
                   throw UsageError("--isa " + name + ": this CPU has no AVX-512 (F, VL, BW, DQ)");
               ouro::set_isa(isa);
           },
           "Instruction set of the training kernels: avx2 (the same results on every machine) or "
           "avx512")
        ->type_name("NAME")
        ->default_str("OURO_ISA, else avx512 where the CPU has it");
    return whole(app.add_option("-t,--threads", threads, "OpenMP threads")
                     ->default_str(chosen ? "all or 1, whichever is measured faster" : "all"),
                 1, max_threads);
}

void apply_threads(int threads) {
    if (threads > 0)
        ouro::set_num_threads(threads);
}

std::uint64_t random_seed() {
    std::random_device device;
    return (std::uint64_t(device()) << 32) ^ std::uint64_t(device());
}

std::string read_text_file(const std::string& flag, const std::string& path) {
    constexpr std::uintmax_t most = std::uintmax_t(64) << 20;
    std::error_code ec;
    const std::uintmax_t size = fs::file_size(path, ec);
    if (ec)
        throw ouro::IoError(flag + " " + path + ": cannot read it (" + ec.message() + ")");
    if (size > most) {
        char mb[32];
        std::snprintf(mb, sizeof mb, "%.1f", double(size) / 1e6);
        throw UsageError(flag + " " + path + ": " + mb +
                         " MB, more than the 64 MiB a prompt file may hold");
    }
    std::ifstream in(path, std::ios::binary);
    std::string text(std::size_t(size), '\0');
    if (!in.read(text.data(), std::streamsize(size)))
        throw ouro::IoError(flag + " " + path + ": cannot read it");
    return text;
}

std::string number(double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%.15g", v);
    return text;
}

std::optional<int> parse(CLI::App& app, std::string_view program, int argc, char** argv) {
    fit_help(app);
    try {
        app.parse(argc, argv);
        ouro::current_isa(); // a bad OURO_ISA fails here, in one line, rather than mid-run
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) // --help
            return app.exit(e);
        return fail(program, e);
    } catch (const std::exception& e) { // a UsageError from a check above
        return fail(program, e);
    }
    return std::nullopt;
}

int fail(std::string_view program, const std::exception& error) {
    std::fflush(stdout);
    std::string message = error.what();
    if (dynamic_cast<const std::bad_alloc*>(&error))
        message = "out of memory (try smaller sizes or fewer threads)";
    std::replace(message.begin(), message.end(), '\n', ' ');
    const bool usage = dynamic_cast<const UsageError*>(&error) != nullptr ||
                       dynamic_cast<const CLI::ParseError*>(&error) != nullptr;
    std::fprintf(stderr, "%.*s: %s%s\n", int(program.size()), program.data(), message.c_str(),
                 usage ? " (see --help)" : "");
    return 1;
}

} // namespace flags
