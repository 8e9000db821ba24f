// E8: the remedies against loops, and what they cost. Greedy decoding and top-p 0.95 are run
// alone and with each remedy of COLLAPSE.md's sampler table: the CTRL repetition penalty (Keskar
// et al. 2019) over the whole history and over the last 64 tokens, the frequency and presence
// penalties (OpenAI's), DRY, no-repeat-ngram (fairseq / HF) and XTC. Their samples get the E1
// metrics; the NLL of the text under the model's raw distribution is the price paid: a remedy
// that removes loops by choosing tokens the model finds improbable trades the boredom trap for
// the confusion trap (E7).
#include "lab.hpp"

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

struct Run {
    std::string base, remedy;
    Decoder decoder;
    SampleMetrics metrics;
};

} // namespace

ExperimentResult run_e8_remedies(Lab& lab) {
    const LabSettings& settings = lab.settings();
    const std::vector<Remedy> list = remedies();
    std::vector<Run> runs;
    for (const char* base : {"greedy", "top-p 0.95"})
        for (const Remedy& remedy : list) {
            Run run;
            run.base = base;
            run.remedy = remedy.name;
            run.decoder.name =
                remedy.name == "none" ? base : std::string(base) + " + " + remedy.name;
            if (run.base == "greedy")
                run.decoder.settings.greedy = true;
            else
                run.decoder.settings.top_p = 0.95;
            remedy.apply(run.decoder.settings);
            runs.push_back(std::move(run));
        }

    const DecodeRequest request = sweep_request(lab, 128);
    std::vector<Decoder> decoders;
    for (const Run& run : runs)
        decoders.push_back(run.decoder);
    const std::vector<SampleMetrics> metrics =
        measure_decoders(lab, decoders, request, "e8 remedies");
    for (std::size_t i = 0; i < runs.size(); ++i)
        runs[i].metrics = metrics[i];

    ExperimentResult r;
    r.id = "e8";
    r.title = "Which remedies work, at what cost?";
    r.question = "Which remedies work, at what cost? (penalties over the whole history vs the "
                 "last 64 tokens, DRY, no-repeat-ngram, XTC: E1 metrics plus the NLL of the text)";
    r.method = "Greedy and top-p 0.95, alone and with: repetition penalty 1.3 (whole history; last "
               "64 tokens), frequency 0.5, presence 0.5, DRY (multiplier 0.8, base 1.75, allowed "
               "length 2), no-repeat-ngram 3, XTC (probability 0.5, threshold 0.1); default "
               "sampler order (penalties, truncation, temperature), " +
               std::to_string(lab.prompts().size()) + " prompts, " +
               std::to_string(request.samples_per_prompt) +
               " sample(s) per prompt when sampling, " + std::to_string(request.max_new_tokens) +
               " new tokens, end token ignored, seed " + std::to_string(settings.seed) + ".";
    r.table = olab::Table(metrics_columns());
    for (const Run& run : runs)
        r.table.add_row(metrics_row(run.decoder.name, run.metrics));

    // Bars by remedy: seq-rep-4 (the effect) and NLL (the cost), one series per base decoder.
    std::vector<std::string> categories;
    for (const Remedy& remedy : list)
        categories.push_back(remedy.name);
    auto bars = [&](const std::string& title, const std::string& y_label,
                    double SampleMetrics::*field) {
        olab::PlotSpec plot;
        plot.title = title;
        plot.x_label = "remedy";
        plot.y_label = y_label;
        plot.x_categories = categories;
        plot.height = 420;
        for (const char* base : {"greedy", "top-p 0.95"}) {
            olab::Series s{base, {}, {}, olab::Series::Style::bars};
            for (const Run& run : runs)
                if (run.base == base) {
                    s.x.push_back(double(s.x.size()));
                    s.y.push_back(run.metrics.*field);
                }
            plot.series.push_back(std::move(s));
        }
        plot.y_min = 0.0;
        r.plots.push_back(std::move(plot));
    };
    bars("seq-rep-4 by remedy (lower: fewer repeated 4-grams)", "seq-rep-4",
         &SampleMetrics::seq_rep4);
    bars("NLL of the generated text by remedy (its cost)", "mean NLL (nats)", &SampleMetrics::nll);

    // Findings: for each base, the remedy with the lowest seq-rep-4 and its NLL cost, and the
    // windowed vs whole-history penalty.
    for (const char* base : {"greedy", "top-p 0.95"}) {
        const Run* alone = nullptr;
        const Run* best = nullptr;
        const Run* whole = nullptr;
        const Run* last64 = nullptr;
        for (const Run& run : runs) {
            if (run.base != base)
                continue;
            if (run.remedy == "none")
                alone = &run;
            else if (!best || run.metrics.seq_rep4 < best->metrics.seq_rep4)
                best = &run;
            if (run.remedy == "rep-penalty 1.3")
                whole = &run;
            if (run.remedy == "rep-penalty 1.3 last 64")
                last64 = &run;
        }
        r.findings.push_back(
            std::string(base) + " alone: seq-rep-4 " + fmt(alone->metrics.seq_rep4) + ", " +
            fmt(alone->metrics.holtzman_percent, 1) + "% looping, NLL " + fmt(alone->metrics.nll) +
            ". Lowest seq-rep-4 with " + best->remedy + ": " + fmt(best->metrics.seq_rep4) + " (" +
            fmt(best->metrics.holtzman_percent, 1) + "% looping) at NLL " + fmt(best->metrics.nll) +
            " (" + (best->metrics.nll >= alone->metrics.nll ? "+" : "") +
            fmt(best->metrics.nll - alone->metrics.nll) + " nats per token).");
        r.findings.push_back(
            std::string(base) + ": repetition penalty 1.3 over the whole history " +
            "gives seq-rep-4 " + fmt(whole->metrics.seq_rep4) + " at NLL " +
            fmt(whole->metrics.nll) + "; over the last 64 tokens " + fmt(last64->metrics.seq_rep4) +
            " at NLL " + fmt(last64->metrics.nll) + ".");
        const std::string key = std::string("e8_") + (alone->base == "greedy" ? "greedy" : "top_p");
        for (const Run& run : runs)
            if (run.base == base) {
                std::string name = run.remedy;
                for (char& c : name)
                    if (!std::isalnum(static_cast<unsigned char>(c)))
                        c = '_';
                r.numbers[key + "_" + name + "_seq_rep4"] = run.metrics.seq_rep4;
                r.numbers[key + "_" + name + "_nll"] = run.metrics.nll;
            }
        r.numbers[key + "_best_seq_rep4"] = best->metrics.seq_rep4;
        r.numbers[key + "_best_nll_cost"] = best->metrics.nll - alone->metrics.nll;
    }
    return r;
}

} // namespace collapse
