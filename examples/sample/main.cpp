// sample: generates text from a trained checkpoint with any of the decoders of ouro::gen
// (COLLAPSE.md's sampler table), streaming it as it comes, optionally coloured by probability
// and with a per-token trace.
//
//   sample --checkpoint runs/xs/ckpt-002000.safetensors --prompt "Once upon a time" --top-p 0.95
//   sample --checkpoint ... --greedy --trace greedy.csv          # the loop, token by token
//   sample --checkpoint ... --beam 4                             # beam search
//   sample --checkpoint ... --contrastive --contrastive-k 4 --alpha 0.6
//
// Every prompt is preceded by <|endoftext|>, as every story is in the token shards of
// examples/prepare, so an empty prompt starts a story from scratch. Sample k (prompts in order,
// --num-samples per prompt) draws from stream k of --seed, so a sample does not depend on the
// others, and (the library guarantees it) not on --threads. The text goes to stdout, one sample
// after another with a separator line; the decoder and a one-line summary per sample go to
// stderr. Bad flags, files or settings: one line "sample: <message>" on stderr and exit code 1.
#include "token_printer.hpp"

#include <ouro/core/error.hpp>
#include <ouro/core/parallel.hpp>
#include <ouro/gen/generate.hpp>
#include <ouro/gen/sampler.hpp>
#include <ouro/gen/search.hpp>
#include <ouro/gen/trace.hpp>
#include <ouro/io/checkpoint.hpp>
#include <ouro/io/model_bundle.hpp>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace fs = std::filesystem;
using namespace ouro;

namespace {

struct Options {
    std::string checkpoint, tokenizer, prompt_file, samplers, trace, color = "auto";
    std::vector<std::string> prompts, logit_bias;
    std::int64_t num_samples = 1, max_new_tokens = 256;
    std::uint64_t seed = 1234;
    int threads = 0;
    bool half = false;
    gen::SamplerSettings sampler;
    std::int64_t beam = 0;
    double length_penalty = 1.0;
    bool contrastive = false;
    std::int64_t contrastive_k = 4;
    double alpha = 0.6;
    std::string context_policy = "stop", end_of_text = "stop";
    std::int64_t context = 0, sink_tokens = 4;
};

// The flags of the sampler chain: search decoders ignore them, so they are an error there.
// clang-format off
constexpr const char* sampling_flags[] = {
    "--greedy", "--temperature", "--top-k", "--top-p", "--min-p", "--typical", "--epsilon", "--eta",
    "--top-n-sigma", "--mirostat", "--mirostat-tau", "--mirostat-eta", "--repetition-penalty",
    "--penalty-window", "--frequency-penalty", "--presence-penalty", "--no-repeat-ngram",
    "--dry-multiplier", "--dry-base", "--dry-allowed-length", "--xtc-probability",
    "--xtc-threshold", "--logit-bias", "--samplers", "--seed"};
// clang-format on

// A double as printf's %g writes it ("0.6", "1e-05").
std::string number(double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", v);
    return text;
}

void at_least(const char* flag, std::int64_t value, std::int64_t min) {
    if (value < min)
        throw ConfigError(std::string(flag) + " must be at least " + std::to_string(min) +
                          ", got " + std::to_string(value));
}

// Flags that make no sense together, and values out of range that the library does not see.
void check_flags(const CLI::App& app, const Options& o) {
    at_least("--num-samples", o.num_samples, 1);
    at_least("--max-new-tokens", o.max_new_tokens, 0);
    if (app.count("--threads"))
        at_least("--threads", o.threads, 1);
    at_least("--context", o.context, 0);
    at_least("--sink-tokens", o.sink_tokens, 0);
    if (app.count("--sink-tokens") && o.context_policy != "sinks")
        throw ConfigError("--sink-tokens applies only to --context-policy sinks, not '" +
                          o.context_policy + "'");
    if (app.count("--beam"))
        at_least("--beam", o.beam, 1);
    if (app.count("--contrastive-k"))
        at_least("--contrastive-k", o.contrastive_k, 1);
    if (!(o.alpha >= 0.0 && o.alpha <= 1.0))
        throw ConfigError("--alpha must be in [0, 1], got " + number(o.alpha));
    if (app.count("--beam"))
        at_least("--max-new-tokens (with --beam)", o.max_new_tokens, 1);
    const bool search = app.count("--beam") || o.contrastive;
    if (search) {
        const char* decoder = app.count("--beam") ? "--beam" : "--contrastive";
        for (const char* flag : sampling_flags)
            if (app.count(flag))
                throw ConfigError(std::string(flag) + " has no effect with " + decoder +
                                  " (a search decoder is deterministic and reads the raw "
                                  "logits; sampler flags do not apply)");
        if (o.end_of_text != "stop")
            throw ConfigError(std::string("--end-of-text ") + o.end_of_text +
                              " is not available with " + decoder +
                              " (the end token ends a search)");
    }
    if (app.count("--beam") && !o.trace.empty())
        throw ConfigError("--trace is not available with --beam (beam search keeps no per-token "
                          "trace; use --greedy or --contrastive)");
    if (app.count("--beam") && o.num_samples > o.beam)
        throw ConfigError("--num-samples " + std::to_string(o.num_samples) +
                          " is more than --beam " + std::to_string(o.beam) +
                          " (it prints the best hypotheses of the beam)");
    if (o.contrastive && o.num_samples != 1)
        throw ConfigError("--num-samples " + std::to_string(o.num_samples) +
                          " with --contrastive: contrastive search is deterministic, use 1");
    if (!o.trace.empty()) {
        const std::string ext = fs::path(o.trace).extension().string();
        if (ext != ".csv" && ext != ".jsonl")
            throw ConfigError("--trace " + o.trace +
                              ": the file name must end in .csv or .jsonl (it chooses the format)");
        const fs::path folder = fs::path(o.trace).parent_path();
        if (!folder.empty() && !fs::is_directory(folder))
            throw ConfigError("--trace " + o.trace + ": the folder " + folder.string() +
                              " does not exist");
    }
}

// The prompts' texts: --prompt (repeatable), the lines of --prompt-file, or one empty prompt.
std::vector<std::string> prompt_texts(const Options& o) {
    if (o.prompt_file.empty())
        return o.prompts.empty() ? std::vector<std::string>{""} : o.prompts;
    std::ifstream in(o.prompt_file);
    if (!in)
        throw IoError("--prompt-file " + o.prompt_file + ": cannot open it");
    std::vector<std::string> texts;
    for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        if (line.find_first_not_of(" \t") != std::string::npos)
            texts.push_back(line);
    }
    if (texts.empty())
        throw ConfigError("--prompt-file " + o.prompt_file + ": no prompt in it (one per line)");
    return texts;
}

