// E7: the temperature and top-p sweeps. Each setting decodes the lab's prompts, and its samples
// get the metrics of COLLAPSE.md; repetition (seq-rep-4, Holtzman %) against the mean NLL of the
// generated text under the model shows the two traps of Basu et al. 2021 ("Mirostat: a neural
// text decoding algorithm that directly controls perplexity"): at low temperature / small p the
// text is very probable and repeats itself (the boredom trap), at high temperature it stops
// repeating but becomes improbable (the confusion trap).
#include "experiments.hpp"

#include <ouro/lab/table.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

namespace collapse {

namespace olab = ouro::lab;
using olab::fmt;

namespace {

std::string trimmed(double v) {
    // "0.3", "1", "1.5": one decimal is enough for the sweep's values.
    std::string s = fmt(v, 1);
    if (s.size() > 2 && s.substr(s.size() - 2) == ".0")
        s.resize(s.size() - 2);
    return s;
}

} // namespace

E7Result measure_e7(Lab& lab) {
    std::vector<E7Point> points;
    std::vector<Decoder> decoders;
    auto add = [&](const char* sweep, double value, const std::string& name, auto set) {
        Decoder d;
        d.name = name;
        set(d.settings);
        decoders.push_back(d);
        points.push_back({sweep, value, {name, {}}});
    };
    for (const double t : {0.0, 0.3, 0.5, 0.7, 0.9, 1.0, 1.2, 1.5})
        add("temperature", t, "T=" + trimmed(t),
            [t](ouro::gen::SamplerSettings& s) { s.temperature = t; });
    for (int k = 1; k <= 10; ++k) {
        const double p = k / 10.0;
        add("top-p", p, "top-p " + trimmed(p), [p](ouro::gen::SamplerSettings& s) { s.top_p = p; });
    }
    const DecodeRequest request = sweep_request(lab, 128);
    const std::vector<SampleMetrics> metrics = measure_decoders(lab, decoders, request, "e7 sweep");
    for (std::size_t i = 0; i < points.size(); ++i)
        points[i].row.metrics = metrics[i];
    return {run_shape(lab, request), std::move(points)};
}

} // namespace collapse
