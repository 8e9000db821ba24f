// prepare: TinyStories text in, a tokenizer and llm.c token shards out.
//
//   prepare --train TinyStories-train.txt --valid TinyStories-valid.txt --vocab-size 4096
//           --out data/ts4k
//   prepare --train data00.json --train data01.json --gpt2 gpt2/ --out data/ts-gpt2
//   prepare --train TinyStories-train.txt --tokenizer models/stories260K/tokenizer.bin
//           --out data/ts-tok512
//
// The tokenizer is trained on the training stories (at most --tokenizer-mb of them), or is an
// existing one: --tokenizer takes a folder with vocab.json + merges.txt (byte-level BPE, as
// GPT-2's; --gpt2 DIR is the same for such a folder) or a llama2.c tokenizer.bin, told apart by
// what is at the path. It is saved to the output folder in its own format: vocab.json +
// merges.txt, or tokenizer.bin (with --overwrite, the other kind's files, left there by an
// earlier run, are removed, so that the folder names one tokenizer). Each story is encoded and
// preceded by the tokenizer's story separator: <|endoftext|> for a BPE (llm.c's convention), BOS
// for llama2.c (exactly as llama2.c's own pretokenized TinyStories), so sampling can start from
// that token. Nothing is written before the whole input has been read and checked (a failure leaves
// the folder as it was), and a folder that holds prepared data is refused unless --overwrite.
// train.bin and val.bin are written atomically; one prepare at a time holds the folder (a lock),
// and the temporary files of a killed prepare are removed at the next start. Without --valid, every
// --valid-every-th story of the training input is held out instead. Inputs are streamed, so the
// full 1.9 GB TinyStories-train.txt needs little memory beyond the tokenizer's training text. Bad
// flags or files: one line "prepare: <message>" on stderr and exit code 1 (common/flags.hpp).
#include "common/flags.hpp"
#include "common/output_folder.hpp"
#include "common/progress.hpp"

#include <ouro/core/error.hpp>
#include <ouro/core/parallel.hpp>
#include <ouro/data/tinystories.hpp>
#include <ouro/data/token_shard.hpp>
#include <ouro/data/tokenizer.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fs = std::filesystem;
using namespace ouro::data;
using ouro::examples::Progress;
using ouro::examples::ProgressBar;

namespace {

struct Settings {
    std::vector<std::string> train, valid;
    std::string out, gpt2, tokenizer;
    std::int32_t vocab_size = 4096;
    double tokenizer_mb = 256;
    std::int64_t valid_every = 100;
    int threads = 0;
    bool progress = false;
    bool overwrite = false;
};

// Calls `batch` with the stories of `path` (a .json shard, or text), a batch at a time, until it
// returns false.
void for_each_batch(const std::string& path,
                    const std::function<bool(std::vector<std::string>&)>& batch) {
    constexpr std::size_t batch_stories = 20'000;
    if (fs::path(path).extension() == ".json") {
        std::vector<std::string> stories = read_stories_json(path);
        batch(stories);
        return;
    }
    StoryReader reader(path);
    std::vector<std::string> stories;
    for (std::string s; reader.next(s);) {
        stories.push_back(std::move(s));
        if (stories.size() == batch_stories) {
            if (!batch(stories))
                return;
            stories.clear();
        }
    }
    if (!stories.empty())
        batch(stories);
}

// The training stories for the tokenizer: up to `limit_bytes`, leaving out held-out ones.
std::vector<std::string> tokenizer_corpus(const Settings& s) {
    const auto limit = std::uint64_t(s.tokenizer_mb * 1e6);
    std::vector<std::string> texts;
    std::uint64_t bytes = 0;
    std::int64_t index = 0;
    for (const std::string& path : s.train) {
        if (bytes >= limit)
            break;
        for_each_batch(path, [&](std::vector<std::string>& stories) {
            for (std::string& story : stories) {
                const bool held_out = s.valid.empty() && index++ % s.valid_every == 0;
                if (held_out || bytes >= limit)
                    continue;
                bytes += story.size();
                texts.push_back(std::move(story));
            }
            return bytes < limit;
        });
    }
    return texts;
}

// What prepare writes into its folder; another data set's are replaced only with --overwrite.
constexpr const char* outputs[] = {"train.bin", "val.bin", "vocab.json", "merges.txt",
                                   "tokenizer.bin"};

// Throws ConfigError when the folder holds a data set and --overwrite was not given.
void refuse_existing(const Settings& s) {
    std::string found;
    for (const char* name : outputs) {
        std::error_code ec;
        if (fs::exists(fs::symlink_status(fs::path(s.out) / name, ec)))
            found += (found.empty() ? "" : ", ") + std::string(name);
    }
    if (!found.empty() && !s.overwrite)
        throw ouro::ConfigError(s.out + " already holds prepared data (" + found +
                                "); give --overwrite to replace it, or another --out");
}

// The output folder when this run makes it: removed again (if still empty) when prepare fails.
struct NewFolder {
    fs::path path;
    bool made = false, keep = false;
    explicit NewFolder(const std::string& dir) : path(dir), made(fs::create_directories(dir)) {}
    NewFolder(const NewFolder&) = delete;
    NewFolder& operator=(const NewFolder&) = delete;
    ~NewFolder() {
        std::error_code ec;
        if (made && !keep)
            fs::remove(path, ec);
    }
};

bool is_own_output(std::string_view name) {
    return std::find(std::begin(outputs), std::end(outputs), name) != std::end(outputs);
}

int run(const Settings& s) {
    // One prepare per folder, and no temporary files of a killed one: taken before the folder is
    // read, when it exists (a new folder is made and locked only once the input is checked).
    ouro::examples::FileHandle lock;
    std::error_code ec;
    if (fs::is_directory(s.out, ec)) {
        lock = ouro::examples::lock_output_folder(s.out, "prepare");
        const auto removed = ouro::examples::remove_leftovers(s.out, is_own_output);
        if (!removed.empty())
            std::printf("removed %zu temporary file%s left by a stopped run in %s\n",
                        removed.size(), removed.size() == 1 ? "" : "s", s.out.c_str());
    }
    refuse_existing(s);
    if (s.threads > 0)
        ouro::set_num_threads(s.threads);
    const Progress progress = s.progress ? Progress::always : Progress::automatic;
    const auto start = std::chrono::steady_clock::now();
    const auto seconds = [&] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };

