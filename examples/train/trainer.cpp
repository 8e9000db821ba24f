// The training loop; see trainer.hpp.
#include "trainer.hpp"

#include "init_model.hpp"

#include "common/progress.hpp"
#include "common/text_width.hpp"

#include <ouro/autograd/backward.hpp>
#include <ouro/core/parallel.hpp>
#include <ouro/data/token_shard.hpp>
#include <ouro/gen/decode.hpp>
#include <ouro/ops/elementwise.hpp>
#include <ouro/optim/clip.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>

namespace ouro::train {
namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

// ----------------------------------------------------------------------------------------------
// Data

namespace {

// A learnable synthetic stream: each token is a fixed function of the previous one, with one
// token in eight drawn at random, so the loss falls quickly but not to zero.
std::vector<std::int32_t> synthetic_tokens(std::int64_t n, std::int64_t V, std::uint64_t seed) {
    Rng rng(seed);
    std::vector<std::int32_t> out(static_cast<std::size_t>(n));
    std::int32_t t = 0;
    for (auto& v : out) {
        t = rng.below(8) == 0 ? std::int32_t(rng.below(std::uint64_t(V)))
                              : std::int32_t((5 * t + 3) % V);
        v = t;
    }
    return out;
}

std::string position_to_json(const data::LoaderPosition& p) {
    Json j;
    j["shard"] = p.shard;
    j["offset"] = p.offset;
    j["rng_state"] = p.rng_state;
    j["batches"] = p.batches;
    j["epoch"] = p.epoch;
    return j.dump();
}

data::LoaderPosition position_from_json(const std::string& text, const std::string& source) {
    try {
        const Json j = Json::parse(text);
        return {j.at("shard").get<std::uint64_t>(), j.at("offset").get<std::uint64_t>(),
                j.at("rng_state").get<std::uint64_t>(), j.at("batches").get<std::uint64_t>(),
                j.at("epoch").get<std::uint64_t>()};
    } catch (const nlohmann::json::exception& e) {
        throw FormatError(source + ": data position is not valid: " + e.what());
    }
}

} // namespace

// ----------------------------------------------------------------------------------------------
// Trainer

Trainer::Trainer(TrainSettings settings) : Trainer(std::move(settings), nullptr) {}

Trainer Trainer::resume(const std::string& checkpoint,
                        const std::function<void(TrainSettings&)>& adjust) {
    const io::Checkpoint ck = io::Checkpoint::read(checkpoint);
    if (!ck.has_optimizer)
        throw FormatError(checkpoint + ": has no optimizer state (a weights-only export); "
                                       "training cannot resume from it");
    TrainSettings s = TrainSettings::from_json(ck.state.metadata_value("train_config"));
    if (adjust) {
        TrainSettings changed = s;
        adjust(changed);
        // Everything but the run's length and its outputs must stay as saved.
        TrainSettings check = changed;
        check.steps = s.steps;
        check.out_dir = s.out_dir;
        check.log_path = s.log_path;
        check.eval_every = s.eval_every;
        check.eval_batches = s.eval_batches;
        check.sample_every = s.sample_every;
        check.sample_tokens = s.sample_tokens;
        check.checkpoint_every = s.checkpoint_every;
        check.debug_nan_step = s.debug_nan_step;
        if (check.to_json() != s.to_json())
            throw ConfigError("on --resume only --steps, --out, --log and the eval, sample "
                              "and checkpoint intervals may change");
        s = changed;
    }
    return Trainer(std::move(s), &ck);
}

Trainer::Trainer(TrainSettings settings, const io::Checkpoint* from)
    : settings_(std::move(settings)), rng_(settings_.seed) {
    settings_.validate();
    // A new run from a trained model takes its config (see TrainSettings::init); a resumed one
    // has the config in its checkpoint already.
    std::optional<InitModel> init;
    if (!from && !settings_.init.empty()) {
        init.emplace(read_init_model(settings_.init));
        settings_.model = init_config(*init, settings_.model.block_size, settings_.model.dropout);
    }
    claim_out_dir(from);

    std::vector<fs::path> train_shards, val_shards;
    if (settings_.synthetic) {
        const fs::path train = fs::path(settings_.out_dir) / "synthetic-train.bin";
        const fs::path val = fs::path(settings_.out_dir) / "synthetic-val.bin";
        data::write_shard(train, synthetic_tokens(200000, settings_.synthetic_vocab, 1));
        data::write_shard(val, synthetic_tokens(20000, settings_.synthetic_vocab, 2));
        train_shards = {train};
        val_shards = {val};
        tokenizer_id_ = "synthetic:" + std::to_string(settings_.synthetic_vocab);
    } else {
        // vocab.json + merges.txt, or llama2.c's tokenizer.bin (prepare --tokenizer).
        const fs::path dir(settings_.data_dir);
        tokenizer_.emplace(data::Tokenizer::load_any(dir));
        tokenizer_id_ = data::tokenizer_identity(*tokenizer_, dir);
        train_shards = {dir / "train.bin"};
        val_shards = {dir / "val.bin"};
    }
    const std::int64_t vocab_size =
        tokenizer_ ? tokenizer_->vocab_size() : settings_.synthetic_vocab;
    if (init)
        check_init_data(*init, vocab_size, tokenizer_id_,
                        tokenizer_ ? "the tokenizer of " + settings_.data_dir
                                   : std::string("the synthetic stream"),
                        !tokenizer_);
    settings_.model.vocab_size = vocab_size;
    if (from && from->state.tokenizer != tokenizer_id_)
        throw FormatError(from->file.source() + ": trained with tokenizer '" +
                          from->state.tokenizer + "', but the data folder has '" + tokenizer_id_ +
                          "'");

    const std::int64_t T = settings_.model.block_size, B = settings_.batch_size;
    train_ = std::make_unique<data::BatchLoader>(train_shards, B, T, data::Sampling::random,
                                                 settings_.seed);
    val_ = std::make_unique<data::BatchLoader>(val_shards, B, T, data::Sampling::sequential);

    if (from) {
        model_ = from->build_model<float>();
    } else if (init) {
        model_ = adapt_init_model(*init, settings_.model);
    } else {
        Rng init_rng(settings_.seed);
        model_ = std::make_unique<nn::GPT<float>>(settings_.model, init_rng);
    }
    optimizer_ = std::make_unique<optim::AdamW<float>>(
        model_->named_parameters(), optim::AdamWConfig{.beta1 = settings_.beta1,
                                                       .beta2 = settings_.beta2,
                                                       .eps = 1e-8,
                                                       .weight_decay = settings_.weight_decay});
    if (settings_.lr_decay_steps == 0)
        settings_.lr_decay_steps = settings_.steps;
    schedule_ = {settings_.lr, settings_.min_lr, settings_.warmup,
                 std::max(settings_.warmup, settings_.lr_decay_steps)};
    schedule_.validate();
    if (from) {
        from->load_optimizer(*optimizer_);
        step_ = from->state.step;
        rng_.set_state(from->state.rng_state);
        train_->set_position(position_from_json(from->state.data_position, from->file.source()));
        last_checkpoint_ = from->file.source();
    }
}

// Before anything is written there: one train per folder, no leftovers of a killed run, and no
// other run's files to mix with unless --overwrite.
void Trainer::claim_out_dir(const io::Checkpoint* from) {
    const fs::path out(settings_.out_dir);
    out_lock_ = lock_run_folder(out);
    leftovers_ = remove_leftovers(out);
    log_path_ = settings_.log_path.empty() ? (out / "log.csv").string() : settings_.log_path;
    if (from) {
        fs::path dir = fs::path(from->file.source()).parent_path();
        std::error_code ec;
        continues_here_ = fs::equivalent(dir.empty() ? fs::path(".") : dir, out, ec);
    }
    if (continues_here_ || settings_.overwrite)
        return;
    const std::vector<fs::path> runs = find_checkpoints(out);
    if (!runs.empty())
        throw ConfigError(settings_.out_dir + " already holds a run (checkpoints up to " +
                          runs.back().filename().string() + "); continue it with --resume " +
                          runs.back().string() + ", or replace it with --overwrite");
    if (TrainingLog::has_rows(log_path_))
        throw ConfigError(log_path_ + " already holds another run's log; replace it with " +
                          "--overwrite, or give another --out");
}

// The other run's checkpoints go only now, when this one is ready to start.
void Trainer::open_outputs() {
    if (log_)
        return;
    if (!continues_here_ && settings_.overwrite)
        for (const fs::path& old : find_checkpoints(settings_.out_dir)) {
            std::error_code ec;
            fs::remove(old, ec);
            if (ec)
                throw IoError("cannot remove " + old.string() + " (--overwrite): " + ec.message());
        }
    log_.emplace(log_path_, continues_here_ ? step_ : -1);
}

StepResult Trainer::step() {
    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    const ChosenThreads threads(step_threads_, 1);
    const double lr = schedule_.at(step_);
    model_->zero_grad();
    double loss_sum = 0.0;
    for (std::int64_t micro = 0; micro < settings_.grad_accum; ++micro) {
        train_->next(inputs_, targets_);
        const VarF loss = model_->loss(inputs_, targets_, {.rng = &rng_});
        loss_sum += double(loss.item());
        // Each micro-batch contributes its share of the mean gradient.
        backward(settings_.grad_accum > 1 ? loss * (1.0f / float(settings_.grad_accum)) : loss);
    }
    double loss = loss_sum / double(settings_.grad_accum);
    if (step_ + 1 == settings_.debug_nan_step)
        loss = std::numeric_limits<double>::quiet_NaN();
    const std::vector<VarF> params = model_->parameters();
    const double norm = settings_.clip > 0.0 ? optim::clip_grad_norm(params, settings_.clip)
                                             : optim::grad_norm(params);
    if (!std::isfinite(loss) || !std::isfinite(norm))
        throw DivergedError("training stopped at step " + std::to_string(step_ + 1) +
                            ": the loss is " + std::to_string(loss) + " and the gradient norm " +
                            std::to_string(norm) + "; the weights were not updated. " +
                            (last_checkpoint_.empty()
                                 ? std::string("No checkpoint had been written yet.")
                                 : "The last good checkpoint is " + last_checkpoint_ +
                                       " (resume with --resume and a lower --lr)."));
    optimizer_->step(lr);
    ++step_;
    const double seconds = std::chrono::duration<double>(clock::now() - start).count();
    const double tokens =
        double(settings_.batch_size * settings_.model.block_size * settings_.grad_accum);
    return {step_, loss, lr, norm, tokens / seconds};
}

double Trainer::evaluate() {
    NoGradGuard no_grad;
    model_->eval();
    val_->reset();
    const std::int64_t n =
        std::min<std::int64_t>(settings_.eval_batches, val_->batches_per_epoch());
    double sum = 0.0;
    TensorI x, y;
    for (std::int64_t i = 0; i < n; ++i) {
        val_->next(x, y);
        const ChosenThreads threads(eval_threads_, 1);
        sum += double(model_->loss(x, y).item());
    }
    model_->train();
    return sum / double(n);
}

std::string Trainer::sample(std::int64_t tokens) {
    // The token before every story (<|endoftext|>, or llama2.c's BOS) starts one; the end token
    // is a token like any other here (the sample runs on into the next story).
    const std::int32_t start = tokenizer_ ? tokenizer_->story_separator() : 0;
    gen::DecodeOptions options;
    options.max_new_tokens = tokens;
    // Full recompute over the last block_size tokens once the context is full (nanoGPT's
    // sample.py), the inference session's crop policy.
    options.context.policy = gen::ContextPolicy::crop;
    options.alternatives = 0;
    // Its own seed, so that sampling never changes the training run.
    options.seed = settings_.seed ^ (0x5a5a5a5aULL + std::uint64_t(step_));
    const gen::DecodedSequence out =
        std::move(gen::decode(*model_, gen::Decoder::chain("T=1", {}), {{start}}, options).front());
    std::vector<std::int32_t> ids{start};
    ids.insert(ids.end(), out.tokens.begin(), out.tokens.end());
    std::string text;
    if (tokenizer_) {
        // decode_next: a llama2.c piece after BOS drops its leading space, as run.c prints it.
        for (std::size_t i = 1; i < ids.size(); ++i)
            text += tokenizer_->decode_next(ids[i - 1], ids[i]);
        return text;
    }
    for (std::size_t i = 1; i < ids.size(); ++i)
        text += std::to_string(ids[i]) + " ";
    return text;
}

std::string Trainer::save_checkpoint() {
    const std::string path = (fs::path(settings_.out_dir) / checkpoint_name(step_)).string();
    // The log rows up to this step reach the disk first: a resume from this checkpoint finds them.
    if (log_)
        log_->sync();
    io::TrainingState state;
    state.step = step_;
    state.rng_state = rng_.state();
    state.data_position = position_to_json(train_->position());
    state.tokenizer = tokenizer_id_;
    state.metadata["train_config"] = settings_.to_json();
    io::save_checkpoint(path, *model_, optimizer_.get(), state);
    last_checkpoint_ = path;
    return path;
}

void Trainer::log_row(const StepResult& r, std::optional<double> val_loss) {
    char buf[256];
    if (log_->jsonl()) {
        Json j;
        j["step"] = r.step;
        j["loss"] = r.loss;
        if (val_loss)
            j["val_loss"] = *val_loss;
        j["lr"] = r.lr;
        j["grad_norm"] = r.grad_norm;
        j["tokens_per_s"] = r.tokens_per_second;
        log_->append(j.dump() + "\n");
    } else {
        // %.9g round-trips a float exactly: logs of two runs can be compared bit for bit.
        std::string val = val_loss ? (std::snprintf(buf, sizeof buf, "%.9g", *val_loss), buf) : "";
        std::snprintf(buf, sizeof buf, "%lld,%.9g,%s,%.9g,%.9g,%.1f\n", (long long)r.step, r.loss,
                      val.c_str(), r.lr, r.grad_norm, r.tokens_per_second);
        log_->append(buf);
    }
}

void Trainer::run(bool progress) {
    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    const std::int64_t first = step_, total = settings_.steps;
    open_outputs();
    if (!leftovers_.empty())
        std::printf("removed %zu temporary file%s left by a stopped run in %s\n", leftovers_.size(),
                    leftovers_.size() == 1 ? "" : "s", settings_.out_dir.c_str());
    // Without --threads each step runs on the whole team or on one thread, whichever the
    // chooser measures faster: "up to", rather than claim the team.
    const std::string threads =
        step_threads_.choosing()
            ? "up to " + std::to_string(step_threads_.team()) + " threads"
            : std::to_string(num_threads()) + (num_threads() == 1 ? " thread" : " threads");
    std::printf("training %lld parameters, %s: steps %lld..%lld of batch %lld x %lld "
                "tokens%s\n",
                (long long)model_->num_parameters(), threads.c_str(), (long long)first + 1,
                (long long)total, (long long)settings_.batch_size,
                (long long)settings_.model.block_size,
                settings_.grad_accum > 1
                    ? (" x " + std::to_string(settings_.grad_accum) + " micro-batches").c_str()
                    : "");
    if (first == 0 && !settings_.init.empty())
        std::printf("starting from the weights of %s (a new run: step 0, fresh AdamW)\n",
                    settings_.init.c_str());
    std::optional<double> last_val;
    // The status line: a bar with the elapsed time and ETA, erased before any line of stdout is
    // printed (on a terminal both go to the same screen) and drawn again after it.
    examples::ProgressBar bar("train", std::uint64_t(total - first),
                              progress ? examples::Progress::always : examples::Progress::never,
                              "steps");
    while (step_ < total) {
        const StepResult r = step();
        std::optional<double> val;
        if ((settings_.eval_every > 0 && step_ % settings_.eval_every == 0) || step_ == total)
            last_val = val = evaluate();
        log_row(r, val);
        const double elapsed = std::chrono::duration<double>(clock::now() - start).count();
        char note[96];
        std::snprintf(note, sizeof note, "loss %.4f, val %s, %.0f tok/s", r.loss,
                      last_val ? std::to_string(*last_val).substr(0, 6).c_str() : "-",
                      r.tokens_per_second);
        const bool prints =
            val || (settings_.sample_every > 0 && step_ % settings_.sample_every == 0) ||
            (settings_.checkpoint_every > 0 && step_ % settings_.checkpoint_every == 0) ||
            step_ == total;
        if (prints)
            bar.clear();
        if (val)
            std::printf("step %lld: train loss %.4f, val loss %.4f, %.0f tok/s, elapsed %s\n",
                        (long long)step_, r.loss, *val, r.tokens_per_second,
                        examples::format_duration(elapsed).c_str());
        if (settings_.sample_every > 0 && step_ % settings_.sample_every == 0)
            std::printf("%s\n", flags::wrap("sample at step " + std::to_string(step_) + ": " +
                                                sample(settings_.sample_tokens),
                                            flags::columns, 2)
                                    .c_str());
        if ((settings_.checkpoint_every > 0 && step_ % settings_.checkpoint_every == 0) ||
            step_ == total)
            std::printf("checkpoint: %s\n", save_checkpoint().c_str());
        std::fflush(stdout);
        bar.update(std::uint64_t(step_ - first), note);
    }
    bar.finish();
}

} // namespace ouro::train
