// GEMM benchmarks at GPT shapes: M = B * T = 4096 rows (batch 16 x 256 tokens, config S) times
// weights of (N, K) = (768, 256) attention qkv, (1024, 256) MLP up, (256, 1024) MLP down and
// (4096, 256) the vocabulary head; and (128, 512), config XS's MLP down, whose small 128 x 512
// weight gradient is cut into column tiles.
//
//   BM_Matmul_{forward,backward}/P    ops::matmul kernels, a (M, K) . b (K, N)
//   BM_Linear_{forward,backward}/P    ops::linear kernels, x (M, K) . W^T + bias, W (N, K)
//   BM_Linear_backward_part/P         one of linear's gradients at a time (dx, dw, dbias)
//   BM_EigenGemm_{matmul,linear}_*    the same products as one plain single-threaded Eigen call
//                                     each, built for AVX2: the baseline that shows what the
//                                     tiling costs
//
// P is the instruction-set path (avx2, avx512: ouro/core/isa.hpp); MFU is against that path's
// FMA peak.
//
// Forward does 2 M N K flops, backward 4 M N K (both input gradients; the bias sum is not
// counted). Each benchmark checks sampled output elements against a double-precision dot product
// once before timing, and reports GFLOP/s and MFU against the FMA peak measured in this run.
//
// Eigen is single-threaded here as in the library: EIGEN_DONT_PARALLELIZE comes with the ouro
// target (a PUBLIC definition), so this file instantiates Eigen's GEMM templates as the library
// does.

#include "bench_util.hpp"
#include "fma_peak.hpp"

