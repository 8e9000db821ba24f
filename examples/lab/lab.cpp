// The lab's shared parts: loading, prompts, decoding with any decoder, the sample metrics, and
// printing / writing an experiment's result.
#include "lab.hpp"

#include <ouro/core/error.hpp>
#include <ouro/data/tinystories.hpp>
#include <ouro/lab/bleu.hpp>
#include <ouro/lab/diversity.hpp>
#include <ouro/lab/loops.hpp>
#include <ouro/lab/repetition.hpp>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>

namespace collapse {

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
                                                      const char* flag) {
    if (path.empty())
        return {};
    if (!fs::exists(path))
        throw ouro::IoError(std::string(flag) + " " + path.string() + " does not exist");
    const std::vector<std::string> stories = ouro::data::read_stories(path);
    const std::vector<std::vector<std::int32_t>> encoded = tok.encode_corpus(stories);
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
        human_ = encode_stories(bundle_.tokenizer, eot_, settings_.valid_text, "--valid");
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
        train_ = encode_stories(bundle_.tokenizer, eot_, settings_.train_text, "--train");
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
    c.policy = bundle_.config.position == ouro::nn::PositionEncoding::learned
                   ? gen::ContextPolicy::crop
                   : gen::ContextPolicy::slide;
    return c;
}

void emit(const ExperimentResult& r, const fs::path& out_dir) {
    fs::create_directories(out_dir);
    std::printf("\n== %s: %s\n%s\n\n%s\n", r.id.c_str(), r.title.c_str(), r.method.c_str(),
                r.table.to_text().c_str());
    for (const std::string& f : r.findings)
        std::printf("  * %s\n", f.c_str());
    olab::write_csv(out_dir / (r.id + ".csv"), r.table);
    for (std::size_t k = 0; k < r.plots.size(); ++k)
        olab::write_svg(out_dir / (r.id + "-" + std::to_string(k + 1) + ".svg"), r.plots[k]);
    std::fflush(stdout);
}

// ---------------------------------------------------------------------------------------------

bool Decoder::samples() const {
    if (kind != Kind::chain)
        return false;
    return !(settings.greedy || settings.temperature == 0.0);
}

std::vector<Decoder> standard_decoders() {
    std::vector<Decoder> d;
    auto chain = [&](std::string name, auto&& set) {
        Decoder x;
        x.name = std::move(name);
        set(x.settings);
        d.push_back(std::move(x));
    };
    chain("greedy", [](gen::SamplerSettings& s) { s.greedy = true; });
    Decoder beam;
    beam.name = "beam 4";
    beam.kind = Decoder::Kind::beam;
    d.push_back(beam);
    chain("T=1", [](gen::SamplerSettings&) {});
    chain("top-k 40", [](gen::SamplerSettings& s) { s.top_k = 40; });
    chain("top-p 0.95", [](gen::SamplerSettings& s) { s.top_p = 0.95; });
    chain("min-p 0.05", [](gen::SamplerSettings& s) { s.min_p = 0.05; });
    chain("typical 0.95", [](gen::SamplerSettings& s) { s.typical = 0.95; });
    chain("eta 3e-4", [](gen::SamplerSettings& s) { s.eta = 3e-4; });
    chain("mirostat v2", [](gen::SamplerSettings& s) { s.mirostat = true; });
    Decoder contrastive;
    contrastive.name = "contrastive";
    contrastive.kind = Decoder::Kind::contrastive;
    d.push_back(contrastive);
    return d;
}

ouro::examples::ProgressBar progress_bar(const Lab& lab, const std::string& label,
                                         std::uint64_t total) {
    return ouro::examples::ProgressBar(label, total, lab.progress(), "tokens");
}

namespace {

void append_trace(DecodedSet& set, const gen::GeneratedSequence& seq) {
    std::vector<double> prob, entropy, p_end, p_max;
    std::vector<std::vector<std::pair<std::int32_t, double>>> top5;
    prob.reserve(seq.trace.size());
    for (const gen::TraceRecord& r : seq.trace) {
        top5.push_back(r.decision.top5_raw);
        prob.push_back(r.decision.prob_raw);
        entropy.push_back(r.decision.entropy_raw);
        p_end.push_back(r.p_end);
        p_max.push_back(r.decision.p_max_raw);
    }
    set.samples.push_back(seq.tokens);
    set.prob.push_back(std::move(prob));
    set.entropy.push_back(std::move(entropy));
    set.p_end.push_back(std::move(p_end));
    set.p_max.push_back(std::move(p_max));
    set.top5.push_back(std::move(top5));
}

} // namespace

