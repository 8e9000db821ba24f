// E8: the remedies against loops, and what they cost. Greedy decoding and top-p 0.95 are run
// alone and with each remedy of COLLAPSE.md's sampler table: the CTRL repetition penalty (Keskar
// et al. 2019) over the whole history and over the last 64 tokens, the frequency and presence
// penalties (OpenAI's), DRY, no-repeat-ngram (fairseq / HF) and XTC. Their samples get the E1
// metrics; the NLL of the text under the model's raw distribution is the price paid: a remedy
// that removes loops by choosing tokens the model finds improbable trades the boredom trap for
// the confusion trap (E7).
#include "experiments.hpp"

#include <ouro/lab/table.hpp>

#include <algorithm>
#include <cctype>
#include <functional>

namespace collapse {

namespace gen = ouro::gen;
namespace olab = ouro::lab;
using olab::fmt;

namespace {

struct Remedy {
    std::string name;
    std::function<void(gen::SamplerSettings&)> apply;
};

std::vector<Remedy> remedies() {
    return {
        {"none", [](gen::SamplerSettings&) {}},
        {"rep-penalty 1.3", [](gen::SamplerSettings& s) { s.repetition_penalty = 1.3; }},
        {"rep-penalty 1.3 last 64",
         [](gen::SamplerSettings& s) {
             s.repetition_penalty = 1.3;
             s.penalty_window = 64;
         }},
        {"frequency 0.5", [](gen::SamplerSettings& s) { s.frequency_penalty = 0.5; }},
        {"presence 0.5", [](gen::SamplerSettings& s) { s.presence_penalty = 0.5; }},
        {"DRY 0.8/1.75/2",
         [](gen::SamplerSettings& s) {
             s.dry_multiplier = 0.8;
             s.dry_base = 1.75;
             s.dry_allowed_length = 2;
         }},
        {"no-repeat-3gram", [](gen::SamplerSettings& s) { s.no_repeat_ngram = 3; }},
        {"XTC 0.5/0.1",
         [](gen::SamplerSettings& s) {
             s.xtc_probability = 0.5;
             s.xtc_threshold = 0.1;
         }},
    };
}

} // namespace

E8Result measure_e8(Lab& lab) {
    const std::vector<Remedy> list = remedies();
    E8Result m;
    std::vector<Decoder> decoders;
    for (const Remedy& remedy : list)
        m.remedies.push_back(remedy.name);
    for (const char* base : {"greedy", "top-p 0.95"})
        for (const Remedy& remedy : list) {
            Decoder d = find_decoder(base);
            if (remedy.name != "none")
                d.name = std::string(base) + " + " + remedy.name;
            remedy.apply(d.settings);
            decoders.push_back(d);
            m.runs.push_back({base, remedy.name, {d.name, {}}});
        }
    const DecodeRequest request = sweep_request(lab, 128);
    const std::vector<SampleMetrics> metrics =
        measure_decoders(lab, decoders, request, "e8 remedies");
    for (std::size_t i = 0; i < m.runs.size(); ++i)
        m.runs[i].row.metrics = metrics[i];
    m.run = run_shape(lab, request);
    return m;
}

} // namespace collapse