    Tokenizer tok;
    if (!s.gpt2.empty()) {
        tok = Tokenizer::load(s.gpt2);
        std::printf("loaded GPT-2's tokenizer from %s: %d tokens\n", s.gpt2.c_str(),
                    tok.vocab_size());
    } else if (!s.tokenizer.empty()) {
        tok = Tokenizer::load_any(s.tokenizer);
        std::printf("loaded the %s tokenizer %s: %d tokens\n",
                    tok.kind() == TokenizerKind::llama2c ? "llama2.c" : "byte-level BPE",
                    s.tokenizer.c_str(), tok.vocab_size());
    } else {
        const std::vector<std::string> texts = tokenizer_corpus(s);
        std::optional<ProgressBar> bar;
        const auto on_progress = [&](std::uint64_t done, std::uint64_t total) {
            if (!bar)
                bar.emplace("training BPE", total, progress, "merges");
            bar->update(done);
        };
        tok = Tokenizer::train(texts, {.vocab_size = s.vocab_size, .on_progress = on_progress});
        if (bar)
            bar->finish();
        std::printf("trained a %d-token BPE on %zu stories (%.1f s)\n", tok.vocab_size(),
                    texts.size(), seconds());
    }
    if (tok.vocab_size() > 65536)
        throw ouro::ConfigError("a vocabulary of " + std::to_string(tok.vocab_size()) +
                                " tokens does not fit the shards' 16-bit tokens (at most 65536)");
    const std::int32_t separator = tok.story_separator();
    const bool llama2c = tok.kind() == TokenizerKind::llama2c;
    // Declared before the shard writers: on failure their temporary files go first.
    NewFolder folder(s.out);
    if (folder.made)
        lock = ouro::examples::lock_output_folder(s.out, "prepare");

