// The demo's check (demo.cpp runs it): greedy against nucleus sampling on the same prompts, past
// the end of the story, measured sample by sample (DemoCheck) and presented as a table and
// findings with 95% intervals over the prompts.
#include "demo.hpp"

#include <ouro/lab/interval.hpp>
#include <ouro/lab/loops.hpp>
#include <ouro/lab/repetition.hpp>

namespace collapse {

namespace olab = ouro::lab;

olab::Interval DemoDecoder::loops() const {
    return olab::wilson_interval(looping, samples);
}

olab::Interval DemoDecoder::seq_rep4() const {
    return olab::mean_interval(seq_rep4_last200, 0.0, 1.0);
}

DemoDecoder measure_check_decoder(const DecodedSet& set, std::int64_t past_end,
                                  std::vector<DemoSampleRow>& rows) {
    DemoDecoder d;
    d.name = set.decoder;
    d.samples = std::int64_t(set.samples.size());
    for (std::size_t i = 0; i < set.samples.size(); ++i) {
        DemoSampleRow row;
        row.prompt = set.prompt_index[i];
        row.decoder = set.decoder;
        row.natural_end = first_natural_end(set.p_end[i], set.p_max[i]);
        row.tokens = cut_at(row.natural_end, past_end, set.samples[i].size());
        const std::span<const std::int32_t> tokens(set.samples[i].data(), std::size_t(row.tokens));
        const olab::HoltzmanRepetition h = olab::holtzman_repetition(tokens);
        row.holtzman = h.repeating;
        row.phrase_length = h.phrase_length;
        row.copies = h.copies;
        row.seq_rep4_last200 = olab::seq_rep_n(tokens, 4, 200);
        if (const auto loop = olab::find_loop(tokens, 3)) {
            row.loop_onset = loop->onset;
            row.loop_period = loop->period;
        }
        d.looping += h.repeating;
        d.seq_rep4_last200.push_back(row.seq_rep4_last200);
        rows.push_back(row);
    }
    return d;
}

ExperimentResult present_demo_check(const DemoCheck& m) {
    ExperimentResult check;
    check.id = "demo";
    check.title = "Greedy against nucleus sampling, past the end of the story";
    check.question =
        "Does greedy decoding loop where nucleus sampling does not, on the same prompts?";
    check.method =
        std::to_string(m.prompts) + " prompts; each sample runs " + std::to_string(m.past_end) +
        " tokens past its natural end (end token ignored); seed " + std::to_string(m.seed) + ".";
    check.table = olab::Table({"prompt", "decoder", "natural end", "tokens", "holtzman loop",
                               "phrase x copies", "seq-rep-4 last 200", "loop onset", "period"});
    // No natural end or no loop: "-", as every missing value in the lab's tables.
    auto or_dash = [](bool has, std::int64_t v) { return has ? olab::fmt(v) : std::string("-"); };
    for (const DemoSampleRow& r : m.rows)
        check.table.add_row(
            {olab::fmt(r.prompt), r.decoder, or_dash(r.natural_end >= 0, r.natural_end),
             olab::fmt(r.tokens), r.holtzman ? "yes" : "no",
             olab::fmt(r.phrase_length) + " x " + olab::fmt(r.copies),
             olab::fmt(r.seq_rep4_last200), or_dash(r.loop_onset >= 0, r.loop_onset),
             or_dash(r.loop_onset >= 0, r.loop_period)});
    // Uncertainty over the prompts: Wilson's interval for the share that loops, Student's t for
    // the mean seq-rep-4 (interval.hpp).
    for (const DemoDecoder* d : {&m.greedy, &m.top_p})
        check.findings.push_back(
            d->name + ": " + olab::fmt(d->looping) + " of " + olab::fmt(d->samples) +
            " samples end with a phrase repeated back to back (Holtzman's test), " +
            olab::with_interval(d->loops(), 0, 100.0, "%") +
            "; mean seq-rep-4 of the last 200 tokens " + olab::with_interval(d->seq_rep4()) + ".");
    return check;
}

} // namespace collapse
