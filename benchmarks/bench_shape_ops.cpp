// Shape ops on the GPT S config's tensors (B = 16, T = 256, C = 256, NH = 8, HS = 32): the head
// transposes, the q, k, v split, dropout, and a plain copy of the same bytes as the yardstick.
// These ops move memory, so the counter that matters is bytes/s (read + written); compare it
// with BM_Copy_baseline of the same size from the same run. The first argument is the thread
// count (the baseline's second is its float count).
#include "bench_util.hpp"

#include <ouro/core/parallel.hpp>
#include <ouro/core/rng.hpp>
#include <ouro/ops/concat.hpp>
#include <ouro/ops/dropout.hpp>
#include <ouro/ops/transpose.hpp>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace ouro;

constexpr std::int64_t B = 16, T = 256, C = 256, NH = 8, HS = 32;

TensorF filled(const Shape& s) {
    Rng rng(1);
    TensorF t(s);
    for (std::int64_t i = 0; i < t.numel(); ++i)
        t[i] = float(rng.uniform());
    return t;
}

void require_equal(const TensorF& a, const TensorF& b, const char* what) {
    if (std::memcmp(a.data(), b.data(), sizeof(float) * std::size_t(a.numel())) != 0)
        throw std::runtime_error(std::string(what) + ": result differs from the reference");
}

void finish(benchmark::State& state, std::int64_t bytes_moved) {
    bench::report(state, 0);
    state.SetBytesProcessed(std::int64_t(state.iterations()) * bytes_moved);
}

// A parallel memcpy of state.range(1) floats in the ops' fixed blocks: the speed limit.
void BM_Copy_baseline(benchmark::State& state) {
    ThreadCountGuard threads(int(state.range(0)));
    const std::int64_t n = state.range(1);
    const TensorF x = filled({n});
    TensorF out(x.shape());
    for (auto _ : state) {
#pragma omp parallel for schedule(static)
        for (std::int64_t b = 0; b < n; b += 16384)
            std::memcpy(out.data() + b, x.data() + b,
                        sizeof(float) * std::size_t(std::min<std::int64_t>(16384, n - b)));
        benchmark::DoNotOptimize(out.data());
    }
    finish(state, 2 * n * std::int64_t(sizeof(float)));
}

// (B, T, NH, HS) -> (B, NH, T, HS), or with swap_last (B, NH, T, HS) -> (B, NH, HS, T).
void BM_Transpose(benchmark::State& state, bool swap_last) {
    ThreadCountGuard threads(int(state.range(0)));
    const Shape s = swap_last ? Shape{B, NH, T, HS} : Shape{B, T, NH, HS};
    const int d0 = swap_last ? 2 : 1, d1 = swap_last ? 3 : 2;
    const TensorF x = filled(s);
    TensorF out(s.with_dim(d0, s[d1]).with_dim(d1, s[d0])), expected(out.shape());
    ops::transpose_forward(x.data(), s, d0, d1, out.data());
    ops::transpose_reference(x.data(), s, d0, d1, expected.data());
    require_equal(out, expected, "transpose");
    for (auto _ : state) {
        ops::transpose_forward(x.data(), s, d0, d1, out.data());
        benchmark::DoNotOptimize(out.data());
    }
    finish(state, 2 * x.numel() * std::int64_t(sizeof(float)));
}
void BM_Transpose_heads(benchmark::State& state) {
    BM_Transpose(state, false);
}
void BM_Transpose_last_two(benchmark::State& state) {
    BM_Transpose(state, true);
}

// (B, NH, T, T) -> (B, NH, T, T) transposed: attention-score sized square tiles.
void BM_Transpose_square(benchmark::State& state) {
    ThreadCountGuard threads(int(state.range(0)));
    const Shape s{B, NH, T, T};
    const TensorF x = filled(s);
    TensorF out(s), expected(s);
    ops::transpose_forward(x.data(), s, 2, 3, out.data());
    ops::transpose_reference(x.data(), s, 2, 3, expected.data());
    require_equal(out, expected, "transpose");
    for (auto _ : state) {
        ops::transpose_forward(x.data(), s, 2, 3, out.data());
        benchmark::DoNotOptimize(out.data());
    }
    finish(state, 2 * x.numel() * std::int64_t(sizeof(float)));
}

// (B, T, 3C) -> q, k, v of (B, T, C).
void BM_Split_qkv(benchmark::State& state) {
    ThreadCountGuard threads(int(state.range(0)));
    const Shape s{B, T, 3 * C};
    const TensorF x = filled(s);
    std::vector<TensorF> outs(3, TensorF({B, T, C})), expected(3, TensorF({B, T, C}));
    const std::vector<float*> o = {outs[0].data(), outs[1].data(), outs[2].data()};
    const std::vector<float*> e = {expected[0].data(), expected[1].data(), expected[2].data()};
    ops::split_forward<float>(x.data(), s, {C, C, C}, 2, o);
    ops::split_reference<float>(x.data(), s, {C, C, C}, 2, e);
    for (int k = 0; k < 3; ++k)
        require_equal(outs[std::size_t(k)], expected[std::size_t(k)], "split");
    for (auto _ : state) {
        ops::split_forward<float>(x.data(), s, {C, C, C}, 2, o);
        benchmark::DoNotOptimize(o[0]);
    }
    finish(state, 2 * x.numel() * std::int64_t(sizeof(float)));
}

// Inverted dropout with p = 0.1 on (B, T, C), saving the mask as training does.
void BM_Dropout(benchmark::State& state) {
    ThreadCountGuard threads(int(state.range(0)));
    const TensorF x = filled({B, T, C});
    TensorF out(x.shape()), expected(x.shape());
    std::vector<std::uint8_t> mask(std::size_t(x.numel()));
    ops::dropout_forward(x.data(), x.numel(), 0.1, 99, out.data(), mask.data());
    ops::dropout_reference(x.data(), x.numel(), 0.1, 99, expected.data());
    require_equal(out, expected, "dropout");
    for (auto _ : state) {
        ops::dropout_forward(x.data(), x.numel(), 0.1, 99, out.data(), mask.data());
        benchmark::DoNotOptimize(out.data());
    }
    finish(state, x.numel() * std::int64_t(2 * sizeof(float) + 1));
}

BENCHMARK(BM_Copy_baseline)
    ->ArgsProduct({{1, 2}, {B * T * C, B* T * 3 * C, B* NH* T* T}})
    ->UseRealTime();
BENCHMARK(BM_Transpose_heads)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_Transpose_last_two)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_Transpose_square)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_Split_qkv)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_Dropout)->Arg(1)->Arg(2)->UseRealTime();

} // namespace

BENCHMARK_MAIN();
