// E6: how does collapse change as training goes on (COLLAPSE.md, mechanism 5)? Every checkpoint
// of one run is scored the same way: the validation loss (teacher-forced mean NLL on held-out
// human stories packed into block_size streams, as the trainer's val loss), rep/128 (Welleck et
// al. 2020: how often the teacher-forced argmax prediction repeats one of the previous 128
// tokens; the MLE objective over-predicts repeats), and greedy samples' seq-rep-4, Holtzman %
// and mean loop onset. A falling loss with a rising repetition says that better likelihood alone
// does not cure the loops.
#include "experiments.hpp"

#include <ouro/core/error.hpp>
#include <ouro/gen/concurrent.hpp>
#include <ouro/io/checkpoint.hpp>
#include <ouro/lab/next_token_repetition.hpp>
#include <ouro/lab/table.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>

namespace collapse {

namespace gen = ouro::gen;
namespace olab = ouro::lab;
using olab::fmt;

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

// The first field in which two configs differ, or "".
std::string config_difference(const ouro::nn::GPTConfig& a, const ouro::nn::GPTConfig& b) {
    auto num = [](const char* name, std::int64_t x, std::int64_t y) {
        return x == y ? std::string()
                      : std::string(name) + " " + std::to_string(x) + " vs " + std::to_string(y);
    };
    for (const std::string& d :
         {num("vocab_size", a.vocab_size, b.vocab_size),
          num("block_size", a.block_size, b.block_size), num("n_layer", a.n_layer, b.n_layer),
          num("n_head", a.n_head, b.n_head), num("n_embd", a.n_embd, b.n_embd)})
        if (!d.empty())
            return d;
    if (a.position != b.position)
        return std::string("position ") + ouro::nn::to_string(a.position) + " vs " +
               ouro::nn::to_string(b.position);
    if (a.bias != b.bias)
        return std::string("bias ") + (a.bias ? "on" : "off") + " vs " + (b.bias ? "on" : "off");
    return "";
}

// Held-out stories packed into streams of `length` tokens (a story cut where a stream ends).
std::vector<std::vector<std::int32_t>> pack(const std::vector<std::vector<std::int32_t>>& stories,
                                            std::int64_t count, std::int64_t length) {
    std::vector<std::vector<std::int32_t>> streams;
    std::vector<std::int32_t> cur;
    for (const auto& s : stories) {
        if (std::int64_t(streams.size()) == count)
            break;
        cur.insert(cur.end(), s.begin(), s.end());
        if (std::int64_t(cur.size()) >= length) {
            cur.resize(std::size_t(length));
            streams.push_back(std::move(cur));
            cur.clear();
        }
    }
    return streams;
}

// Opens every checkpoint first, so that a wrong file fails before any work; the configs.
std::vector<ouro::nn::GPTConfig> check_checkpoints(const Lab& lab,
                                                   const std::vector<fs::path>& checkpoints) {
    if (checkpoints.empty())
        throw ouro::ConfigError("E6 needs checkpoints: pass --checkpoints FILE... or a folder");
    std::vector<ouro::nn::GPTConfig> configs;
    for (const fs::path& c : checkpoints)
        configs.push_back(ouro::io::Checkpoint::read(c.string()).config);
    for (std::size_t i = 1; i < checkpoints.size(); ++i) {
        const std::string d = config_difference(configs[i], configs[0]);
        if (!d.empty())
            throw ouro::ConfigError("E6: " + checkpoints[i].string() + " is not from the run of " +
                                    checkpoints[0].string() + " (" + d +
                                    "); E6 compares the checkpoints of one run");
    }
    if (configs[0].vocab_size != lab.config().vocab_size)
        throw ouro::ConfigError("E6: " + checkpoints[0].string() + " has a vocabulary of " +
                                std::to_string(configs[0].vocab_size) +
                                " tokens, the lab's model " +
                                std::to_string(lab.config().vocab_size) +
                                " (E6 uses the lab's tokenizer for every checkpoint)");
    return configs;
}

// Validation loss and next-token repetition of one model on the streams (stop: the streams are
// block_size long).
void teacher_forced(const Lab& m, const std::vector<std::vector<std::int32_t>>& streams,
                    E6Checkpoint& res) {
    gen::ContextOptions ctx;
    const auto scores =
        olab::teacher_force(m.model(), streams, ctx, m.eot(), std::int64_t(streams.size()));
    double nll = 0;
    std::int64_t count = 0;
    std::vector<std::vector<std::int32_t>> predictions, targets;
    for (std::size_t i = 0; i < scores.size(); ++i) {
        std::vector<std::int32_t> pred, target;
        for (std::size_t t = 0; t < scores[i].size(); ++t) {
            nll += scores[i][t].nll;
            ++count;
            pred.push_back(scores[i][t].argmax);
            target.push_back(streams[i][t + 1]);
        }
        predictions.push_back(std::move(pred));
        targets.push_back(std::move(target));
    }
    res.val_loss = count ? nll / double(count) : nan;
    const olab::NextTokenRepetition rep =
        olab::next_token_repetition(std::span(predictions), std::span(targets), 128);
    res.rep128 = rep.rep();
    res.wrep128 = rep.wrep();
    res.human_rep128 = rep.human_rep();
}

} // namespace

