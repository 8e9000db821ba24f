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

// The number `key` of whichever result has it, or NaN.
double number(const std::vector<ExperimentResult>& results, const std::string& key) {
    for (const ExperimentResult& r : results) {
        const auto it = r.numbers.find(key);
        if (it != r.numbers.end())
            return it->second;
    }
    return std::nan("");
}

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

// An interval from the numbers key, key_lo and key_hi.
olab::Interval interval(const std::vector<ExperimentResult>& results, const std::string& key) {
    return {number(results, key), number(results, key + "_lo"), number(results, key + "_hi")};
}

} // namespace

std::string headline(const std::vector<ExperimentResult>& results) {
    const olab::Interval g = interval(results, "demo_greedy_holtzman_percent");
    const olab::Interval p = interval(results, "demo_top-p 0.95_holtzman_percent");
    const double n = number(results, "demo_samples");
    const double g_loops = number(results, "demo_greedy_loops");
    const double p_loops = number(results, "demo_top-p 0.95_loops");
    if (std::isnan(g.estimate) || std::isnan(p.estimate) || std::isnan(n) || std::isnan(g_loops) ||
        std::isnan(p_loops))
        return "";
    // Newcombe's interval of the difference: it says whether the prompts are enough to tell
    // the two decoders apart.
    const auto trials = std::int64_t(n);
    const olab::Interval d =
        olab::difference_interval(std::int64_t(g_loops), trials, std::int64_t(p_loops), trials);
    const std::string both = "greedy decoding (always the most likely next token) ends in a "
                             "loop in " +
                             olab::with_interval(g, 0, 1.0, "%") + " of " + olab::fmt(n, 0) +
                             " prompts, nucleus sampling (top-p 0.95) in " +
                             olab::with_interval(p, 0, 1.0, "%") + ", a difference of " +
                             olab::with_interval(d, 0, 100.0) + " percentage points";
    if (d.lo > 0.0)
        return "On this model the loop comes from how the next token is chosen: " + both + ".";
    if (d.hi < 0.0)
        return "On this model sampling loops more than greedy decoding: " + both + ".";
    return "On this model " + both + ": with this many prompts the two cannot be told apart.";
}

namespace {} // namespace

