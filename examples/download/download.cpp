// Resumable, checksummed downloads through the curl program; see the header.
#include "download/download.hpp"

#include "ouro/core/atomic_file.hpp"
#include "ouro/core/error.hpp"
#include "ouro/core/file_checks.hpp"
#include "ouro/data/sha256.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <vector>

extern char** environ;

namespace ouro::examples {

using data::sha256_file;

std::span<const RemoteFile> tinystories_files() {
    static constexpr std::array<RemoteFile, 3> files = {{
        {"TinyStories-train.txt", "training split as text, ~1.9 GB"},
        {"TinyStories-valid.txt", "validation split as text, ~19 MB"},
        {"TinyStories_all_data.tar.gz", "all stories as 50 JSON shards, ~1.6 GB packed"},
    }};
    return files;
}

std::span<const TinyllamasModel> tinyllamas_models() {
    // Digests: the "oid sha256:" lines of the LFS pointers (huggingface.co/karpathy/tinyllamas,
    // commits 32cc248, 58e1696, 5c22d0a and, for stories260K after its tokenizer was rewritten in
    // the current tokenizer.bin schema, 0bd21da); the Llama 2 tokenizer.bin hashed from
    // karpathy/llama2.c at master (unchanged since its commit c02865d).
    static constexpr ModelFile llama2_tokenizer = {
        llama2_tokenizer_url, "50a52ef822ee9e83de5ce9d0be0a025a773d019437f58b5ff9dcafb063ece361"};
    static constexpr std::array<TinyllamasModel, 4> models = {{
        {"stories260K",
         "0.26M parameters, 512-token tokenizer, ~1 MB",
         {"stories260K/stories260K.bin",
          "b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696"},
         {"stories260K/tok512.bin",
          "037cb335abb25d1fa9e8ecae30ed2a3a8ace9302862ebcdc05d51a6bbb10c312"}},
        {"stories15M",
         "15M parameters, Llama 2 tokenizer (32,000 tokens), ~61 MB",
         {"stories15M.bin", "cd590644d963867a2b6e5a1107f51fad663c41d79c149fbecbbb1f95fa81f49a"},
         llama2_tokenizer},
        {"stories42M",
         "42M parameters, Llama 2 tokenizer (32,000 tokens), ~167 MB",
         {"stories42M.bin", "9f65a1000e17d0bc167dd6332e0ce5119a0222a3d920cead5bce413bfab2ee7b"},
         llama2_tokenizer},
        {"stories110M",
         "110M parameters, Llama 2 tokenizer (32,000 tokens), ~438 MB",
         {"stories110M.bin", "515267168726a1ed1317a64a408492e6af3b67c1f71c5bd98c01d9d721803a24"},
         llama2_tokenizer},
    }};
    return models;
}

namespace {

struct ProcessResult {
    int exit_code = -1;
    std::string out, err;
};

// A temporary file that is removed when done with; curl's output goes there (two pipes would need
// polling to avoid a deadlock).
struct TempCapture {
    std::string path;
    int fd = -1;
    TempCapture() {
        std::string templ = (std::filesystem::temp_directory_path() / "ouro-curl-XXXXXX").string();
        std::vector<char> name(templ.begin(), templ.end());
        name.push_back('\0');
        fd = ::mkstemp(name.data());
        if (fd < 0)
            throw IoError("download: cannot create a temporary file: " +
                          std::string(std::strerror(errno)));
        path = name.data();
    }
    ~TempCapture() {
        if (fd >= 0)
            ::close(fd);
        ::unlink(path.c_str());
    }
    std::string read() const { return read_file(path, "download"); }
};

// Runs argv[0] with the arguments, waits, and returns its exit code and captured output.
ProcessResult run(const std::vector<std::string>& args, bool capture_stderr) {
    TempCapture out, err;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out.fd, 1);
    if (capture_stderr)
        posix_spawn_file_actions_adddup2(&actions, err.fd, 2);
    std::vector<char*> argv;
    for (const std::string& a : args)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = 0;
    const int rc = ::posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0)
        throw IoError("download: cannot run " + args[0] + ": " + std::strerror(rc) +
                      " (install curl, e.g. apt-get install curl, or fetch the files by hand)");
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            throw IoError("download: waiting for " + args[0] + ": " + std::strerror(errno));
    ProcessResult result;
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    result.out = out.read();
    if (capture_stderr)
        result.err = err.read();
    return result;
}

