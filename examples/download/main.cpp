// download: fetch TinyStories from Hugging Face (roneneldan/TinyStories) into a data folder.
//
//   download                      # TinyStories-train.txt and TinyStories-valid.txt into data/
//   download --what all --dir /big/disk/tinystories
//
// An interrupted download continues where it stopped (run the same command again). Each file is
// checked against the SHA-256 that Hugging Face announces for it (or --sha256 for a single file).
// Offline it fails within seconds and says how to use local copies instead: prepare reads any
// TinyStories .txt or .json file given with --train / --valid.
#include <ouro/data/download.hpp>

#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

using namespace ouro::data;

int main(int argc, char** argv) {
    CLI::App app{"Download TinyStories (Hugging Face, roneneldan/TinyStories), resumably and "
                 "checked by SHA-256."};
    std::string dir = "data", what = "text", base_url(tinystories_url), sha256;
    int timeout = 10;
    app.add_option("--dir", dir, "folder to download into (default data)");
    app.add_option("--what", what,
                   "text: TinyStories-train.txt + TinyStories-valid.txt (default); valid: only "
                   "the validation text; archive: TinyStories_all_data.tar.gz (JSON shards); "
                   "all: the three")
        ->check(CLI::IsMember({"text", "valid", "archive", "all"}));
    app.add_option("--base-url", base_url, "where the files are (default Hugging Face)");
    app.add_option("--sha256", sha256, "expected SHA-256 (only with a single file)");
    app.add_option("--connect-timeout", timeout, "seconds to wait for a connection (default 10)")
        ->check(CLI::Range(1, 600));
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::fprintf(stderr, "download: %s (see --help)\n", e.what());
        return e.get_exit_code() != 0 ? e.get_exit_code() : 2;
    }

    std::vector<std::string> names;
    for (const RemoteFile& f : tinystories_files()) {
        const bool is_text = f.name.ends_with(".txt");
        if (what == "all" || (what == "text" && is_text) ||
            (what == "valid" && f.name == "TinyStories-valid.txt") ||
            (what == "archive" && !is_text))
            names.emplace_back(f.name);
    }
    if (!sha256.empty() && names.size() != 1) {
        std::fprintf(stderr, "download: --sha256 needs a single file (--what valid or archive)\n");
        return 2;
    }
    try {
        for (const std::string& name : names) {
            const std::filesystem::path dest = std::filesystem::path(dir) / name;
            std::printf("%s -> %s\n", (base_url + name).c_str(), dest.c_str());
            std::fflush(stdout);
            DownloadOptions options;
            options.sha256 = sha256;
            options.connect_timeout_seconds = timeout;
            const DownloadReport r = download_file(base_url + name, dest, options);
            if (r.skipped)
                std::printf("  already there (%llu bytes)%s\n", (unsigned long long)r.bytes,
                            r.checked ? ", SHA-256 checked" : "");
            else
                std::printf("  %llu bytes%s, SHA-256 %s %s\n", (unsigned long long)r.bytes,
                            r.resumed ? " (resumed)" : "", r.sha256.c_str(),
                            r.checked ? "(checked)" : "(no digest announced to check against)");
            if (name.ends_with(".tar.gz"))
                std::printf("  unpack the JSON shards with: mkdir -p %s/TinyStories_all_data && "
                            "tar -xzf %s -C %s/TinyStories_all_data\n",
                            dir.c_str(), dest.c_str(), dir.c_str());
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    return 0;
}
