// Downloading TinyStories, Karpathy's llama2.c TinyStories models (or any file) for users with
// internet: resumable (HTTP Range requests continue a "<file>.part" after an interruption, when
// a SHA-256 is known to check the result; without one a .part is discarded),
// checked (SHA-256, against a given digest, such as the published ones of tinyllamas_models(), or
// the one Hugging Face announces for its LFS files in the X-Linked-Etag header), and moved into
// place only when complete. The transfer is done by the `curl` program (Debian package curl), which
// speaks https, follows redirects and resumes; it is run directly (no shell).
//
// Offline, the first request fails within the connect timeout (name resolution usually fails at
// once) and the IoError says how to point the tools at local files instead.
#pragma once

#include "common/progress.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace ouro::examples {

/// Where TinyStories lives: Hugging Face, dataset roneneldan/TinyStories.
inline constexpr std::string_view tinystories_url =
    "https://huggingface.co/datasets/roneneldan/TinyStories/resolve/main/";

/// The TinyStories files the downloader knows: the text splits and the JSON shards archive.
struct RemoteFile {
    std::string_view name;        ///< file name, appended to tinystories_url
    std::string_view description; ///< for --help and messages
};
std::span<const RemoteFile> tinystories_files();

/// Where Karpathy's llama2.c TinyStories models live: Hugging Face, model repository
/// karpathy/tinyllamas (MIT).
inline constexpr std::string_view tinyllamas_url =
    "https://huggingface.co/karpathy/tinyllamas/resolve/main/";
/// llama2.c's tokenizer.bin of Llama 2's 32,000-token SentencePiece vocabulary (GitHub,
/// karpathy/llama2.c), which stories15M, stories42M and stories110M use.
inline constexpr std::string_view llama2_tokenizer_url =
    "https://github.com/karpathy/llama2.c/raw/master/tokenizer.bin";

/// A file of a known model.
struct ModelFile {
    /// Relative to tinyllamas_url (or a mirror of it), or a whole URL ("https://...").
    std::string_view url;
    /// Its SHA-256 (64 hex digits), published beside it; empty when not known.
    std::string_view sha256;
};

/// One of Karpathy's llama2.c TinyStories models: the model file and its tokenizer.bin.
struct TinyllamasModel {
    std::string_view name;        ///< "stories15M"; also the model file's name without ".bin"
    std::string_view description; ///< for --help and messages
    ModelFile model, tokenizer;
};
/// stories260K, stories15M, stories42M and stories110M, smallest first. The SHA-256 digests are the
/// ones in the Git LFS pointers of karpathy/tinyllamas and, for the 32,000-token tokenizer, the
/// digest of tokenizer.bin in karpathy/llama2.c.
std::span<const TinyllamasModel> tinyllamas_models();

struct DownloadOptions {
    /// The expected SHA-256 (64 hex digits). Empty: the digest the server announces, if any.
    std::string sha256;
    /// Seconds to wait for a connection before giving up.
    int connect_timeout_seconds = 10;
    /// curl's progress bar on stderr.
    Progress progress = Progress::automatic;
    /// The curl program (found through PATH unless it contains a '/').
    std::string curl = "curl";
    /// The end of the offline message, after "fetch <url> elsewhere and copy it to <dest>, or ".
    std::string offline_advice = "point prepare at local files (prepare --train FILE --valid FILE)";
};

/// What a server says about a file before sending it.
struct RemoteInfo {
    std::optional<std::uint64_t> size; ///< X-Linked-Size, or Content-Length of a 200 answer
    std::string sha256;                ///< X-Linked-Etag when it is a SHA-256, else empty
};

/// Reads size and digest from HTTP response headers (one or more responses, as `curl -I` prints
/// them). Header names are case-insensitive; a quoted or W/ ETag value is unwrapped.
RemoteInfo parse_response_headers(std::string_view headers);

/// Asks the server for the file's size and digest (a HEAD request that does not follow the
/// redirect, which is where Hugging Face puts them). Throws IoError as download_file.
RemoteInfo probe_url(const std::string& url, const DownloadOptions& options = {});

struct DownloadReport {
    bool skipped = false;    ///< the file was already there
    bool resumed = false;    ///< a .part file was continued
    bool restarted = false;  ///< a .part file was discarded: with no digest it could not be checked
    std::uint64_t bytes = 0; ///< size of the file
    std::string sha256;      ///< its digest
    bool checked = false;    ///< the digest was compared with an expected one
};

/// Fetches `url` into `dest`: continues `dest`.part when there is one and an expected SHA-256 is
/// known (given, or announced by the server), else starts afresh (a .part is unverifiable
/// without it); checks the SHA-256 and the announced size, then renames the .part to `dest`. When
/// `dest` exists it is not fetched again (it is checked when options.sha256 is given).
/// Throws ConfigError on a malformed options.sha256; IoError when `dest` exists but is not a
/// regular file ("download: <dest> is not a regular file (it is a directory)"), curl cannot be
/// run, the server cannot be reached (the message explains the offline case) or answers with an
/// error;
/// FormatError when the size or the digest differs from the announced or given one (the .part is
/// removed, so that a rerun starts afresh).
DownloadReport download_file(const std::string& url, const std::filesystem::path& dest,
                             const DownloadOptions& options = {});

} // namespace ouro::examples
