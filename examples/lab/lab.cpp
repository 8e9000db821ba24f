// The lab's shared parts: loading, prompts, decoding with any decoder, the sample metrics, and
// printing / writing an experiment's result.
#include "lab.hpp"

#include "common/text_width.hpp"

#include <ouro/core/error.hpp>
#include <ouro/data/tinystories.hpp>
#include <ouro/gen/concurrent.hpp>
#include <ouro/lab/bleu.hpp>
#include <ouro/lab/diversity.hpp>
#include <ouro/lab/loops.hpp>
#include <ouro/lab/repetition.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <functional>
#include <iostream>
#include <limits>
#include <mutex>

namespace collapse {

namespace {
// The progress bars' updates from decodes that run side by side.
std::mutex progress_mutex;
} // namespace

using ouro::ConfigError;
namespace gen = ouro::gen;
namespace olab = ouro::lab;

std::vector<std::string> default_prompts() {
    return {
        "Once upon a time there was a prince who lived in a big castle.",
        "One day, a little girl named Lily found a shiny red ball in the park.",
        "Tom and his dog Max liked to play in the garden.",
        "Once upon a time, there was a little bird who could not fly.",
        "Sam had a big box of toys. He did not want to share them with his sister.",
        "It was a rainy day, and Mia was sad because she could not go outside.",
        "There was a small boat on a big lake.",
        "Ben wanted to bake a cake for his mom.",
    };
}

Lab::Lab(LabSettings settings)
    : settings_(std::move(settings)),
      bundle_(ouro::io::load_model_bundle(settings_.checkpoint,
                                          settings_.tokenizer.empty()
                                              ? ouro::io::find_tokenizer(settings_.checkpoint)
                                              : settings_.tokenizer)) {
    if (settings_.samples_per_prompt < 1)
        throw ConfigError("--samples must be at least 1, got " +
                          std::to_string(settings_.samples_per_prompt));
    if (settings_.max_new_tokens < 1)
        throw ConfigError("--max-new-tokens must be at least 1, got " +
                          std::to_string(settings_.max_new_tokens));
    eot_ = bundle_.tokenizer.story_separator();
    prompt_texts_ = settings_.prompts.empty() ? default_prompts() : settings_.prompts;
    for (std::size_t i = 0; i < prompt_texts_.size(); ++i) {
        const std::string& p = prompt_texts_[i];
        if (p.find_first_not_of(" \t\r\n") == std::string::npos)
            throw ConfigError("prompt " + std::to_string(i) +
                              " is empty (give the beginning of a story)");
        std::vector<std::int32_t> tokens{eot_};
        const std::vector<std::int32_t> body = bundle_.tokenizer.encode(p);
        tokens.insert(tokens.end(), body.begin(), body.end());
        if (std::int64_t(tokens.size()) >= bundle_.config.block_size)
            throw ConfigError("prompt " + std::to_string(i) + " has " +
                              std::to_string(tokens.size()) + " tokens; the model's context is " +
                              std::to_string(bundle_.config.block_size));
        prompts_.push_back(std::move(tokens));
    }
    if (prompts_.empty())
        throw ConfigError("no prompts");
}

namespace {

std::vector<std::vector<std::int32_t>> encode_stories(const ouro::data::Tokenizer& tok,
                                                      std::int32_t eot, const fs::path& path,
                                                      const char* flag,
                                                      ouro::examples::Progress progress) {
    if (path.empty())
        return {};
    if (!fs::exists(path))
        throw ouro::IoError(std::string(flag) + " " + path.string() + " does not exist");
    const std::vector<std::string> stories = ouro::data::read_stories(path);
    std::uint64_t bytes = 0;
    for (const std::string& story : stories)
        bytes += story.size();
    ouro::examples::ProgressBar bar("encoding " + path.filename().string(), bytes, progress);
    const std::vector<std::vector<std::int32_t>> encoded = tok.encode_corpus(
        stories, {.on_progress = [&](std::uint64_t done, std::uint64_t) { bar.update(done); }});
    bar.finish();
    std::vector<std::vector<std::int32_t>> out;
    out.reserve(encoded.size());
    for (const auto& e : encoded) {
        std::vector<std::int32_t> s{eot};
        s.insert(s.end(), e.begin(), e.end());
        out.push_back(std::move(s));
    }
    return out;
}

} // namespace

const std::vector<std::vector<std::int32_t>>& Lab::human_stories() {
    if (!human_)
        human_ = encode_stories(bundle_.tokenizer, eot_, settings_.valid_text, "--valid",
                                settings_.progress);
    return *human_;
}

const std::vector<std::vector<std::int32_t>>&
Lab::require_human_stories(const std::string& experiment) {
    if (human_stories().empty())
        throw ConfigError(experiment + " needs held-out human text: pass --valid FILE (e.g. "
                                       "TinyStories valid.txt)");
    return *human_;
}

const std::vector<std::vector<std::int32_t>>& Lab::train_stories() {
    if (!train_)
        train_ = encode_stories(bundle_.tokenizer, eot_, settings_.train_text, "--train",
                                settings_.progress);
    return *train_;
}

std::string Lab::text(std::span<const std::int32_t> tokens) const {
    return bundle_.tokenizer.decode(tokens);
}

std::string Lab::token_text(std::int32_t token) const {
    return bundle_.tokenizer.token(token);
}

gen::ContextOptions Lab::long_context() const {
    gen::ContextOptions c;
    c.policy =
        gen::can_slide(bundle_.config) ? gen::ContextPolicy::slide : gen::ContextPolicy::crop;
    return c;
}

void emit(const ExperimentResult& r, const fs::path& out_dir) {
    fs::create_directories(out_dir);
    // Within a 100-column terminal: wide tables in column groups, text wrapped at spaces.
    std::printf("\n%s\n%s\n\n%s\n",
                flags::wrap("== " + r.id + ": " + r.title, flags::columns, 4).c_str(),
                flags::wrap(r.method, flags::columns).c_str(),
                r.table.to_text(olab::terminal_width).c_str());
    for (const std::string& f : r.findings)
        std::printf("%s\n", flags::wrap("  * " + f, flags::columns, 2).c_str());
    olab::write_csv(out_dir / (r.id + ".csv"), r.table);
    for (std::size_t k = 0; k < r.plots.size(); ++k)
        olab::write_svg(out_dir / (r.id + "-" + std::to_string(k + 1) + ".svg"), r.plots[k]);
    std::fflush(stdout);
}

// ---------------------------------------------------------------------------------------------

std::vector<Decoder> standard_decoders() {
    auto chain = [](std::string name, auto&& set) {
        gen::SamplerSettings s;
        set(s);
        return Decoder::chain(std::move(name), s);
    };
    return {
        chain("greedy", [](gen::SamplerSettings& s) { s.greedy = true; }),
        Decoder::beam("beam 4", 4),
        chain("T=1", [](gen::SamplerSettings&) {}),
        chain("top-k 40", [](gen::SamplerSettings& s) { s.top_k = 40; }),
        chain("top-p 0.95", [](gen::SamplerSettings& s) { s.top_p = 0.95; }),
        chain("min-p 0.05", [](gen::SamplerSettings& s) { s.min_p = 0.05; }),
        chain("typical 0.95", [](gen::SamplerSettings& s) { s.typical = 0.95; }),
        chain("eta 3e-4", [](gen::SamplerSettings& s) { s.eta = 3e-4; }),
        chain("mirostat v2", [](gen::SamplerSettings& s) { s.mirostat = true; }),
        Decoder::contrastive("contrastive", 4, 0.6),
    };
}

ouro::examples::ProgressBar progress_bar(const Lab& lab, const std::string& label,
                                         std::uint64_t total) {
    return ouro::examples::ProgressBar(label, total, lab.progress(), "tokens");
}

void run_side_by_side(Lab& lab, const std::string& label, const std::vector<NamedPiece>& pieces) {
    const ouro::examples::Progress mode = lab.progress();
    lab.set_progress(ouro::examples::Progress::never);
    ouro::examples::ProgressBar bar(label, pieces.size(), mode, "parts");
    std::mutex bar_mutex;
    std::uint64_t done = 0;
    std::vector<double> took(pieces.size(), 0.0);
    std::vector<std::function<void()>> runs;
    for (std::size_t i = 0; i < pieces.size(); ++i)
        runs.push_back([&, i] {
            const auto start = std::chrono::steady_clock::now();
            pieces[i].run();
            took[i] =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            const std::lock_guard lock(bar_mutex);
            bar.update(++done);
        });
    const auto wall = std::chrono::steady_clock::now();
    const std::clock_t cpu = std::clock();
    try {
        gen::run_concurrently(runs);
    } catch (...) {
        lab.set_progress(mode);
        throw;
    }
    lab.set_progress(mode);
    bar.finish();
    // Timings on stderr only: stdout holds numbers that repeat from run to run.
    std::fprintf(stderr, "%s took %.1f s (CPU %.1f s)\n", label.c_str(),
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - wall).count(),
                 double(std::clock() - cpu) / CLOCKS_PER_SEC);
    for (std::size_t i = 0; i < pieces.size(); ++i)
        std::fprintf(stderr, "  %s: %.1f s from its start to its end\n", pieces[i].name.c_str(),
                     took[i]);
}

