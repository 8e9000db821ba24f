// Shared parts of the typed experiments (experiments.hpp): decoders by name, and running one
// experiment by its id.
#include "experiments.hpp"

#include <ouro/core/error.hpp>

#include <cmath>

namespace collapse {

Decoder find_decoder(const std::string& name) {
    std::string names;
    for (const Decoder& d : standard_decoders()) {
        if (d.name == name)
            return d;
        names += (names.empty() ? "" : ", ") + d.name;
    }
    throw ouro::ConfigError("no decoder named '" + name + "' (the decoders: " + names + ")");
}

ouro::lab::Interval mean_and_interval(const std::vector<double>& values, double lower,
                                      double upper) {
    double sum = 0;
    for (const double v : values)
        sum += v;
    const ouro::lab::Interval i = ouro::lab::mean_interval(values, lower, upper);
    return {values.empty() ? std::nan("") : sum / double(values.size()), i.lo, i.hi};
}

ouro::lab::Interval as_percent(const ouro::lab::Interval& i) {
    return {100.0 * i.estimate, 100.0 * i.lo, 100.0 * i.hi};
}

RunShape run_shape(const Lab& lab, const DecodeRequest& request) {
    return {std::int64_t(lab.prompts().size()), request.max_new_tokens, request.samples_per_prompt,
            request.seed, request.context.policy};
}

const DecoderRow& row_named(const std::vector<DecoderRow>& rows, const std::string& name,
                            const std::string& experiment) {
    for (const DecoderRow& r : rows)
        if (r.name == name)
            return r;
    throw ouro::ConfigError(experiment + " has no decoder '" + name + "'");
}

void measure_experiment(const std::string& id, Lab& lab, Measurements& into,
                        const ExperimentInputs& inputs) {
    if (id == "e1")
        into.e1 = measure_e1(lab);
    else if (id == "e2")
        into.e2 = measure_e2(lab);
    else if (id == "e3")
        into.e3 = measure_e3(lab);
    else if (id == "e4")
        into.e4 = measure_e4(lab, inputs.extra_checkpoints);
    else if (id == "e5")
        into.e5 = measure_e5(lab);
    else if (id == "e6")
        into.e6 = measure_e6(lab, inputs.checkpoints);
    else if (id == "e7")
        into.e7 = measure_e7(lab);
    else if (id == "e8")
        into.e8 = measure_e8(lab);
    else if (id == "e9")
        into.e9 = measure_e9(lab);
    else
        throw ouro::ConfigError("no experiment '" + id + "'");
}

ExperimentResult present_experiment(const std::string& id, const Measurements& measured) {
    auto get = [&](const auto& result) -> const auto& {
        if (!result)
            throw ouro::ConfigError("experiment '" + id + "' was not measured");
        return *result;
    };
    if (id == "e1")
        return present_e1(get(measured.e1));
    if (id == "e2")
        return present_e2(get(measured.e2));
    if (id == "e3")
        return present_e3(get(measured.e3));
    if (id == "e4")
        return present_e4(get(measured.e4));
    if (id == "e5")
        return present_e5(get(measured.e5));
    if (id == "e6")
        return present_e6(get(measured.e6));
    if (id == "e7")
        return present_e7(get(measured.e7));
    if (id == "e8")
        return present_e8(get(measured.e8));
    if (id == "e9")
        return present_e9(get(measured.e9));
    throw ouro::ConfigError("no experiment '" + id + "'");
}

ExperimentResult run_experiment(const std::string& id, Lab& lab, Measurements& into,
                                const ExperimentInputs& inputs) {
    measure_experiment(id, lab, into, inputs);
    return present_experiment(id, into);
}

} // namespace collapse