// --logit-bias TOKEN=BIAS: TOKEN an id, or the text of one token (as it decodes, e.g. " the", or
// in GPT-2's byte alphabet, "Ġthe"); BIAS a number or -inf.
std::pair<std::int32_t, float> parse_logit_bias(const std::string& arg,
                                                const data::Tokenizer& tokenizer) {
    const std::string what = "--logit-bias '" + arg + "'";
    const std::size_t eq = arg.rfind('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == arg.size())
        throw ConfigError(what + ": expected TOKEN=BIAS, e.g. 42=-inf or ' the=-2.5'");
    const std::string token = arg.substr(0, eq), bias_text = arg.substr(eq + 1);
    char* end = nullptr;
    const double bias = std::strtod(bias_text.c_str(), &end);
    if (end != bias_text.c_str() + bias_text.size() || std::isnan(bias) || bias == HUGE_VAL)
        throw ConfigError(what + ": the bias '" + bias_text + "' is not a finite number or -inf");
    std::int32_t id = -1;
    if (token.find_first_not_of("0123456789") == std::string::npos) {
        const long long v = std::atoll(token.c_str());
        if (token.size() > 9 || v >= tokenizer.vocab_size())
            throw ConfigError(what + ": token id " + token + " is outside the vocabulary [0, " +
                              std::to_string(tokenizer.vocab_size()) + ")");
        id = std::int32_t(v);
    } else if (const auto found = tokenizer.find(token)) {
        id = *found;
    } else {
        std::optional<std::int32_t> byte_level;
        try {
            byte_level = tokenizer.find(data::from_byte_level(token));
        } catch (const FormatError&) {
        }
        if (!byte_level)
            throw ConfigError(what + ": '" + token + "' is not a token of the tokenizer (it is " +
                              std::to_string(tokenizer.encode(token).size()) + " tokens)");
        id = *byte_level;
    }
    const float b = bias == -HUGE_VAL ? -std::numeric_limits<float>::infinity() : float(bias);
    return {id, b};
}

// A sample's last line on stderr.
struct Tally {
    std::int64_t tokens = 0;
    double entropy = 0.0; // sum of the raw entropies
    void add(const gen::TraceRecord& r) {
        ++tokens;
        entropy += r.decision.entropy_raw;
    }
};

void summary(const std::string& label, const Tally& t, const char* finish, double seconds) {
    std::fprintf(stderr, "[%s] %lld tokens, %s, %.1f tokens/s, mean entropy %.3f nats\n",
                 label.c_str(), (long long)t.tokens, finish,
                 seconds > 0 ? double(t.tokens) / seconds : 0.0,
                 t.tokens ? t.entropy / double(t.tokens) : 0.0);
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

const char* separator = "----------------------------------------\n";

// Everything loaded and checked before the first token.
struct Job {
    const Options& o;
    io::ModelBundle& bundle;
    std::vector<std::string> texts;                 // the prompts as given
    std::vector<std::vector<std::int32_t>> prompts; // the story separator + their tokens
    gen::ContextOptions context;
    sample::TokenPrinter& printer;
    std::vector<gen::TraceRecord> trace; // every sample's records, when --trace

    // A session for `slots` sequences under the context policy (and --half), with every prompt
    // checked to fit it: the stop policy refuses a prompt longer than the context.
    gen::InferenceSession session(std::int64_t slots) const {
        gen::SessionOptions so = gen::session_options(bundle.config, context, slots);
        so.half_weights = o.half;
        gen::InferenceSession s(*bundle.model, so);
        if (context.policy == gen::ContextPolicy::stop)
            for (std::size_t p = 0; p < prompts.size(); ++p)
                if (std::int64_t(prompts[p].size()) > s.context())
                    throw ConfigError("prompt " + std::to_string(p + 1) + " has " +
                                      std::to_string(prompts[p].size()) + " tokens (with " +
                                      bundle.tokenizer.token(bundle.tokenizer.story_separator()) +
                                      "), more than the context of " + std::to_string(s.context()) +
                                      " under --context-policy stop (use crop, slide or sinks, "
                                      "or a larger --context)");
        return s;
    }
    // The text of `id` after `prev` (llama2.c's tokenizer drops a leading space after BOS).
    std::string token_text(std::int32_t prev, std::int32_t id) const {
        return bundle.tokenizer.decode_next(prev, id);
    }
    void keep_trace(std::vector<gen::TraceRecord>& records, std::int64_t sequence) {
        if (o.trace.empty())
            return;
        for (gen::TraceRecord& r : records) {
            r.sequence = sequence;
            trace.push_back(std::move(r));
        }
    }
};

void run_sampling(Job& job, gen::InferenceSession& session, gen::SamplerChain& chain) {
    const Options& o = job.o;
    gen::GenerateOptions g;
    g.max_new_tokens = o.max_new_tokens;
    g.context = job.context;
    g.end_token = job.bundle.tokenizer.story_separator();
    g.end_of_text = gen::parse_end_of_text(o.end_of_text);
    g.trace = !o.trace.empty();
    g.decode = [&job](std::int32_t id) { return job.token_text(-1, id); };
    const std::int64_t total = std::int64_t(job.prompts.size()) * o.num_samples;
    for (std::size_t p = 0; p < job.prompts.size(); ++p) {
        const std::vector<std::vector<std::int32_t>> one{job.prompts[p]};
        for (std::int64_t i = 0; i < o.num_samples; ++i) {
            const std::int64_t k = std::int64_t(p) * o.num_samples + i;
            g.seed = Rng::stream_value(o.seed, std::uint64_t(k));
            Tally tally;
            std::int32_t prev = job.prompts[p].back();
            g.on_token = [&](const gen::TraceRecord& r) {
                job.printer.token(job.token_text(prev, r.token), r.decision.prob_raw, r.repeats[3]);
                prev = r.token;
                tally.add(r);
            };
            if (k > 0)
                job.printer.plain(separator);
            job.printer.plain(job.texts[p]);
            const auto start = std::chrono::steady_clock::now();
            std::vector<gen::GeneratedSequence> out =
                gen::generate(session, std::span<gen::SamplerChain>(&chain, 1), one, g);
            const double seconds = seconds_since(start);
            job.printer.finish();
            summary("sample " + std::to_string(k + 1) + "/" + std::to_string(total) + ", prompt " +
                        std::to_string(p + 1),
                    tally, gen::to_string(out[0].finish), seconds);
            job.keep_trace(out[0].trace, k);
        }
    }
}

void run_contrastive(Job& job, gen::InferenceSession& session) {
    const Options& o = job.o;
    gen::ContrastiveOptions c;
    c.top_k = o.contrastive_k;
    c.alpha = o.alpha;
    c.max_new_tokens = o.max_new_tokens;
    c.end_token = job.bundle.tokenizer.story_separator();
    c.context = job.context;
    c.decode = [&job](std::int32_t id) { return job.token_text(-1, id); };
    for (std::size_t p = 0; p < job.prompts.size(); ++p) {
        if (p > 0)
            job.printer.plain(separator);
        job.printer.plain(job.texts[p]);
        const auto start = std::chrono::steady_clock::now();
        gen::GeneratedSequence out = gen::contrastive_search(session, job.prompts[p], c);
        const double seconds = seconds_since(start);
        Tally tally;
        std::int32_t prev = job.prompts[p].back();
        for (const gen::TraceRecord& r : out.trace) {
            job.printer.token(job.token_text(prev, r.token), r.decision.prob_raw, r.repeats[3]);
            prev = r.token;
            tally.add(r);
        }
        job.printer.finish();
        summary("prompt " + std::to_string(p + 1), tally, gen::to_string(out.finish), seconds);
        job.keep_trace(out.trace, std::int64_t(p));
    }
}

void run_beam(Job& job, gen::InferenceSession& session) {
    const Options& o = job.o;
    gen::BeamSearchOptions b;
    b.beams = o.beam;
    b.max_new_tokens = o.max_new_tokens;
    b.length_penalty = o.length_penalty;
    b.end_token = job.bundle.tokenizer.story_separator();
    b.context = job.context;
    std::int64_t printed = 0;
    for (std::size_t p = 0; p < job.prompts.size(); ++p) {
        const auto start = std::chrono::steady_clock::now();
        const std::vector<gen::BeamHypothesis> hyps = gen::beam_search(session, job.prompts[p], b);
        const double seconds = seconds_since(start);
        const std::size_t shown = std::min(hyps.size(), std::size_t(o.num_samples));
        for (std::size_t i = 0; i < shown; ++i) {
            const gen::BeamHypothesis& h = hyps[i];
            if (printed++ > 0)
                job.printer.plain(separator);
            std::string text = job.texts[p];
            std::int32_t prev = job.prompts[p].back();
            for (const std::int32_t id : h.tokens)
                text += job.token_text(std::exchange(prev, id), id);
            job.printer.plain(text);
            job.printer.finish();
            std::fprintf(stderr,
                         "[prompt %zu, hypothesis %zu/%zu] %zu tokens, %s, log-prob %.3f, score "
                         "%.4f; the search took %.1f ms\n",
                         p + 1, i + 1, hyps.size(), h.tokens.size(),
                         h.finished ? "end_of_text" : "unfinished", h.log_prob, h.score,
                         seconds * 1e3);
        }
    }
}

int run(const CLI::App& app, Options o) {
    check_flags(app, o);
    if (app.count("--threads"))
        set_num_threads(o.threads);
    io::ModelBundle bundle =
        io::load_model_bundle(o.checkpoint, o.tokenizer.empty() ? io::find_tokenizer(o.checkpoint)
                                                                : fs::path(o.tokenizer));
    const data::Tokenizer& tok = bundle.tokenizer;
    for (const std::string& arg : o.logit_bias)
        o.sampler.logit_bias.push_back(parse_logit_bias(arg, tok));

    sample::TokenPrinter printer(stdout, sample::use_color(o.color, stdout));
    Job job{o, bundle, prompt_texts(o), {}, {}, printer, {}};
    for (const std::string& text : job.texts) {
        std::vector<std::int32_t> ids{tok.story_separator()};
        const std::vector<std::int32_t> body = tok.encode(text);
        ids.insert(ids.end(), body.begin(), body.end());
        job.prompts.push_back(std::move(ids));
    }
    job.context.policy = gen::parse_context_policy(o.context_policy);
    job.context.context = o.context;
    job.context.sink_tokens = o.sink_tokens;

    // Everything that can be refused is checked before the first line of output: the decoder's
    // settings, the session for the context policy, the prompts' lengths.
    const bool beam = app.count("--beam") != 0;
    std::optional<gen::SamplerChain> chain;
    std::string decoder;
    if (beam) {
        decoder = "beam search (" + std::to_string(o.beam) + " beams, length penalty " +
                  number(o.length_penalty) + ")";
    } else if (o.contrastive) {
        decoder = "contrastive search (top-k " + std::to_string(o.contrastive_k) + ", alpha " +
                  number(o.alpha) + ")";
    } else {
        chain = gen::SamplerChain::from_settings(o.sampler, o.samplers);
        decoder = "sampler chain: " + chain->describe();
    }
    gen::InferenceSession session = job.session(beam            ? o.beam
                                                : o.contrastive ? o.contrastive_k
                                                                : 1);

    const nn::GPTConfig& cfg = bundle.config;
    std::fprintf(stderr,
                 "model %s (%s): step %lld, %lld parameters, %s positions, block size %lld; "
                 "tokenizer %s (%d tokens); threads: %d\n",
                 bundle.checkpoint.c_str(), io::to_string(bundle.format),
                 (long long)bundle.state.step, (long long)bundle.model->num_parameters(),
                 nn::to_string(cfg.position), (long long)cfg.block_size,
                 bundle.tokenizer_dir.c_str(), tok.vocab_size(), num_threads());
    std::fprintf(stderr, "%s\n", decoder.c_str());
    if (printer.color() && !beam) // beam search has no per-token probabilities to show
        std::fprintf(stderr, "%s\n", printer.legend().c_str());

    if (beam)
        run_beam(job, session);
    else if (o.contrastive)
        run_contrastive(job, session);
    else
        run_sampling(job, session, *chain);

    if (!o.trace.empty()) {
        if (fs::path(o.trace).extension() == ".csv")
            gen::write_trace_csv(fs::path(o.trace), job.trace);
        else
            gen::write_trace_jsonl(fs::path(o.trace), job.trace);
        std::fprintf(stderr, "trace: %s (%zu tokens)\n", o.trace.c_str(), job.trace.size());
    }
    return 0;
}

// One line for stderr: a message with its line breaks flattened.
std::string one_line(std::string text) {
    std::replace(text.begin(), text.end(), '\n', ' ');
    return text;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"Generate text from a checkpoint of examples/train with any decoder of ouro::gen"};
    Options o;
    gen::SamplerSettings& s = o.sampler;

    app.add_option("--checkpoint", o.checkpoint,
                   "model to sample from: a checkpoint of examples/train (.safetensors) or a "
                   "llama2.c model (.bin), told apart by their contents")
        ->required();
    app.add_option("--tokenizer", o.tokenizer,
                   "folder with vocab.json + merges.txt, or a llama2.c tokenizer.bin (default: "
                   "the checkpoint's folder, else the data folder the checkpoint records)");
    auto* o_prompt = app.add_option(
        "--prompt", o.prompts,
        "prompt text; repeat for several prompts. Each is preceded by <|endoftext|>, as every "
        "story in training; an empty prompt (the default) starts a story from <|endoftext|> alone");
    app.add_option("--prompt-file", o.prompt_file,
                   "file with one prompt per line (blank lines are skipped)")
        ->excludes(o_prompt);
    app.add_option("--num-samples", o.num_samples, "samples per prompt (with --beam: hypotheses)")
        ->capture_default_str();
    app.add_option("--max-new-tokens", o.max_new_tokens, "tokens to generate per sample")
        ->capture_default_str();
    app.add_option("--seed", o.seed, "seed: sample k draws from stream k of it")
        ->capture_default_str();
    app.add_option("--threads", o.threads, "OpenMP threads (default: all)");
    app.add_flag("--half", o.half, "decode from half-precision copies of the weights");

    // The sampler chain (sampler.hpp; COLLAPSE.md's table).
    app.add_flag("--greedy", s.greedy, "argmax instead of a draw");
    app.add_option("--temperature", s.temperature, "z /= T; 0 is greedy")->capture_default_str();
    app.add_option("--top-k", s.top_k, "keep the k largest logits (0 = off)");
    app.add_option("--top-p", s.top_p, "nucleus: keep the smallest set of mass >= p (1 = off)");
    app.add_option("--min-p", s.min_p, "drop tokens with p < min_p * p_max (0 = off)");
    app.add_option("--typical", s.typical, "locally typical sampling, mass tau (1 = off)");
    app.add_option("--epsilon", s.epsilon, "drop tokens with p < eps (0 = off)");
    app.add_option("--eta", s.eta, "drop tokens with p < min(eta, sqrt(eta) e^-H) (0 = off)");
    app.add_option("--top-n-sigma", s.top_n_sigma, "keep logits >= max - n std (0 = off)");
    auto* o_miro = app.add_flag("--mirostat", s.mirostat, "mirostat v2 selection");
    app.add_option("--mirostat-tau", s.mirostat_tau, "mirostat target surprise (bits)")
        ->capture_default_str()
        ->needs(o_miro);
    app.add_option("--mirostat-eta", s.mirostat_eta, "mirostat learning rate")
        ->capture_default_str()
        ->needs(o_miro);
    app.add_option("--repetition-penalty", s.repetition_penalty, "CTRL penalty theta (1 = off)");
    app.add_option("--penalty-window", s.penalty_window,
                   "penalties and DRY look at the last n tokens (0 = all)");
    app.add_option("--frequency-penalty", s.frequency_penalty, "z -= count * a");
    app.add_option("--presence-penalty", s.presence_penalty, "z -= a if the token was seen");
    app.add_option("--no-repeat-ngram", s.no_repeat_ngram, "ban repeating any n-gram (0 = off)");
    auto* o_dry = app.add_option("--dry-multiplier", s.dry_multiplier, "DRY multiplier (0 = off)");
    app.add_option("--dry-base", s.dry_base, "DRY base")->capture_default_str()->needs(o_dry);
    app.add_option("--dry-allowed-length", s.dry_allowed_length, "DRY allowed length")
        ->capture_default_str()
        ->needs(o_dry);
    auto* o_xtc =
        app.add_option("--xtc-probability", s.xtc_probability, "XTC probability (0 = off)");
    app.add_option("--xtc-threshold", s.xtc_threshold, "XTC threshold")
        ->capture_default_str()
        ->needs(o_xtc);
    app.add_option("--logit-bias", o.logit_bias,
                   "TOKEN=BIAS, repeatable; TOKEN an id or one token's text (' the' or 'Ġthe'); "
                   "BIAS -inf bans it");
    app.add_option("--samplers", o.samplers,
                   std::string("order of the chain (default: ") + gen::default_sampler_order + ")");

    // Search decoders.
    auto* o_beam = app.add_option("--beam", o.beam, "beam search with N beams");
    app.add_option("--length-penalty", o.length_penalty, "beam score = log p / length^this")
        ->capture_default_str()
        ->needs(o_beam);
    auto* o_con =
        app.add_flag("--contrastive", o.contrastive, "contrastive search")->excludes(o_beam);
    app.add_option("--contrastive-k", o.contrastive_k, "contrastive search candidates")
        ->capture_default_str()
        ->needs(o_con);
    app.add_option("--alpha", o.alpha, "contrastive degeneration penalty")
        ->capture_default_str()
        ->needs(o_con);

    // Context and end of text (generate.hpp).
    app.add_option("--context-policy", o.context_policy, "past the context")
        ->capture_default_str()
        ->check(CLI::IsMember({"stop", "crop", "slide", "sinks"}));
    app.add_option("--context", o.context, "tokens the model attends to (0 = block size)");
    app.add_option("--sink-tokens", o.sink_tokens, "tokens the sinks policy keeps")
        ->capture_default_str();
    app.add_option("--end-of-text", o.end_of_text, "when <|endoftext|> is generated")
        ->capture_default_str()
        ->check(CLI::IsMember({"stop", "ignore", "new_story"}));

    // Output.
    app.add_option("--color", o.color,
                   "shade tokens by probability: auto (a terminal without NO_COLOR), always "
                   "(--color alone), never")
        ->expected(0, 1)
        ->default_str("always") // the value of a bare --color
        ->check(CLI::IsMember({"auto", "always", "never"}))
        ->option_text("[=auto|always|never] (default: auto)");
    app.add_option("--trace", o.trace, "write the per-token trace to FILE.csv or FILE.jsonl");

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::fprintf(stderr, "sample: %s\n", one_line(e.what()).c_str());
        return 1;
    }
    try {
        return run(app, std::move(o));
    } catch (const std::exception& e) {
        std::fflush(stdout);
        std::fprintf(stderr, "sample: %s\n", one_line(e.what()).c_str());
        return 1;
    }
}