std::vector<std::string> summarize(const LongSample* sample,
                                   const std::vector<ExperimentResult>& results) {
    std::vector<std::string> out;
    using olab::fmt;
    const olab::Interval g_loop = interval(results, "demo_greedy_holtzman_percent");
    if (!std::isnan(g_loop.estimate))
        out.push_back("Greedy decoding past the end of the story loops in " +
                      olab::with_interval(g_loop, 0, 1.0, "%") +
                      " of the samples (seq-rep-4 of the last 200 tokens " +
                      olab::with_interval(interval(results, "demo_greedy_seq_rep4_last200")) +
                      "); nucleus sampling (top-p 0.95) on the same prompts loops in " +
                      olab::with_interval(interval(results, "demo_top-p 0.95_holtzman_percent"), 0,
                                          1.0, "%") +
                      " (seq-rep-4 " +
                      olab::with_interval(interval(results, "demo_top-p 0.95_seq_rep4_last200")) +
                      "). The loop comes from the decoding rule as much as from the model.");
    // 1. Self-reinforcement, and what the long sample's entropy did.
    const double tp1 = number(results, "e3_story_tp1"), tp10 = number(results, "e3_story_tp10");
    const double rtp1 = number(results, "e3_random_tp1");
    const double rtp10 = number(results, "e3_random_tp10");
    if (!std::isnan(tp1)) {
        const bool at_work = tp10 > tp1 + 0.1 || rtp10 > rtp1 + 0.1;
        out.push_back(
            std::string(at_work ? "Self-reinforcement is at work: "
                                : "Self-reinforcement is weak in this model: ") +
            "a repeated story sentence's tokens go from probability " + fmt(tp1) +
            " in the first copy to " + fmt(tp10) +
            " in the 10th, random-token "
            "sentences from " +
            fmt(rtp1) + " to " + fmt(rtp10) +
            " (experiment E3; change per sentence, with its 95% interval over the "
            "sentences: " +
            olab::with_interval(interval(results, "e3_story_tp_gain")) + " for story sentences, " +
            olab::with_interval(interval(results, "e3_random_tp_gain")) + " for random ones).");
    }
    if (sample && sample->parts.size() == 3) {
        const LongSample::Part& b = sample->parts[0];
        const LongSample::Part& e = sample->parts[2];
        const bool falls = e.entropy < b.entropy - 0.2;
        out.push_back(
            "In the long greedy sample the mean entropy is " + fmt(b.entropy) +
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
                                 "of its own text does not make the model more certain.")));
    }
    // 2. Exposure bias.
    const double hn_first = number(results, "e2_human_nll_first");
    const double hn_last = number(results, "e2_human_nll_last");
    const double g_nll = number(results, "e1_greedy_nll");
    const double t1_nll = number(results, "e1_T=1_nll");
    if (!std::isnan(hn_first) && !std::isnan(g_nll))
        out.push_back("The model learned only from human text (exposure bias): on human stories "
                      "its surprise is " +
                      fmt(hn_first) + " nats at the start and " + fmt(hn_last) +
                      " later; on its own greedy text it is " + fmt(g_nll) +
                      " and on its T=1 samples " + fmt(t1_nll) +
                      ". The long prompt near the end is the model's own output, not human "
                      "text: greedy text is far more predictable than anything it was trained "
                      "on, so a long context of it teaches the model nothing new.");
    // 3. Past the end of the story.
    const double p_end = number(results, "e5_p_end_at_end");
    const double rep_before = number(results, "e5_greedy_ignore_rep_before");
    const double rep_after = number(results, "e5_greedy_ignore_rep_after");
    if (!std::isnan(p_end))
        out.push_back(std::string(rep_after > rep_before + 0.1
                                      ? "Running past the end of the story is at work: "
                                      : "Running past the end of the story matters less here: ") +
                      "the model gives the end token p = " + fmt(p_end) +
                      " where human stories end, and with the end token ignored greedy text has "
                      "seq-rep-4 " +
                      fmt(rep_before) + " before its natural end and " + fmt(rep_after) +
                      " after it; stopping at the end token (or starting a new story) avoids "
                      "the stretch the model was never trained on.");
    // 4. Past the context window.
    if (sample && sample->loop_onset >= 0) {
        const double onset = double(sample->loop_onset + std::int64_t(sample->prompt.size()));
        const double T = number(results, "block_size");
        out.push_back("Past the context window: the long sample's loop starts at token " +
                      fmt(onset, 0) + " of the sequence (prompt included)" +
                      (std::isnan(T) ? std::string("")
                                     : std::string(onset < T ? ", inside" : ", past") +
                                           " the trained context of " + fmt(T, 0) + " tokens") +
                      "; E4 compares what cropping, sliding and sink tokens do beyond it.");
    }
    // 5. Training stage.
    const double e6_first = number(results, "e6_first_seq_rep4");
    const double e6_last = number(results, "e6_last_seq_rep4");
    if (!std::isnan(e6_first))
        out.push_back("Along training, greedy seq-rep-4 went from " + fmt(e6_first) +
                      " at the "
                      "first checkpoint to " +
                      fmt(e6_last) + " at the last (experiment E6).");
    else
        out.push_back("How collapse changes as training goes on was not measured in this run: "
                      "`lab e6 --checkpoints <run folder>` scores every checkpoint of a run.");
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
                  const std::vector<ExperimentResult>& given) {
    std::vector<ExperimentResult> results = given;
    ExperimentResult model_numbers;
    model_numbers.numbers["block_size"] = double(lab.config().block_size);
    results.push_back(model_numbers);

    olab::HtmlReport rep("ouro: why does the story end in a loop?");
    rep.heading(1, "Why does the story end in a loop?");
    if (const std::string h = headline(results); !h.empty())
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
    for (const std::string& s : summarize(sample, results))
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
