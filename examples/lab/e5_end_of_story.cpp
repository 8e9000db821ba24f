// E5: what happens at the end of a story? The probability of the end-of-text token around the
// natural ends of human stories (teacher-forced), and decoding that stops at the end token
// against decoding that ignores it or starts a new story; where loops begin relative to the end.
// The presentation is in e5_present.cpp.
#include "experiments.hpp"

#include <ouro/gen/concurrent.hpp>
#include <ouro/lab/loops.hpp>
#include <ouro/lab/repetition.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <iterator>

namespace collapse {

namespace olab = ouro::lab;
namespace gen = ouro::gen;

namespace {

constexpr std::int64_t before = 30, after = 15;

// First generated index where the end token was the model's first choice, or -1.
std::int64_t natural_end(const std::vector<double>& p_end, const std::vector<double>& p_max) {
    for (std::size_t t = 0; t < p_end.size(); ++t)
        if (p_end[t] >= p_max[t])
            return std::int64_t(t);
    return -1;
}

// Story i, its end token and the beginning of story i + 1, for the stories that fit; end_index
// gets the index of the score whose target is the end token.
std::vector<std::vector<std::int32_t>>
across_ends(const Lab& lab, const std::vector<std::vector<std::int32_t>>& human, std::size_t want,
            std::vector<std::int64_t>& end_index) {
    std::vector<std::vector<std::int32_t>> texts;
    for (std::size_t i = 0; i < human.size() - 1 && texts.size() < want; ++i) {
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
    return texts;
}

// Teacher-forced: the mean p(end) and entropy by offset from the stories' ends.
void end_curve(Lab& lab, const std::vector<std::vector<std::int32_t>>& texts,
               const std::vector<std::int64_t>& end_index, E5Result& m) {
    const gen::ContextOptions context = lab.long_context();
    const auto scores =
        olab::teacher_force(lab.model(), texts, context, lab.eot(), std::int64_t(texts.size()));
    std::vector<double> p_end_at(std::size_t(before + after + 1), 0.0);
    std::vector<double> h_at(p_end_at.size(), 0.0);
    std::vector<std::int64_t> n_at(p_end_at.size(), 0);
    for (std::size_t i = 0; i < texts.size(); ++i) {
        for (std::int64_t off = -before; off <= after; ++off) {
            const std::int64_t k = end_index[i] + off;
            if (k < 0 || k >= std::int64_t(scores[i].size()))
                continue;
            p_end_at[std::size_t(off + before)] += scores[i][std::size_t(k)].p_end;
            h_at[std::size_t(off + before)] += scores[i][std::size_t(k)].entropy;
            ++n_at[std::size_t(off + before)];
        }
        m.end_is_argmax += scores[i][std::size_t(end_index[i])].argmax == lab.eot();
    }
    for (std::size_t k = 0; k < p_end_at.size(); ++k) {
        if (n_at[k] == 0)
            continue;
        m.offset.push_back(double(std::int64_t(k) - before));
        m.p_end.push_back(p_end_at[k] / double(n_at[k]));
        m.entropy.push_back(h_at[k] / double(n_at[k]));
    }
    m.p_end_at_end = p_end_at[std::size_t(before)] / double(n_at[std::size_t(before)]);
    m.p_end_10_before = p_end_at[std::size_t(before - 10)] /
                        double(std::max<std::int64_t>(1, n_at[std::size_t(before - 10)]));
}

// The samples of one decoder and end-of-text mode, measured sample by sample.
E5Row measure_row(const Lab& lab, const DecodedSet& set, const std::string& decoder,
                  gen::EndOfText mode) {
    E5Row row;
    row.decoder = decoder;
    row.mode = mode;
    row.samples = std::int64_t(set.samples.size());
    for (std::size_t i = 0; i < set.samples.size(); ++i) {
        const auto& tok = set.samples[i];
        row.lengths.push_back(double(tok.size()));
        row.ended += !tok.empty() && tok.back() == lab.eot() && mode == gen::EndOfText::stop;
        const std::int64_t e = natural_end(set.p_end[i], set.p_max[i]);
        if (e >= 0) {
            ++row.found;
            row.ends.push_back(double(e));
            if (mode != gen::EndOfText::stop && e + 8 < std::int64_t(tok.size())) {
                row.rep_before.push_back(olab::seq_rep_n(std::span(tok).first(std::size_t(e)), 4));
                row.rep_after.push_back(olab::seq_rep_n(std::span(tok).subspan(std::size_t(e)), 4));
            }
        }
        if (const auto loop = olab::find_loop(tok, 3)) {
            ++row.loops;
            if (e >= 0)
                row.onset_minus_end.push_back(double(loop->onset - e));
        }
    }
    return row;
}

} // namespace

const E5Row& E5Result::row(const std::string& decoder, gen::EndOfText mode) const {
    for (const E5Row& r : rows)
        if (r.decoder == decoder && r.mode == mode)
            return r;
    throw ouro::ConfigError("E5 has no row for decoder '" + decoder + "' with the end token '" +
                            gen::to_string(mode) + "'");
}

E5Result measure_e5(Lab& lab) {
    const auto& human = lab.require_human_stories("E5");
    const bool quick = lab.settings().quick;
    E5Result m;
    std::vector<std::int64_t> end_index;
    const auto texts = across_ends(lab, human, quick ? 24 : 96, end_index);
    DecodeRequest req;
    req.max_new_tokens = quick ? 384 : 768;
    req.context = lab.long_context();
    req.seed = lab.settings().seed;
    m.stories = texts.size();
    m.prompts = std::int64_t(lab.prompts().size());
    m.max_new_tokens = req.max_new_tokens;
    ouro::examples::ProgressBar bar =
        progress_bar(lab, "E5 end of story",
                     std::uint64_t(texts.size()) * 64 + 6 * std::uint64_t(lab.prompts().size()) *
                                                            std::uint64_t(req.max_new_tokens));
    std::uint64_t done = 0;
    // The teacher forcing and the six decodes side by side (gen::run_concurrently), the decodes
    // that run past the end first (the longest); the rows keep their order.
    const char* const names[] = {"greedy", "top-p 0.95"};
    const gen::EndOfText modes[] = {gen::EndOfText::stop, gen::EndOfText::ignore,
                                    gen::EndOfText::new_story};
    m.rows.resize(std::size(names) * std::size(modes));
    std::vector<std::function<void()>> long_pieces, short_pieces;
    for (std::size_t d = 0; d < std::size(names); ++d)
        for (std::size_t k = 0; k < std::size(modes); ++k) {
            const gen::EndOfText mode = modes[k];
            E5Row& row = m.rows[d * std::size(modes) + k];
            (mode == gen::EndOfText::stop ? short_pieces : long_pieces)
                .push_back([&lab, &req, &bar, &done, &row, name = names[d], mode] {
                    const Decoder decoder = find_decoder(name);
                    DecodeRequest r = req;
                    r.end_of_text = mode;
                    row =
                        measure_row(lab, decode(lab, decoder, r, &bar, &done), decoder.name, mode);
                });
        }
    std::vector<std::function<void()>> pieces = std::move(long_pieces);
    pieces.insert(pieces.end(), short_pieces.begin(), short_pieces.end());
    pieces.push_back([&] {
        end_curve(lab, texts, end_index, m);
        advance(bar, done, std::uint64_t(texts.size()) * 64);
    });
    gen::run_concurrently(pieces);
    bar.finish();
    return m;
}

} // namespace collapse