std::string lower(std::string_view s) {
    std::string r(s);
    for (char& c : r)
        c = char(std::tolower(static_cast<unsigned char>(c)));
    return r;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
        s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
        s.remove_suffix(1);
    return s;
}

bool is_sha256(std::string_view s) {
    return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
               return std::isxdigit(static_cast<unsigned char>(c)) != 0;
           });
}

std::string host_of(const std::string& url) {
    const std::size_t start = url.find("://");
    if (start == std::string::npos)
        return url;
    const std::size_t end = url.find('/', start + 3);
    return url.substr(start + 3, end == std::string::npos ? std::string::npos : end - start - 3);
}

// curl's own words for its exit code (its stderr), or a short description when not captured.
std::string curl_says(const ProcessResult& r) {
    std::string_view e = trim(r.err);
    if (!e.empty()) {
        const std::size_t nl = e.rfind('\n');
        return std::string(nl == std::string_view::npos ? e : trim(e.substr(nl + 1)));
    }
    return "curl exit code " + std::to_string(r.exit_code);
}

// curl exit codes meaning the network or the host is out of reach: could not resolve proxy (5) or
// host (6), could not connect (7), timed out (28).
bool unreachable(int code) {
    return code == 5 || code == 6 || code == 7 || code == 28;
}

[[noreturn]] void throw_offline(const std::string& url, const std::string& dest,
                                const ProcessResult& r, const DownloadOptions& options) {
    throw IoError("download: cannot reach " + host_of(url) + " (" + curl_says(r) +
                  "). This machine seems to be offline: fetch " + url +
                  " elsewhere and copy it to " + dest + ", or " + options.offline_advice + ".");
}

std::vector<std::string> curl_base(const DownloadOptions& options, bool quiet) {
    std::vector<std::string> args = {options.curl, "--fail", "--connect-timeout",
                                     std::to_string(options.connect_timeout_seconds)};
    if (quiet) {
        args.emplace_back("--silent");
        args.emplace_back("--show-error");
    } else {
        args.emplace_back("--progress-bar");
    }
    return args;
}

std::uint64_t file_size_or_zero(const std::filesystem::path& p) {
    std::error_code ec;
    const auto n = std::filesystem::file_size(p, ec);
    return ec ? 0 : std::uint64_t(n);
}

} // namespace

RemoteInfo parse_response_headers(std::string_view headers) {
    RemoteInfo info;
    int status = 0; // of the response being read; 0 when there is no status line (file://)
    std::optional<std::uint64_t> length;
    for (std::size_t pos = 0; pos < headers.size();) {
        std::size_t end = headers.find('\n', pos);
        if (end == std::string_view::npos)
            end = headers.size();
        const std::string_view line = trim(headers.substr(pos, end - pos));
        pos = end + 1;
        if (line.starts_with("HTTP/")) {
            const std::size_t sp = line.find(' ');
            status = sp == std::string_view::npos
                         ? 0
                         : std::atoi(std::string(line.substr(sp + 1)).c_str());
            continue;
        }
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos)
            continue;
        const std::string name = lower(trim(line.substr(0, colon)));
        std::string_view value = trim(line.substr(colon + 1));
        if (name == "x-linked-etag") {
            if (value.starts_with("W/"))
                value.remove_prefix(2);
            if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
                value = value.substr(1, value.size() - 2);
            if (is_sha256(value))
                info.sha256 = lower(value);
        } else if (name == "x-linked-size") {
            info.size = std::strtoull(std::string(value).c_str(), nullptr, 10);
        } else if (name == "content-length" && (status == 0 || status == 200)) {
            length = std::strtoull(std::string(value).c_str(), nullptr, 10);
        }
    }
    if (!info.size)
        info.size = length;
    return info;
}

namespace {

// probe_url, naming `dest` in the offline advice. With `strict` false, an answer other than
// "unreachable" (a server that refuses HEAD requests, a missing file) gives an empty RemoteInfo:
// the download itself then reports the problem, or succeeds without announcements.
RemoteInfo probe(const std::string& url, const DownloadOptions& options, const std::string& dest,
                 bool strict) {
    std::vector<std::string> args = curl_base(options, true);
    args.insert(args.end(), {"--head", "--max-time", "60", url});
    const ProcessResult r = run(args, true);
    if (unreachable(r.exit_code))
        throw_offline(url, dest, r, options);
    if (r.exit_code != 0) {
        if (strict)
            throw IoError("download: " + url + ": " + curl_says(r));
        return {};
    }
    return parse_response_headers(r.out);
}

} // namespace

