// Helpers shared by the benchmark programs: the instruction-set path, counters that every
// benchmark reports (threads, GFLOP/s, tokens/s), and the check of a result against a reference
// before timing.
#pragma once

#include <ouro/core/isa.hpp>
#include <ouro/core/parallel.hpp>

#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace ouro::bench {

/// The instruction-set path the dispatched kernels take now (ouro/core/isa.hpp): "avx2" or
/// "avx512". The rest of the library is AVX2 + FMA code on either path.
inline const char* isa_name() {
    return ouro::current_isa() == ouro::Isa::avx512 ? "avx512" : "avx2";
}

/// The benchmarks that compare the paths take one as their argument (BENCHMARK_CAPTURE): it is
/// used for the benchmark's lifetime, or the benchmark is skipped where the CPU cannot run it.
class PathGuard {
public:
    PathGuard(benchmark::State& state, ouro::Isa isa) {
        if (!ouro::cpu_supports(isa))
            state.SkipWithError("this CPU cannot run this instruction-set path");
        else
            guard_.emplace(isa);
    }
    bool skipped() const { return !guard_; }

private:
    std::optional<ouro::IsaGuard> guard_;
};

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
