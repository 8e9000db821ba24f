// Helpers shared by the benchmark programs: the build's instruction set, counters that every
// benchmark reports (threads, GFLOP/s, tokens/s), and the check of a result against a reference
// before timing.
#pragma once

#include <ouro/core/parallel.hpp>

#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace ouro::bench {

/// The vector instruction set this binary was compiled for.
inline const char* isa_name() {
#if defined(__AVX512F__)
    return "avx512";
#elif defined(__AVX2__) && defined(__FMA__)
    return "avx2+fma";
#elif defined(__AVX2__)
    return "avx2";
#else
    return "generic";
#endif
}

/// Adds the counters every ouro benchmark reports: threads, and flops as a rate (GFLOP/s in the
/// output when `flops_per_iteration` is the work of one iteration).
inline void report(benchmark::State& state, double flops_per_iteration) {
    state.counters["threads"] = double(ouro::num_threads());
    if (flops_per_iteration > 0)
        state.counters["GFLOP/s"] = benchmark::Counter(
            flops_per_iteration * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    state.SetLabel(isa_name());
}

/// Throws when |actual - expected| > atol + rtol * |expected|: a benchmark of a wrong kernel is
/// worthless, so each one checks its result once before timing.
inline void check_close(double actual, double expected, double atol, double rtol,
                        const std::string& what) {
    if (!(std::abs(actual - expected) <= atol + rtol * std::abs(expected)))
        throw std::runtime_error(what + ": result " + std::to_string(actual) +
                                 " differs from reference " + std::to_string(expected));
}

} // namespace ouro::bench
