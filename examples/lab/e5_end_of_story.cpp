// E5: what happens at the end of a story? The probability of the end-of-text token around the
// natural ends of human stories (teacher-forced), and decoding that stops at the end token
// against decoding that ignores it or starts a new story; where loops begin relative to the end.
#include "lab.hpp"

#include <ouro/lab/loops.hpp>
#include <ouro/lab/repetition.hpp>

#include <algorithm>
#include <cmath>

namespace collapse {

namespace olab = ouro::lab;
namespace gen = ouro::gen;

namespace {

// First generated index where the end token was the model's first choice, or -1.
std::int64_t natural_end(const std::vector<double>& p_end, const std::vector<double>& p_max) {
    for (std::size_t t = 0; t < p_end.size(); ++t)
        if (p_end[t] >= p_max[t])
            return std::int64_t(t);
    return -1;
}

double mean(const std::vector<double>& v) {
    if (v.empty())
        return std::nan("");
    double s = 0;
    for (double x : v)
        s += x;
    return s / double(v.size());
}

} // namespace

ExperimentResult run_e5_end_of_story(Lab& lab) {
    const auto& human = lab.require_human_stories("E5");
    ExperimentResult r;
    r.id = "e5";
    r.title = "What happens at the end of a story?";
    r.question = "p(end token) around the natural end; decoding that stops vs that ignores the "
                 "end token; the loop onset after it.";
    const bool quick = lab.settings().quick;
    const std::int64_t before = 30, after = 15;
    const gen::ContextOptions context = lab.long_context();

    // 1. Teacher-forced: story i, its end token, and the beginning of story i + 1.
    const std::size_t n_stories = std::min<std::size_t>(quick ? 24 : 96, human.size() - 1);
    std::vector<std::vector<std::int32_t>> texts;
    std::vector<std::int64_t> end_index; // index of the score whose target is the end token
    for (std::size_t i = 0; i < human.size() - 1 && texts.size() < n_stories; ++i) {
        const auto& s = human[i];
        if (std::int64_t(s.size()) < before + 2 ||
            std::int64_t(s.size()) + after + 1 > lab.config().block_size)
            continue;
        std::vector<std::int32_t> t = s;
        const auto& next = human[i + 1]; // starts with the end token
        t.insert(t.end(), next.begin(),
                 next.begin() + std::min<std::ptrdiff_t>(after + 1, std::ptrdiff_t(next.size())));
        end_index.push_back(std::int64_t(s.size()) - 1);
        texts.push_back(std::move(t));
    }
    if (texts.empty())
        throw ouro::ConfigError("E5: no held-out story fits the model's context");
    DecodeRequest req;
    req.max_new_tokens = quick ? 384 : 768;
    req.context = context;
    req.seed = lab.settings().seed;
    const std::vector<Decoder> decoders = {standard_decoders()[0], standard_decoders()[4]};
    const gen::EndOfText modes[] = {gen::EndOfText::stop, gen::EndOfText::ignore,
                                    gen::EndOfText::new_story};
    ouro::examples::ProgressBar bar =
        progress_bar(lab, "E5 end of story",
                     std::uint64_t(texts.size()) * 64 + 6 * std::uint64_t(lab.prompts().size()) *
                                                            std::uint64_t(req.max_new_tokens));
    std::uint64_t done = 0;
    gen::InferenceSession session(
        lab.model(), gen::session_options(lab.config(), context, std::int64_t(texts.size())));
    const auto scores = olab::teacher_force(session, texts, context, lab.eot());
    done += std::uint64_t(texts.size()) * 64;
    bar.update(done);
    std::vector<double> p_end_at(std::size_t(before + after + 1), 0.0);
    std::vector<double> h_at(p_end_at.size(), 0.0);
    std::vector<std::int64_t> n_at(p_end_at.size(), 0);
    std::int64_t end_is_argmax = 0;
    for (std::size_t i = 0; i < texts.size(); ++i) {
        for (std::int64_t off = -before; off <= after; ++off) {
            const std::int64_t k = end_index[i] + off;
            if (k < 0 || k >= std::int64_t(scores[i].size()))
                continue;
            p_end_at[std::size_t(off + before)] += scores[i][std::size_t(k)].p_end;
            h_at[std::size_t(off + before)] += scores[i][std::size_t(k)].entropy;
            ++n_at[std::size_t(off + before)];
        }
        end_is_argmax += scores[i][std::size_t(end_index[i])].argmax == lab.eot();
    }
    olab::Series s_pend{"p(end token), human stories", {}, {}, olab::Series::Style::line_points};
    olab::Series s_h{"entropy (nats / 10)", {}, {}, olab::Series::Style::line};
    for (std::size_t k = 0; k < p_end_at.size(); ++k) {
        if (n_at[k] == 0)
            continue;
        s_pend.x.push_back(double(std::int64_t(k) - before));
        s_pend.y.push_back(p_end_at[k] / double(n_at[k]));
        s_h.x.push_back(double(std::int64_t(k) - before));
        s_h.y.push_back(h_at[k] / double(n_at[k]) / 10.0);
    }
    const double p_end_at_end = p_end_at[std::size_t(before)] / double(n_at[std::size_t(before)]);
    const double p_end_before = p_end_at[std::size_t(before - 10)] /
                                double(std::max<std::int64_t>(1, n_at[std::size_t(before - 10)]));
    olab::PlotSpec p1;
    p1.title = "E5: probability of the end token around the natural end of human stories";
    p1.x_label = "tokens from the story's end (0: the end token is the next token)";
    p1.y_label = "probability";
    p1.y_min = 0.0;
    p1.y_max = 1.0;
    p1.series = {s_pend, s_h};
    p1.markers.push_back({0.0, "story ends"});
    r.plots.push_back(p1);

    // 2. Decoding with each end-of-text mode.
    r.table = olab::Table({"decoder", "end token", "samples", "mean tokens", "ended %",
                           "natural end found %", "mean natural end", "seq-rep-4 before end",
                           "seq-rep-4 after end", "loop %", "loop onset - end"});
    olab::PlotSpec p2;
    p2.title = "E5: repetition before and after the natural end (end token ignored)";
    p2.x_label = "decoder";
    p2.y_label = "seq-rep-4";
    p2.y_min = 0.0;
    p2.y_max = 1.0;
    olab::Series bars_before{"before the natural end", {}, {}, olab::Series::Style::bars};
    olab::Series bars_after{"after the natural end", {}, {}, olab::Series::Style::bars};
    for (const Decoder& d : decoders) {
        for (gen::EndOfText mode : modes) {
            req.end_of_text = mode;
            const DecodedSet set = decode(lab, d, req, &bar, &done);
            std::vector<double> lengths, ends, rep_before, rep_after, onset_minus_end;
            std::int64_t ended = 0, found = 0, loops = 0;
            for (std::size_t i = 0; i < set.samples.size(); ++i) {
                const auto& tok = set.samples[i];
                lengths.push_back(double(tok.size()));
                ended += !tok.empty() && tok.back() == lab.eot() && mode == gen::EndOfText::stop;
                const std::int64_t e = natural_end(set.p_end[i], set.p_max[i]);
                if (e >= 0) {
                    ++found;
                    ends.push_back(double(e));
                    if (mode != gen::EndOfText::stop && e + 8 < std::int64_t(tok.size())) {
                        rep_before.push_back(
                            olab::seq_rep_n(std::span(tok).first(std::size_t(e)), 4));
                        rep_after.push_back(
                            olab::seq_rep_n(std::span(tok).subspan(std::size_t(e)), 4));
                    }
                }
                if (const auto loop = olab::find_loop(tok, 3)) {
                    ++loops;
                    if (e >= 0)
                        onset_minus_end.push_back(double(loop->onset - e));
                }
            }
            const double n = double(set.samples.size());
            r.table.add_row({d.name, gen::to_string(mode), olab::fmt(std::int64_t(n)),
                             olab::fmt(mean(lengths), 1),
                             mode == gen::EndOfText::stop ? olab::fmt(100.0 * double(ended) / n, 1)
                                                          : std::string("-"),
                             olab::fmt(100.0 * double(found) / n, 1), olab::fmt(mean(ends), 1),
                             olab::fmt(mean(rep_before)), olab::fmt(mean(rep_after)),
                             olab::fmt(100.0 * double(loops) / n, 1),
                             olab::fmt(mean(onset_minus_end), 1)});
            const std::string key = "e5_" + d.name + "_" + gen::to_string(mode);
            r.numbers[key + "_ended_percent"] = 100.0 * double(ended) / n;
            r.numbers[key + "_loop_percent"] = 100.0 * double(loops) / n;
            r.numbers[key + "_rep_before"] = mean(rep_before);
            r.numbers[key + "_rep_after"] = mean(rep_after);
            r.numbers[key + "_onset_minus_end"] = mean(onset_minus_end);
            r.numbers[key + "_mean_end"] = mean(ends);
            if (mode == gen::EndOfText::ignore) {
                const double x = double(p2.x_categories.size());
                p2.x_categories.push_back(d.name);
                bars_before.x.push_back(x);
                bars_before.y.push_back(mean(rep_before));
                bars_after.x.push_back(x);
                bars_after.y.push_back(mean(rep_after));
            }
        }
    }
    bar.finish();
    p2.series = {bars_before, bars_after};
    r.plots.push_back(p2);

    r.method = std::to_string(texts.size()) +
               " held-out stories teacher-forced through their end token into the next story; " +
               std::to_string(lab.prompts().size()) + " prompts decoded for up to " +
               std::to_string(req.max_new_tokens) +
               " tokens with the end token as a stop, ignored (its logit at -inf, as in the "
               "example from the blog post) or fed as a new story. The natural end of a sample is "
               "the first token "
               "where the end token was the model's most probable choice.";
    r.numbers["e5_p_end_at_end"] = p_end_at_end;
    r.numbers["e5_p_end_10_before"] = p_end_before;
    r.numbers["e5_end_is_argmax_percent"] = 100.0 * double(end_is_argmax) / double(texts.size());
    r.findings.push_back("At the end of a human story the model gives the end token probability " +
                         olab::fmt(p_end_at_end) + " on average (" + olab::fmt(p_end_before) +
                         " ten tokens earlier), and it is the first choice in " +
                         olab::fmt(100.0 * double(end_is_argmax) / double(texts.size()), 0) +
                         "% of the stories: it knows where stories end.");
    const double g_before = r.numbers["e5_greedy_ignore_rep_before"];
    const double g_after = r.numbers["e5_greedy_ignore_rep_after"];
    const double onset = r.numbers["e5_greedy_ignore_onset_minus_end"];
    r.findings.push_back("With the end token ignored (as in the example from the blog post), "
                         "greedy text has seq-rep-4 " +
                         olab::fmt(g_before) + " before its natural end and " + olab::fmt(g_after) +
                         " after it; " +
                         (std::isnan(onset) ? "no loop that runs to the end began within " +
                                                  std::to_string(req.max_new_tokens) + " tokens"
                                            : "its loops begin on average " + olab::fmt(onset, 0) +
                                                  " tokens after the natural end") +
                         ". Stopping at the end token ends " +
                         olab::fmt(r.numbers["e5_greedy_stop_ended_percent"], 0) +
                         "% of the greedy samples before any of that.");
    return r;
}

} // namespace collapse