RemoteInfo probe_url(const std::string& url, const DownloadOptions& options) {
    return probe(url, options, "a local folder", true);
}

DownloadReport download_file(const std::string& url, const std::filesystem::path& dest,
                             const DownloadOptions& options) {
    if (!options.sha256.empty() && !is_sha256(options.sha256))
        throw ConfigError("download: expected SHA-256 must be 64 hexadecimal digits, got \"" +
                          options.sha256 + "\"");
    DownloadReport report;
    const std::string want_given = lower(options.sha256);
    if (std::filesystem::exists(dest)) {
        // A folder (or a FIFO, a device) at the destination is no download.
        require_regular_file(dest, "download");
        report.skipped = true;
        report.bytes = file_size_or_zero(dest);
        if (!want_given.empty()) {
            report.sha256 = sha256_file(dest);
            report.checked = true;
            if (report.sha256 != want_given)
                throw FormatError("download: " + dest.string() + " exists but its SHA-256 is " +
                                  report.sha256 + ", expected " + want_given +
                                  "; remove it to download it again");
        }
        return report;
    }

    const RemoteInfo remote = probe(url, options, dest.string(), false);
    const std::string want = want_given.empty() ? remote.sha256 : want_given;

    std::filesystem::path part = dest;
    part += ".part";
    std::error_code ec;
    if (dest.has_parent_path())
        std::filesystem::create_directories(dest.parent_path(), ec);
    if (ec)
        throw IoError("download: cannot create " + dest.parent_path().string() + ": " +
                      ec.message());
    // Without a digest a .part cannot be trusted: its bytes may come from another version of the
    // file (changed on the server since) or from anything else written under that name, and a
    // size that matches in the end would not show it. So it is resumed only when a SHA-256 will
    // check the whole; otherwise the download starts from scratch.
    if (want.empty() && file_size_or_zero(part) > 0) {
        std::filesystem::remove(part, ec);
        if (ec)
            throw IoError("download: cannot remove " + part.string() + ": " + ec.message());
        report.restarted = true;
    }
    report.resumed = file_size_or_zero(part) > 0;
    const bool quiet = !shows_progress(options.progress);
    for (int attempt = 0;; ++attempt) {
        std::vector<std::string> args = curl_base(options, quiet);
        // --continue-at - : resume from the size of the output file (an HTTP Range request). No
        // --retry: after a failure, running again resumes.
        args.insert(args.end(),
                    {"--location", "--continue-at", "-", "--output", part.string(), url});
        const ProcessResult r = run(args, quiet);
        if (r.exit_code == 0)
            break;
        if (unreachable(r.exit_code))
            throw_offline(url, dest.string(), r, options);
        // A complete .part makes the server answer 416 (curl's 22) to the range request.
        if (r.exit_code == 22 && remote.size && file_size_or_zero(part) == *remote.size)
            break;
        // The server would not resume (33, 36) or the .part does not fit it: start afresh, once.
        const bool resume_failed = r.exit_code == 33 || r.exit_code == 36 || r.exit_code == 22;
        if (attempt == 0 && resume_failed && file_size_or_zero(part) > 0) {
            std::filesystem::remove(part, ec);
            report.resumed = false;
            continue;
        }
        throw IoError("download: " + url + ": " + curl_says(r));
    }

    report.bytes = file_size_or_zero(part);
    report.sha256 = sha256_file(part);
    std::string problem;
    if (remote.size && report.bytes != *remote.size)
        problem = "the download has " + std::to_string(report.bytes) + " bytes, the server " +
                  "announced " + std::to_string(*remote.size);
    else if (!want.empty() && report.sha256 != want)
        problem = "SHA-256 of the download is " + report.sha256 + ", expected " + want;
    report.checked = !want.empty();
    if (!problem.empty()) {
        std::filesystem::remove(part, ec);
        throw FormatError("download: " + url + ": " + problem +
                          "; the partial file was removed, run again to start afresh");
    }
    std::filesystem::rename(part, dest, ec);
    if (ec)
        throw IoError("download: cannot rename " + part.string() + " to " + dest.string() + ": " +
                      ec.message());
    return report;
}

} // namespace ouro::examples
