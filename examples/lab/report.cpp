// The HTML report and the generated summary (see report.hpp).
#include "report.hpp"

#include "glossary.hpp"
#include "lab/html_check.hpp"

#include <ouro/core/error.hpp>
#include <ouro/lab/html_report.hpp>
#include <ouro/lab/interval.hpp>

#include <cmath>
#include <cstdio>

namespace collapse {

namespace olab = ouro::lab;

namespace {

// Entropy shade: 0 nats white, 5 nats and more the darkest shade.
constexpr double entropy_scale = 5.0;

olab::ShadedToken prompt_token(const Lab& lab, std::int32_t token) {
    olab::ShadedToken t;
    t.text = lab.token_text(token);
    t.value = std::nan("");
    t.is_prompt = true;
    return t;
}

// Generated token i of the long sample, with its numbers for the hover box.
olab::ShadedToken generated_token(const Lab& lab, const LongSample& s, std::size_t i) {
    olab::ShadedToken t;
    t.text = lab.token_text(s.tokens[i]);
    t.value = std::min(1.0, s.entropy[i] / entropy_scale);
    t.in_loop = s.loop_onset >= 0 && std::int64_t(i) >= s.loop_onset;
    t.prob = s.prob[i];
    t.entropy = s.entropy[i];
    if (i < s.top5.size())
        for (const auto& [token, p] : s.top5[i])
            t.alternatives.push_back({lab.token_text(token), p});
    return t;
}

} // namespace

std::string headline(const Measurements& m) {
    if (!m.demo)
        return "";
    const DemoDecoder& greedy = m.demo->greedy;
    const DemoDecoder& top_p = m.demo->top_p;
    const olab::Interval g = as_percent(greedy.loops());
    const olab::Interval p = as_percent(top_p.loops());
    // Newcombe's interval of the difference: it says whether the prompts are enough to tell
    // the two decoders apart.
    const olab::Interval d =
        olab::difference_interval(greedy.looping, greedy.samples, top_p.looping, top_p.samples);
    const std::string both =
        "greedy decoding (always the most likely next token) ends in a "
        "loop in " +
        olab::with_interval(g, 0, 1.0, "%") + " of " + olab::fmt(greedy.samples) +
        " prompts, nucleus sampling (top-p 0.95) in " + olab::with_interval(p, 0, 1.0, "%") +
        ", a difference of " + olab::with_interval(d, 0, 100.0) + " percentage points";
    if (d.lo > 0.0)
        return "On this model the loop comes from how the next token is chosen: " + both + ".";
    if (d.hi < 0.0)
        return "On this model sampling loops more than greedy decoding: " + both + ".";
    return "On this model " + both + ": with this many prompts the two cannot be told apart.";
}

namespace {

std::string demo_sentence(const DemoCheck& c) {
    return "Greedy decoding past the end of the story loops in " +
           olab::with_interval(as_percent(c.greedy.loops()), 0, 1.0, "%") +
           " of the samples (seq-rep-4 of the last 200 tokens " +
           olab::with_interval(c.greedy.seq_rep4()) +
           "); nucleus sampling (top-p 0.95) on the same prompts loops in " +
           olab::with_interval(as_percent(c.top_p.loops()), 0, 1.0, "%") + " (seq-rep-4 " +
           olab::with_interval(c.top_p.seq_rep4()) +
           "). The loop comes from the decoding rule as much as from the model.";
}

// 1. Self-reinforcement.
std::string e3_sentence(const E3Result& e3) {
    using olab::fmt;
    const double tp1 = e3.story.front().tp(), tp10 = e3.story.back().tp();
    const double rtp1 = e3.random.front().tp(), rtp10 = e3.random.back().tp();
    const bool at_work = tp10 > tp1 + 0.1 || rtp10 > rtp1 + 0.1;
    return std::string(at_work ? "Self-reinforcement is at work: "
                               : "Self-reinforcement is weak in this model: ") +
           "a repeated story sentence's tokens go from probability " + fmt(tp1) +
           " in the first copy to " + fmt(tp10) +
           " in the 10th, random-token "
           "sentences from " +
           fmt(rtp1) + " to " + fmt(rtp10) +
           " (experiment E3; change per sentence, with its 95% interval over the "
           "sentences: " +
           olab::with_interval(e3.story_gain) + " for story sentences, " +
           olab::with_interval(e3.random_gain) + " for random ones).";
}

// What the long sample's entropy did.
std::string entropy_sentence(const LongSample& sample) {
    using olab::fmt;
    const LongSample::Part& b = sample.parts[0];
    const LongSample::Part& e = sample.parts[2];
    const bool falls = e.entropy < b.entropy - 0.2;
    return "In the long greedy sample the mean entropy is " + fmt(b.entropy) +
           " nats at the beginning and " + fmt(e.entropy) +
           " at the end (mean p of the chosen "
           "token " +
           fmt(b.prob) + " and " + fmt(e.prob) + "). " +
           (falls ? std::string("Uncertainty does fall near the end, as one might expect, but "
                                "towards a loop: the falling entropy is the symptom of the "
                                "loop, not a sign of understanding.")
                  : std::string("The model is not more certain in the loop: greedy decoding "
                                "keeps taking the top choice of a flat distribution, and a loop "
                                "needs only that top choice to cycle, not confidence (the "
                                "Mirostat paper calls this the boredom trap). A longer prompt "
                                "of its own text does not make the model more certain."));
}

// 2. Exposure bias.
std::string exposure_sentence(const E2Result& e2, const E1Result& e1) {
    using olab::fmt;
    const SampleMetrics& greedy = row_named(e1.rows, "greedy", "E1").metrics;
    const SampleMetrics& t1 = row_named(e1.rows, "T=1", "E1").metrics;
    return "The model learned only from human text (exposure bias): on human stories "
           "its surprise is " +
           fmt(window_value(e2.human_s, 0)) + " nats at the start and " +
           fmt(window_value(e2.human_s, e2.windows() - 1)) +
           " later; on its own greedy text it is " + olab::with_interval(greedy.nll_interval()) +
           " and on its T=1 samples " + olab::with_interval(t1.nll_interval()) +
           " (95% intervals over the samples)" +
           ". The long prompt near the end is the model's own output, not human "
           "text: greedy text is far more predictable than anything it was trained "
           "on, so a long context of it teaches the model nothing new.";
}

// 3. Past the end of the story.
std::string end_sentence(const E5Result& e5) {
    using olab::fmt;
    const E5Row& ignore = e5.row("greedy", ouro::gen::EndOfText::ignore);
    const olab::Interval before = mean_and_interval(ignore.rep_before, 0.0, 1.0);
    const olab::Interval after = mean_and_interval(ignore.rep_after, 0.0, 1.0);
    const double rep_before = before.estimate, rep_after = after.estimate;
    return std::string(rep_after > rep_before + 0.1
                           ? "Running past the end of the story is at work: "
                           : "Running past the end of the story matters less here: ") +
           "the model gives the end token p = " + fmt(e5.p_end_at_end) +
           " where human stories end, and with the end token ignored greedy text has "
           "seq-rep-4 " +
           olab::with_interval(before) + " before its natural end and " +
           olab::with_interval(after) +
           " after it (95% intervals over the samples); stopping at the end token (or starting a "
           "new story) avoids "
           "the stretch the model was never trained on.";
}

// 4. Past the context window.
std::string context_sentence(const LongSample& sample, std::int64_t block_size) {
    using olab::fmt;
    const double onset = double(sample.loop_onset + std::int64_t(sample.prompt.size()));
    const double T = double(block_size);
    return "Past the context window: the long sample's loop starts at token " + fmt(onset, 0) +
           " of the sequence (prompt included)" + std::string(onset < T ? ", inside" : ", past") +
           " the trained context of " + fmt(T, 0) + " tokens" +
           "; E4 compares what cropping, sliding and sink tokens do beyond it.";
}

// 5. Training stage.
std::string training_sentence(const Measurements& m) {
    using olab::fmt;
    if (!m.e6)
        return "How collapse changes as training goes on was not measured in this run: "
               "`lab e6 --checkpoints <run folder>` scores every checkpoint of a run.";
    return "Along training, greedy seq-rep-4 went from " +
           fmt(m.e6->checkpoints.front().greedy.seq_rep4) +
           " at the "
           "first checkpoint to " +
           fmt(m.e6->checkpoints.back().greedy.seq_rep4) + " at the last (experiment E6).";
}

} // namespace

std::vector<std::string> summarize(const LongSample* sample, const Measurements& m,
                                   std::int64_t block_size) {
    std::vector<std::string> out;
    if (m.demo)
        out.push_back(demo_sentence(*m.demo));
    if (m.e3)
        out.push_back(e3_sentence(*m.e3));
    if (sample && sample->parts.size() == 3)
        out.push_back(entropy_sentence(*sample));
    if (m.e2 && m.e1)
        out.push_back(exposure_sentence(*m.e2, *m.e1));
    if (m.e5)
        out.push_back(end_sentence(*m.e5));
    if (sample && sample->loop_onset >= 0)
        out.push_back(context_sentence(*sample, block_size));
    out.push_back(training_sentence(m));
    return out;
}

namespace {

// A table with the plain definition of each of its columns under it; columns without one are
// named on stderr so that a new metric gets its line in glossary.cpp.
void defined_table(olab::HtmlReport& rep, const olab::Table& table) {
    rep.table(table);
    rep.definitions(definitions(table.columns()));
    for (const std::string& c : undefined_columns(table.columns()))
        std::fprintf(stderr, "report: the column '%s' has no definition\n", c.c_str());
}

// What each part of the long sample shows.
const char* part_title(const std::string& name) {
    if (name == "beginning")
        return "A good beginning";
    if (name == "middle")
        return "A middle that loses the plot";
    return "An end in a loop";
}

void long_sample_section(olab::HtmlReport& rep, const Lab& lab, const LongSample& sample) {
    rep.heading(2,
                "One story, run long: a good beginning, a middle that loses the plot, an end "
                "in a loop",
                "sample");
    rep.paragraph(
        "This is the example from the blog post, produced by this model: greedy decoding (always "
        "the most likely next token) from \"" +
        lab.text(std::span(sample.prompt).subspan(1)) +
        "\", with the end-of-story token never chosen, so the text runs on for " +
        std::to_string(sample.tokens.size()) +
        " tokens. Each token is shaded by how unsure the model was when it chose it (its entropy: "
        "white is certain, dark blue is unsure). Hover over a token to see its probability, the "
        "entropy and the five tokens the model found most likely. The loop that runs to the end "
        "is underlined in red and its start is marked" +
        (sample.natural_end >= 0 ? "; the story would naturally have ended at generated token " +
                                       std::to_string(sample.natural_end) +
                                       ", where the end-of-story token was the model's top choice."
                                 : "."));
    std::vector<olab::ShadedToken> tokens;
    for (std::size_t i = 1; i < sample.prompt.size(); ++i)
        tokens.push_back(prompt_token(lab, sample.prompt[i]));
    for (std::size_t i = 0; i < sample.tokens.size(); ++i)
        tokens.push_back(generated_token(lab, sample, i));
    const std::string legend =
        "entropy of the next-token distribution: 0 to " + olab::fmt(entropy_scale, 0) + "+ nats";
    rep.shaded_text(tokens, legend);
    std::vector<olab::HtmlReport::Column> columns;
    std::vector<std::string> number_columns;
    for (const LongSample::Part& p : sample.parts) {
        olab::HtmlReport::Column c;
        c.heading = std::string(part_title(p.name)) + " (tokens " + std::to_string(p.begin) + "-" +
                    std::to_string(p.end) + ")";
        for (std::int64_t i = p.begin; i < p.end; ++i)
            c.tokens.push_back(generated_token(lab, sample, std::size_t(i)));
        c.numbers = olab::Table({"mean entropy (nats)", "mean p(token)", "seq-rep-4"});
        c.numbers.add_row({olab::fmt(p.entropy), olab::fmt(p.prob), olab::fmt(p.seq_rep4)});
        number_columns = c.numbers.columns();
        columns.push_back(std::move(c));
    }
    rep.heading(3, "The three parts side by side");
    rep.side_by_side(columns, legend);
    rep.definitions(definitions(number_columns));
}

} // namespace

void write_report(const std::filesystem::path& path, Lab& lab, const LongSample* sample,
                  const Measurements& m, const std::vector<ExperimentResult>& given) {
    olab::HtmlReport rep("ouro: why does the story end in a loop?");
    rep.heading(1, "Why does the story end in a loop?");
    if (const std::string h = headline(m); !h.empty())
        rep.headline(h);
    const auto& cfg = lab.config();
    rep.paragraph(
        "Measured on the model " + lab.bundle().checkpoint + " (training step " +
        std::to_string(lab.bundle().state.step) + "; " +
        std::to_string(lab.model().num_parameters()) +
        " parameters: " + std::to_string(cfg.n_layer) + " layers of " + std::to_string(cfg.n_embd) +
        " channels, a vocabulary of " + std::to_string(cfg.vocab_size) + " tokens, a context of " +
        std::to_string(cfg.block_size) + " tokens, " + ouro::nn::to_string(cfg.position) +
        " positions). Ranges written \"95% CI a to b\" are 95% confidence intervals "
        "over the prompts (Wilson's interval for a share, Student's t for a mean); a "
        "dash (" +
        olab::kMissing + ") in a table means the value does not apply or was not measured.");
    rep.heading(2, "The answer, measured on this model", "summary");
    for (const std::string& s : summarize(sample, m, lab.config().block_size))
        rep.paragraph(s);
    if (sample)
        long_sample_section(rep, lab, *sample);
    for (const ExperimentResult& r : given) {
        rep.heading(2, (r.id == "demo" ? std::string("") : r.id + ": ") + r.title, r.id);
        rep.paragraph(r.question);
        rep.paragraph(r.method);
        for (const std::string& f : r.findings)
            rep.paragraph(f);
        defined_table(rep, r.table);
        for (const olab::PlotSpec& p : r.plots)
            rep.svg(olab::svg_plot(p), p.title);
    }
    // Every report is checked before it is written: well-formed, nothing fetched from outside.
    const std::vector<std::string> problems = ouro::examples::check_self_contained_html(rep.str());
    if (!problems.empty())
        throw ouro::Error("report: the HTML is not self-contained and well-formed: " +
                          problems.front());
    rep.write(path);
}

} // namespace collapse
