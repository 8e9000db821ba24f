// The demo: the blog post's question (why does the story end in a loop?) answered on the user's
// own model, in one run.
//  1. One long greedy sample from the prince prompt, run 1,000 tokens past the story's natural
//     end (the end token ignored): its beginning, middle and end, with their numbers.
//  2. Greedy against nucleus sampling (top-p 0.95) on the same prompts, the same length:
//     Holtzman's loop test and seq-rep-4 of the last 200 tokens for each.
//  3. The quick experiments E1, E2, E3, E5, then a summary and the HTML report.
#include "demo.hpp"

#include "common/text_width.hpp"
#include "report.hpp"

#include <ouro/lab/interval.hpp>
#include <ouro/lab/loops.hpp>
#include <ouro/lab/repetition.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <optional>

namespace collapse {

namespace olab = ouro::lab;
namespace gen = ouro::gen;

namespace {

// Generation long enough for a story plus `past_end` tokens.
constexpr std::int64_t story_budget = 500;

// Slices of the held-out quality scoring: small enough to fill the threads at the end (the
// bundled model's 600 stories in slices of 75, about 1.5 s each on one thread), large enough
// that each still holds several groups of 16 texts.
constexpr std::size_t quality_slices = 8;

// A phase's start: wall clock and the process's CPU time (all threads).
struct Clock {
    std::chrono::steady_clock::time_point wall = std::chrono::steady_clock::now();
    std::clock_t cpu = std::clock();
};

// The wall and CPU seconds since `start`, to stderr under `label` (stdout holds only numbers that
// repeat from run to run): CPU time above wall time x threads' speedup is what threads waste.
void report_time(const char* label, const Clock& start) {
    const Clock now;
    std::fprintf(stderr, "%s took %.1f s (CPU %.1f s)\n", label,
                 std::chrono::duration<double>(now.wall - start.wall).count(),
                 double(now.cpu - start.cpu) / CLOCKS_PER_SEC);
}

} // namespace

std::int64_t first_natural_end(const std::vector<double>& p_end, const std::vector<double>& p_max) {
    for (std::size_t t = 0; t < p_end.size(); ++t)
        if (p_end[t] >= p_max[t])
            return std::int64_t(t);
    return -1;
}

std::int64_t cut_at(std::int64_t natural_end, std::int64_t past_end, std::size_t size) {
    const std::int64_t cut = natural_end >= 0 ? natural_end + past_end : std::int64_t(size);
    return std::min<std::int64_t>(cut, std::int64_t(size));
}

namespace {

double mean_of(const std::vector<double>& v, std::int64_t begin, std::int64_t end) {
    double s = 0;
    for (std::int64_t i = begin; i < end; ++i)
        s += v[std::size_t(i)];
    return end > begin ? s / double(end - begin) : std::nan("");
}

std::string one_line(std::string text) {
    std::replace(text.begin(), text.end(), '\n', ' ');
    return text;
}

} // namespace

LongSample long_sample(Lab& lab, const DecodedSet& set, std::size_t i, std::int64_t past_end) {
    LongSample s;
    s.prompt = lab.prompts()[std::size_t(set.prompt_index[i])];
    const std::int64_t end = first_natural_end(set.p_end[i], set.p_max[i]);
    const std::int64_t cut = cut_at(end, past_end, set.samples[i].size());
    s.tokens.assign(set.samples[i].begin(), set.samples[i].begin() + cut);
    s.prob.assign(set.prob[i].begin(), set.prob[i].begin() + cut);
    s.entropy.assign(set.entropy[i].begin(), set.entropy[i].begin() + cut);
    if (i < set.top5.size() && set.top5[i].size() >= std::size_t(cut))
        s.top5.assign(set.top5[i].begin(), set.top5[i].begin() + cut);
    s.natural_end = end;
    if (const auto loop = olab::find_loop(s.tokens, 3)) {
        s.loop_onset = loop->onset;
        s.loop_period = loop->period;
    }
    const std::int64_t n = std::int64_t(s.tokens.size());
    const std::int64_t width = 80;
    const std::int64_t middle = end >= 0 ? end : n / 2;
    const std::pair<std::int64_t, std::int64_t> ranges[] = {
        {0, std::min(width, n)},
        {std::min(middle, n), std::min(middle + width, n)},
        {std::max<std::int64_t>(0, n - width), n}};
    const char* names[] = {"beginning", "middle", "end"};
    for (int k = 0; k < 3; ++k) {
        LongSample::Part p;
        p.name = names[k];
        p.begin = ranges[k].first;
        p.end = ranges[k].second;
        p.entropy = mean_of(s.entropy, p.begin, p.end);
        p.prob = mean_of(s.prob, p.begin, p.end);
        p.seq_rep4 = p.end - p.begin >= 4
                         ? olab::seq_rep_n(std::span(s.tokens).subspan(
                                               std::size_t(p.begin), std::size_t(p.end - p.begin)),
                                           4)
                         : std::nan("");
        s.parts.push_back(p);
    }
    return s;
}

namespace {

// printf's text wrapped to the terminal's 100 columns (continuations `indent` further in).
template <class... Args> void print_wrapped(std::size_t indent, const char* format, Args... args) {
    const int n = std::snprintf(nullptr, 0, format, args...);
    std::string text(std::size_t(std::max(n, 0)) + 1, '\0');
    std::snprintf(text.data(), text.size(), format, args...);
    text.pop_back();
    std::fputs(flags::wrap(text, flags::columns, indent).c_str(), stdout);
}

void print_model(const Lab& lab) {
    const auto& cfg = lab.config();
    print_wrapped(4,
                  "ouro collapse demo\nmodel: %s (%s; %lld parameters; V=%lld, T=%lld, C=%lld, "
                  "L=%lld, NH=%lld, %s positions)\nprompt: \"%s\"\n",
                  lab.bundle().checkpoint.c_str(), model_description(lab).c_str(),
                  (long long)lab.model().num_parameters(), (long long)cfg.vocab_size,
                  (long long)cfg.block_size, (long long)cfg.n_embd, (long long)cfg.n_layer,
                  (long long)cfg.n_head, ouro::nn::to_string(cfg.position),
                  lab.prompt_texts()[0].c_str());
}

// Greedy and top-p 0.95 over every prompt, past the end.
std::vector<DecodedSet> decode_greedy_and_top_p(Lab& lab, const DemoSettings& demo) {
    DecodeRequest req;
    req.max_new_tokens = story_budget + demo.past_end;
    req.end_of_text = gen::EndOfText::ignore;
    req.context = lab.long_context();
    req.seed = lab.settings().seed;
    ouro::examples::ProgressBar bar =
        progress_bar(lab, "greedy and top-p",
                     2 * std::uint64_t(lab.prompts().size()) * std::uint64_t(req.max_new_tokens));
    std::uint64_t done = 0;
    return decode_all(lab, {find_decoder("greedy"), find_decoder("top-p 0.95")}, req, &bar, &done);
}

// 1. The three phases: a good beginning, a middle that loses the plot, an end in a loop.
void print_long_sample(const Lab& lab, const LongSample& sample, const DemoSettings& demo) {
    print_wrapped(0,
                  "\nGreedy decoding, the end-of-text token ignored, %lld tokens past the story's "
                  "natural end (token %lld, where the end token was the model's first choice):\n",
                  (long long)demo.past_end, (long long)sample.natural_end);
    // Snippets wrapped to the terminal's 100 columns, 3 spaces in.
    for (const LongSample::Part& p : sample.parts) {
        print_wrapped(
            4,
            "\n-- %s (tokens %lld-%lld): mean entropy %s nats, mean p(token) %s, "
            "seq-rep-4 %s\n%s\n",
            p.name.c_str(), (long long)p.begin, (long long)p.end, olab::fmt(p.entropy).c_str(),
            olab::fmt(p.prob).c_str(), olab::fmt(p.seq_rep4).c_str(),
            flags::wrap("   " + one_line(lab.text(std::span(sample.tokens)
                                                      .subspan(std::size_t(p.begin),
                                                               std::size_t(p.end - p.begin)))),
                        flags::columns)
                .c_str());
    }
    if (sample.loop_onset >= 0)
        std::printf(
            "\n%s\n",
            flags::wrap("loop: from token " + std::to_string(sample.loop_onset) +
                            " on, a unit of " + std::to_string(sample.loop_period) +
                            " tokens repeats to the end: \"" +
                            one_line(lab.text(std::span(sample.tokens)
                                                  .subspan(std::size_t(sample.loop_onset),
                                                           std::size_t(sample.loop_period)))) +
                            "\"",
                        flags::columns, 4)
                .c_str());
}

// 2. Greedy against top-p 0.95 over every prompt, past the end.
DemoCheck check(const Lab& lab, const std::vector<DecodedSet>& sets, const DemoSettings& demo) {
    print_wrapped(0,
                  "\nGreedy against nucleus sampling (top-p 0.95), %zu prompts, %lld tokens past "
                  "each story's natural end:\n",
                  lab.prompts().size(), (long long)demo.past_end);
    DemoCheck m;
    m.past_end = demo.past_end;
    m.prompts = std::int64_t(lab.prompts().size());
    m.seed = lab.settings().seed;
    m.greedy = measure_check_decoder(sets[0], demo.past_end, m.rows);
    m.top_p = measure_check_decoder(sets[1], demo.past_end, m.rows);
    const ExperimentResult shown = present_demo_check(m);
    // The prompt and decoder columns name each row in every column group.
    std::printf("%s\n", shown.table.to_text(olab::terminal_width, 2).c_str());
    for (const std::string& f : shown.findings)
        std::printf("%s\n", flags::wrap("  * " + f, flags::columns, 2).c_str());
    std::fflush(stdout);
    return m;
}

// 3. The quick experiments' results, printed, their files in the lab's out folder.
void present_experiments(const Lab& lab, DemoRun& run) {
    const LabSettings& settings = lab.settings();
    const Measurements& m = run.measured;
    run.results.push_back(present_e1(*m.e1));
    if (m.e2)
        run.results.push_back(present_e2(*m.e2));
    run.results.push_back(present_e3(*m.e3));
    if (m.e5)
        run.results.push_back(present_e5(*m.e5));
    for (std::size_t i = 1; i < run.results.size(); ++i)
        emit(run.results[i], settings.out_dir);
    if (settings.valid_text.empty())
        std::printf("\nE2 and E5 were skipped: they compare with held-out human stories "
                    "(pass --valid FILE, a TinyStories .txt).\n");
}

// Everything the demo measures, side by side on the threads (gen::run_concurrently: each
// decode's and teacher forcing's groups fill the threads the others leave idle); nothing is
// printed until all is measured, and then in the demo's order, so the output does not depend on
// the thread count. The coarsest work (greedy and top-p: one group of long sequences each) goes
// first, the finest last (the held-out quality in slices), so that the threads run out of work
// at about the same time.
std::vector<DecodedSet> measure_all(Lab& lab, const DemoSettings& demo, DemoRun& run) {
    lab.human_stories(); // read (and encoded) once, before the pieces share the lab
    const bool human = !lab.settings().valid_text.empty();
    std::vector<DecodedSet> sets;
    Measurements& m = run.measured;
    std::vector<NamedPiece> pieces{
        {"greedy and top-p", [&] { sets = decode_greedy_and_top_p(lab, demo); }},
        {"e1", [&] { m.e1 = measure_e1(lab); }}};
    if (human) {
        pieces.push_back({"e5", [&] { m.e5 = measure_e5(lab); }});
        pieces.push_back({"e2", [&] { m.e2 = measure_e2(lab); }});
    }
    pieces.push_back({"e3", [&] { m.e3 = measure_e3(lab); }});
    std::optional<QualityScoring> quality;
    if (human) {
        quality.emplace(lab);
        for (NamedPiece& piece : quality->pieces(quality_slices))
            pieces.push_back(std::move(piece));
    }
    run_side_by_side(lab, "measuring", pieces);
    if (quality)
        run.quality = quality->quality();
    return sets;
}

} // namespace

// Steps 1-3 of the demo on one model, measured, then printed; the experiments' files go to the
// lab's out folder.
DemoRun measure_demo(Lab& lab, const DemoSettings& demo) {
    print_model(lab);
    std::fflush(stdout);
    DemoRun run;
    const std::vector<DecodedSet> sets = measure_all(lab, demo, run);
    // The first greedy sample is the long sample of the blog post's example.
    run.sample = long_sample(lab, sets[0], 0, demo.past_end);
    print_long_sample(lab, run.sample, demo);
    run.measured.demo = check(lab, sets, demo);
    run.results.push_back(present_demo_check(*run.measured.demo));
    present_experiments(lab, run);

    std::printf("\nWhat is going on:\n");
    for (const std::string& s : summarize(&run.sample, run.measured, lab.config().block_size))
        std::printf("%s\n", flags::wrap("  - " + s, flags::columns, 2).c_str());
    const fs::path report = lab.settings().out_dir / "report.html";
    const Clock start;
    write_report(report, lab, &run.sample, run.measured, run.results);
    report_time("report", start);
    std::printf("\nreport: %s\n", report.string().c_str());
    std::fflush(stdout);
    return run;
}

int run_demo(LabSettings settings, const DemoSettings& demo) {
    if (demo.past_end < 200)
        throw ouro::ConfigError("demo: --past-end must be at least 200 (seq-rep-4 is taken over "
                                "the last 200 tokens), got " +
                                std::to_string(demo.past_end));
    // Both models are opened before anything runs: a bad second model fails at once.
    const Clock start;
    Lab lab(settings);
    std::optional<Lab> other;
    if (!demo.compare.empty()) {
        LabSettings s = settings;
        s.checkpoint = demo.compare;
        s.tokenizer = demo.compare_tokenizer;
        s.out_dir = settings.out_dir / "compare";
        fs::create_directories(s.out_dir);
        other.emplace(s);
    }
    report_time("loading", start);
    const DemoRun first = measure_demo(lab, demo);
    if (!other)
        return 0;
    std::printf("\n\n==== The same measurements on a second model ====\n\n");
    const DemoRun second = measure_demo(*other, demo);
    std::printf("\n");
    print_comparison({{&lab, &first}, {&*other, &second}});
    return 0;
}

} // namespace collapse
