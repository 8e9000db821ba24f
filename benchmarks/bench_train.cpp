// Training throughput: tokens/s of one optimizer step (forward + backward + AdamW) of the GPT, for
// the reference configs of PERF.md: XS (V=512, T=128, C=128, L=4, NH=4, B=32) and S (V=4096,
// T=256, C=256, L=6, NH=8, B=16). Reports tokens/s, the model FLOP rate (6 N + 12 L C T flops per
// token, PERF.md's count) and the thread count, on each instruction-set path (ouro/core/isa.hpp);
// compare GFLOP/s with ouro_bench_peak's FMA peak.
#include "bench_util.hpp"

#include "train_setup.hpp"

#include <cmath>

using namespace ouro;

namespace {

void run(benchmark::State& state, const nn::GPTConfig& config, std::int64_t B, Isa isa) {
    const bench::PathGuard path(state, isa);
    if (path.skipped())
        return;
    bench::TrainSetup s(config, B);
    // Check once before timing: the first loss of a fresh model is close to log(V).
    const float first = s.step();
    bench::check_close(first, std::log(double(config.vocab_size)), 0.0, 0.05,
                       "first training loss vs log(V)");
    for (auto _ : state)
        benchmark::DoNotOptimize(s.step());
    const double tokens = double(B * config.block_size);
    state.counters["tokens/s"] =
        benchmark::Counter(tokens, benchmark::Counter::kIsIterationInvariantRate);
    bench::report(state, tokens * s.flops_per_token());
}

void BM_Train_XS(benchmark::State& state, Isa isa) {
    run(state, nn::GPTConfig::xs(), 32, isa);
}
void BM_Train_S(benchmark::State& state, Isa isa) {
    run(state, nn::GPTConfig::s(), 16, isa);
}

} // namespace

// Each config on both instruction-set paths, one after the other (add
// --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true to alternate them).
BENCHMARK_CAPTURE(BM_Train_XS, avx2, Isa::avx2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(2.0);
BENCHMARK_CAPTURE(BM_Train_XS, avx512, Isa::avx512)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(2.0);
BENCHMARK_CAPTURE(BM_Train_S, avx2, Isa::avx2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(5.0);
BENCHMARK_CAPTURE(BM_Train_S, avx512, Isa::avx512)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(5.0);
BENCHMARK_MAIN();
