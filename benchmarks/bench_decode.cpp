// Decoding with the inference session's KV cache (gen/session.hpp) at the two reference configs
// of PERF.md, XS and S: one iteration empties the cache and decodes 256 tokens one step at a time
// (greedy: each token is the argmax of the previous step's logits), at batch 1 and at batch 16
// (16 independent sequences stepping together; tokens/s counts all of them), and for S at batch 1
// with the weights stored in half precision (SessionOptions::half_weights). The thread count is
// the benchmark argument.
//
// Also llama2.c's stories15M shape (Llama blocks, 58 MB of float weights), float and half.
//
// For scale, two baselines run in the same process: the FMA peak of one core (independent
// vector fused multiply-adds in registers) and the rate at which one thread streams a model's
// weights (S: 23.4 MB, read once per decoded token at batch 1; PERF.md's "bound by reading the
// weights"). FLOPs per token: 2 per weight of every Linear layer and of the LM head, plus 4 C per
// cached key and layer for attention (scores and weighted values).
#include "bench_util.hpp"

#include <ouro/autograd/var.hpp>
#include <ouro/core/rng.hpp>
#include <ouro/gen/session.hpp>
#include <ouro/nn/gpt.hpp>

#include <immintrin.h>

#include <algorithm>
#include <memory>
#include <vector>