void advance(ouro::examples::ProgressBar& bar, std::uint64_t& done, std::uint64_t by) {
    const std::lock_guard lock(progress_mutex);
    done += by;
    bar.update(done);
}

DecodedSet decode(Lab& lab, const Decoder& decoder, const DecodeRequest& request,
                  ouro::examples::ProgressBar* progress, std::uint64_t* progress_done) {
    gen::DecodeOptions options;
    options.max_new_tokens = request.max_new_tokens;
    options.context = request.context;
    options.end_token = lab.eot();
    options.end_of_text = request.end_of_text;
    options.samples_per_prompt = request.samples_per_prompt;
    options.seed = request.seed;
    options.on_token = [&](const gen::TraceRecord&) {
        if (!progress || !progress_done)
            return;
        // Decodes that run side by side (decode_all) share the bar.
        const std::lock_guard lock(progress_mutex);
        progress->update(++*progress_done);
    };
    std::vector<gen::DecodedSequence> out =
        gen::decode(lab.model(), decoder, lab.prompts(), options);
    DecodedSet set;
    set.decoder = decoder.name;
    for (gen::DecodedSequence& s : out) {
        std::vector<double> prob, entropy, p_end, p_max;
        std::vector<std::vector<std::pair<std::int32_t, double>>> top5;
        for (gen::TraceRecord& r : s.trace) {
            prob.push_back(r.decision.prob_raw);
            entropy.push_back(r.decision.entropy_raw);
            p_end.push_back(r.p_end);
            p_max.push_back(r.decision.p_max_raw);
            top5.push_back(std::move(r.decision.top_raw));
        }
        set.samples.push_back(std::move(s.tokens));
        set.prompt_index.push_back(s.prompt_index);
        set.prob.push_back(std::move(prob));
        set.entropy.push_back(std::move(entropy));
        set.p_end.push_back(std::move(p_end));
        set.p_max.push_back(std::move(p_max));
        set.top5.push_back(std::move(top5));
    }
    return set;
}

