// E3: does repetition reinforce itself? Xu et al. (2022)'s experiment: a sentence repeated n
// times, teacher-forced; TP(n), IP(n) and WR(n) for sentences from human stories and for sentences
// of random tokens (ouro/lab/self_reinforcement.hpp has the definitions).
#include "experiments.hpp"

#include <ouro/core/rng.hpp>
#include <ouro/lab/interval.hpp>
#include <ouro/lab/self_reinforcement.hpp>

#include <algorithm>

namespace collapse {

namespace olab = ouro::lab;
namespace gen = ouro::gen;

namespace {

// Sentences of the held-out stories (split after '.', '!' or '?'), or of the prompts when there
// is no human text, encoded with a leading space as they appear inside a story.
std::vector<std::vector<std::int32_t>> story_sentences(Lab& lab, std::size_t want,
                                                       std::int64_t min_len, std::int64_t max_len) {
    std::vector<std::string> texts;
    if (!lab.settings().valid_text.empty()) {
        for (const auto& story : lab.human_stories()) {
            const std::string text = lab.text(std::span(story).subspan(1));
            std::size_t begin = 0;
            for (std::size_t i = 0; i < text.size(); ++i)
                if (text[i] == '.' || text[i] == '!' || text[i] == '?') {
                    std::string sentence = text.substr(begin, i + 1 - begin);
                    const std::size_t first = sentence.find_first_not_of(" \n");
                    if (first != std::string::npos)
                        texts.push_back(sentence.substr(first));
                    begin = i + 1;
                }
            if (texts.size() > want * 20)
                break;
        }
    } else {
        texts = lab.prompt_texts();
    }
    std::vector<std::vector<std::int32_t>> out;
    // Every k-th usable sentence, so they come from many stories.
    std::vector<std::vector<std::int32_t>> usable;
    for (const std::string& t : texts) {
        std::vector<std::int32_t> tokens = lab.tokenizer().encode(" " + t);
        if (std::int64_t(tokens.size()) >= min_len && std::int64_t(tokens.size()) <= max_len)
            usable.push_back(std::move(tokens));
    }
    const std::size_t step = std::max<std::size_t>(1, usable.size() / want);
    for (std::size_t i = 0; i < usable.size() && out.size() < want; i += step)
        out.push_back(usable[i]);
    return out;
}

// Sentences of random tokens of the same lengths, drawn uniformly from the ordinary tokens.
std::vector<std::vector<std::int32_t>>
random_sentences(const Lab& lab, const std::vector<std::vector<std::int32_t>>& like) {
    ouro::Rng rng(lab.settings().seed ^ 0xE3);
    const auto V = std::uint64_t(lab.config().vocab_size);
    std::vector<std::vector<std::int32_t>> random;
    for (const auto& s : like) {
        std::vector<std::int32_t> t;
        while (t.size() < s.size()) {
            const auto id = std::int32_t(rng.below(V));
            if (!lab.tokenizer().is_special(id))
                t.push_back(id);
        }
        random.push_back(std::move(t));
    }
    return random;
}

// The pooled TP/IP/WR curves of the sentences, each repeated `copies` times after an end token;
// `gain` gets the change of TP from the first to the last copy with its interval over sentences.
std::vector<olab::CopyStats> curves(Lab& lab,
                                    const std::vector<std::vector<std::int32_t>>& sentences,
                                    std::int64_t copies, olab::Interval& gain) {
    const std::vector<std::int32_t> prefix{lab.eot()};
    std::vector<olab::RepeatedSentence> contexts;
    std::vector<std::vector<std::int32_t>> texts;
    for (const auto& s : sentences) {
        contexts.push_back(olab::repeat_sentence(s, copies, prefix));
        texts.push_back(contexts.back().tokens);
    }
    const auto scores =
        olab::teacher_force(lab.model(), texts, {}, lab.eot(), std::int64_t(texts.size()));
    std::vector<std::vector<olab::CopyStats>> per;
    for (std::size_t i = 0; i < texts.size(); ++i) {
        // Scores are for tokens 1.., so position p's probability is scores[p - 1].
        std::vector<double> probs(texts[i].size(), 0.0);
        std::vector<std::uint8_t> argmax(texts[i].size(), 0);
        for (std::size_t p = 1; p < texts[i].size(); ++p) {
            probs[p] = scores[i][p - 1].prob;
            argmax[p] = scores[i][p - 1].argmax == texts[i][p];
        }
        const auto& c = contexts[i];
        per.push_back(olab::self_reinforcement(c.copies_of(std::span<const double>(probs)),
                                               c.copies_of(std::span<const std::uint8_t>(argmax)),
                                               c.sentence_length));
    }
    std::vector<double> gains;
    for (const auto& copies_of_one : per)
        gains.push_back(copies_of_one.back().tp() - copies_of_one.front().tp());
    gain = olab::mean_interval(gains, -1.0, 1.0);
    return olab::pool_self_reinforcement(per);
}

} // namespace

E3Result measure_e3(Lab& lab) {
    E3Result m;
    m.copies = 10;
    m.max_len = std::min<std::int64_t>(24, (lab.config().block_size - 1) / m.copies);
    const std::size_t count = lab.settings().quick ? 16 : 48;
    const auto human = story_sentences(lab, count, 5, m.max_len);
    if (human.empty())
        throw ouro::ConfigError("E3: no sentence of 5 to " + std::to_string(m.max_len) +
                                " tokens found");
    const auto random = random_sentences(lab, human);
    m.sentences = human.size();
    ouro::examples::ProgressBar bar = progress_bar(lab, "E3 self-reinforcement", 2);
    m.story = curves(lab, human, m.copies, m.story_gain);
    bar.update(1);
    m.random = curves(lab, random, m.copies, m.random_gain);
    bar.update(2);
    bar.finish();
    return m;
}

namespace {

void e3_plots(ExperimentResult& r, const E3Result& m) {
    const auto& h = m.story;
    const auto& x = m.random;
    olab::Series tp_h{"TP, story sentences", {}, {}, olab::Series::Style::line_points};
    olab::Series tp_r{"TP, random tokens", {}, {}, olab::Series::Style::line_points};
    olab::Series ip_h{"IP, story sentences", {}, {}, olab::Series::Style::line_points};
    olab::Series ip_r{"IP, random tokens", {}, {}, olab::Series::Style::line_points};
    olab::Series wr_h{"WR, story sentences", {}, {}, olab::Series::Style::line_points};
    olab::Series wr_r{"WR, random tokens", {}, {}, olab::Series::Style::line_points};
    for (std::size_t k = 0; k < h.size(); ++k) {
        const double n = double(h[k].copy);
        tp_h.x.push_back(n), tp_h.y.push_back(h[k].tp());
        tp_r.x.push_back(n), tp_r.y.push_back(x[k].tp());
        ip_h.x.push_back(n), ip_h.y.push_back(h[k].ip());
        ip_r.x.push_back(n), ip_r.y.push_back(x[k].ip());
        wr_h.x.push_back(n), wr_h.y.push_back(h[k].wr());
        wr_r.x.push_back(n), wr_r.y.push_back(x[k].wr());
    }
    olab::PlotSpec p1;
    p1.title = "E3: probability of a sentence's tokens in its n-th copy (TP)";
    p1.x_label = "copy n";
    p1.y_label = "mean token probability";
    p1.y_min = 0.0;
    p1.y_max = 1.0;
    p1.series = {tp_h, tp_r};
    r.plots.push_back(p1);
    olab::PlotSpec p2 = p1;
    p2.title = "E3: tokens more probable than in copy 1 (IP) and also the first choice (WR)";
    p2.y_label = "fraction of tokens";
    p2.series = {ip_h, wr_h, ip_r, wr_r};
    r.plots.push_back(p2);
}

void e3_findings(ExperimentResult& r, const E3Result& m) {
    const auto& h = m.story;
    const auto& x = m.random;
    const auto& last_h = h.back();
    const auto& last_x = x.back();
    r.findings.push_back("A story sentence's tokens have mean probability " +
                         olab::fmt(h.front().tp()) + " in their first occurrence and " +
                         olab::fmt(last_h.tp()) + " in the " + std::to_string(last_h.copy) +
                         "th copy; " + olab::fmt(100.0 * last_h.ip(), 0) +
                         "% of them became more probable, " + olab::fmt(100.0 * last_h.wr(), 0) +
                         "% rose and are now the model's first choice.");
    const bool story_rises = last_h.tp() > h.front().tp() + 0.05;
    const bool random_rises = last_x.tp() > x.front().tp() + 0.05;
    r.findings.push_back(
        "Sentences of random tokens, which the model never saw, go from " +
        olab::fmt(x.front().tp()) + " to " + olab::fmt(last_x.tp()) + ". " +
        (random_rises ? std::string("The model has learned to copy what is in its context, so each "
                                    "repetition makes the next more likely: self-reinforcement.")
         : story_rises
             ? std::string("The model does not copy arbitrary text yet (no induction), but "
                           "familiar phrases gain with each repetition: a weaker, "
                           "content-dependent self-reinforcement.")
             : std::string("Repetition barely changes the probabilities: this model shows "
                           "little self-reinforcement, so its loops must come from elsewhere "
                           "(greedy choice from a flat distribution, E1 and E2).")));
}

} // namespace

ExperimentResult present_e3(const E3Result& m) {
    ExperimentResult r;
    r.id = "e3";
    r.title = "Does repetition reinforce itself?";
    r.question = "TP/IP/WR curves (Xu et al. 2022) for TinyStories sentences and for "
                 "random-token sentences repeated n = 1..10 times.";
    r.method = std::to_string(m.sentences) + " sentences from held-out stories (5 to " +
               std::to_string(m.max_len) +
               " tokens) and as many random-token sentences of the same lengths, each repeated " +
               std::to_string(m.copies) +
               " times after an end-of-text token and teacher-forced. TP = mean probability of "
               "copy n's tokens; IP = fraction more probable than in copy 1; WR = fraction that "
               "rose and are now the model's first choice.";
    r.table = olab::Table(
        {"copy", "TP story", "IP story", "WR story", "TP random", "IP random", "WR random"});
    for (std::size_t k = 0; k < m.story.size(); ++k) {
        const auto& h = m.story[k];
        const auto& x = m.random[k];
        r.table.add_row({olab::fmt(h.copy), olab::fmt(h.tp()), olab::fmt(h.ip()), olab::fmt(h.wr()),
                         olab::fmt(x.tp()), olab::fmt(x.ip()), olab::fmt(x.wr())});
    }
    e3_plots(r, m);
    e3_findings(r, m);
    return r;
}

} // namespace collapse
