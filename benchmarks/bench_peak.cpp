// BM_FmaPeak/{avx2,avx512}: this machine's FMA peak on each instruction-set path (see
// fma_peak.hpp), for 1 up to OMP_NUM_THREADS threads (all cores when it is unset). The other
// benchmark programs measure the same peak at their own thread count and report MFU against it.
#include "bench_util.hpp"
#include "fma_peak.hpp"

#include <ouro/core/parallel.hpp>

#include <benchmark/benchmark.h>

#include <cstdint>

namespace {

// Steps per iteration: 2^22 x 192 flops, about 0.8 GFLOP per thread.
constexpr std::int64_t steps = std::int64_t(1) << 22;

void BM_FmaPeak(benchmark::State& state, ouro::Isa isa) {
    const ouro::bench::PathGuard path(state, isa);
    if (path.skipped())
        return;
    ouro::ThreadCountGuard guard(int(state.range(0)));
    double flops = 0.0;
    for (auto _ : state)
        flops = ouro::bench::run_fma_chains(steps);
    ouro::bench::report(state, flops);
    state.counters["GFLOP/s/thread"] = benchmark::Counter(
        flops * 1e-9 / double(state.range(0)), benchmark::Counter::kIsIterationInvariantRate);
}
void threads_up_to_all(benchmark::internal::Benchmark* b) {
    for (int threads = 1; threads <= ouro::num_threads(); ++threads)
        b->Arg(threads);
    b->ArgName("threads")->UseRealTime()->Unit(benchmark::kMillisecond);
}
BENCHMARK_CAPTURE(BM_FmaPeak, avx2, ouro::Isa::avx2)->Apply(threads_up_to_all);
BENCHMARK_CAPTURE(BM_FmaPeak, avx512, ouro::Isa::avx512)->Apply(threads_up_to_all);

} // namespace

BENCHMARK_MAIN();
