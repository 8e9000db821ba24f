// sample's flags and their checks (see options.hpp).
#include "options.hpp"

#include "common/flags.hpp"

#include <ouro/gen/generate.hpp>

#include <filesystem>
#include <string>

namespace fs = std::filesystem;
using namespace ouro;

namespace sample {

namespace {

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

using flags::UsageError;

} // namespace

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
    for (const std::string& stop : o.stop)
        if (stop.empty())
            throw UsageError("--stop '': a stop string cannot be empty");
    if (app.count("--beam") && !o.stop.empty())
        throw UsageError("--stop is not available with --beam (beam search ranks whole "
                         "hypotheses; use --contrastive or a sampler)");
    if (o.json && o.color != "never" && app.count("--color"))
        throw UsageError("--color " + o.color + " has no effect with --json (JSON has no colours)");
    if (app.count("--beam") && o.json)
        throw UsageError("--json is not available with --beam (beam search keeps no per-token "
                         "log-probabilities; use --greedy or --contrastive)");
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
    if (app.count("--top-logprobs") && !o.json && o.trace.empty())
        throw UsageError("--top-logprobs has no effect without --json or --trace (the "
                         "alternatives are listed there)");
    if (!o.trace.empty()) {
        const std::string ext = fs::path(o.trace).extension().string();
        if (ext != ".csv" && ext != ".jsonl")
            throw UsageError("--trace " + o.trace +
                             ": the file name must end in .csv or .jsonl (it chooses the format)");
    }
}

void add_flags(CLI::App& app, Options& o) {
    using flags::real;
    using flags::whole;
    constexpr std::int64_t tokens = flags::max_tokens, most_slots = 256;
    // More alternatives than anyone reads per token (OpenAI allows 20); the list is per token.
    constexpr std::int64_t max_alternatives = 1000;
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
    app.add_option("--stop", o.stop,
                   "end a sample when its text contains TEXT, repeatable; TEXT itself is not "
                   "printed (the text ends before it, as OpenAI's and llama.cpp server's stop)")
        ->default_str("none");
    app.add_flag("--json", o.json,
                 "write each sample as one JSON object per line on stdout (JSON Lines) instead of "
                 "the text: prompt, text, finish reason, seed, settings, and per token its "
                 "log-probabilities and top alternatives (README, 'sample --json')");
    whole(app.add_option("--top-logprobs", o.top_logprobs,
                         "alternatives listed per token by --json and --trace: the N most "
                         "probable tokens under the raw logits (0 = none)")
              ->capture_default_str(),
          0, max_alternatives);
}

} // namespace sample
