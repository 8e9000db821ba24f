// The demo: the blog post's question (why does the story end in a loop?) answered on the user's
// own model, in one run.
//  1. One long greedy sample from the prince prompt, run 1,000 tokens past the story's natural
//     end (the end token ignored): its beginning, middle and end, with their numbers.
//  2. Greedy against nucleus sampling (top-p 0.95) on the same prompts, the same length:
//     Holtzman's loop test and seq-rep-4 of the last 200 tokens for each.
//  3. The quick experiments E1, E2, E3, E5, then a summary and the HTML report.
#include "demo.hpp"

#include "report.hpp"

#include <ouro/lab/interval.hpp>
#include <ouro/lab/loops.hpp>
#include <ouro/lab/repetition.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>

namespace collapse {

namespace olab = ouro::lab;
namespace gen = ouro::gen;

namespace {

// Generation long enough for a story plus `past_end` tokens.
constexpr std::int64_t story_budget = 500;

std::int64_t first_natural_end(const std::vector<double>& p_end, const std::vector<double>& p_max) {
    for (std::size_t t = 0; t < p_end.size(); ++t)
        if (p_end[t] >= p_max[t])
            return std::int64_t(t);
    return -1;
}

// Where to cut a sample: natural end + past_end (or the whole sample without a natural end).
std::int64_t cut_at(std::int64_t natural_end, std::int64_t past_end, std::size_t size) {
    const std::int64_t cut = natural_end >= 0 ? natural_end + past_end : std::int64_t(size);
    return std::min<std::int64_t>(cut, std::int64_t(size));
}

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

// Steps 1-3 of the demo on one model, printed as they go; the experiments' files go to the lab's
// out folder.
DemoRun measure_demo(Lab& lab, const DemoSettings& demo) {
    const LabSettings& settings = lab.settings();
    const auto& cfg = lab.config();
    std::printf("ouro collapse demo\nmodel: %s (%s; %lld parameters; V=%lld, T=%lld, C=%lld, "
                "L=%lld, NH=%lld, %s positions)\nprompt: \"%s\"\n",
                lab.bundle().checkpoint.c_str(), model_description(lab).c_str(),
                (long long)lab.model().num_parameters(), (long long)cfg.vocab_size,
                (long long)cfg.block_size, (long long)cfg.n_embd, (long long)cfg.n_layer,
                (long long)cfg.n_head, ouro::nn::to_string(cfg.position),
                lab.prompt_texts()[0].c_str());

    // Greedy and top-p 0.95 over every prompt, past the end; the first greedy sample is the
    // long sample of the blog post's example.
    DecodeRequest req;
    req.max_new_tokens = story_budget + demo.past_end;
    req.end_of_text = gen::EndOfText::ignore;
    req.context = lab.long_context();
    req.seed = settings.seed;
    Decoder top_p;
    top_p.name = "top-p 0.95";
    top_p.settings.top_p = 0.95;
    const std::vector<Decoder> decoders{standard_decoders()[0], top_p};
    std::vector<DecodedSet> sets;
    {
        ouro::examples::ProgressBar bar = progress_bar(lab, "greedy and top-p",
                                                       2 * std::uint64_t(lab.prompts().size()) *
                                                           std::uint64_t(req.max_new_tokens));
        std::uint64_t done = 0;
        for (const Decoder& d : decoders)
            sets.push_back(decode(lab, d, req, &bar, &done));
    }

    // 1. The three phases: a good beginning, a middle that loses the plot, an end in a loop.
    DemoRun run_result;
    run_result.sample = long_sample(lab, sets[0], 0, demo.past_end);
    const LongSample& sample = run_result.sample;
    std::printf("\nGreedy decoding, the end-of-text token ignored, %lld tokens past the story's "
                "natural end (token %lld, where the end token was the model's first choice):\n",
                (long long)demo.past_end, (long long)sample.natural_end);
    for (const LongSample::Part& p : sample.parts) {
        std::printf(
            "\n-- %s (tokens %lld-%lld): mean entropy %s nats, mean p(token) %s, "
            "seq-rep-4 %s\n   %s\n",
            p.name.c_str(), (long long)p.begin, (long long)p.end, olab::fmt(p.entropy).c_str(),
            olab::fmt(p.prob).c_str(), olab::fmt(p.seq_rep4).c_str(),
            one_line(lab.text(std::span(sample.tokens)
                                  .subspan(std::size_t(p.begin), std::size_t(p.end - p.begin))))
                .c_str());
    }
    if (sample.loop_onset >= 0)
        std::printf(
            "\nloop: from token %lld on, a unit of %lld tokens repeats to the end: \"%s\"\n",
            (long long)sample.loop_onset, (long long)sample.loop_period,
            one_line(lab.text(std::span(sample.tokens)
                                  .subspan(std::size_t(sample.loop_onset),
                                           std::size_t(sample.loop_period))))
                .c_str());

    // 2. Greedy against top-p 0.95 over every prompt, past the end.
    std::printf("\nGreedy against nucleus sampling (top-p 0.95), %zu prompts, %lld tokens past "
                "each story's natural end:\n",
                lab.prompts().size(), (long long)demo.past_end);
    olab::Table table({"prompt", "decoder", "natural end", "tokens", "holtzman loop",
                       "phrase x copies", "seq-rep-4 last 200", "loop onset", "period"});
    ExperimentResult check;
    check.id = "demo";
    check.title = "Greedy against nucleus sampling, past the end of the story";
    check.question =
        "Does greedy decoding loop where nucleus sampling does not, on the same prompts?";
    check.method = std::to_string(lab.prompts().size()) + " prompts; each sample runs " +
                   std::to_string(demo.past_end) +
                   " tokens past its natural end (end token ignored); seed " +
                   std::to_string(settings.seed) + ".";
    for (std::size_t k = 0; k < decoders.size(); ++k) {
        const Decoder& d = decoders[k];
        const DecodedSet& set = sets[k];
        std::int64_t looping = 0;
        std::vector<double> reps;
        for (std::size_t i = 0; i < set.samples.size(); ++i) {
            const std::int64_t end = first_natural_end(set.p_end[i], set.p_max[i]);
            const std::int64_t cut = cut_at(end, demo.past_end, set.samples[i].size());
            const std::span<const std::int32_t> tokens(set.samples[i].data(), std::size_t(cut));
            const olab::HoltzmanRepetition h = olab::holtzman_repetition(tokens);
            const double rep = olab::seq_rep_n(tokens, 4, 200);
            const auto loop = olab::find_loop(tokens, 3);
            looping += h.repeating;
            reps.push_back(rep);
            // No natural end: "-", as every missing value in the lab's tables.
            table.add_row({olab::fmt(set.prompt_index[i]), d.name,
                           end >= 0 ? olab::fmt(end) : std::string("-"), olab::fmt(cut),
                           h.repeating ? "yes" : "no",
                           olab::fmt(h.phrase_length) + " x " + olab::fmt(h.copies), olab::fmt(rep),
                           loop ? olab::fmt(loop->onset) : std::string("-"),
                           loop ? olab::fmt(loop->period) : std::string("-")});
        }
        const auto n = std::int64_t(set.samples.size());
        // Uncertainty over the prompts: Wilson's interval for the share that loops, Student's t
        // for the mean seq-rep-4 (interval.hpp).
        const olab::Interval loops = olab::wilson_interval(looping, n);
        const olab::Interval rep = olab::mean_interval(reps, 0.0, 1.0);
        const std::string key = "demo_" + d.name;
        check.numbers[key + "_holtzman_percent"] = 100.0 * loops.estimate;
        check.numbers[key + "_holtzman_percent_lo"] = 100.0 * loops.lo;
        check.numbers[key + "_holtzman_percent_hi"] = 100.0 * loops.hi;
        check.numbers[key + "_loops"] = double(looping);
        check.numbers[key + "_seq_rep4_last200"] = rep.estimate;
        check.numbers[key + "_seq_rep4_last200_lo"] = rep.lo;
        check.numbers[key + "_seq_rep4_last200_hi"] = rep.hi;
        check.numbers["demo_samples"] = double(n);
        check.findings.push_back(
            d.name + ": " + olab::fmt(looping) + " of " + olab::fmt(n) +
            " samples end with a phrase repeated back to back (Holtzman's test), " +
            olab::with_interval(loops, 0, 100.0, "%") + "; mean seq-rep-4 of the last 200 tokens " +
            olab::with_interval(rep) + ".");
    }
    check.table = table;
    std::printf("%s\n", table.to_text().c_str());
    for (const std::string& f : check.findings)
        std::printf("  * %s\n", f.c_str());
    std::fflush(stdout);

    // 3. The quick experiments.
    std::vector<ExperimentResult>& results = run_result.results;
    results.push_back(check);
    auto run = [&](ExperimentResult (*f)(Lab&)) {
        const auto start = std::chrono::steady_clock::now();
        results.push_back(f(lab));
        emit(results.back(), settings.out_dir);
        // Timings go to stderr: stdout holds only numbers that repeat from run to run.
        std::fprintf(
            stderr, "%s took %.1f s\n", results.back().id.c_str(),
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    };
    run(run_e1_decoders);
    if (!settings.valid_text.empty())
        run(run_e2_uncertainty);
    run(run_e3_self_reinforcement);
    if (!settings.valid_text.empty()) {
        run(run_e5_end_of_story);
        run_result.quality = held_out_quality(lab);
    } else {
        std::printf("\nE2 and E5 were skipped: they compare with held-out human stories "
                    "(pass --valid FILE, a TinyStories .txt).\n");
    }

    std::printf("\nWhat is going on:\n");
    for (const std::string& s : summarize(&sample, results))
        std::printf("  - %s\n", s.c_str());
    const fs::path report = settings.out_dir / "report.html";
    write_report(report, lab, &sample, results);
    std::printf("\nreport: %s\n", report.string().c_str());
    std::fflush(stdout);
    return run_result;
}

int run_demo(LabSettings settings, const DemoSettings& demo) {
    if (demo.past_end < 200)
        throw ouro::ConfigError("demo: --past-end must be at least 200 (seq-rep-4 is taken over "
                                "the last 200 tokens), got " +
                                std::to_string(demo.past_end));
    // Both models are opened before anything runs: a bad second model fails at once.
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
