// convert's output checks and the tokenizer written beside a model file; see outputs.hpp.
#include "outputs.hpp"

#include <ouro/core/atomic_file.hpp>
#include <ouro/core/error.hpp>

#include <random>

namespace convert {

using ouro::ConfigError;
using ouro::IoError;

namespace {

const char* const tokenizer_files[] = {"vocab.json", "merges.txt", "tokenizer.bin"};

std::vector<std::string> own_files(const ouro::data::Tokenizer& tokenizer) {
    if (tokenizer.kind() == ouro::data::TokenizerKind::llama2c)
        return {"tokenizer.bin"};
    return {"vocab.json", "merges.txt"};
}

void create_folder(const fs::path& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec)
        throw IoError(dir.string() + ": cannot create the folder: " + ec.message());
}

} // namespace

CreatedFolders::CreatedFolders(const fs::path& dir) {
    std::error_code ec;
    fs::path top;
    for (fs::path p = fs::absolute(dir, ec); !p.empty() && !fs::exists(p, ec);
         p = p.parent_path()) {
        top = p;
        if (p == p.parent_path())
            break;
    }
    create_folder(dir);
    top_ = top;
}

CreatedFolders::~CreatedFolders() {
    std::error_code ec;
    if (!top_.empty())
        fs::remove_all(top_, ec);
}

CreatedFolders prepare_folder(const fs::path& dir, const std::string& to, bool overwrite) {
    std::error_code ec;
    if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
        throw ConfigError(dir.string() + " is a file; --to " + to + " writes a folder");
    if (fs::is_directory(dir, ec) && !fs::is_empty(dir, ec)) {
        if (!overwrite)
            throw ConfigError(dir.string() +
                              " exists and is not empty (pass --overwrite to write into it)");
        for (const char* name : tokenizer_files)
            fs::remove(dir / name, ec);
    }
    return CreatedFolders(dir);
}

CreatedFolders prepare_file(const fs::path& file, const std::string& to, bool overwrite) {
    std::error_code ec;
    if (fs::is_directory(file, ec))
        throw ConfigError(file.string() + " is a folder; --to " + to +
                          " writes a file (give its name)");
    if (fs::exists(file, ec) && !overwrite)
        throw ConfigError(file.string() + " exists (pass --overwrite to replace it)");
    const fs::path dir = file.parent_path();
    return dir.empty() ? CreatedFolders() : CreatedFolders(dir);
}

TokenizerFiles::TokenizerFiles(const ouro::data::Tokenizer& tokenizer, const fs::path& dir,
                               bool overwrite)
    : dir_(dir), names_(own_files(tokenizer)) {
    create_folder(dir);
    std::random_device rd;
    for (int attempt = 0; attempt < 100 && staging_.empty(); ++attempt) {
        const fs::path p = dir / (".convert-" + std::to_string(rd()));
        std::error_code ec;
        if (fs::create_directory(p, ec))
            staging_ = p;
    }
    if (staging_.empty())
        throw IoError(dir.string() + ": cannot create a staging folder");
    if (tokenizer.kind() == ouro::data::TokenizerKind::llama2c)
        tokenizer.save_llama2c(staging_ / "tokenizer.bin");
    else
        tokenizer.save(staging_);
    std::error_code ec;
    for (const std::string& name : names_)
        if (!overwrite && fs::exists(dir / name, ec) &&
            ouro::read_file(dir / name, "convert") != ouro::read_file(staging_ / name, "convert"))
            throw ConfigError((dir / name).string() +
                              " exists and holds another tokenizer (pass --overwrite to replace "
                              "it)");
}

TokenizerFiles::~TokenizerFiles() {
    std::error_code ec;
    if (!staging_.empty())
        fs::remove_all(staging_, ec);
}

std::vector<std::string> TokenizerFiles::commit() {
    for (const std::string& name : names_) {
        std::error_code ec;
        fs::rename(staging_ / name, dir_ / name, ec);
        if (ec)
            throw IoError((dir_ / name).string() + ": cannot write: " + ec.message());
    }
    return names_;
}

fs::path tokenizer_location(const ouro::data::Tokenizer& tokenizer, const fs::path& dir) {
    return tokenizer.kind() == ouro::data::TokenizerKind::llama2c ? dir / "tokenizer.bin" : dir;
}

} // namespace convert
