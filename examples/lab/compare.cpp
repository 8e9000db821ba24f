// The demo's answer for more than one model: held-out quality on a scale that does not depend on
// the tokenizer (nats per byte), and which collapse mechanisms two models share and which differ,
// read from the numbers each demo run measured (the same keys the summary reads).
#include "demo.hpp"

#include <ouro/gen/session.hpp>
#include <ouro/lab/table.hpp>

#include <cmath>
#include <cstdio>
#include <string>

namespace collapse {

namespace olab = ouro::lab;
namespace gen = ouro::gen;

namespace {

double number(const DemoRun& run, const std::string& key) {
    for (const ExperimentResult& r : run.results) {
        const auto it = r.numbers.find(key);
        if (it != r.numbers.end())
            return it->second;
    }
    return std::nan("");
}

// One mechanism of COLLAPSE.md, as a yes/no per model with the numbers that decided it.
struct Mechanism {
    std::string name;
    std::vector<int> at_work;          // 1 yes, 0 no, -1 not measured
    std::vector<std::string> evidence; // per model
};

int verdict(bool measured, bool yes) {
    return measured ? (yes ? 1 : 0) : -1;
}

} // namespace

Quality held_out_quality(Lab& lab) {
    const auto& stories = lab.require_human_stories("the quality score");
    const std::int64_t T = lab.config().block_size;
    std::vector<std::vector<std::int32_t>> texts;
    for (const auto& s : stories)
        if (s.size() >= 2)
            texts.emplace_back(s.begin(),
                               s.begin() + std::min<std::int64_t>(std::int64_t(s.size()), T));
    const gen::ContextOptions context{.policy = gen::ContextPolicy::stop};
    gen::InferenceSession session(lab.model(), gen::session_options(lab.config(), context, 16));
    const auto scores = olab::teacher_force(session, texts, context, lab.eot());
    Quality q;
    double nll = 0;
    const ouro::data::Tokenizer& tok = lab.tokenizer();
    for (std::size_t i = 0; i < texts.size(); ++i) {
        ++q.stories;
        // Score t is about token t + 1; every token after the separator is text.
        for (std::size_t t = 0; t < scores[i].size(); ++t) {
            nll += scores[i][t].nll;
            q.bytes += std::int64_t(tok.decode_next(texts[i][t], texts[i][t + 1]).size());
            ++q.tokens;
        }
    }
    q.nats_per_token = nll / double(q.tokens);
    q.nats_per_byte = nll / double(q.bytes);
    return q;
}

std::string model_description(const Lab& lab) {
    const ouro::io::ModelBundle& b = lab.bundle();
    if (b.format != ouro::io::ModelFormat::ouro_checkpoint)
        return ouro::io::to_string(b.format);
    return "ouro checkpoint, step " + std::to_string(b.state.step);
}

void print_comparison(const std::vector<std::pair<Lab*, const DemoRun*>>& runs) {
    using olab::fmt;
    std::vector<std::string> columns{"measurement"};
    for (std::size_t m = 0; m < runs.size(); ++m)
        columns.push_back("model " + std::to_string(m + 1));
    olab::Table quality(columns);
    const auto row = [&](olab::Table& t, const std::string& name, auto value) {
        std::vector<std::string> cells{name};
        for (const auto& [lab, run] : runs)
            cells.push_back(value(*lab, *run));
        t.add_row(cells);
    };
    std::printf("== Comparison\n");
    for (std::size_t m = 0; m < runs.size(); ++m)
        std::printf("model %zu: %s (%s)\n", m + 1, runs[m].first->bundle().checkpoint.c_str(),
                    model_description(*runs[m].first).c_str());
    row(quality, "parameters",
        [](Lab& l, const DemoRun&) { return fmt(std::int64_t(l.model().num_parameters())); });
    row(quality, "vocabulary",
        [](Lab& l, const DemoRun&) { return fmt(std::int64_t(l.config().vocab_size)); });
    row(quality, "held-out nats/token", [](Lab&, const DemoRun& r) {
        return r.quality ? fmt(r.quality->nats_per_token) : std::string("-");
    });
    row(quality, "held-out bytes/token", [](Lab&, const DemoRun& r) {
        return r.quality ? fmt(double(r.quality->bytes) / double(r.quality->tokens), 2)
                         : std::string("-");
    });
    row(quality, "held-out nats/byte", [](Lab&, const DemoRun& r) {
        return r.quality ? fmt(r.quality->nats_per_byte) : std::string("-");
    });
    std::printf("\nQuality on held-out human stories (one scale for any tokenizer: nats per byte "
                "of text; lower is better):\n%s\n",
                quality.to_text().c_str());

    // The mechanisms, by the rules the summary states them with.
    std::vector<Mechanism> mechanisms;
    const auto add = [&](const std::string& name, auto decide) {
        Mechanism m{name, {}, {}};
        for (const auto& [lab, run] : runs) {
            const auto [w, e] = decide(*run);
            m.at_work.push_back(w);
            m.evidence.push_back(e);
        }
        mechanisms.push_back(m);
    };
    add("greedy loops past the story's end", [](const DemoRun& r) {
        const double g = number(r, "demo_greedy_holtzman_percent");
        const double p = number(r, "demo_top-p 0.95_holtzman_percent");
        return std::pair{verdict(!std::isnan(g), g >= 50.0),
                         "greedy " + fmt(g, 0) + "% loop, top-p " + fmt(p, 0) + "%"};
    });
    add("self-reinforcement of story text", [](const DemoRun& r) {
        const double a = number(r, "e3_story_tp1"), b = number(r, "e3_story_tp10");
        return std::pair{verdict(!std::isnan(a), b > a + 0.1),
                         "p " + fmt(a) + " -> " + fmt(b) + " by the 10th copy"};
    });
    add("copies arbitrary text (induction)", [](const DemoRun& r) {
        const double a = number(r, "e3_random_tp1"), b = number(r, "e3_random_tp10");
        return std::pair{verdict(!std::isnan(a), b > a + 0.1),
                         "random tokens p " + fmt(a) + " -> " + fmt(b)};
    });
    add("entropy falls into the loop", [](const DemoRun& r) {
        if (r.sample.parts.size() != 3)
            return std::pair{-1, std::string("-")};
        const double b = r.sample.parts[0].entropy, e = r.sample.parts[2].entropy;
        return std::pair{verdict(true, e < b - 0.2),
                         fmt(b) + " -> " + fmt(e) + " nats (beginning -> end)"};
    });
    add("exposure bias (own text far easier)", [](const DemoRun& r) {
        const double h = number(r, "e2_human_nll_first"), g = number(r, "e1_greedy_nll");
        return std::pair{verdict(!std::isnan(h) && !std::isnan(g), g < h - 0.3),
                         "greedy NLL " + fmt(g) + " vs human " + fmt(h)};
    });
    add("knows where a story ends", [](const DemoRun& r) {
        const double p = number(r, "e5_p_end_at_end");
        return std::pair{verdict(!std::isnan(p), p > 0.3), "p(end) " + fmt(p) + " at human ends"};
    });
    add("running past the end loops", [](const DemoRun& r) {
        const double a = number(r, "e5_greedy_ignore_rep_before");
        const double b = number(r, "e5_greedy_ignore_rep_after");
        return std::pair{verdict(!std::isnan(a), b > a + 0.1),
                         "seq-rep-4 " + fmt(a) + " before, " + fmt(b) + " after"};
    });

    olab::Table table(columns);
    std::vector<std::string> shared, differ;
    for (const Mechanism& m : mechanisms) {
        std::vector<std::string> cells{m.name};
        bool all_measured = true, same = true;
        for (std::size_t k = 0; k < m.at_work.size(); ++k) {
            const int w = m.at_work[k];
            cells.push_back(w < 0 ? std::string("-") : (w ? "yes: " : "no: ") + m.evidence[k]);
            all_measured = all_measured && w >= 0;
            same = same && w == m.at_work[0];
        }
        table.add_row(cells);
        if (!all_measured)
            continue;
        std::string line = m.name + " (";
        for (std::size_t k = 0; k < m.evidence.size(); ++k)
            line += (k ? "; model " : "model ") + std::to_string(k + 1) + ": " + m.evidence[k];
        line += ")";
        (same ? shared : differ)
            .push_back((same ? (m.at_work[0] ? "both: " : "neither: ") : std::string()) + line);
    }
    std::printf("Mechanisms (yes / no with the numbers that decide it):\n%s\n",
                table.to_text().c_str());
    std::printf("Shared:\n");
    for (const std::string& s : shared)
        std::printf("  - %s\n", s.c_str());
    if (shared.empty())
        std::printf("  (none)\n");
    std::printf("Different:\n");
    for (const std::string& s : differ)
        std::printf("  - %s\n", s.c_str());
    if (differ.empty())
        std::printf("  (none)\n");
    std::fflush(stdout);
}

} // namespace collapse