std::vector<DecodedSet> decode_all(Lab& lab, const std::vector<Decoder>& decoders,
                                   const DecodeRequest& request,
                                   ouro::examples::ProgressBar* progress,
                                   std::uint64_t* progress_done) {
    std::vector<DecodedSet> sets(decoders.size());
    std::vector<std::function<void()>> pieces;
    for (std::size_t i = 0; i < decoders.size(); ++i)
        pieces.push_back(
            [&, i] { sets[i] = decode(lab, decoders[i], request, progress, progress_done); });
    gen::run_concurrently(pieces);
    return sets;
}

DecodeRequest sweep_request(const Lab& lab, std::int64_t quick_tokens) {
    const LabSettings& settings = lab.settings();
    DecodeRequest request;
    request.max_new_tokens = settings.quick
                                 ? std::min<std::int64_t>(settings.max_new_tokens, quick_tokens)
                                 : settings.max_new_tokens;
    request.end_of_text = gen::EndOfText::ignore;
    request.context = lab.long_context();
    request.samples_per_prompt = settings.samples_per_prompt;
    request.seed = settings.seed;
    return request;
}

std::vector<SampleMetrics> measure_decoders(Lab& lab, const std::vector<Decoder>& decoders,
                                            const DecodeRequest& request,
                                            const std::string& label) {
    std::uint64_t total = 0;
    for (const Decoder& d : decoders)
        total += std::uint64_t(lab.prompts().size()) *
                 std::uint64_t(d.samples() ? request.samples_per_prompt : 1) *
                 std::uint64_t(request.max_new_tokens);
    ouro::examples::ProgressBar bar = progress_bar(lab, label, total);
    std::uint64_t done = 0;
    // Each decoder's samples measured beside the others' decoding (gen::run_concurrently). The
    // searches first: they cost the most (E1 --quick on one thread, CPU s: contrastive 5.0, beam
    // 4 4.0, each chain 0.8-1.0), and the first pieces start first.
    std::vector<SampleMetrics> out(decoders.size());
    std::vector<std::function<void()>> searches, chains;
    for (std::size_t i = 0; i < decoders.size(); ++i)
        (decoders[i].kind == Decoder::Kind::chain ? chains : searches).push_back([&, i] {
            out[i] = measure(decode(lab, decoders[i], request, &bar, &done));
        });
    searches.insert(searches.end(), chains.begin(), chains.end());
    gen::run_concurrently(searches);
    bar.finish();
    return out;
}

