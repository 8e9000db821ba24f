// Pointwise kernels on the shapes of GPT config S (B = 16, T = 256, C = 256): layernorm on
// (B * T, C), GELU on the MLP activations (B, T, 4C), softmax on (B * T, 4096) rows (V = 4096).
// These kernels do little arithmetic per byte, so the main figure is bytes/s: the bytes each kernel
// must read and write once (inputs read, outputs written, gradients that are added into read and
// written), to compare with BM_Copy_baseline. GFLOP/s counts each +, -, *, /, max and exp of the
// formula as one flop.
//
// Each benchmark checks its result once against the reference (the naive kernel, or for backward
// the double-precision kernel) before timing, and throws if it differs. BM_Copy_baseline copies
// the GELU tensor with the same threads: the bytes/s a purely memory-bound kernel would reach.
#include "bench_util.hpp"

#include <ouro/core/rng.hpp>
#include <ouro/core/tensor.hpp>
#include <ouro/ops/gelu.hpp>
#include <ouro/ops/layernorm.hpp>
#include <ouro/ops/softmax.hpp>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace {

using ouro::Shape;
using ouro::TensorD;
using ouro::TensorF;

constexpr std::int64_t B = 16, T = 256, C = 256, V = 4096;

TensorF random_tensor(const Shape& shape, std::uint64_t seed, double lo = -1.0, double hi = 1.0) {
    ouro::Rng rng(seed);
    TensorF t(shape);
    for (std::int64_t i = 0; i < t.numel(); ++i)
        t[i] = float(lo + (hi - lo) * rng.uniform());
    return t;
}

template <typename A, typename E>
void check_all(const A& actual, const E& expected, double atol, double rtol,
               const std::string& what) {
    for (std::int64_t i = 0; i < actual.numel(); ++i) {
        const double a = double(actual[i]), e = double(expected[i]);
        if (!(std::abs(a - e) <= atol + rtol * std::abs(e))) // the message only when it throws
            ouro::bench::check_close(a, e, atol, rtol, what + " element " + std::to_string(i));
    }
}

void set_bytes(benchmark::State& state, double bytes_per_iteration) {
    state.SetBytesProcessed(std::int64_t(double(state.iterations()) * bytes_per_iteration));
}

// ---- layernorm: x (B * T, C) ----

