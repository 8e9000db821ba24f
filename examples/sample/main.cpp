// sample: generates text from a trained checkpoint with any of the decoders of ouro::gen
// (COLLAPSE.md's sampler table), streaming it as it comes, optionally coloured by probability
// and with a per-token trace.
//
//   sample --checkpoint runs/xs/ckpt-002000.safetensors --prompt "Once upon a time" --top-p 0.95
//   sample --checkpoint ... --greedy --trace greedy.csv          # the loop, token by token
//   sample --checkpoint ... --beam 4                             # beam search
//   sample --checkpoint ... --contrastive --contrastive-k 4 --alpha 0.6
//   sample --checkpoint ... -f story.txt -n 100 --temp 0.8 -s 42   # the short flags
//
// Every prompt is preceded by <|endoftext|>, as every story is in the token shards of
// examples/prepare, so an empty prompt starts a story from scratch. Sample k (prompts in order,
// --num-samples per prompt) draws from stream k of --seed, so a sample does not depend on the
// others, and (the library guarantees it) not on --threads. Without --seed the seed is drawn at
// random and printed on stderr, so that the run can be repeated. The text goes to stdout, one
// sample after another with a separator line; the decoder and a one-line summary per sample go
// to stderr. Bad flags, files or settings: one line "sample: <message>" on stderr and exit code 1
// (common/flags.hpp).
#include "token_printer.hpp"

#include "common/flags.hpp"
#include "common/text_width.hpp"

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
#include <iterator>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

namespace fs = std::filesystem;
using namespace ouro;

namespace {

struct Options {
    std::string checkpoint, tokenizer, prompt_file, prompt_whole, samplers, trace, color = "auto";
    std::vector<std::string> prompts, logit_bias;
    std::int64_t num_samples = 1, max_new_tokens = 256;
    std::uint64_t seed = 0; // drawn at random when --seed is not given
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
    "--top-n-sigma", "--mirostat", "--mirostat-tau", "--mirostat-eta", "--mirostat-surprise",
    "--repetition-penalty", "--penalty-window", "--frequency-penalty", "--presence-penalty",
    "--no-repeat-ngram",
    "--dry-multiplier", "--dry-base", "--dry-allowed-length", "--xtc-probability",
    "--xtc-threshold", "--logit-bias", "--samplers", "--seed"};
// clang-format on

using flags::number;
using flags::UsageError;

// Flags that make no sense together (each value's range is checked as it is parsed, main()).
void check_flags(const CLI::App& app, const Options& o) {
    if (app.count("--sink-tokens") && o.context_policy != "sinks")
        throw UsageError("--sink-tokens applies only to --context-policy sinks, not '" +
                         o.context_policy + "'");
    const bool search = app.count("--beam") || o.contrastive;
    if (search) {
        const char* decoder = app.count("--beam") ? "--beam" : "--contrastive";
        for (const char* flag : sampling_flags)
            if (app.count(flag))
                throw UsageError(std::string(flag) + " has no effect with " + decoder +
                                 " (a search decoder is deterministic and reads the raw "
                                 "logits; sampler flags do not apply)");
        if (o.end_of_text != "stop")
            throw UsageError(std::string("--end-of-text ") + o.end_of_text +
                             " is not available with " + decoder +
                             " (the end token ends a search)");
    }
    if (app.count("--beam") && !o.trace.empty())
        throw UsageError("--trace is not available with --beam (beam search keeps no per-token "
                         "trace; use --greedy or --contrastive)");
    if (app.count("--beam") && o.num_samples > o.beam)
        throw UsageError("--num-samples " + std::to_string(o.num_samples) +
                         " is more than --beam " + std::to_string(o.beam) +
                         " (it prints the best hypotheses of the beam)");
    if (o.contrastive && o.num_samples != 1)
        throw UsageError("--num-samples " + std::to_string(o.num_samples) +
                         " with --contrastive: contrastive search is deterministic, use 1");
    if (!o.trace.empty()) {
        const std::string ext = fs::path(o.trace).extension().string();
        if (ext != ".csv" && ext != ".jsonl")
            throw UsageError("--trace " + o.trace +
                             ": the file name must end in .csv or .jsonl (it chooses the format)");
    }
}

std::string gigabytes(double bytes) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f", bytes / 1e9);
    return text;
}