#include <ouro/core/eigen_view.hpp>
#include <ouro/core/rng.hpp>
#include <ouro/core/tensor.hpp>
#include <ouro/ops/matmul.hpp>

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace {

using ouro::Shape;
using ouro::TensorF;

TensorF random(const Shape& shape, std::uint64_t seed) {
    ouro::Rng rng(seed);
    TensorF t(shape);
    for (std::int64_t i = 0; i < t.numel(); ++i)
        t[i] = float(2.0 * rng.uniform() - 1.0);
    return t;
}

// Checks 16 sampled elements of c (rows, cols) = sum over p < depth of x_at(i, p) * y_at(p, j)
// (+ bias[j]) against the same sum in double.
template <typename XAt, typename YAt>
void check_sampled(const std::string& what, const TensorF& c, std::int64_t depth, XAt x_at,
                   YAt y_at, const float* bias = nullptr) {
    const std::int64_t rows = c.shape().rows(), cols = c.shape().back();
    ouro::Rng rng(99);
    for (int s = 0; s < 16; ++s) {
        const auto i = std::int64_t(rng.below(std::uint64_t(rows)));
        const auto j = std::int64_t(rng.below(std::uint64_t(cols)));
        double expected = bias ? double(bias[j]) : 0.0;
        for (std::int64_t p = 0; p < depth; ++p)
            expected += double(x_at(i, p)) * double(y_at(p, j));
        ouro::bench::check_close(c[i * cols + j], expected, 1e-3, 1e-4,
                                 what + " element (" + std::to_string(i) + ", " +
                                     std::to_string(j) + ")");
    }
}

// The shapes, as (M, N, K).
void gpt_shapes(benchmark::internal::Benchmark* b) {
    b->ArgNames({"M", "N", "K"});
    for (const auto& [n, k] :
         {std::pair{768, 256}, {1024, 256}, {256, 1024}, {4096, 256}, {128, 512}})
        b->Args({4096, n, k});
    b->UseRealTime()->Unit(benchmark::kMillisecond);
}

struct Problem {
    std::int64_t m, n, k;
    explicit Problem(const benchmark::State& state)
        : m(state.range(0)), n(state.range(1)), k(state.range(2)) {}
    double flops() const { return 2.0 * double(m) * double(n) * double(k); }
};

// The benchmark loop around body(), with the counters: threads, GFLOP/s, MFU.
template <typename Body> void timed_loop(benchmark::State& state, double flops, Body body) {
    ouro::bench::report(state, flops);
    ouro::bench::fma_peak_gflops(); // measured before timing starts
    const auto t0 = std::chrono::steady_clock::now();
    for (auto _ : state) {
        body();
        benchmark::ClobberMemory();
    }
    const std::chrono::duration<double> seconds = std::chrono::steady_clock::now() - t0;
    ouro::bench::report_mfu(state, flops, seconds.count());
}

// out (M, N) = a (M, K) . b (K, N)
void BM_Matmul_forward(benchmark::State& state, ouro::Isa isa) {
    const ouro::bench::PathGuard path(state, isa);
    if (path.skipped())
        return;
    const Problem p(state);
    const TensorF a = random({p.m, p.k}, 1), b = random({p.k, p.n}, 2);
    TensorF out({p.m, p.n});
    const ouro::ops::MatmulDims d = ouro::ops::matmul_dims(a.shape(), b.shape(), false, false);
    ouro::ops::matmul_forward(a.data(), b.data(), out.data(), d);
    check_sampled(
        "matmul forward", out, p.k, [&](auto i, auto q) { return a[i * p.k + q]; },
        [&](auto q, auto j) { return b[q * p.n + j]; });
    timed_loop(state, p.flops(),
               [&] { ouro::ops::matmul_forward(a.data(), b.data(), out.data(), d); });
}
BENCHMARK_CAPTURE(BM_Matmul_forward, avx2, ouro::Isa::avx2)->Apply(gpt_shapes);
BENCHMARK_CAPTURE(BM_Matmul_forward, avx512, ouro::Isa::avx512)->Apply(gpt_shapes);

// da (M, K) += dout . b^T, db (K, N) += a^T . dout
void BM_Matmul_backward(benchmark::State& state, ouro::Isa isa) {
    const ouro::bench::PathGuard path(state, isa);
    if (path.skipped())
        return;
    const Problem p(state);
    const TensorF a = random({p.m, p.k}, 1), b = random({p.k, p.n}, 2);
    const TensorF dout = random({p.m, p.n}, 3);
    TensorF da({p.m, p.k}), db({p.k, p.n});
    const ouro::ops::MatmulDims d = ouro::ops::matmul_dims(a.shape(), b.shape(), false, false);
    ouro::ops::matmul_backward(a.data(), b.data(), dout.data(), da.data(), db.data(), d);
    check_sampled(
        "matmul backward da", da, p.n, [&](auto i, auto j) { return dout[i * p.n + j]; },
        [&](auto j, auto q) { return b[q * p.n + j]; });
    check_sampled(
        "matmul backward db", db, p.m, [&](auto q, auto i) { return a[i * p.k + q]; },
        [&](auto i, auto j) { return dout[i * p.n + j]; });
    timed_loop(state, 2 * p.flops(), [&] {
        ouro::ops::matmul_backward(a.data(), b.data(), dout.data(), da.data(), db.data(), d);
    });
}
BENCHMARK_CAPTURE(BM_Matmul_backward, avx2, ouro::Isa::avx2)->Apply(gpt_shapes);
BENCHMARK_CAPTURE(BM_Matmul_backward, avx512, ouro::Isa::avx512)->Apply(gpt_shapes);

// out (M, N) = x (M, K) . w^T + bias, w (N, K)
void BM_Linear_forward(benchmark::State& state, ouro::Isa isa) {
    const ouro::bench::PathGuard path(state, isa);
    if (path.skipped())
        return;
    const Problem p(state);
    const TensorF x = random({p.m, p.k}, 1), w = random({p.n, p.k}, 2), bias = random({p.n}, 4);
    TensorF out({p.m, p.n});
    ouro::ops::linear_forward(x.data(), w.data(), bias.data(), out.data(), p.m, p.k, p.n);
    check_sampled(
        "linear forward", out, p.k, [&](auto i, auto q) { return x[i * p.k + q]; },
        [&](auto q, auto j) { return w[j * p.k + q]; }, bias.data());
    timed_loop(state, p.flops(), [&] {
        ouro::ops::linear_forward(x.data(), w.data(), bias.data(), out.data(), p.m, p.k, p.n);
    });
}
BENCHMARK_CAPTURE(BM_Linear_forward, avx2, ouro::Isa::avx2)->Apply(gpt_shapes);
BENCHMARK_CAPTURE(BM_Linear_forward, avx512, ouro::Isa::avx512)->Apply(gpt_shapes);

// dx (M, K) += dout . w, dw (N, K) += dout^T . x, dbias (N) += column sums of dout
void BM_Linear_backward(benchmark::State& state, ouro::Isa isa) {
    const ouro::bench::PathGuard path(state, isa);
    if (path.skipped())
        return;
    const Problem p(state);
    const TensorF x = random({p.m, p.k}, 1), w = random({p.n, p.k}, 2);
    const TensorF dout = random({p.m, p.n}, 3);
    TensorF dx({p.m, p.k}), dw({p.n, p.k}), dbias({p.n});
    ouro::ops::linear_backward(x.data(), w.data(), dout.data(), dx.data(), dw.data(), dbias.data(),
                               p.m, p.k, p.n);
    check_sampled(
        "linear backward dx", dx, p.n, [&](auto i, auto j) { return dout[i * p.n + j]; },
        [&](auto j, auto q) { return w[j * p.k + q]; });
    check_sampled(
        "linear backward dw", dw, p.m, [&](auto j, auto i) { return dout[i * p.n + j]; },
        [&](auto i, auto q) { return x[i * p.k + q]; });
    check_sampled(
        "linear backward dbias", dbias.reshaped({1, p.n}), p.m, [](auto, auto) { return 1.0f; },
        [&](auto i, auto j) { return dout[i * p.n + j]; });
    timed_loop(state, 2 * p.flops(), [&] {
        ouro::ops::linear_backward(x.data(), w.data(), dout.data(), dx.data(), dw.data(),
                                   dbias.data(), p.m, p.k, p.n);
    });
}
BENCHMARK_CAPTURE(BM_Linear_backward, avx2, ouro::Isa::avx2)->Apply(gpt_shapes);
BENCHMARK_CAPTURE(BM_Linear_backward, avx512, ouro::Isa::avx512)->Apply(gpt_shapes);

// One part of linear's backward at a time: part 0 dx (M, K) += dout . w (2 M N K flops), 1 dw
// (N, K) += dout^T . x (2 M N K), 2 dbias (N) += column sums of dout (counted as M N flops).
// Also at XS's qkv (384, 128) and attention projection (128, 128), whose small weight gradients
// few threads can share (the AVX-512 kernel's tiles are cut for the team: ouro/ops/matmul.hpp).
void BM_Linear_backward_part(benchmark::State& state, ouro::Isa isa) {
    const ouro::bench::PathGuard path(state, isa);
    if (path.skipped())
        return;
    const Problem p(state);
    const std::int64_t part = state.range(3);
    const TensorF x = random({p.m, p.k}, 1), w = random({p.n, p.k}, 2);
    const TensorF dout = random({p.m, p.n}, 3);
    TensorF dx({p.m, p.k}), dw({p.n, p.k}), dbias({p.n});
    auto run = [&] {
        ouro::ops::linear_backward(x.data(), w.data(), dout.data(), part == 0 ? dx.data() : nullptr,
                                   part == 1 ? dw.data() : nullptr,
                                   part == 2 ? dbias.data() : nullptr, p.m, p.k, p.n);
    };
    run();
    if (part == 0)
        check_sampled(
            "linear backward dx", dx, p.n, [&](auto i, auto j) { return dout[i * p.n + j]; },
            [&](auto j, auto q) { return w[j * p.k + q]; });
    else if (part == 1)
        check_sampled(
            "linear backward dw", dw, p.m, [&](auto j, auto i) { return dout[i * p.n + j]; },
            [&](auto i, auto q) { return x[i * p.k + q]; });
    else
        check_sampled(
            "linear backward dbias", dbias.reshaped({1, p.n}), p.m, [](auto, auto) { return 1.0f; },
            [&](auto i, auto j) { return dout[i * p.n + j]; });
    timed_loop(state, part == 2 ? double(p.m * p.n) : p.flops(), run);
}
void part_shapes(benchmark::internal::Benchmark* b) {
    b->ArgNames({"M", "N", "K", "part"});
    for (const auto& [n, k] : {std::pair{768, 256},
                               {1024, 256},
                               {256, 1024},
                               {256, 256},
                               {4096, 256},
                               {128, 512},
                               {384, 128},
                               {128, 128}})
        for (std::int64_t part = 0; part < 3; ++part)
            b->Args({4096, n, k, part});
    b->UseRealTime()->Unit(benchmark::kMillisecond);
}
BENCHMARK_CAPTURE(BM_Linear_backward_part, avx2, ouro::Isa::avx2)->Apply(part_shapes);
BENCHMARK_CAPTURE(BM_Linear_backward_part, avx512, ouro::Isa::avx512)->Apply(part_shapes);

// Baselines: each product as one Eigen call on the whole matrices, single-threaded.
template <bool linear_layout> void BM_EigenGemm_forward(benchmark::State& state) {
    const Problem p(state);
    const TensorF x = random({p.m, p.k}, 1);
    const TensorF w = linear_layout ? random({p.n, p.k}, 2) : random({p.k, p.n}, 2);
    TensorF out({p.m, p.n});
    auto run = [&] {
        if constexpr (linear_layout)
            matrix_view(out).noalias() = matrix_view(x) * matrix_view(w).transpose();
        else
            matrix_view(out).noalias() = matrix_view(x) * matrix_view(w);
    };
    run();
    check_sampled(
        "eigen forward", out, p.k, [&](auto i, auto q) { return x[i * p.k + q]; },
        [&](auto q, auto j) { return linear_layout ? w[j * p.k + q] : w[q * p.n + j]; });
    timed_loop(state, p.flops(), [&] { run(); });
}
BENCHMARK(BM_EigenGemm_forward<false>)->Name("BM_EigenGemm_matmul_forward")->Apply(gpt_shapes);
BENCHMARK(BM_EigenGemm_forward<true>)->Name("BM_EigenGemm_linear_forward")->Apply(gpt_shapes);

template <bool linear_layout> void BM_EigenGemm_backward(benchmark::State& state) {
    const Problem p(state);
    const TensorF x = random({p.m, p.k}, 1);
    const TensorF w = linear_layout ? random({p.n, p.k}, 2) : random({p.k, p.n}, 2);
    const TensorF dout = random({p.m, p.n}, 3);
    TensorF dx({p.m, p.k}), dw(w.shape());
    auto run = [&] {
        if constexpr (linear_layout) {
            matrix_view(dx).noalias() += matrix_view(dout) * matrix_view(w);
            matrix_view(dw).noalias() += matrix_view(dout).transpose() * matrix_view(x);
        } else {
            matrix_view(dx).noalias() += matrix_view(dout) * matrix_view(w).transpose();
            matrix_view(dw).noalias() += matrix_view(x).transpose() * matrix_view(dout);
        }
    };
    run();
    check_sampled(
        "eigen backward dx", dx, p.n, [&](auto i, auto j) { return dout[i * p.n + j]; },
        [&](auto j, auto q) { return linear_layout ? w[j * p.k + q] : w[q * p.n + j]; });
    timed_loop(state, 2 * p.flops(), [&] { run(); });
}
BENCHMARK(BM_EigenGemm_backward<false>)->Name("BM_EigenGemm_matmul_backward")->Apply(gpt_shapes);
BENCHMARK(BM_EigenGemm_backward<true>)->Name("BM_EigenGemm_linear_backward")->Apply(gpt_shapes);

} // namespace

BENCHMARK_MAIN();
