// The sampler chain's cost per token, at V = 4096 (GPT S) and V = 50257 (GPT-2), with a 256-token
// history, on two kinds of logits (the second argument):
//   0 "peaked": normal with sd 2, plus 16 tokens lifted by 6 to 12, like a trained model that
//     has a few plausible continuations (entropy ~1-2 nats; the H counter reports it);
//   1 "flat": normal with sd 1, like an untrained model (entropy ~10 nats at V = 50257): the
//     worst case for top-p and typical, whose nucleus then holds most of the vocabulary.
// Four logit vectors take turns so the branch predictor cannot learn one. BM_Copy_baseline
// (copy V floats and take their max: the least any chain must do) is the yardstick for the
// machine's speed in the same run.
//
// Chains: default (SamplerSettings{}: a plain draw), greedy, llama (llama.cpp's defaults:
// repetition 1.1 over the last 64, top-k 40, top-p 0.95, min-p 0.05, temperature 0.8, in the
// default order), hf (the same settings in HuggingFace's order, temperature before the
// truncations), top_k (top-k 40 alone: what llama adds to it is the cost of the later stages on
// the sorted survivors), top_p (top-p 0.95 alone, on the full vocabulary), long (every stage
// on), and default with a TokenDecision filled (the per-token trace). BM_Reference_top_p times
// the naive top-p kept for tests (a full sort), for comparison.
#include "bench_util.hpp"

#include <ouro/core/rng.hpp>
#include <ouro/gen/sampler.hpp>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace ouro;
using namespace ouro::gen;

std::vector<float> make_logits(std::int64_t V, bool flat, std::uint64_t seed) {
    Rng rng(seed);
    std::vector<float> z(static_cast<std::size_t>(V));
    for (float& v : z)
        v = float((flat ? 1.0 : 2.0) * rng.normal());
    if (!flat)
        for (int i = 0; i < 16; ++i)
            z[std::size_t(rng.below(std::uint64_t(V)))] += float(6.0 + 6.0 * rng.uniform());
    return z;
}

double entropy(const std::vector<float>& z) {
    const double zmax = *std::max_element(z.begin(), z.end());
    double s = 0.0, a = 0.0;
    for (const float v : z) {
        s += std::exp(double(v) - zmax);
        a += std::exp(double(v) - zmax) * (double(v) - zmax);
    }
    return std::log(s) - a / s;
}

std::vector<std::int32_t> make_history(std::int64_t V) {
    // 256 tokens: 192 random, then a phrase of 16 repeated four times (a loop in the making).
    Rng rng(3);
    std::vector<std::int32_t> h;
    for (int i = 0; i < 192; ++i)
        h.push_back(std::int32_t(rng.below(std::uint64_t(V))));
    for (int i = 0; i < 64; ++i)
        h.push_back(h[std::size_t(176 + i % 16)]);
    return h;
}

SamplerSettings llama_settings() {
    SamplerSettings s;
    s.temperature = 0.8;
    s.top_k = 40;
    s.top_p = 0.95;
    s.min_p = 0.05;
    s.repetition_penalty = 1.1;
    s.penalty_window = 64;
    return s;
}

// Every stage on: llama_settings() and the rest.
SamplerSettings long_settings() {
    SamplerSettings s = llama_settings();
    s.logit_bias = {{3, -1.0f}, {5, 0.5f}};
    s.frequency_penalty = 0.1;
    s.presence_penalty = 0.2;
    s.dry_multiplier = 0.8;
    s.no_repeat_ngram = 3;
    s.top_n_sigma = 3.0;
    s.typical = 0.98;
    s.epsilon = 3e-4;
    s.eta = 3e-4;
    s.xtc_probability = 0.3;
    return s;
}

// The fast truncations give the reference's survivors on these logits: top-k 40 and top-p 0.95.
void check_against_reference(const std::vector<float>& z) {
    for (const auto& [count, mass] : {std::pair{std::int64_t(40), 1.0}, std::pair{0L, 0.95}}) {
        CandidateSet c;
        c.assign(z);
        c.keep_top(count, mass);
        std::vector<std::int32_t> ids(c.ids().begin(), c.ids().end());
        std::sort(ids.begin(), ids.end());
        if (ids != keep_top_reference(z, count, mass))
            throw std::runtime_error("sampler: keep_top differs from the reference");
    }
}

