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
// sample after another with a separator line, each ending before the first --stop string; with
// --json, one JSON object per sample and line instead (writers.hpp). The decoder and a one-line
// summary per sample go to stderr. Bad flags, files or settings: one line "sample: <message>" on
// stderr and exit code 1 (common/flags.hpp).
//
// The parts: options.cpp (the flags), inputs.cpp (prompts, --logit-bias, the model's limits),
// decoders.cpp (the three decoders), writers.cpp (text and JSON Lines), token_printer.cpp.
#include "decoders.hpp"
#include "inputs.hpp"
#include "options.hpp"
#include "token_printer.hpp"
#include "writers.hpp"

#include "common/flags.hpp"
#include "common/text_width.hpp"

#include <ouro/core/error.hpp>
#include <ouro/core/parallel.hpp>
#include <ouro/gen/generate.hpp>
#include <ouro/gen/sampler.hpp>
#include <ouro/gen/trace.hpp>
#include <ouro/io/checkpoint.hpp>
#include <ouro/io/model_bundle.hpp>

#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace fs = std::filesystem;
using namespace ouro;
using namespace sample;
using flags::number;

namespace {

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

    TokenPrinter printer(stdout, !o.json && use_color(o.color, stdout));
    TextWriter text_writer(printer, o.stop);
    std::optional<JsonWriter> json_writer;
    Writer* writer = &text_writer;

    // Everything that can be refused is checked before the first line of output: the decoder's
    // settings, the session for the context policy, the prompts' lengths.
    const bool beam = app.count("--beam") != 0;
    const gen::Decoder decoder = decoder_of(app, o);
    std::optional<gen::SamplerChain> chain;
    std::string description;
    if (beam) {
        description = "beam search (" + std::to_string(o.beam) + " beams, length penalty " +
                      number(o.length_penalty) + ")";
    } else if (o.contrastive) {
        description = "contrastive search (top-k " + std::to_string(o.contrastive_k) + ", alpha " +
                      number(o.alpha) + ")";
    } else {
        chain = gen::SamplerChain::from_settings(o.sampler, o.samplers);
        description = "sampler chain: " + chain->describe();
    }
    if (o.json)
        writer =
            &json_writer.emplace(stdout, tok, run_json(o, description, chain.has_value()), o.stop);
    Job job{o,       bundle,  prompt_texts(o),
            {},      decoder, decode_options_of(o, tok.story_separator()),
            *writer, printer, {}};
    for (const std::string& text : job.texts) {
        std::vector<std::int32_t> ids{tok.story_separator()};
        const std::vector<std::int32_t> body = tok.encode(text);
        ids.insert(ids.end(), body.begin(), body.end());
        job.prompts.push_back(std::move(ids));
    }
    check_model_fits(o, bundle.config, decoder.slots(1, 1));
    gen::InferenceSession session = job.session();

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
    std::fprintf(stderr, "%s\n", description.c_str());
    if (decoder.samples() && random_seed)
        std::fprintf(stderr, "seed %llu (drawn at random; repeat the run with --seed %llu)\n",
                     (unsigned long long)o.seed, (unsigned long long)o.seed);
    if (printer.color() && !beam) // beam search has no per-token probabilities to show
        std::fprintf(stderr, "%s\n", printer.legend().c_str());

    if (beam)
        run_beam(job, session);
    else if (o.contrastive)
        run_contrastive(job, session);
    else
        run_sampling(job, session);

    if (!o.trace.empty()) {
        if (fs::path(o.trace).extension() == ".csv")
            gen::write_trace_csv(fs::path(o.trace), job.trace, o.top_logprobs);
        else
            gen::write_trace_jsonl(fs::path(o.trace), job.trace, o.top_logprobs);
        std::fprintf(stderr, "trace: %s (%zu tokens)\n", o.trace.c_str(), job.trace.size());
    }
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"Generate text from a checkpoint of examples/train with any decoder of ouro::gen"};
    Options o;
    add_flags(app, o);
    if (const std::optional<int> rc = flags::parse(app, "sample", argc, argv))
        return *rc;
    try {
        return run(app, std::move(o));
    } catch (const std::exception& e) {
        return flags::fail("sample", e);
    }
}