E6Result measure_e6(Lab& lab, const std::vector<fs::path>& checkpoints) {
    const std::vector<ouro::nn::GPTConfig> configs = check_checkpoints(lab, checkpoints);
    const LabSettings& settings = lab.settings();
    E6Result r;
    r.block_size = configs[0].block_size;
    const std::int64_t T = r.block_size;
    const auto streams = pack(lab.human_stories(), settings.quick ? 8 : 32, T);
    DecodeRequest request;
    request.max_new_tokens = settings.quick ? std::min<std::int64_t>(settings.max_new_tokens, 128)
                                            : settings.max_new_tokens;
    request.seed = settings.seed;
    r.streams = streams.size();
    r.prompts = lab.prompts().size();
    r.max_new_tokens = request.max_new_tokens;
    const std::uint64_t per_ckpt =
        std::uint64_t(lab.prompts().size()) * std::uint64_t(request.max_new_tokens) +
        std::uint64_t(streams.size()) * std::uint64_t(T);
    ouro::examples::ProgressBar bar =
        progress_bar(lab, "e6 checkpoints", per_ckpt * std::uint64_t(checkpoints.size()));
    std::uint64_t done = 0;
    // Every checkpoint is loaded first, with the lab's tokenizer (load_model_bundle checks that
    // they belong together) and the lab's prompts; then every checkpoint's greedy samples and
    // teacher forcing run side by side (gen::run_concurrently), the samples (the longer) first.
    std::vector<std::unique_ptr<Lab>> models;
    r.checkpoints.resize(checkpoints.size());
    for (std::size_t i = 0; i < checkpoints.size(); ++i) {
        LabSettings s = settings;
        s.checkpoint = checkpoints[i];
        s.tokenizer = lab.bundle().tokenizer_dir;
        s.prompts = lab.prompt_texts();
        models.push_back(std::make_unique<Lab>(s));
        E6Checkpoint& res = r.checkpoints[i];
        res.path = checkpoints[i];
        res.step = models.back()->bundle().state.step;
        res.val_loss = res.rep128 = res.wrep128 = res.human_rep128 = nan;
    }
    std::vector<std::function<void()>> samples, forced;
    for (std::size_t i = 0; i < checkpoints.size(); ++i) {
        Lab& m = *models[i];
        E6Checkpoint& res = r.checkpoints[i];
        samples.push_back([&m, &res, &request, &bar, &done] {
            DecodeRequest req = request;
            req.context = m.long_context();
            res.greedy = measure(decode(m, find_decoder("greedy"), req, &bar, &done));
        });
        if (!streams.empty())
            forced.push_back([&m, &res, &streams, &bar, &done, T] {
                teacher_forced(m, streams, res);
                advance(bar, done, std::uint64_t(streams.size()) * std::uint64_t(T));
            });
    }
    samples.insert(samples.end(), forced.begin(), forced.end());
    gen::run_concurrently(samples);
    bar.finish();
    std::stable_sort(r.checkpoints.begin(), r.checkpoints.end(),
                     [](const E6Checkpoint& a, const E6Checkpoint& b) { return a.step < b.step; });
    return r;
}

} // namespace collapse