void run(benchmark::State& state, const SamplerSettings& s, const std::string& order,
         bool with_decision = false) {
    const std::int64_t V = state.range(0);
    const bool flat = state.range(1) == 1;
    std::array<std::vector<float>, 4> logits;
    for (std::size_t i = 0; i < logits.size(); ++i)
        logits[i] = make_logits(V, flat, 10 + i);
    check_against_reference(logits[0]);
    const std::vector<std::int32_t> history = make_history(V);
    SamplerChain chain = SamplerChain::from_settings(s, order);
    Rng rng(1);
    TokenDecision d;
    std::size_t i = 0;
    for (auto _ : state) {
        const std::int32_t t =
            chain.sample(logits[i++ % logits.size()], history, rng, with_decision ? &d : nullptr);
        benchmark::DoNotOptimize(t);
    }
    bench::report(state, 0);
    state.SetItemsProcessed(std::int64_t(state.iterations()));
    state.counters["tokens/s"] =
        benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
    state.counters["H"] = entropy(logits[0]);
    state.SetLabel(std::string(bench::isa_name()) + " " + chain.describe());
}

// Copies V floats and takes their max: the floor under every chain, and the yardstick.
void BM_Copy_baseline(benchmark::State& state) {
    const std::int64_t V = state.range(0);
    std::array<std::vector<float>, 4> logits;
    for (std::size_t i = 0; i < logits.size(); ++i)
        logits[i] = make_logits(V, state.range(1) == 1, 10 + i);
    std::vector<float> copy(static_cast<std::size_t>(V));
    std::size_t i = 0;
    for (auto _ : state) {
        const float* z = logits[i++ % logits.size()].data();
        float* out = copy.data();
        float m = -INFINITY;
#pragma omp simd reduction(max : m)
        for (std::int64_t j = 0; j < V; ++j) {
            out[j] = z[j];
            m = z[j] > m ? z[j] : m;
        }
        benchmark::DoNotOptimize(m);
        benchmark::DoNotOptimize(copy.data());
    }
    bench::report(state, 0);
    state.counters["tokens/s"] =
        benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
}

void BM_Sampler_default(benchmark::State& state) {
    run(state, {}, "");
}
void BM_Sampler_greedy(benchmark::State& state) {
    SamplerSettings s;
    s.greedy = true;
    run(state, s, "");
}
void BM_Sampler_llama(benchmark::State& state) {
    run(state, llama_settings(), "");
}
void BM_Sampler_hf(benchmark::State& state) {
    run(state, llama_settings(), "penalties,temperature,top_k,top_p,min_p");
}
void BM_Sampler_top_k(benchmark::State& state) {
    SamplerSettings s;
    s.top_k = 40;
    run(state, s, "");
}
void BM_Sampler_top_p(benchmark::State& state) {
    SamplerSettings s;
    s.top_p = 0.95;
    run(state, s, "");
}
void BM_Sampler_long(benchmark::State& state) {
    run(state, long_settings(), "");
}
void BM_Sampler_decision(benchmark::State& state) {
    run(state, {}, "", true);
}

// The naive top-p kept for tests (full sort, double softmax), for comparison with top_p.
void BM_Reference_top_p(benchmark::State& state) {
    const std::int64_t V = state.range(0);
    std::array<std::vector<float>, 4> logits;
    for (std::size_t i = 0; i < logits.size(); ++i)
        logits[i] = make_logits(V, state.range(1) == 1, 10 + i);
    std::size_t i = 0;
    for (auto _ : state)
        benchmark::DoNotOptimize(keep_top_reference(logits[i++ % logits.size()], 0, 0.95));
    bench::report(state, 0);
    state.counters["tokens/s"] =
        benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
}

void shapes(benchmark::internal::Benchmark* b) {
    for (const std::int64_t V : {4096, 50257})
        for (const std::int64_t flat : {0, 1})
            b->Args({V, flat});
}

BENCHMARK(BM_Copy_baseline)->Apply(shapes);
BENCHMARK(BM_Sampler_default)->Apply(shapes);
BENCHMARK(BM_Sampler_greedy)->Apply(shapes);
BENCHMARK(BM_Sampler_llama)->Apply(shapes);
BENCHMARK(BM_Sampler_hf)->Apply(shapes);
BENCHMARK(BM_Sampler_top_k)->Apply(shapes);
BENCHMARK(BM_Sampler_top_p)->Apply(shapes);
BENCHMARK(BM_Reference_top_p)->Apply(shapes);
BENCHMARK(BM_Sampler_long)->Apply(shapes);
BENCHMARK(BM_Sampler_decision)->Apply(shapes);

} // namespace

BENCHMARK_MAIN();
