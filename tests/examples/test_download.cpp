#include "data/data_test_util.hpp"
#include "download/download.hpp"

#include <ouro/core/error.hpp>
#include <ouro/data/sha256.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>

using namespace ouro;
using namespace ouro::data;
using namespace ouro::examples;
using ouro::testing::read_bytes;
using ouro::testing::TempDir;
using ouro::testing::write_bytes;

namespace {

bool have_curl() {
    static const bool have = std::system("curl --version > /dev/null 2>&1") == 0;
    return have;
}

std::string file_url(const std::filesystem::path& p) {
    return "file://" + std::filesystem::absolute(p).string();
}

DownloadOptions quiet(std::string sha256 = "") {
    DownloadOptions o;
    o.sha256 = std::move(sha256);
    o.progress = Progress::never;
    o.connect_timeout_seconds = 3;
    return o;
}

} // namespace

TEST_SUITE("examples") {
    TEST_CASE("download: server announcements") {
        SUBCASE("Hugging Face's redirect carries the LFS digest and size") {
            const std::string headers = "HTTP/2 302 \r\n"
                                        "content-type: text/plain; charset=utf-8\r\n"
                                        "content-length: 1297\r\n"
                                        "X-Linked-Size: 1924281556\r\n"
                                        "x-linked-etag: \"ABCDEF0123456789abcdef0123456789"
                                        "abcdef0123456789abcdef0123456789\"\r\n"
                                        "location: https://cdn-lfs.hf.co/...\r\n\r\n";
            const RemoteInfo info = parse_response_headers(headers);
            CHECK(info.size == std::uint64_t(1924281556));
            CHECK(info.sha256 ==
                  "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
        }
        SUBCASE("a plain answer: Content-Length of a 200, no digest") {
            const RemoteInfo info =
                parse_response_headers("HTTP/1.1 200 OK\nContent-Length: 42\nETag: \"a1b2c3\"\n\n");
            CHECK(info.size == std::uint64_t(42));
            CHECK(info.sha256.empty());
            // A git-blob etag (40 digits) is not a SHA-256.
            const RemoteInfo git = parse_response_headers(
                "HTTP/1.1 302 Found\ncontent-length: 10\n"
                "x-linked-etag: \"0123456789012345678901234567890123456789\"\n");
            CHECK(git.sha256.empty());
            CHECK_FALSE(git.size.has_value());
            // file:// answers have no status line.
            CHECK(parse_response_headers("Content-Length: 7\nAccept-ranges: bytes\n").size ==
                  std::uint64_t(7));
        }
    }

    TEST_CASE("download: offline and local files") {
        if (!have_curl()) {
            MESSAGE("skipped: the curl program is not installed");
            return;
        }
        TempDir dir;
        Rng rng(9);
        const std::string content = ouro::testing::random_bytes(rng, 300'000);
        const std::string digest = sha256_hex(content);
        const auto src = dir / "source.bin";
        write_bytes(src, content);
        const auto dest = dir / "data" / "got.bin";
        auto part = dest;
        part += ".part";

        SUBCASE("offline, it fails fast and says how to use local files") {
            const std::string url =
                "https://huggingface.invalid/datasets/roneneldan/TinyStories/resolve/main/"
                "TinyStories-valid.txt";
            const auto start = std::chrono::steady_clock::now();
            const std::string expected =
                "download: cannot reach huggingface.invalid (curl: (6) Could not resolve host: "
                "huggingface.invalid). This machine seems to be offline: fetch " +
                url + " elsewhere and copy it to " + dest.string() +
                ", or point prepare at local files (prepare --train FILE --valid FILE).";
            CHECK_THROWS_WITH_AS(download_file(url, dest, quiet()), expected.c_str(), IoError);
            const double seconds =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            CHECK(seconds < 10.0);
            CHECK_FALSE(std::filesystem::exists(dest));
        }
        SUBCASE("a fresh download, checked against the given digest") {
            const DownloadReport r = download_file(file_url(src), dest, quiet(digest));
            CHECK(read_bytes(dest) == content);
            CHECK(r.sha256 == digest);
            CHECK(r.checked);
            CHECK_FALSE(r.resumed);
            CHECK(r.bytes == content.size());
            CHECK_FALSE(std::filesystem::exists(part));
            // Already there: not fetched again, but checked.
            const DownloadReport again = download_file(file_url(src), dest, quiet(digest));
            CHECK(again.skipped);
            CHECK(again.checked);
        }
        SUBCASE("a .part file is continued when a digest checks it, else restarted") {
            // (That only the rest is fetched shows in the next subcase: the digest of a wrong
            // .part plus the rest of the source.)
            std::filesystem::create_directories(dest.parent_path());
            write_bytes(part, content.substr(0, 100'000));
            const DownloadReport r = download_file(file_url(src), dest, quiet(digest));
            CHECK(r.resumed);
            CHECK_FALSE(r.restarted);
            CHECK(read_bytes(dest) == content);
            // No digest: a .part with wrong bytes would pass the size check; it is discarded.
            std::filesystem::remove(dest);
            write_bytes(part, std::string(100'000, 'x'));
            const DownloadReport unchecked = download_file(file_url(src), dest, quiet());
            CHECK(unchecked.restarted);
            CHECK_FALSE(unchecked.resumed);
            CHECK_FALSE(unchecked.checked);
            CHECK(read_bytes(dest) == content);
            CHECK_FALSE(std::filesystem::exists(part));
        }
        SUBCASE("a folder at the destination is an error, not a finished download") {
            std::filesystem::create_directories(dest);
            CHECK_THROWS_WITH_AS(
                download_file(file_url(src), dest, quiet(digest)),
                ("download: " + dest.string() + " is not a regular file (it is a directory)")
                    .c_str(),
                IoError);
        }
        SUBCASE("a wrong digest is refused and the .part removed") {
            std::filesystem::create_directories(dest.parent_path());
            write_bytes(part, std::string(100'000, 'x'));
            CHECK_THROWS_WITH_AS(download_file(file_url(src), dest, quiet(digest)),
                                 ("download: " + file_url(src) + ": SHA-256 of the download is " +
                                  sha256_hex(std::string(100'000, 'x') + content.substr(100'000)) +
                                  ", expected " + digest +
                                  "; the partial file was removed, run again to start afresh")
                                     .c_str(),
                                 FormatError);
            CHECK_FALSE(std::filesystem::exists(part));
            CHECK_FALSE(std::filesystem::exists(dest));
            // The rerun starts afresh and succeeds.
            download_file(file_url(src), dest, quiet(digest));
            CHECK(read_bytes(dest) == content);
            // An existing file with another digest is reported, not replaced.
            const std::string other(64, '0');
            CHECK_THROWS_WITH_AS(download_file(file_url(src), dest, quiet(other)),
                                 ("download: " + dest.string() + " exists but its SHA-256 is " +
                                  digest + ", expected " + other +
                                  "; remove it to download it again")
                                     .c_str(),
                                 FormatError);
        }
        SUBCASE("a .part longer than the file starts afresh") {
            std::filesystem::create_directories(dest.parent_path());
            write_bytes(part, std::string(400'000, 'y'));
            const DownloadReport r = download_file(file_url(src), dest, quiet(digest));
            CHECK_FALSE(r.resumed);
            CHECK(read_bytes(dest) == content);
        }
        SUBCASE("errors: missing source, bad digest, no curl") {
            const auto missing = dir / "missing.bin";
            const std::string message = "download: " + file_url(missing) +
                                        ": curl: (37) Couldn't open file " + missing.string();
            CHECK_THROWS_WITH_AS(download_file(file_url(missing), dest, quiet()), message.c_str(),
                                 IoError);
            CHECK_THROWS_WITH_AS(download_file(file_url(src), dest, quiet("abc")),
                                 "download: expected SHA-256 must be 64 hexadecimal digits, got "
                                 "\"abc\"",
                                 ConfigError);
            DownloadOptions no_curl = quiet();
            no_curl.curl = "/nonexistent/curl";
            CHECK_THROWS_WITH_AS(download_file(file_url(src), dest, no_curl),
                                 "download: cannot run /nonexistent/curl: No such file or "
                                 "directory (install curl, e.g. apt-get install curl, or fetch "
                                 "the files by hand)",
                                 IoError);
        }
    }

    TEST_CASE("download: tinyllamas models") {
        const auto models = tinyllamas_models();
        REQUIRE(models.size() == 4);
        CHECK(models[0].name == "stories260K");
        CHECK(models[1].name == "stories15M");
        CHECK(models[2].name == "stories42M");
        CHECK(models[3].name == "stories110M");
        const auto is_digest = [](std::string_view d) {
            return d.size() == 64 && d.find_first_not_of("0123456789abcdef") == d.npos;
        };
        for (const TinyllamasModel& m : models) {
            CAPTURE(std::string(m.name));
            CHECK(is_digest(m.model.sha256));
            CHECK(is_digest(m.tokenizer.sha256));
            // The model file is named after the model, under the repository (or in a folder).
            CHECK(m.model.url.ends_with(std::string(m.name) + ".bin"));
            CHECK(m.model.url.find("://") == std::string_view::npos);
        }
        // The three large models share Llama 2's tokenizer, fetched from GitHub.
        for (std::size_t i = 1; i < models.size(); ++i)
            CHECK(models[i].tokenizer.url == llama2_tokenizer_url);
        // The published digests of stories260K are those of the real files.
        const auto model = ouro::testing::shared_data("tinyllamas/stories260K.bin");
        const auto tok = ouro::testing::shared_data("tinyllamas/tok512.bin");
        if (std::filesystem::exists(model) && std::filesystem::exists(tok)) {
            CHECK(sha256_file(model) == models[0].model.sha256);
            CHECK(sha256_file(tok) == models[0].tokenizer.sha256);
        } else {
            MESSAGE("skipped the file digests: the shared tinyllamas data is not there");
        }
        if (have_curl()) {
            // Offline, the advice is the caller's.
            TempDir dir;
            DownloadOptions options = quiet();
            options.offline_advice = "use a model you have";
            CHECK_THROWS_WITH_AS(
                download_file("https://huggingface.invalid/m.bin", dir / "m.bin", options),
                ("download: cannot reach huggingface.invalid (curl: (6) Could not resolve host: "
                 "huggingface.invalid). This machine seems to be offline: fetch "
                 "https://huggingface.invalid/m.bin elsewhere and copy it to " +
                 (dir / "m.bin").string() + ", or use a model you have.")
                    .c_str(),
                IoError);
        }
    }
}
