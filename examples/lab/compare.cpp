// The demo's answer for more than one model: held-out quality on a scale that does not depend on
// the tokenizer (nats per byte), and which collapse mechanisms two models share and which differ,
// read from the typed results each demo run measured (the same fields the summary reads).
#include "common/text_width.hpp"
#include "demo.hpp"

#include <ouro/gen/session.hpp>
#include <ouro/lab/table.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

namespace collapse {

namespace olab = ouro::lab;
namespace gen = ouro::gen;

namespace {

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

QualityScoring::QualityScoring(Lab& lab) : lab_(lab) {
    const auto& stories = lab.require_human_stories("the quality score");
    const std::int64_t T = lab.config().block_size;
    for (const auto& s : stories)
        if (s.size() >= 2)
            texts_.emplace_back(s.begin(),
                                s.begin() + std::min<std::int64_t>(std::int64_t(s.size()), T));
    scores_.resize(texts_.size());
}

std::vector<NamedPiece> QualityScoring::pieces(std::size_t count) {
    const std::size_t n = texts_.size();
    count = std::max<std::size_t>(1, std::min(count, n));
    std::vector<NamedPiece> out;
    for (std::size_t k = 0; k < count; ++k) {
        const std::size_t begin = n * k / count, end = n * (k + 1) / count;
        out.push_back(
            {"held-out quality " + std::to_string(k + 1) + "/" + std::to_string(count),
             [this, begin, end] {
                 const gen::ContextOptions context{.policy = gen::ContextPolicy::stop};
                 auto scores = olab::teacher_force(lab_.model(),
                                                   std::span(texts_).subspan(begin, end - begin),
                                                   context, lab_.eot(), 16);
                 std::move(scores.begin(), scores.end(), scores_.begin() + std::ptrdiff_t(begin));
             }});
    }
    return out;
}

Quality QualityScoring::quality() const {
    Quality q;
    double nll = 0;
    const ouro::data::Tokenizer& tok = lab_.tokenizer();
    for (std::size_t i = 0; i < texts_.size(); ++i) {
        ++q.stories;
        // Score t is about token t + 1; every token after the separator is text.
        for (std::size_t t = 0; t < scores_[i].size(); ++t) {
            nll += scores_[i][t].nll;
            q.bytes += std::int64_t(tok.decode_next(texts_[i][t], texts_[i][t + 1]).size());
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

namespace {

using Runs = std::vector<std::pair<Lab*, const DemoRun*>>;

std::vector<std::string> model_columns(const Runs& runs) {
    std::vector<std::string> columns{"measurement"};
    for (std::size_t m = 0; m < runs.size(); ++m)
        columns.push_back("model " + std::to_string(m + 1));
    return columns;
}

void print_quality(const Runs& runs) {
    using olab::fmt;
    olab::Table quality(model_columns(runs));
    const auto row = [&](const std::string& name, auto value) {
        std::vector<std::string> cells{name};
        for (const auto& [lab, run] : runs)
            cells.push_back(value(*lab, *run));
        quality.add_row(cells);
    };
    row("parameters",
        [](Lab& l, const DemoRun&) { return fmt(std::int64_t(l.model().num_parameters())); });
    row("vocabulary",
        [](Lab& l, const DemoRun&) { return fmt(std::int64_t(l.config().vocab_size)); });
    row("held-out nats/token", [](Lab&, const DemoRun& r) {
        return r.quality ? fmt(r.quality->nats_per_token) : std::string("-");
    });
    row("held-out bytes/token", [](Lab&, const DemoRun& r) {
        return r.quality ? fmt(double(r.quality->bytes) / double(r.quality->tokens), 2)
                         : std::string("-");
    });
    row("held-out nats/byte", [](Lab&, const DemoRun& r) {
        return r.quality ? fmt(r.quality->nats_per_byte) : std::string("-");
    });
    std::printf("\nQuality on held-out human stories (one scale for any tokenizer: nats per byte "
                "of text; lower is better):\n%s\n",
                quality.to_text(olab::terminal_width).c_str());
}

using Verdict = std::pair<int, std::string>;
const Verdict not_measured{-1, "-"};

double mean(const std::vector<double>& v) {
    double s = 0;
    for (double x : v)
        s += x;
    return v.empty() ? std::nan("") : s / double(v.size());
}

// The mechanisms, by the rules the summary states them with.
std::vector<Mechanism> mechanisms(const Runs& runs) {
    using olab::fmt;
    std::vector<Mechanism> out;
    const auto add = [&](const std::string& name, auto decide) {
        Mechanism m{name, {}, {}};
        for (const auto& [lab, run] : runs) {
            const auto [w, e] = decide(run->measured, *run);
            m.at_work.push_back(w);
            m.evidence.push_back(e);
        }
        out.push_back(m);
    };
    add("greedy loops past the story's end", [](const Measurements& m, const DemoRun&) {
        if (!m.demo)
            return not_measured;
        const double g = 100.0 * m.demo->greedy.loops().estimate;
        const double p = 100.0 * m.demo->top_p.loops().estimate;
        return Verdict{verdict(true, g >= 50.0),
                       "greedy " + fmt(g, 0) + "% loop, top-p " + fmt(p, 0) + "%"};
    });
    add("self-reinforcement of story text", [](const Measurements& m, const DemoRun&) {
        if (!m.e3)
            return not_measured;
        const double a = m.e3->story.front().tp(), b = m.e3->story.back().tp();
        return Verdict{verdict(true, b > a + 0.1),
                       "p " + fmt(a) + " -> " + fmt(b) + " by the 10th copy"};
    });
    add("copies arbitrary text (induction)", [](const Measurements& m, const DemoRun&) {
        if (!m.e3)
            return not_measured;
        const double a = m.e3->random.front().tp(), b = m.e3->random.back().tp();
        return Verdict{verdict(true, b > a + 0.1), "random tokens p " + fmt(a) + " -> " + fmt(b)};
    });
    add("entropy falls into the loop", [](const Measurements&, const DemoRun& r) {
        if (r.sample.parts.size() != 3)
            return not_measured;
        const double b = r.sample.parts[0].entropy, e = r.sample.parts[2].entropy;
        return Verdict{verdict(true, e < b - 0.2),
                       fmt(b) + " -> " + fmt(e) + " nats (beginning -> end)"};
    });
    add("exposure bias (own text far easier)", [](const Measurements& m, const DemoRun&) {
        if (!m.e2 || !m.e1)
            return not_measured;
        const double h = window_value(m.e2->human_s, 0);
        const double g = row_named(m.e1->rows, "greedy", "E1").metrics.nll;
        return Verdict{verdict(!std::isnan(h) && !std::isnan(g), g < h - 0.3),
                       "greedy NLL " + fmt(g) + " vs human " + fmt(h)};
    });
    add("knows where a story ends", [](const Measurements& m, const DemoRun&) {
        if (!m.e5)
            return not_measured;
        const double p = m.e5->p_end_at_end;
        return Verdict{verdict(!std::isnan(p), p > 0.3), "p(end) " + fmt(p) + " at human ends"};
    });
    add("running past the end loops", [](const Measurements& m, const DemoRun&) {
        if (!m.e5)
            return not_measured;
        const E5Row& row = m.e5->row("greedy", gen::EndOfText::ignore);
        const double a = mean(row.rep_before), b = mean(row.rep_after);
        return Verdict{verdict(!std::isnan(a), b > a + 0.1),
                       "seq-rep-4 " + fmt(a) + " before, " + fmt(b) + " after"};
    });
    return out;
}

void print_list(const char* title, const std::vector<std::string>& lines) {
    std::printf("%s:\n", title);
    for (const std::string& s : lines)
        std::printf("%s\n", flags::wrap("  - " + s, flags::columns, 2).c_str());
    if (lines.empty())
        std::printf("  (none)\n");
}

} // namespace

void print_comparison(const std::vector<std::pair<Lab*, const DemoRun*>>& runs) {
    std::printf("== Comparison\n");
    for (std::size_t m = 0; m < runs.size(); ++m)
        std::printf("model %zu: %s (%s)\n", m + 1, runs[m].first->bundle().checkpoint.c_str(),
                    model_description(*runs[m].first).c_str());
    print_quality(runs);
    olab::Table table(model_columns(runs));
    std::vector<std::string> shared, differ;
    for (const Mechanism& m : mechanisms(runs)) {
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
                table.to_text(olab::terminal_width).c_str());
    print_list("Shared", shared);
    print_list("Different", differ);
    std::fflush(stdout);
}

} // namespace collapse
