// download: fetch TinyStories from Hugging Face (roneneldan/TinyStories) into a data folder, or
// one of Karpathy's llama2.c TinyStories models (karpathy/tinyllamas) with its tokenizer.
//
//   download                      # TinyStories-train.txt and TinyStories-valid.txt into data/
//   download --what all --dir /big/disk/tinystories
//   download --model stories15M   # models/stories15M/stories15M.bin + tokenizer.bin
//
// An interrupted download continues where it stopped (run the same command again), when a
// SHA-256 is known to check the result; otherwise the partial file cannot be trusted and the
// download starts afresh. Each TinyStories file is checked against the SHA-256 that Hugging Face
// announces for it (or --sha256 for a single file); each model file against its published
// SHA-256, built in. A folder at a file's path is an error, not a finished download. Offline it
// fails within seconds and says how to use local copies instead: prepare reads any TinyStories
// .txt or .json file given with --train / --valid, and every program takes a llama2.c model file.
// Bad flags: one line "download: <message>" on stderr and exit code 1 (common/flags.hpp).
#include "common/flags.hpp"
#include "common/text_width.hpp"

#include "download/download.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

using namespace ouro::examples;
namespace fs = std::filesystem;

namespace {

// A line of output, wrapped to fit 100 columns (continuation lines 4 columns in).
void print(const std::string& text) {
    std::printf("%s\n", flags::wrap(text, flags::columns, 4).c_str());
}

// The URL of `file` of a tinyllamas model: a whole URL as it is, else under `base`.
std::string model_file_url(const ModelFile& file, const std::string& base) {
    const std::string url(file.url);
    return url.find("://") != std::string::npos ? url : base + url;
}

// What became of a file; `unchecked` says why when no digest was compared.
void report(const DownloadReport& r, const char* unchecked) {
    std::string line;
    if (r.skipped)
        line = "  already there (" + std::to_string(r.bytes) + " bytes)" +
               (r.checked ? ", SHA-256 checked" : "");
    else
        line = "  " + std::to_string(r.bytes) + " bytes" +
               (r.resumed     ? " (resumed)"
                : r.restarted ? " (from scratch: no SHA-256 to check the partial file)"
                              : "") +
               ", SHA-256 " + r.sha256 + " " + (r.checked ? "(checked)" : unchecked);
    print(line);
    std::fflush(stdout);
}

// One model and its tokenizer into `dir`, as <name>.bin and tokenizer.bin.
void download_model(const TinyllamasModel& m, const std::string& dir, const std::string& base,
                    int timeout) {
    const fs::path model_path = fs::path(dir) / (std::string(m.name) + ".bin");
    const fs::path tokenizer_path = fs::path(dir) / "tokenizer.bin";
    for (const auto& [file, dest] :
         {std::pair(m.model, model_path), std::pair(m.tokenizer, tokenizer_path)}) {
        const std::string url = model_file_url(file, base);
        print(url + " -> " + dest.string());
        std::fflush(stdout);
        DownloadOptions options;
        options.sha256 = std::string(file.sha256);
        options.connect_timeout_seconds = timeout;
        options.offline_advice =
            "give the programs a llama2.c model you have (sample --checkpoint FILE --tokenizer "
            "TOKENIZER.bin, train --init FILE)";
        report(download_file(url, dest, options),
               "(NOT CHECKED: no published SHA-256 is known for this file)");
    }
    print("sample it:   sample --checkpoint " + model_path.string());
    print("train on:    prepare --train TinyStories-train.txt --tokenizer " +
          tokenizer_path.string() + " --out DATA, then train --init " + model_path.string() +
          " --data DATA");
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"Download TinyStories (Hugging Face, roneneldan/TinyStories) or a llama2.c "
                 "TinyStories model (karpathy/tinyllamas), resumably and checked by SHA-256."};
    std::string dir, what = "text", base_url, sha256, model;
    int timeout = 10;
    std::vector<std::string> names;
    std::string models_help = "a llama2.c model and its tokenizer.bin instead of TinyStories:";
    for (const TinyllamasModel& m : tinyllamas_models()) {
        names.emplace_back(m.name);
        models_help += " " + std::string(m.name) + " (" + std::string(m.description) + ");";
    }
    models_help.back() = '.';
    flags::output_folder(app.add_option("--dir", dir, "folder to download into")
                             ->default_str("data, or models/<name> with --model"));
    auto* o_what =
        app.add_option("--what", what,
                       "text: TinyStories-train.txt + TinyStories-valid.txt; valid: only the "
                       "validation text; archive: TinyStories_all_data.tar.gz (JSON shards); all: "
                       "the three")
            ->capture_default_str()
            ->check(CLI::IsMember({"text", "valid", "archive", "all"}));
    app.add_option("--model", model, models_help)
        ->default_str("none")
        ->check(CLI::IsMember(names))
        ->excludes(o_what);
    app.add_option("--base-url", base_url,
                   "where the files are (the 32,000-token tokenizer.bin always comes from GitHub)")
        ->default_str("Hugging Face: the dataset, or with --model the model repository")
        ->check(CLI::Validator(
            [](std::string& url) {
                if (!url.starts_with("https://") && !url.starts_with("http://") &&
                    !url.starts_with("file://"))
                    throw flags::UsageError("--base-url " + url +
                                            ": must start with https://, http:// or file://");
                if (!url.ends_with("/"))
                    throw flags::UsageError("--base-url " + url +
                                            ": must end with / (the file names are appended)");
                return std::string();
            },
            "URL/"));
    app.add_option("--sha256", sha256, "expected SHA-256 (only with a single TinyStories file)")
        ->default_str("the one Hugging Face announces")
        ->check(CLI::Validator(
            [](std::string& digest) {
                if (digest.size() != 64 ||
                    digest.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
                    throw flags::UsageError("--sha256 " + digest +
                                            ": must be 64 hexadecimal digits");
                return std::string();
            },
            "HEX64"));
    flags::whole(app.add_option("--connect-timeout", timeout, "seconds to wait for a connection")
                     ->capture_default_str(),
                 1, 600);
    if (const std::optional<int> rc = flags::parse(app, "download", argc, argv))
        return *rc;

    if (!model.empty()) {
        if (!sha256.empty())
            return flags::fail("download", flags::UsageError("--sha256 is for TinyStories files "
                                                             "(a model's digests are built in)"));
        try {
            for (const TinyllamasModel& m : tinyllamas_models())
                if (m.name == model)
                    download_model(m, dir.empty() ? "models/" + model : dir,
                                   base_url.empty() ? std::string(tinyllamas_url) : base_url,
                                   timeout);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "%s\n", e.what());
            return 1;
        }
        return 0;
    }

    if (dir.empty())
        dir = "data";
    if (base_url.empty())
        base_url = tinystories_url;
    std::vector<std::string> files;
    for (const RemoteFile& f : tinystories_files()) {
        const bool is_text = f.name.ends_with(".txt");
        if (what == "all" || (what == "text" && is_text) ||
            (what == "valid" && f.name == "TinyStories-valid.txt") ||
            (what == "archive" && !is_text))
            files.emplace_back(f.name);
    }
    if (!sha256.empty() && files.size() != 1)
        return flags::fail("download",
                           flags::UsageError("--sha256 needs a single file (--what valid or "
                                             "archive)"));
    try {
        for (const std::string& name : files) {
            const fs::path dest = fs::path(dir) / name;
            print(base_url + name + " -> " + dest.string());
            std::fflush(stdout);
            DownloadOptions options;
            options.sha256 = sha256;
            options.connect_timeout_seconds = timeout;
            report(download_file(base_url + name, dest, options),
                   "(no digest announced to check against)");
            if (name.ends_with(".tar.gz"))
                print("  unpack the JSON shards with: mkdir -p " + dir +
                      "/TinyStories_all_data && tar -xzf " + dest.string() + " -C " + dir +
                      "/TinyStories_all_data");
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    return 0;
}