namespace {

// Tokens per sequence: 256, or block_size when shorter (XS: 128; learned positions stop there).
constexpr std::int64_t max_decode_tokens = 256;

std::unique_ptr<ouro::nn::GPT<float>> make_model(const ouro::nn::GPTConfig& config) {
    ouro::Rng rng(1);
    auto model = std::make_unique<ouro::nn::GPT<float>>(config, rng);
    model->eval();
    return model;
}

// The weights a batch-1 step reads: every matrix (the classifier once, tied or not) but the
// position table, of which it reads one row.
std::vector<const ouro::TensorF*> step_matrices(const ouro::nn::GPT<float>& model) {
    std::vector<const ouro::TensorF*> out;
    for (auto& [name, p] : model.named_parameters())
        if (p.value().rank() == 2 && name != "transformer.wpe.weight" &&
            (name != "transformer.wte.weight" || model.config.tied_head))
            out.push_back(&p.value());
    return out;
}

// Flops of decoding `tokens` tokens from an empty cache, one sequence: 2 per matrix weight, and
// 4 C per cached key and layer (scores and weighted values).
double decode_flops(const ouro::nn::GPT<float>& model, std::int64_t tokens) {
    double weights = 0;
    for (const ouro::TensorF* t : step_matrices(model))
        weights += double(t->numel());
    const ouro::nn::GPTConfig& c = model.config;
    const double keys = double(tokens) * double(tokens + 1) / 2.0; // 1 + 2 + ... + tokens
    return 2.0 * weights * double(tokens) + 4.0 * double(c.n_embd * c.n_layer) * keys;
}

// The session's logits after a short prompt against GPT::forward: a benchmark of a wrong kernel
// is worthless.
void check(const ouro::nn::GPT<float>& model) {
    ouro::gen::InferenceSession session(model);
    const std::vector<std::int32_t> prompt = {1, 2, 3, 4, 5, 6, 7, 8};
    session.prefill(0, prompt);
    ouro::NoGradGuard no_grad;
    ouro::TensorI idx({1, 8});
    std::copy(prompt.begin(), prompt.end(), idx.data());
    const ouro::VarF logits = model.forward(idx);
    const std::int64_t V = model.config.vocab_size;
    for (std::int64_t v = 0; v < V; v += 101)
        ouro::bench::check_close(session.logits(0)[std::size_t(v)], logits.value()[7 * V + v], 1e-5,
                                 1e-4, "session logits");
}

std::int32_t argmax(std::span<const float> logits) {
    return std::int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

void decode(benchmark::State& state, const ouro::nn::GPTConfig& config, std::int64_t batch,
            bool half_weights = false) {
    const int threads = int(state.range(0));
    const std::int64_t decode_tokens = std::min(max_decode_tokens, config.block_size);
    ouro::ThreadCountGuard guard(threads);
    const auto model = make_model(config);
    check(*model);
    ouro::gen::InferenceSession session(*model,
                                        {.batch_size = batch, .half_weights = half_weights});
    std::vector<std::int32_t> next(static_cast<std::size_t>(batch));
    for (auto _ : state) {
        session.reset();
        for (std::int64_t b = 0; b < batch; ++b)
            next[std::size_t(b)] = std::int32_t(b);
        for (std::int64_t t = 0; t < decode_tokens; ++t) {
            session.step(next);
            for (std::int64_t b = 0; b < batch; ++b)
                next[std::size_t(b)] = argmax(session.logits(b));
        }
        benchmark::DoNotOptimize(next.data());
    }
    ouro::bench::report(state, double(batch) * decode_flops(*model, decode_tokens));
    state.counters["tokens/s"] = benchmark::Counter(double(batch * decode_tokens),
                                                    benchmark::Counter::kIsIterationInvariantRate);
}

void BM_Decode_S_batch1(benchmark::State& state) {
    decode(state, ouro::nn::GPTConfig::s(), 1);
}
void BM_Decode_S_batch1_half(benchmark::State& state) {
    decode(state, ouro::nn::GPTConfig::s(), 1, true);
}
void BM_Decode_XS_batch1(benchmark::State& state) {
    decode(state, ouro::nn::GPTConfig::xs(), 1);
}
void BM_Decode_S_batch16(benchmark::State& state) {
    decode(state, ouro::nn::GPTConfig::s(), 16);
}
void BM_Decode_XS_batch16(benchmark::State& state) {
    decode(state, ouro::nn::GPTConfig::xs(), 16);
}
// llama2.c's stories15M shape (benchmarks/compare_llama2c.sh decodes the same shape with run.c).
ouro::nn::GPTConfig stories15m() {
    return ouro::nn::GPTConfig::llama(32000, 256, 6, 6, 6, 288);
}
void BM_Decode_Stories15M_batch1(benchmark::State& state) {
    decode(state, stories15m(), 1);
}
void BM_Decode_Stories15M_batch1_half(benchmark::State& state) {
    decode(state, stories15m(), 1, true);
}

// Twelve independent chains of 8-lane fused multiply-adds: the FMA peak of one core.
void BM_FmaPeak(benchmark::State& state) {
    constexpr int chains = 12, reps = 1000;
    __m256 acc[chains];
    for (int i = 0; i < chains; ++i)
        acc[i] = _mm256_set1_ps(float(i));
    const __m256 a = _mm256_set1_ps(0.999f), b = _mm256_set1_ps(0.001f);
    for (auto _ : state) {
        for (int r = 0; r < reps; ++r)
            for (int i = 0; i < chains; ++i)
                acc[i] = _mm256_fmadd_ps(acc[i], a, b);
        for (int i = 0; i < chains; ++i)
            benchmark::DoNotOptimize(acc[i]);
    }
    ouro::bench::report(state, 2.0 * 8 * chains * reps);
}

// One thread summing a model's weights (every matrix once, as a batch-1 decoding step reads them).
void weight_read(benchmark::State& state, const ouro::nn::GPTConfig& config) {
    const auto model = make_model(config);
    const std::vector<const ouro::TensorF*> tensors = step_matrices(*model);
    double bytes = 0;
    for (const ouro::TensorF* t : tensors)
        bytes += double(t->numel()) * sizeof(float);
    for (auto _ : state) {
        // Four sums, so that the additions' latency does not bound the reads.
        __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
        for (const ouro::TensorF* t : tensors) {
            const float* d = t->data();
            for (std::int64_t i = 0; i + 32 <= t->numel(); i += 32) {
                s0 = _mm256_add_ps(s0, _mm256_loadu_ps(d + i));
                s1 = _mm256_add_ps(s1, _mm256_loadu_ps(d + i + 8));
                s2 = _mm256_add_ps(s2, _mm256_loadu_ps(d + i + 16));
                s3 = _mm256_add_ps(s3, _mm256_loadu_ps(d + i + 24));
            }
        }
        benchmark::DoNotOptimize(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    }
    state.counters["GB/s"] =
        benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["MB"] = bytes * 1e-6;
    state.SetLabel(ouro::bench::isa_name());
}
void BM_WeightRead_S(benchmark::State& state) {
    weight_read(state, ouro::nn::GPTConfig::s());
}
void BM_WeightRead_Stories15M(benchmark::State& state) {
    weight_read(state, stories15m());
}

} // namespace

BENCHMARK(BM_FmaPeak);
BENCHMARK(BM_WeightRead_S)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Decode_S_batch1)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Decode_S_batch1_half)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Decode_XS_batch1)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Decode_S_batch16)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Decode_XS_batch16)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_WeightRead_Stories15M)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Decode_Stories15M_batch1)
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_Decode_Stories15M_batch1_half)
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

BENCHMARK_MAIN();