void BM_LayerNorm_forward(benchmark::State& state) {
    const std::int64_t N = B * T;
    const TensorF x = random_tensor({N, C}, 1, -2.0, 2.0);
    const TensorF w = random_tensor({C}, 2, 0.5, 1.5), b = random_tensor({C}, 3);
    TensorF out({N, C}), mean({N}), rstd({N}), ref({N, C}), ref_mean({N}), ref_rstd({N});
    ouro::ops::layernorm_forward(x.data(), w.data(), b.data(), out.data(), mean.data(), rstd.data(),
                                 N, C, 1e-5);
    ouro::ops::layernorm_reference(x.data(), w.data(), b.data(), ref.data(), ref_mean.data(),
                                   ref_rstd.data(), N, C, 1e-5);
    check_all(out, ref, 1e-6, 1e-6, "layernorm forward");
    for (auto _ : state) {
        ouro::ops::layernorm_forward(x.data(), w.data(), b.data(), out.data(), mean.data(),
                                     rstd.data(), N, C, 1e-5);
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    // Read x, weight, bias; write out, mean, rstd. Flops: mean 1, variance 3, output 4.
    set_bytes(state, 4.0 * double(2 * N * C + 2 * C + 2 * N));
    ouro::bench::report(state, 8.0 * double(N * C));
}

void BM_LayerNorm_backward(benchmark::State& state) {
    const std::int64_t N = B * T;
    const TensorF x = random_tensor({N, C}, 4, -2.0, 2.0), dout = random_tensor({N, C}, 5);
    const TensorF w = random_tensor({C}, 6, 0.5, 1.5), b = random_tensor({C}, 7);
    TensorF out({N, C}), mean({N}), rstd({N}), dx({N, C}), dw({C}), db({C});
    ouro::ops::layernorm_forward(x.data(), w.data(), b.data(), out.data(), mean.data(), rstd.data(),
                                 N, C, 1e-5);
    {
        // Against the double kernel on the same inputs and saved statistics.
        const TensorD xd = x.cast<double>(), doutd = dout.cast<double>(), wd = w.cast<double>();
        const TensorD meand = mean.cast<double>(), rstdd = rstd.cast<double>();
        TensorD dxd({N, C}), dwd({C}), dbd({C});
        ouro::ops::layernorm_backward(doutd.data(), xd.data(), wd.data(), meand.data(),
                                      rstdd.data(), dxd.data(), dwd.data(), dbd.data(), N, C);
        ouro::ops::layernorm_backward(dout.data(), x.data(), w.data(), mean.data(), rstd.data(),
                                      dx.data(), dw.data(), db.data(), N, C);
        check_all(dx, dxd, 1e-5, 1e-5, "layernorm backward dx");
        check_all(dw, dwd, 1e-4, 1e-5, "layernorm backward dweight");
        check_all(db, dbd, 1e-4, 1e-5, "layernorm backward dbias");
    }
    for (auto _ : state) {
        ouro::ops::layernorm_backward(dout.data(), x.data(), w.data(), mean.data(), rstd.data(),
                                      dx.data(), dw.data(), db.data(), N, C);
        benchmark::DoNotOptimize(dx.data());
        benchmark::ClobberMemory();
    }
    // Read dout, x, dx; write dx (weight, mean, rstd and the parameter gradients are small).
    // Flops: norm 2, dnorm 1, two row sums 3, dx 5, dweight and dbias 3.
    set_bytes(state, 4.0 * double(4 * N * C));
    ouro::bench::report(state, 14.0 * double(N * C));
}

// ---- GELU: (B, T, 4C) ----

void BM_Gelu_forward(benchmark::State& state) {
    const std::int64_t n = B * T * 4 * C;
    const TensorF x = random_tensor({B, T, 4 * C}, 8, -4.0, 4.0);
    TensorF out(x.shape());
    ouro::ops::gelu_forward(x.data(), out.data(), n);
    {
        const TensorD xd = x.cast<double>();
        TensorD ref(x.shape());
        ouro::ops::gelu_reference(xd.data(), ref.data(), n);
        check_all(out, ref, 1e-7, 4e-7, "gelu forward");
    }
    for (auto _ : state) {
        ouro::ops::gelu_forward(x.data(), out.data(), n);
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    // Read x, write out. Flops: argument 4, exp 1, sigmoid and product 4.
    set_bytes(state, 4.0 * double(2 * n));
    ouro::bench::report(state, 9.0 * double(n));
}

void BM_Gelu_backward(benchmark::State& state) {
    const std::int64_t n = B * T * 4 * C;
    const TensorF x = random_tensor({B, T, 4 * C}, 9, -4.0, 4.0);
    const TensorF dout = random_tensor(x.shape(), 10);
    TensorF dx(x.shape());
    {
        const TensorD xd = x.cast<double>(), doutd = dout.cast<double>();
        TensorD dxd(x.shape());
        ouro::ops::gelu_backward(xd.data(), doutd.data(), dxd.data(), n);
        ouro::ops::gelu_backward(x.data(), dout.data(), dx.data(), n);
        check_all(dx, dxd, 1e-7, 4e-7, "gelu backward");
    }
    for (auto _ : state) {
        ouro::ops::gelu_backward(x.data(), dout.data(), dx.data(), n);
        benchmark::DoNotOptimize(dx.data());
        benchmark::ClobberMemory();
    }
    // Read x, dout, dx; write dx. Flops: argument 4, exp 1, s and 1 - s 4, derivative 5, add 2.
    set_bytes(state, 4.0 * double(4 * n));
    ouro::bench::report(state, 16.0 * double(n));
}

// ---- baseline: a parallel copy of the GELU tensor, the memory-bound ceiling for comparison ----

void BM_Copy_baseline(benchmark::State& state) {
    const std::int64_t n = B * T * 4 * C;
    const TensorF x = random_tensor({B, T, 4 * C}, 12);
    TensorF out(x.shape());
    const float* src = x.data();
    float* dst = out.data();
    auto copy = [&] {
#pragma omp parallel for schedule(static)
        for (std::int64_t i = 0; i < n; ++i)
            dst[i] = src[i];
    };
    copy();
    if (!std::equal(src, src + n, dst))
        throw std::runtime_error("copy baseline: the copy differs from its source");
    for (auto _ : state) {
        copy();
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    set_bytes(state, 4.0 * double(2 * n));
    ouro::bench::report(state, 0.0);
}

// ---- softmax: (B * T, V) ----

void BM_Softmax(benchmark::State& state) {
    const std::int64_t rows = B * T;
    const TensorF x = random_tensor({rows, V}, 11, -10.0, 10.0);
    TensorF y(x.shape()), ref(x.shape());
    ouro::ops::softmax_forward(x.data(), y.data(), rows, V);
    ouro::ops::softmax_reference(x.data(), ref.data(), rows, V);
    check_all(y, ref, 1e-12, 5e-7, "softmax");
    for (auto _ : state) {
        ouro::ops::softmax_forward(x.data(), y.data(), rows, V);
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    // Read x, write y. Flops: max 1, subtract 1, exp 1, sum 1, scale 1.
    set_bytes(state, 4.0 * double(2 * rows * V));
    ouro::bench::report(state, 5.0 * double(rows * V));
}

} // namespace

BENCHMARK(BM_LayerNorm_forward)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_LayerNorm_backward)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_Gelu_forward)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_Gelu_backward)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_Copy_baseline)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_Softmax)->Unit(benchmark::kMicrosecond)->UseRealTime();

BENCHMARK_MAIN();