    const fs::path train_path = fs::path(s.out) / "train.bin";
    const fs::path val_path = fs::path(s.out) / "val.bin";
    ShardWriter train(train_path), val(val_path);
    std::int64_t train_stories = 0, val_stories = 0, index = 0;
    std::uint64_t bytes_done = 0; // of the current input, for the progress bar
    ProgressBar* bar = nullptr;
    const auto encode_into = [&](std::vector<std::string>& stories, bool to_valid) {
        const auto ids = tok.encode_corpus(stories);
        for (const std::string& story : stories)
            bytes_done += story.size() + 15; // and roughly its separator line
        if (bar != nullptr)
            bar->update(bytes_done);
        for (const auto& story : ids) {
            const bool v = to_valid || (s.valid.empty() && index % s.valid_every == 0);
            ++index;
            ShardWriter& w = v ? val : train;
            w.append(std::span(&separator, 1));
            w.append(story);
            ++(v ? val_stories : train_stories);
        }
        return true;
    };
    for (const auto& [paths, to_valid] : {std::pair(&s.train, false), std::pair(&s.valid, true)})
        for (const std::string& path : *paths) {
            ProgressBar file_bar("encoding " + fs::path(path).filename().string(),
                                 fs::file_size(path), progress);
            bar = &file_bar;
            bytes_done = 0;
            for_each_batch(
                path, [&, v = to_valid](std::vector<std::string>& b) { return encode_into(b, v); });
            file_bar.update(fs::file_size(path));
            file_bar.finish();
            bar = nullptr;
            std::printf("encoded %s (%.1f s)\n", path.c_str(), seconds());
        }
    if (val_stories == 0 || train_stories == 0)
        throw ouro::ConfigError("no " + std::string(val_stories == 0 ? "validation" : "training") +
                                " stories (check the inputs, or lower --valid-every)");
    // The input is read and checked: only now does the folder change. The shards first: most of
    // their bytes are written already, so a full disk shows before the old tokenizer goes.
    train.commit();
    val.commit();
    folder.keep = true;
    // One tokenizer per folder: the files of the other kind would describe other shards.
    const std::vector<std::string> stale =
        llama2c ? std::vector<std::string>{"vocab.json", "merges.txt"}
                : std::vector<std::string>{"tokenizer.bin"};
    for (const std::string& name : stale)
        fs::remove(fs::path(s.out) / name);
    if (llama2c)
        tok.save_llama2c(fs::path(s.out) / "tokenizer.bin");
    else
        tok.save(s.out);
    const fs::path dir(s.out);
    const std::string saved =
        llama2c ? (dir / "tokenizer.bin").string()
                : (dir / "vocab.json").string() + ", " + (dir / "merges.txt").string();
    std::printf("%s: %lld stories, %lld tokens\n%s: %lld stories, %lld tokens\n"
                "tokenizer: %s (%.1f s in all)\n",
                train_path.c_str(), (long long)train_stories, (long long)train.size(),
                val_path.c_str(), (long long)val_stories, (long long)val.size(), saved.c_str(),
                seconds());
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"Tokenize TinyStories into llm.c token shards (train.bin, val.bin) and save the "
                 "tokenizer beside them."};
    Settings s;
    flags::existing_file(
        app.add_option("--train", s.train, "training text: TinyStories .txt or .json shards")
            ->required());
    flags::existing_file(app.add_option("--valid", s.valid, "validation text")
                             ->default_str("hold out every --valid-every-th training story"));
    flags::output_folder(app.add_option("--out", s.out, "output folder")->required());
    auto* vocab = flags::whole(
        app.add_option("--vocab-size", s.vocab_size, "train a BPE with this many tokens")
            ->capture_default_str(),
        257, 65536);
    auto* gpt2 = flags::existing_folder(
        app.add_option("--gpt2", s.gpt2, "load GPT-2's vocab.json and merges.txt from this folder")
            ->default_str("none")
            ->excludes(vocab));
    flags::existing_path(app.add_option("--tokenizer", s.tokenizer,
                                        "encode with this tokenizer: a folder with vocab.json + "
                                        "merges.txt, or a llama2.c tokenizer.bin (told apart by "
                                        "what is there)")
                             ->default_str("none: train one")
                             ->excludes(vocab)
                             ->excludes(gpt2));
    flags::real(app.add_option("--tokenizer-mb", s.tokenizer_mb,
                               "train the tokenizer on at most this many MB of stories")
                    ->capture_default_str(),
                flags::Interval{0, 1e6, true, false});
    flags::whole(
        app.add_option("--valid-every", s.valid_every, "without --valid, hold out every N-th story")
            ->capture_default_str(),
        2, std::int64_t(1) << 40);
    flags::add_threads(app, s.threads, false);
    app.add_flag("--progress", s.progress, "show progress even when stderr is not a terminal");
    app.add_flag("--overwrite", s.overwrite,
                 "replace the shards and tokenizer already in --out (otherwise prepare refuses)");
    if (const std::optional<int> rc = flags::parse(app, "prepare", argc, argv))
        return *rc;
    try {
        return run(s);
    } catch (const std::exception& e) {
        return flags::fail("prepare", e);
    }
}