SampleMetrics measure(const DecodedSet& set) {
    SampleMetrics m;
    const auto& s = set.samples;
    m.rep2 = olab::rep_n(std::span(s), 2);
    m.rep3 = olab::rep_n(std::span(s), 3);
    m.rep4 = olab::rep_n(std::span(s), 4);
    m.diversity = olab::diversity(std::span(s));
    double seq = 0, seq_last = 0;
    std::int64_t loops = 0;
    double onset_sum = 0;
    for (const auto& x : s) {
        m.seq_rep4_each.push_back(olab::seq_rep_n(x, 4));
        m.holtzman_each.push_back(olab::holtzman_repetition(x).repeating ? 1 : 0);
        seq += m.seq_rep4_each.back();
        seq_last += olab::seq_rep_n(x, 4, 200);
        if (const auto loop = olab::find_loop(x, 3)) {
            ++loops;
            onset_sum += double(loop->onset);
        }
    }
    const double n = double(s.size());
    m.seq_rep4 = seq / n;
    m.seq_rep4_last200 = seq_last / n;
    m.holtzman_percent = olab::holtzman_repetition_percent(std::span(s));
    m.distinct1 = olab::distinct_n(std::span(s), 1);
    m.distinct2 = olab::distinct_n(std::span(s), 2);
    m.zipf = olab::zipf_coefficient(std::span(s)).coefficient;
    m.self_bleu4 =
        s.size() >= 2 ? olab::self_bleu(std::span(s)) : std::numeric_limits<double>::quiet_NaN();
    double nll = 0, ent = 0;
    std::int64_t count = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        double own = 0;
        for (std::size_t t = 0; t < set.prob[i].size(); ++t) {
            const double x = -std::log(std::max(set.prob[i][t], 1e-300));
            nll += x;
            own += x;
            ent += set.entropy[i][t];
            ++count;
        }
        m.nll_each.push_back(set.prob[i].empty() ? std::numeric_limits<double>::quiet_NaN()
                                                 : own / double(set.prob[i].size()));
    }
    m.nll = count ? nll / double(count) : std::numeric_limits<double>::quiet_NaN();
    m.entropy = count ? ent / double(count) : std::numeric_limits<double>::quiet_NaN();
    m.loop_percent = 100.0 * double(loops) / n;
    m.mean_loop_onset =
        loops ? onset_sum / double(loops) : std::numeric_limits<double>::quiet_NaN();
    return m;
}

olab::Interval SampleMetrics::holtzman_interval() const {
    std::int64_t loops = 0;
    for (const std::uint8_t h : holtzman_each)
        loops += h;
    return olab::wilson_interval(loops, std::int64_t(holtzman_each.size()));
}

// The estimates are the table's (nll is token-weighted); the ends are over the samples.
olab::Interval SampleMetrics::seq_rep4_interval() const {
    const olab::Interval i = olab::mean_interval(seq_rep4_each, 0.0, 1.0);
    return {seq_rep4, i.lo, i.hi};
}

olab::Interval SampleMetrics::nll_interval() const {
    const olab::Interval i = olab::mean_interval(nll_each, 0.0);
    return {nll, i.lo, i.hi};
}

std::vector<std::string> metrics_columns() {
    return {"decoder",    "rep-2",     "rep-3",      "rep-4",      "diversity",
            "seq-rep-4",  "holtzman%", "loop%",      "loop-onset", "distinct-1",
            "distinct-2", "zipf",      "self-bleu4", "nll",        "entropy"};
}

std::vector<std::string> metrics_row(const std::string& name, const SampleMetrics& m) {
    using olab::fmt;
    return {name,
            fmt(m.rep2, 1),
            fmt(m.rep3, 1),
            fmt(m.rep4, 1),
            fmt(m.diversity),
            fmt(m.seq_rep4),
            fmt(m.holtzman_percent, 1),
            fmt(m.loop_percent, 1),
            fmt(m.mean_loop_onset, 1),
            fmt(m.distinct1),
            fmt(m.distinct2),
            fmt(m.zipf, 2),
            fmt(m.self_bleu4),
            fmt(m.nll),
            fmt(m.entropy)};
}

} // namespace collapse