// Checks against the model: the context it can hold, and the memory its key/value cache needs
// for `slots` sequences (a cache larger than half of the machine's memory is refused rather
// than left to the allocator or the out-of-memory killer).
void check_model_fits(const Options& o, const nn::GPTConfig& cfg, std::int64_t slots) {
    if (o.context > cfg.block_size && cfg.position == nn::PositionEncoding::learned)
        throw UsageError("--context " + std::to_string(o.context) +
                         ": more than the model's block size of " + std::to_string(cfg.block_size) +
                         ", and its learned positions have no embedding past it (use --context " +
                         std::to_string(cfg.block_size) + " or less)");
    const double context = double(o.context > 0 ? o.context : cfg.block_size);
    const double cache = double(slots) * double(cfg.n_layer) * context * double(cfg.kv_dim()) *
                         2.0 * double(sizeof(float));
    const double memory = double(sysconf(_SC_PHYS_PAGES)) * double(sysconf(_SC_PAGE_SIZE));
    if (memory > 0 && cache > memory / 2)
        throw UsageError("--context " + std::to_string(std::int64_t(context)) + " for " +
                         std::to_string(slots) + " sequence(s) needs a key/value cache of " +
                         gigabytes(cache) + " GB, more than half of this machine's " +
                         gigabytes(memory) + " GB (use a smaller --context" +
                         (slots > 1 ? ", --beam or --contrastive-k" : "") + ")");
}

// The prompts' texts: --prompt (repeatable), the whole of --file, the lines of --prompt-file,
// or one empty prompt.
std::vector<std::string> prompt_texts(const Options& o) {
    if (!o.prompt_whole.empty()) {
        std::string text = flags::read_text_file("--file", o.prompt_whole);
        while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
            text.pop_back(); // the line break an editor leaves at the end
        return {text};
    }
    if (o.prompt_file.empty())
        return o.prompts.empty() ? std::vector<std::string>{""} : o.prompts;
    std::istringstream in(flags::read_text_file("--prompt-file", o.prompt_file));
    std::vector<std::string> texts;
    for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        if (line.find_first_not_of(" \t") != std::string::npos)
            texts.push_back(line);
    }
    if (texts.empty())
        throw UsageError("--prompt-file " + o.prompt_file + ": no prompt in it (one per line)");
    return texts;
}

