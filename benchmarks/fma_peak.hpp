// The machine's floating-point peak, measured: every thread of one OpenMP parallel region runs
// independent chains of AVX2 fused multiply-adds (_mm256_fmadd_ps) that never touch memory. With
// more independent chains than FMA latency x FMA units (4 x 2 on Zen 4, 4 x 2 on Skylake, 5 x 2
// on Haswell), the units never wait, so flops / time is the FMA peak of the 8-wide float path.
// The AVX-512 path's peak is measured the same way with 16-lane chains (_mm512_fmadd_ps, built for
// AVX-512 in this function only and run only on that path): on Zen 4, which splits a 512-bit FMA
// into two 256-bit halves, it equals the AVX2 peak; on CPUs with 512-bit FMA units it is twice.
// Benchmarks report MFU (achieved GFLOP/s / the peak of the path in use, at the same thread count,
// measured in the same run).
#pragma once

#include <ouro/core/isa.hpp>
#include <ouro/core/parallel.hpp>

#include <benchmark/benchmark.h>
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <ctime>
#include <map>
#include <utility>
#include <vector>

namespace ouro::bench {

/// Independent FMA chains per thread: 12 accumulators + 2 operands fit AVX2's 16 registers.
inline constexpr int fma_chains = 12;
/// Flops of one step of the chains: 12 chains x 8 lanes x (multiply + add).
inline constexpr double fma_step_flops = fma_chains * 8 * 2;

/// Runs `steps` steps of the FMA chains on the calling thread.
inline void fma_chains_on_this_thread(std::int64_t steps) {
    // x * a + b with a just below 1 converges to b / (1 - a): no overflow, no denormals.
    const __m256 a = _mm256_set1_ps(0.9999999f), b = _mm256_set1_ps(1e-7f);
    __m256 acc[fma_chains];
    for (int j = 0; j < fma_chains; ++j)
        acc[j] = _mm256_set1_ps(float(j));
    for (std::int64_t s = 0; s < steps; ++s)
        for (int j = 0; j < fma_chains; ++j)
            acc[j] = _mm256_fmadd_ps(acc[j], a, b);
    __m256 sum = acc[0];
    for (int j = 1; j < fma_chains; ++j)
        sum = _mm256_add_ps(sum, acc[j]);
    benchmark::DoNotOptimize(sum);
}

/// The same chains with 16 lanes, on the AVX-512 path only.
__attribute__((target("avx512f"))) inline void
fma_chains_avx512_on_this_thread(std::int64_t steps) {
    const __m512 a = _mm512_set1_ps(0.9999999f), b = _mm512_set1_ps(1e-7f);
    __m512 acc[fma_chains];
    for (int j = 0; j < fma_chains; ++j)
        acc[j] = _mm512_set1_ps(float(j));
    for (std::int64_t s = 0; s < steps; ++s)
        for (int j = 0; j < fma_chains; ++j)
            acc[j] = _mm512_fmadd_ps(acc[j], a, b);
    __m512 sum = acc[0];
    for (int j = 1; j < fma_chains; ++j)
        sum = _mm512_add_ps(sum, acc[j]);
    benchmark::DoNotOptimize(sum);
}

/// Runs `steps` steps of the chains of the instruction-set path in use; returns their flops.
inline double fma_chains_of_path(std::int64_t steps) {
    if (ouro::current_isa() == ouro::Isa::avx512) {
        fma_chains_avx512_on_this_thread(steps);
        return double(steps) * fma_step_flops * 2;
    }
    fma_chains_on_this_thread(steps);
    return double(steps) * fma_step_flops;
}

/// Runs `steps` steps of the FMA chains on every thread of one parallel region; returns the flops
/// done by all threads together.
inline double run_fma_chains(std::int64_t steps) {
    double flops = 0.0;
#pragma omp parallel reduction(+ : flops)
    flops += fma_chains_of_path(steps);
    return flops;
}

/// CPU time of the calling thread, in seconds.
inline double thread_cpu_seconds() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

/// The FMA peak in GFLOP/s of the path in use with the current thread count: the sum over threads
/// of each thread's flops / its own CPU time, so that another process holding a core for a moment
/// does not lower it; the best of 20 runs. Measured once per program and thread count (about 0.1
/// s).
inline double fma_peak_gflops() {
    static std::map<std::pair<int, ouro::Isa>, double> peaks;
    double& peak = peaks[{ouro::num_threads(), ouro::current_isa()}];
    if (peak == 0.0)
        for (int run = 0; run < 20; ++run) {
            constexpr std::int64_t steps = std::int64_t(1) << 20;
            std::vector<double> rates(std::size_t(ouro::num_threads()), 0.0);
#pragma omp parallel
            {
                const double t0 = thread_cpu_seconds();
                const double flops = fma_chains_of_path(steps);
                rates[std::size_t(omp_get_thread_num())] = flops / (thread_cpu_seconds() - t0);
            }
            double total = 0.0;
            for (double r : rates)
                total += r;
            peak = std::max(peak, total * 1e-9);
        }
    return peak;
}

/// Adds the counters "MFU" (the flop rate achieved over `seconds`, the time of the benchmark loop,
/// divided by fma_peak_gflops()) and "peak_GFLOP/s". Call after the loop.
inline void report_mfu(benchmark::State& state, double flops_per_iteration, double seconds) {
    const double peak = fma_peak_gflops();
    state.counters["peak_GFLOP/s"] = peak;
    state.counters["MFU"] =
        flops_per_iteration * double(state.iterations()) / seconds * 1e-9 / peak;
}

} // namespace ouro::bench
