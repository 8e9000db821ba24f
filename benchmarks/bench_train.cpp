// Training throughput: tokens/s of one optimizer step (forward + backward + AdamW) of the GPT, for
// the reference configs of PERF.md: XS (V=512, T=128, C=128, L=4, NH=4, B=32) and S (V=4096,
// T=256, C=256, L=6, NH=8, B=16). Reports tokens/s, the model FLOP rate (6 N + 12 L C T flops per
// token, PERF.md's count) and the thread count; compare GFLOP/s with ouro_bench_peak's FMA peak.
#include "bench_util.hpp"

#include "train_setup.hpp"

#include <cmath>

using namespace ouro;

namespace {

void run(benchmark::State& state, const nn::GPTConfig& config, std::int64_t B) {
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

void BM_Train_XS(benchmark::State& state) {
    run(state, nn::GPTConfig::xs(), 32);
}
void BM_Train_S(benchmark::State& state) {
    run(state, nn::GPTConfig::s(), 16);
}

} // namespace

BENCHMARK(BM_Train_XS)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_Train_S)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(5.0);
BENCHMARK_MAIN();