DecodedSet decode(Lab& lab, const Decoder& decoder, const DecodeRequest& request,
                  ouro::examples::ProgressBar* progress, std::uint64_t* progress_done) {
    DecodedSet set;
    set.decoder = decoder.name;
    const auto& prompts = lab.prompts();
    const std::int64_t copies = decoder.samples() ? request.samples_per_prompt : 1;
    auto advance = [&](std::uint64_t n) {
        if (progress && progress_done) {
            *progress_done += n;
            progress->update(*progress_done);
        }
    };
    if (decoder.kind == Decoder::Kind::chain) {
        std::vector<std::vector<std::int32_t>> batch;
        for (std::int64_t c = 0; c < copies; ++c)
            for (std::size_t p = 0; p < prompts.size(); ++p) {
                batch.push_back(prompts[p]);
                set.prompt_index.push_back(std::int64_t(p));
            }
        std::vector<gen::SamplerChain> chains;
        for (std::size_t i = 0; i < batch.size(); ++i)
            chains.push_back(gen::SamplerChain::from_settings(decoder.settings, decoder.order));
        gen::GenerateOptions opt;
        opt.max_new_tokens = request.max_new_tokens;
        opt.context = request.context;
        opt.end_token = lab.eot();
        opt.end_of_text = request.end_of_text;
        opt.seed = request.seed;
        opt.on_token = [&](const gen::TraceRecord&) { advance(1); };
        gen::InferenceSession session(
            lab.model(),
            gen::session_options(lab.config(), request.context, std::int64_t(batch.size())));
        const std::vector<gen::GeneratedSequence> out =
            gen::generate(session, std::span(chains), batch, opt);
        for (const gen::GeneratedSequence& s : out)
            append_trace(set, s);
        return set;
    }
    if (decoder.kind == Decoder::Kind::contrastive) {
        gen::ContrastiveOptions opt;
        opt.top_k = decoder.top_k;
        opt.alpha = decoder.alpha;
        opt.max_new_tokens = request.max_new_tokens;
        opt.context = request.context;
        // Contrastive search has no "ignore" mode: without an end token it runs on through it.
        opt.end_token = request.end_of_text == gen::EndOfText::stop ? lab.eot() : -1;
        gen::InferenceSession session(
            lab.model(), gen::session_options(lab.config(), request.context, decoder.top_k));
        for (std::size_t p = 0; p < prompts.size(); ++p) {
            const gen::GeneratedSequence s = gen::contrastive_search(session, prompts[p], opt);
            append_trace(set, s);
            set.prompt_index.push_back(std::int64_t(p));
            // p_end: the trace has it only with an end token; recompute from the scores below.
            advance(std::uint64_t(s.tokens.size()));
        }
    } else {
        gen::BeamSearchOptions opt;
        opt.beams = decoder.beams;
        opt.max_new_tokens = request.max_new_tokens;
        opt.context = request.context;
        opt.end_token = request.end_of_text == gen::EndOfText::stop ? lab.eot() : -1;
        gen::InferenceSession session(
            lab.model(), gen::session_options(lab.config(), request.context, decoder.beams));
        for (std::size_t p = 0; p < prompts.size(); ++p) {
            std::vector<gen::BeamHypothesis> hyp = gen::beam_search(session, prompts[p], opt);
            set.samples.push_back(std::move(hyp.front().tokens));
            set.prompt_index.push_back(std::int64_t(p));
            advance(std::uint64_t(set.samples.back().size()));
        }
    }
    // Beam and contrastive samples: score the tokens by teacher forcing (prompt + sample), so
    // prob, entropy and p_end mean the same for every decoder.
    std::vector<std::vector<std::int32_t>> texts;
    for (std::size_t i = 0; i < set.samples.size(); ++i) {
        std::vector<std::int32_t> t = prompts[std::size_t(set.prompt_index[i])];
        t.insert(t.end(), set.samples[i].begin(), set.samples[i].end());
        texts.push_back(std::move(t));
    }
    gen::InferenceSession session(lab.model(), gen::session_options(lab.config(), request.context,
                                                                    std::int64_t(texts.size())));
    const auto scores = olab::teacher_force(session, texts, request.context, lab.eot());
    set.prob.assign(texts.size(), {});
    set.entropy.assign(texts.size(), {});
    set.p_end.assign(texts.size(), {});
    set.p_max.assign(texts.size(), {});
    for (std::size_t i = 0; i < texts.size(); ++i) {
        const std::size_t skip = prompts[std::size_t(set.prompt_index[i])].size() - 1;
        for (std::size_t t = skip; t < scores[i].size(); ++t) {
            set.prob[i].push_back(scores[i][t].prob);
            set.entropy[i].push_back(scores[i][t].entropy);
            set.p_end[i].push_back(scores[i][t].p_end);
            set.p_max[i].push_back(scores[i][t].p_max);
        }
    }
    return set;
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
    std::vector<SampleMetrics> out;
    for (const Decoder& d : decoders)
        out.push_back(measure(decode(lab, d, request, &bar, &done)));
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
        seq += olab::seq_rep_n(x, 4);
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
    for (std::size_t i = 0; i < s.size(); ++i)
        for (std::size_t t = 0; t < set.prob[i].size(); ++t) {
            nll += -std::log(std::max(set.prob[i][t], 1e-300));
            ent += set.entropy[i][t];
            ++count;
        }
    m.nll = count ? nll / double(count) : std::numeric_limits<double>::quiet_NaN();
    m.entropy = count ? ent / double(count) : std::numeric_limits<double>::quiet_NaN();
    m.loop_percent = 100.0 * double(loops) / n;
    m.mean_loop_onset =
        loops ? onset_sum / double(loops) : std::numeric_limits<double>::quiet_NaN();
    return m;
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
