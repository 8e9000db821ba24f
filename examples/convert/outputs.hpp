// Where convert writes, and when it may: a folder (a Hugging Face folder, a sampling bundle) or a
// model file with its tokenizer beside it (an ouro checkpoint, an llm.c or a llama2.c model), as
// every program of ouro looks for a tokenizer beside the model.
//
// Nothing that exists is replaced without --overwrite: a folder output must not exist or be
// empty, a file output must not exist, and tokenizer files beside a file output must be absent or
// hold exactly the bytes convert would write (two models of one tokenizer may share a folder).
#pragma once

#include <ouro/data/tokenizer.hpp>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace convert {

namespace fs = std::filesystem;

/// The folders an output needed that did not exist: removed with everything in them unless the
/// conversion succeeds (keep), so that a refused or failed conversion leaves nothing behind.
class CreatedFolders {
public:
    CreatedFolders() = default;
    /// Creates `dir` and its missing parents. Throws IoError when it cannot.
    explicit CreatedFolders(const fs::path& dir);
    ~CreatedFolders();
    CreatedFolders(CreatedFolders&& other) noexcept : top_(std::exchange(other.top_, {})) {}
    CreatedFolders& operator=(CreatedFolders&&) = delete;
    void keep() { top_.clear(); }

private:
    fs::path top_; ///< the outermost folder created here, empty when none was
};

/// Throws ouro::ConfigError unless `dir` may be written as a folder output:
///   "out/hf exists and is not empty (pass --overwrite to write into it)"
///   "out/x.bin is a file; --to hf writes a folder"
/// With `overwrite`, removes the tokenizer files of a previous conversion there (vocab.json,
/// merges.txt, tokenizer.bin), so that the folder holds one tokenizer. Creates the folder.
CreatedFolders prepare_folder(const fs::path& dir, const std::string& to, bool overwrite);

/// Throws ouro::ConfigError unless `file` may be written: "out/x.bin exists (pass --overwrite to
/// replace it)", "out/x is a folder; --to llmc writes a file (give its name)". Creates its folder.
CreatedFolders prepare_file(const fs::path& file, const std::string& to, bool overwrite);

/// The tokenizer's own files (vocab.json + merges.txt, or tokenizer.bin) for `dir`, written
/// first into a staging folder inside it and compared with the files already there, so that a
/// conflict is found before anything is written and a failed model write leaves nothing behind.
class TokenizerFiles {
public:
    /// Stages the files. Throws ConfigError "out/vocab.json exists and holds another tokenizer
    /// (pass --overwrite to replace it)", IoError when the folder cannot be written.
    TokenizerFiles(const ouro::data::Tokenizer& tokenizer, const fs::path& dir, bool overwrite);
    /// Removes the staging folder.
    ~TokenizerFiles();
    TokenizerFiles(const TokenizerFiles&) = delete;
    TokenizerFiles& operator=(const TokenizerFiles&) = delete;

    /// The staging folder, holding the files until commit.
    const fs::path& staged() const { return staging_; }
    /// Moves the files into `dir`; returns their names.
    std::vector<std::string> commit();

private:
    fs::path dir_, staging_;
    std::vector<std::string> names_;
};

/// Where the tokenizer written into `dir` is, as data::Tokenizer::load_any and
/// data::tokenizer_identity take it.
fs::path tokenizer_location(const ouro::data::Tokenizer& tokenizer, const fs::path& dir);

} // namespace convert