// --logit-bias TOKEN=BIAS: TOKEN an id, or the text of one token (as it decodes, e.g. " the", or
// in GPT-2's byte alphabet, "Ġthe"); BIAS a number or -inf.
std::pair<std::int32_t, float> parse_logit_bias(const std::string& arg,
                                                const data::Tokenizer& tokenizer) {
    const std::string what = "--logit-bias '" + arg + "'";
    const std::size_t eq = arg.rfind('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == arg.size())
        throw UsageError(what + ": expected TOKEN=BIAS, e.g. 42=-inf or ' the=-2.5'");
    const std::string token = arg.substr(0, eq), bias_text = arg.substr(eq + 1);
    char* end = nullptr;
    const double bias = std::strtod(bias_text.c_str(), &end);
    if (end != bias_text.c_str() + bias_text.size() || std::isnan(bias) || bias == HUGE_VAL)
        throw UsageError(what + ": the bias '" + bias_text + "' is not a finite number or -inf");
    std::int32_t id = -1;
    if (token.find_first_not_of("0123456789") == std::string::npos) {
        const long long v = std::atoll(token.c_str());
        if (token.size() > 9 || v >= tokenizer.vocab_size())
            throw UsageError(what + ": token id " + token + " is outside the vocabulary [0, " +
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
            throw UsageError(what + ": '" + token + "' is not a token of the tokenizer (it is " +
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
            char line[256];
            std::snprintf(line, sizeof line,
                          "[prompt %zu, hypothesis %zu/%zu] %zu tokens, %s, log-prob %.3f, score "
                          "%.4f; the search took %.1f ms",
                          p + 1, i + 1, hyps.size(), h.tokens.size(),
                          h.finished ? "end_of_text" : "unfinished", h.log_prob, h.score,
                          seconds * 1e3);
            std::fprintf(stderr, "%s\n", flags::wrap(line, flags::columns, 4).c_str());
        }
    }
}

int run(const CLI::App& app, Options o) {
    check_flags(app, o);
    flags::apply_threads(o.threads);
    const bool random_seed = app.count("--seed") == 0;
    if (random_seed)
        o.seed = flags::random_seed();
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
    const std::int64_t slots = beam ? o.beam : o.contrastive ? o.contrastive_k : 1;
    check_model_fits(o, bundle.config, slots);
    gen::InferenceSession session = job.session(slots);

    const nn::GPTConfig& cfg = bundle.config;
    // Wrapped at 100 columns: the paths make it long.
    char about[160];
    std::snprintf(about, sizeof about,
                  "step %lld, %lld parameters, %s positions, block size %lld; tokenizer ",
                  (long long)bundle.state.step, (long long)bundle.model->num_parameters(),
                  nn::to_string(cfg.position), (long long)cfg.block_size);
    std::fprintf(stderr, "%s\n",
                 flags::wrap("model " + bundle.checkpoint + " (" + io::to_string(bundle.format) +
                                 "): " + about + bundle.tokenizer_dir + " (" +
                                 std::to_string(tok.vocab_size()) +
                                 " tokens); threads: " + std::to_string(num_threads()),
                             flags::columns, 4)
                     .c_str());
    std::fprintf(stderr, "%s\n", decoder.c_str());
    if (chain && !o.sampler.greedy && random_seed)
        std::fprintf(stderr, "seed %llu (drawn at random; repeat the run with --seed %llu)\n",
                     (unsigned long long)o.seed, (unsigned long long)o.seed);
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

} // namespace

int main(int argc, char** argv) {
    using flags::real;
    using flags::whole;
    constexpr std::int64_t tokens = flags::max_tokens, most_slots = 256;
    CLI::App app{"Generate text from a checkpoint of examples/train with any decoder of ouro::gen"};
    Options o;
    gen::SamplerSettings& s = o.sampler;

    flags::existing_path(app.add_option("--checkpoint", o.checkpoint,
                                        "model to sample from: a checkpoint of examples/train "
                                        "(.safetensors), a 16-bit bundle folder, a llama2.c or "
                                        "llm.c model (.bin) or a Hugging Face folder, told apart "
                                        "by their contents")
                             ->required());
    flags::existing_path(
        app.add_option("--tokenizer", o.tokenizer,
                       "folder with vocab.json + merges.txt, or a llama2.c tokenizer.bin")
            ->default_str("the checkpoint's folder, else the data folder it records"));
    auto* o_prompt = app.add_option(
        "-p,--prompt", o.prompts,
        "prompt text; repeat for several prompts. Each is preceded by <|endoftext|>, as every "
        "story in training; an empty prompt starts a story from <|endoftext|> alone");
    o_prompt->default_str("\"\"");
    auto* o_file = flags::existing_file(
        app.add_option("-f,--file", o.prompt_whole, "the prompt is the whole of this file")
            ->default_str("none")
            ->excludes(o_prompt));
    flags::existing_file(app.add_option("--prompt-file", o.prompt_file,
                                        "file with one prompt per line (blank lines are skipped)")
                             ->default_str("none")
                             ->excludes(o_prompt)
                             ->excludes(o_file));
    whole(app.add_option("--num-samples", o.num_samples,
                         "samples per prompt (with --beam: hypotheses)")
              ->capture_default_str(),
          1, 65536);
    whole(app.add_option("-n,--max-new-tokens", o.max_new_tokens, "tokens to generate per sample")
              ->capture_default_str(),
          1, tokens);
    flags::seed(app.add_option("-s,--seed", o.seed,
                               "seed: sample k draws from stream k of it (printed on stderr when "
                               "drawn at random)")
                    ->default_str("random"));
    flags::add_threads(app, o.threads, true);
    app.add_flag("--half", o.half, "decode from half-precision copies of the weights");

    // The sampler chain (sampler.hpp; COLLAPSE.md's table).
    app.add_flag("--greedy", s.greedy, "argmax instead of a draw");
    real(app.add_option("--temperature,--temp", s.temperature, "z /= T; 0 is greedy")
             ->capture_default_str(),
         flags::at_least(0));
    whole(app.add_option("--top-k", s.top_k, "keep the k largest logits (0 = off)")
              ->capture_default_str(),
          0, tokens);
    real(app.add_option("--top-p", s.top_p, "nucleus: keep the smallest set of mass >= p (1 = off)")
             ->capture_default_str(),
         flags::open_closed(0, 1));
    real(app.add_option("--min-p", s.min_p, "drop tokens with p < min_p * p_max (0 = off)")
             ->capture_default_str(),
         flags::closed(0, 1));
    real(app.add_option("--typical", s.typical, "locally typical sampling, mass tau (1 = off)")
             ->capture_default_str(),
         flags::open_closed(0, 1));
    real(app.add_option("--epsilon", s.epsilon, "drop tokens with p < eps (0 = off)")
             ->capture_default_str(),
         flags::closed_open(0, 1));
    real(app.add_option("--eta", s.eta, "drop tokens with p < min(eta, sqrt(eta) e^-H) (0 = off)")
             ->capture_default_str(),
         flags::closed_open(0, 1));
    real(app.add_option("--top-n-sigma", s.top_n_sigma, "keep logits >= max - n std (0 = off)")
             ->capture_default_str(),
         flags::at_least(0));
    auto* o_miro = app.add_flag("--mirostat", s.mirostat, "mirostat v2 selection");
    real(app.add_option("--mirostat-tau", s.mirostat_tau, "mirostat target surprise (bits)")
             ->capture_default_str()
             ->needs(o_miro),
         flags::above(0));
    real(app.add_option("--mirostat-eta", s.mirostat_eta, "mirostat learning rate")
             ->capture_default_str()
             ->needs(o_miro),
         flags::above(0));
    app.add_option_function<std::string>(
           "--mirostat-surprise",
           [&s](const std::string& name) {
               s.mirostat_surprise = gen::parse_mirostat_surprise(name);
           },
           "the surprise mirostat's update uses: truncated (under the distribution it drew from, "
           "as llama.cpp) or raw (before truncation, as the paper's code)")
        ->default_str("truncated")
        ->check(CLI::IsMember({"truncated", "raw"}))
        ->needs(o_miro);
    real(
        app.add_option("--repetition-penalty", s.repetition_penalty, "CTRL penalty theta (1 = off)")
            ->capture_default_str(),
        flags::above(0));
    whole(app.add_option("--penalty-window", s.penalty_window,
                         "penalties and DRY look at the last n tokens (0 = all)")
              ->capture_default_str(),
          0, tokens);
    real(app.add_option("--frequency-penalty", s.frequency_penalty, "z -= count * a")
             ->capture_default_str(),
         flags::any_finite());
    real(app.add_option("--presence-penalty", s.presence_penalty, "z -= a if the token was seen")
             ->capture_default_str(),
         flags::any_finite());
    whole(
        app.add_option("--no-repeat-ngram", s.no_repeat_ngram, "ban repeating any n-gram (0 = off)")
            ->capture_default_str(),
        0, tokens);
    auto* o_dry =
        real(app.add_option("--dry-multiplier", s.dry_multiplier, "DRY multiplier (0 = off)")
                 ->capture_default_str(),
             flags::at_least(0));
    real(app.add_option("--dry-base", s.dry_base, "DRY base")->capture_default_str()->needs(o_dry),
         flags::at_least(1));
    whole(app.add_option("--dry-allowed-length", s.dry_allowed_length, "DRY allowed length")
              ->capture_default_str()
              ->needs(o_dry),
          1, tokens);
    auto* o_xtc =
        real(app.add_option("--xtc-probability", s.xtc_probability, "XTC probability (0 = off)")
                 ->capture_default_str(),
             flags::closed(0, 1));
    real(app.add_option("--xtc-threshold", s.xtc_threshold, "XTC threshold")
             ->capture_default_str()
             ->needs(o_xtc),
         flags::open_closed(0, 1));
    app.add_option("--logit-bias", o.logit_bias,
                   "TOKEN=BIAS, repeatable; TOKEN an id or one token's text (' the' or 'Ġthe'); "
                   "BIAS -inf bans it")
        ->default_str("none");
    app.add_option("--samplers", o.samplers, "order of the chain")
        ->default_str(gen::default_sampler_order);

    // Search decoders.
    auto* o_beam =
        whole(app.add_option("--beam", o.beam, "beam search with N beams")->default_str("off"), 1,
              most_slots);
    real(app.add_option("--length-penalty", o.length_penalty, "beam score = log p / length^this")
             ->capture_default_str()
             ->needs(o_beam),
         flags::any_finite());
    auto* o_con =
        app.add_flag("--contrastive", o.contrastive, "contrastive search")->excludes(o_beam);
    whole(app.add_option("--contrastive-k", o.contrastive_k, "contrastive search candidates")
              ->capture_default_str()
              ->needs(o_con),
          1, most_slots);
    real(app.add_option("--alpha", o.alpha, "contrastive degeneration penalty")
             ->capture_default_str()
             ->needs(o_con),
         flags::closed(0, 1));

    // Context and end of text (generate.hpp).
    app.add_option("--context-policy", o.context_policy, "past the context")
        ->capture_default_str()
        ->check(CLI::IsMember({"stop", "crop", "slide", "sinks"}));
    whole(app.add_option("--context", o.context, "tokens the model attends to (0 = block size)")
              ->capture_default_str(),
          0, tokens);
    whole(app.add_option("--sink-tokens", o.sink_tokens, "tokens the sinks policy keeps")
              ->capture_default_str(),
          0, tokens);
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
        ->option_text("[=auto|always|never] [auto]");
    flags::output_file(
        app.add_option("--trace", o.trace, "write the per-token trace to FILE.csv or FILE.jsonl")
            ->default_str("none"));

    if (const std::optional<int> rc = flags::parse(app, "sample", argc, argv))
        return *rc;
    try {
        return run(app, std::move(o));
    } catch (const std::exception& e) {
        return flags::fail("sample", e);
    }
}
