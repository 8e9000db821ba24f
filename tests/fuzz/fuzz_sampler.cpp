// The sampler chain driven by arbitrary settings, order, logits and history. A chain that builds
// must either refuse a call with an ouro::Error or return a token id inside the vocabulary, with
// a decision record whose probabilities are probabilities.
#include "fuzz_util.hpp"

#include <ouro/gen/sampler.hpp>

#include <fuzzer/FuzzedDataProvider.h>

#include <array>
#include <cmath>
#include <cstring>
#include <vector>

using namespace ouro;
using namespace ouro::gen;

namespace {

// A setting: usually an ordinary value, sometimes any double (NaN, inf, huge, negative).
double setting(FuzzedDataProvider& in, double lo, double hi) {
    if (in.ConsumeIntegralInRange<int>(0, 7) == 0) {
        double v;
        const auto b = in.ConsumeBytes<std::uint8_t>(sizeof v);
        std::uint64_t bits = 0;
        if (!b.empty())
            std::memcpy(&bits, b.data(), b.size());
        std::memcpy(&v, &bits, sizeof v);
        return v;
    }
    return in.ConsumeFloatingPointInRange<double>(lo, hi);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    SamplerSettings s;
    s.greedy = in.ConsumeBool();
    s.temperature = setting(in, 0.0, 3.0);
    s.top_k = in.ConsumeIntegralInRange<std::int64_t>(-1, 300);
    s.top_p = setting(in, 0.0, 1.0);
    s.min_p = setting(in, 0.0, 1.0);
    s.typical = setting(in, 0.0, 1.0);
    s.epsilon = setting(in, 0.0, 0.5);
    s.eta = setting(in, 0.0, 0.5);
    s.top_n_sigma = setting(in, 0.0, 3.0);
    s.mirostat = in.ConsumeBool();
    s.mirostat_tau = setting(in, 0.0, 10.0);
    s.mirostat_eta = setting(in, 0.0, 1.0);
    s.mirostat_surprise = in.ConsumeBool() ? MirostatSurprise::raw : MirostatSurprise::truncated;
    s.repetition_penalty = setting(in, 0.0, 3.0);
    s.penalty_window = in.ConsumeIntegralInRange<std::int64_t>(-1, 64);
    s.frequency_penalty = setting(in, -2.0, 2.0);
    s.presence_penalty = setting(in, -2.0, 2.0);
    s.no_repeat_ngram = in.ConsumeIntegralInRange<std::int64_t>(-1, 5);
    s.dry_multiplier = setting(in, 0.0, 2.0);
    s.dry_base = setting(in, 1.0, 3.0);
    s.dry_allowed_length = in.ConsumeIntegralInRange<std::int64_t>(0, 5);
    s.xtc_probability = setting(in, 0.0, 1.0);
    s.xtc_threshold = setting(in, 0.0, 1.0);
    for (int i = 0, n = in.ConsumeIntegralInRange<int>(0, 3); i < n; ++i)
        s.logit_bias.emplace_back(in.ConsumeIntegralInRange<std::int32_t>(-2, 300),
                                  float(setting(in, -1e38, 1e38)));
    std::string order;
    for (int i = 0, n = in.ConsumeIntegralInRange<int>(0, 18); i < n; ++i) {
        // A stage of the library's list, or (at index size) the group "penalties".
        const auto k = in.ConsumeIntegralInRange<std::size_t>(0, sampler_stage_names.size());
        order += std::string(i ? "," : "") +
                 (k < sampler_stage_names.size() ? sampler_stage_names[k] : "penalties");
    }
    if (in.ConsumeBool())
        order.clear(); // the default order

    const auto V = in.ConsumeIntegralInRange<std::size_t>(1, 300);
    std::vector<std::int32_t> history;
    for (int i = 0, n = in.ConsumeIntegralInRange<int>(0, 40); i < n; ++i)
        history.push_back(in.ConsumeIntegralInRange<std::int32_t>(-1, std::int32_t(V)));
    // Logits: ordinary ones, or the raw bits of the rest of the input (any float at all).
    const bool raw = in.ConsumeBool();
    std::vector<float> logits(V);
    for (float& z : logits) {
        if (raw) {
            std::uint32_t bits = in.ConsumeIntegral<std::uint32_t>();
            std::memcpy(&z, &bits, sizeof z);
        } else {
            z = in.ConsumeFloatingPointInRange<float>(-20.0f, 20.0f);
        }
    }

    fuzz::refused_or_ok([&] {
        SamplerChain chain = SamplerChain::from_settings(s, order);
        Rng rng(in.ConsumeIntegral<std::uint64_t>());
        for (int call = 0; call < 3; ++call)
            fuzz::refused_or_ok([&] {
                TokenDecision d;
                const std::int32_t t = chain.sample(logits, history, rng, &d);
                if (t < 0 || std::size_t(t) >= V || d.token != t)
                    fuzz::broken("the sampler returned a token outside the vocabulary");
                if (!(d.prob_final >= 0.0 && d.prob_final <= 1.0 + 1e-6) ||
                    !(d.prob_raw >= 0.0 && d.prob_raw <= 1.0 + 1e-6))
                    fuzz::broken("a decision's probability is not in [0, 1]");
                history.push_back(t);
            });
    });
    return 0;
}
