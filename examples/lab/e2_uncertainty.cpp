// E2: does uncertainty fall along a sample? Entropy and surprisal by position for the model's own
// text (greedy and T=1) against teacher-forced human text, with the loop onset marked.
#include "experiments.hpp"

#include <ouro/lab/loops.hpp>
#include <ouro/lab/positional.hpp>

#include <algorithm>
#include <cmath>

namespace collapse {

namespace olab = ouro::lab;
namespace gen = ouro::gen;

namespace {

// Per-token values with -ln of each probability.
std::vector<std::vector<double>> surprisal(const std::vector<std::vector<double>>& probs) {
    std::vector<std::vector<double>> out(probs.size());
    for (std::size_t i = 0; i < probs.size(); ++i)
        for (double p : probs[i])
            out[i].push_back(-std::log(std::max(p, 1e-300)));
    return out;
}

// Window means as a plot series at the windows' first positions (offset by the prompt).
olab::Series window_series(const std::string& name, const olab::WindowMeans& w,
                           std::int64_t offset) {
    olab::Series s{name, {}, {}, olab::Series::Style::line_points};
    for (std::size_t k = 0; k < w.mean.size(); ++k) {
        s.x.push_back(double(offset + w.begin(std::int64_t(k))));
        s.y.push_back(w.mean[k]);
    }
    return s;
}

// Human text: the held-out stories packed as in training (end token before each story), cut
// into streams of `length` + 1 tokens that each start at a story's beginning.
std::vector<std::vector<std::int32_t>>
human_streams(const std::vector<std::vector<std::int32_t>>& human, std::size_t streams,
              std::int64_t length) {
    std::vector<std::vector<std::int32_t>> texts;
    std::vector<std::int32_t> packed;
    std::vector<std::size_t> starts; // offset of each story in the packed stream
    for (const auto& s : human) {
        starts.push_back(packed.size());
        packed.insert(packed.end(), s.begin(), s.end());
    }
    const std::size_t step = std::max<std::size_t>(1, human.size() / streams);
    for (std::size_t i = 0; i < human.size() && texts.size() < streams; i += step)
        if (starts[i] + std::size_t(length) + 1 <= packed.size())
            texts.emplace_back(packed.begin() + std::ptrdiff_t(starts[i]),
                               packed.begin() +
                                   std::ptrdiff_t(starts[i] + std::size_t(length) + 1));
    if (texts.empty())
        throw ouro::ConfigError("E2: the held-out text is shorter than " +
                                std::to_string(length + 1) + " tokens");
    return texts;
}

// The median loop onset of the samples, NaN without a loop.
double median_onset(const std::vector<std::vector<std::int32_t>>& samples) {
    std::vector<double> onsets;
    for (const auto& s : samples)
        if (const auto loop = olab::find_loop(s, 3))
            onsets.push_back(double(loop->onset));
    std::sort(onsets.begin(), onsets.end());
    return onsets.empty() ? std::nan("") : onsets[onsets.size() / 2];
}

} // namespace

double window_value(const olab::WindowMeans& w, std::size_t k) {
    return k < w.mean.size() ? w.mean[k] : std::nan("");
}

std::size_t E2Result::windows() const {
    return std::max({human_h.mean.size(), greedy_h.mean.size(), t1_h.mean.size()});
}

E2Result measure_e2(Lab& lab) {
    const auto& human = lab.require_human_stories("E2");
    E2Result m;
    m.block_size = lab.config().block_size;
    m.length = lab.settings().quick ? 2 * m.block_size : 4 * m.block_size;
    m.window = std::max<std::int64_t>(8, m.length / 16);
    const gen::ContextOptions context = lab.long_context();
    const auto texts = human_streams(human, lab.settings().quick ? 8 : 16, m.length);
    std::uint64_t total = std::uint64_t(texts.size() * std::size_t(m.length)) +
                          2 * std::uint64_t(lab.prompts().size()) * std::uint64_t(m.length);
    ouro::examples::ProgressBar bar = progress_bar(lab, "E2 uncertainty", total);
    std::uint64_t done = 0;
    const auto scores =
        olab::teacher_force(lab.model(), texts, context, lab.eot(), std::int64_t(texts.size()));
    done += std::uint64_t(texts.size() * std::size_t(m.length));
    bar.update(done);
    m.human_h = olab::mean_by_window(olab::field_of(scores, &olab::TokenScore::entropy), m.window);
    m.human_s = olab::mean_by_window(olab::field_of(scores, &olab::TokenScore::nll), m.window);

    // The model's own text, from the prompts (positions counted from the prompt's end).
    DecodeRequest req;
    req.max_new_tokens = m.length;
    req.context = context;
    req.end_of_text = gen::EndOfText::ignore;
    req.seed = lab.settings().seed;
    const std::vector<DecodedSet> sets =
        decode_all(lab, {find_decoder("greedy"), find_decoder("T=1")}, req, &bar, &done);
    const DecodedSet &greedy = sets[0], &sampled = sets[1];
    bar.finish();
    m.greedy_h = olab::mean_by_window(greedy.entropy, m.window);
    m.greedy_s = olab::mean_by_window(surprisal(greedy.prob), m.window);
    m.t1_h = olab::mean_by_window(sampled.entropy, m.window);
    m.t1_s = olab::mean_by_window(surprisal(sampled.prob), m.window);
    m.median_onset = median_onset(greedy.samples);
    m.streams = texts.size();
    m.greedy_samples = greedy.samples.size();
    m.t1_samples = sampled.samples.size();
    return m;
}

namespace {

void e2_plots(ExperimentResult& r, const E2Result& m) {
    olab::PlotSpec ph;
    ph.title = "E2: entropy of the next-token distribution by position";
    ph.x_label = "position (tokens; human text from the story start, samples from the prompt)";
    ph.y_label = "entropy (nats)";
    ph.series = {window_series("human text (teacher-forced)", m.human_h, 0),
                 window_series("greedy sample", m.greedy_h, 0),
                 window_series("T=1 sample", m.t1_h, 0)};
    if (!std::isnan(m.median_onset))
        ph.markers.push_back({m.median_onset, "median greedy loop onset"});
    ph.markers.push_back({double(m.block_size), "end of the trained context"});
    ph.y_min = 0.0;
    r.plots.push_back(ph);
    olab::PlotSpec ps = ph;
    ps.title = "E2: surprisal of the token that came, by position";
    ps.y_label = "-ln p(token) (nats)";
    ps.series = {window_series("human text (teacher-forced)", m.human_s, 0),
                 window_series("greedy sample", m.greedy_s, 0),
                 window_series("T=1 sample", m.t1_s, 0)};
    r.plots.push_back(ps);
}

std::string trend(double a, double b) {
    return b < a - 0.1   ? std::string("falls")
           : b > a + 0.1 ? std::string("rises")
                         : std::string("stays level");
}

void e2_findings(ExperimentResult& r, const E2Result& m) {
    const std::size_t last = m.windows() - 1;
    const double hh0 = window_value(m.human_h, 0), hh1 = window_value(m.human_h, last);
    const double gh0 = window_value(m.greedy_h, 0), gh1 = window_value(m.greedy_h, last);
    r.findings.push_back(
        "On human stories (teacher-forced) the entropy " + trend(hh0, hh1) + " from " +
        olab::fmt(hh0) + " nats in the first window to " + olab::fmt(hh1) +
        " in the last, and the surprisal goes from " + olab::fmt(window_value(m.human_s, 0)) +
        " to " + olab::fmt(window_value(m.human_s, last)) +
        ". Story openings are formulaic (\"Once upon a time\"), and a packed stream starts new "
        "stories, so a longer human context does not simply mean more certainty.");
    r.findings.push_back(
        "Along its own greedy text the entropy " + trend(gh0, gh1) + " from " + olab::fmt(gh0) +
        " to " + olab::fmt(gh1) + " nats" +
        (std::isnan(m.median_onset)
             ? std::string(" (no loop found)")
             : " (median loop onset at token " + olab::fmt(m.median_onset, 0) + ")") +
        ", while the surprisal of the chosen tokens stays near " +
        olab::fmt(window_value(m.greedy_s, last)) +
        " nats: greedy text is the model's most probable path, far below the surprisal of human "
        "text. With T=1 sampling the entropy goes from " +
        olab::fmt(window_value(m.t1_h, 0)) + " to " + olab::fmt(window_value(m.t1_h, last)) + ".");
}

} // namespace

ExperimentResult present_e2(const E2Result& m) {
    ExperimentResult r;
    r.id = "e2";
    r.title = "Does uncertainty fall along a sample?";
    r.question = "Entropy and surprisal by position for sampled text against teacher-forced "
                 "human text, with the loop onset marked.";
    r.method = std::to_string(m.streams) + " streams of " + std::to_string(m.length) +
               " tokens of held-out stories, teacher-forced; " + std::to_string(m.greedy_samples) +
               " greedy and " + std::to_string(m.t1_samples) + " T=1 samples of " +
               std::to_string(m.length) + " tokens (end token ignored). Means over windows of " +
               std::to_string(m.window) +
               " positions; entropy and surprisal in nats, from the raw distribution.";
    r.table = olab::Table(
        {"window start", "H human", "H greedy", "H T=1", "NLL human", "NLL greedy", "NLL T=1"});
    for (std::size_t k = 0; k < m.windows(); ++k)
        r.table.add_row(
            {olab::fmt(std::int64_t(k) * m.window), olab::fmt(window_value(m.human_h, k)),
             olab::fmt(window_value(m.greedy_h, k)), olab::fmt(window_value(m.t1_h, k)),
             olab::fmt(window_value(m.human_s, k)), olab::fmt(window_value(m.greedy_s, k)),
             olab::fmt(window_value(m.t1_s, k))});
    e2_plots(r, m);
    e2_findings(r, m);
    return r;
}

} // namespace collapse
