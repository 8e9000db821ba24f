// Fused causal attention and fused softmax + cross-entropy at the S model's shapes: attention on
// B = 16, T = 256, C = 256, NH = 8 (HS = 32), and a grouped-query variant with 2 kv heads;
// cross-entropy on 16 * 256 rows of V = 4096 logits.
// The kernels are timed on raw buffers (no autograd graph); the thread count comes from
// OMP_NUM_THREADS.
//
// Attention FLOPs count the causal half: each product of one head (Q K^T, P V, and in the
// backward pass the recomputed Q K^T, dO V^T, P^T dO, dS K, dS^T Q) is counted over the
// T (T + 1) / 2 (query, key) pairs a query may see, at 2 HS flops per pair. Forward = 2 products,
// forward + backward = 7 (flash-attention's convention: backward = 2.5 x forward).
// Cross-entropy FLOPs are nominal: 9 per logit (forward: compare, subtract, exp, add; backward:
// subtract, exp, subtract the one-hot, multiply, add), an exp counted as one.
#include "bench_util.hpp"

#include <ouro/core/rng.hpp>
#include <ouro/core/tensor.hpp>
#include <ouro/ops/attention.hpp>
#include <ouro/ops/cross_entropy.hpp>

#include <algorithm>
#include <cmath>

namespace {

constexpr std::int64_t B = 16, T = 256, C = 256, V = 4096;
constexpr int NH = 8;
constexpr std::int64_t HS = C / NH;

ouro::TensorF uniform(const ouro::Shape& shape, ouro::Rng& rng, double scale) {
    ouro::TensorF t(shape);
    for (std::int64_t i = 0; i < t.numel(); ++i)
        t[i] = float(scale * (2.0 * rng.uniform() - 1.0));
    return t;
}

// One product over the causal half of every (b, h) pair.
double causal_product_flops() {
    return 2.0 * double(HS) * double(T * (T + 1) / 2) * double(B * NH);
}

// q (B, T, C); k and v (B, T, n_kv_head * HS), n_kv_head = NH unless grouped.
struct AttentionInputs {
    ouro::TensorF q, k, v, out, lse;
    ouro::ops::AttentionOptions options;
    explicit AttentionInputs(int n_kv_head = NH) : options{.n_kv_head = n_kv_head} {
        ouro::Rng rng(1);
        q = uniform({B, T, C}, rng, 1.0);
        k = uniform({B, T, n_kv_head * HS}, rng, 1.0);
        v = uniform({B, T, n_kv_head * HS}, rng, 1.0);
        out = ouro::TensorF({B, T, C});
        lse = ouro::TensorF({B, NH, T});
    }
    void forward() {
        ouro::ops::attention_forward(q.data(), k.data(), v.data(), out.data(), lse.data(), B, T, C,
                                     NH, options);
    }
    // Runs the forward kernel and compares batch element 0 with the naive reference.
    void check() {
        forward();
        ouro::TensorF expected({1, T, C});
        ouro::ops::attention_reference(q.data(), k.data(), v.data(), expected.data(), 1, T, C, NH,
                                       options);
        for (std::int64_t i = 0; i < T * C; i += 97)
            ouro::bench::check_close(out[i], expected[i], 1e-5, 1e-4, "attention forward");
    }
};

void BM_Attention_forward(benchmark::State& state) {
    AttentionInputs in;
    in.check();
    for (auto _ : state) {
        in.forward();
        benchmark::DoNotOptimize(in.out.data());
    }
    ouro::bench::report(state, 2 * causal_product_flops());
    state.counters["tokens/s"] =
        benchmark::Counter(double(B * T), benchmark::Counter::kIsIterationInvariantRate);
}

void forward_backward(benchmark::State& state, int n_kv_head) {
    AttentionInputs in(n_kv_head);
    in.check();
    ouro::Rng rng(2);
    const ouro::TensorF dout = uniform({B, T, C}, rng, 1.0);
    ouro::TensorF dq({B, T, C}), dk(in.k.shape()), dv(in.v.shape());
    for (auto _ : state) {
        in.forward();
        ouro::ops::attention_backward(in.q.data(), in.k.data(), in.v.data(), in.out.data(),
                                      in.lse.data(), dout.data(), dq.data(), dk.data(), dv.data(),
                                      B, T, C, NH, in.options);
        benchmark::DoNotOptimize(dq.data());
    }
    ouro::bench::report(state, 7 * causal_product_flops());
    state.counters["tokens/s"] =
        benchmark::Counter(double(B * T), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_Attention_forward_backward(benchmark::State& state) {
    forward_backward(state, NH);
}

// Grouped-query: 8 query heads over 2 kv heads, so the backward pass has B * 2 parallel tasks
// (each one kv head and its 4 query heads) instead of B * 8.
void BM_Attention_forward_backward_gqa(benchmark::State& state) {
    forward_backward(state, 2);
}

void BM_CrossEntropy_forward_backward(benchmark::State& state) {
    constexpr std::int64_t N = B * T;
    ouro::Rng rng(3);
    const ouro::TensorF logits = uniform({N, V}, rng, 4.0);
    ouro::TensorI targets({N});
    for (std::int64_t i = 0; i < N; ++i)
        targets[i] = std::int32_t(rng.below(V));
    ouro::TensorF losses({N}), lse({N}), dlogits({N, V}), expected({N});
    const float reference = ouro::ops::cross_entropy_reference(logits.data(), targets.data(),
                                                               expected.data(), N, V, -1);
    ouro::ops::cross_entropy_forward(logits.data(), targets.data(), losses.data(), lse.data(), N, V,
                                     -1);
    double total = 0.0;
    for (std::int64_t i = 0; i < N; ++i)
        total += losses[i];
    ouro::bench::check_close(total / double(N), reference, 1e-6, 1e-5, "cross_entropy forward");

    for (auto _ : state) {
        const std::int64_t count = ouro::ops::cross_entropy_forward(
            logits.data(), targets.data(), losses.data(), lse.data(), N, V, -1);
        ouro::ops::cross_entropy_backward(logits.data(), targets.data(), lse.data(),
                                          1.0f / float(count), dlogits.data(), N, V, -1);
        benchmark::DoNotOptimize(dlogits.data());
    }
    ouro::bench::report(state, 9.0 * double(N * V));
    state.counters["tokens/s"] =
        benchmark::Counter(double(N), benchmark::Counter::kIsIterationInvariantRate);
}

} // namespace

BENCHMARK(BM_Attention_forward)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Attention_forward_backward)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Attention_forward_backward_gqa)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_CrossEntropy_forward_backward)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
