// Choosing the instruction-set path of the dispatched kernels (see ouro/core/isa.hpp).
#include "ouro/core/isa.hpp"

#include "../ops/gemm.hpp"

#include "ouro/core/error.hpp"

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <string>

namespace ouro {
namespace {

// The path in use as an Isa value, or -1 before the first call chose one.
std::atomic<int> chosen{-1};

constexpr const char* no_avx512 = "this CPU has no AVX-512 (F, VL, BW, DQ); use avx2";

bool known(std::string_view name, Isa& isa) {
    for (const Isa candidate : {Isa::avx2, Isa::avx512})
        if (name == isa_name(candidate)) {
            isa = candidate;
            return true;
        }
    return false;
}

// Eigen's GEMM blocking, fixed before the first product runs (ops::gemm::blocking_l1_bytes).
void fix_blocking_once() {
    static std::once_flag once;
    std::call_once(once, [] {
        ops::gemm::avx2::fix_blocking();
        if (cpu_supports(Isa::avx512))
            ops::gemm::avx512::fix_blocking();
    });
}

} // namespace

std::string_view isa_name(Isa isa) {
    return isa == Isa::avx512 ? "avx512" : "avx2";
}

Isa parse_isa(std::string_view name) {
    Isa isa{};
    if (!known(name, isa))
        throw ConfigError("isa: unknown instruction set '" + std::string(name) +
                          "' (use avx2 or avx512)");
    return isa;
}

bool cpu_supports(Isa isa) {
    // libgcc's checks include the operating system's support (XCR0) for the wider registers.
    __builtin_cpu_init();
    if (isa == Isa::avx2)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
}

Isa default_isa() {
    return cpu_supports(Isa::avx512) ? Isa::avx512 : Isa::avx2;
}

namespace detail {
Isa isa_from_environment(const char* value) {
    if (value == nullptr || *value == '\0')
        return default_isa();
    const std::string setting = std::string("OURO_ISA=") + value;
    Isa isa{};
    if (!known(value, isa))
        throw ConfigError(setting + ": unknown instruction set (use avx2 or avx512)");
    if (!cpu_supports(isa))
        throw ConfigError(setting + ": " + no_avx512);
    return isa;
}
} // namespace detail

Isa current_isa() {
    int isa = chosen.load(std::memory_order_relaxed);
    if (isa < 0) {
        fix_blocking_once();
        // Two threads that both get here choose the same path.
        isa = int(detail::isa_from_environment(std::getenv("OURO_ISA")));
        int expected = -1;
        if (!chosen.compare_exchange_strong(expected, isa))
            isa = expected;
    }
    return Isa(isa);
}

std::string_view active_isa() {
    return isa_name(current_isa());
}

void set_isa(Isa isa) {
    if (!cpu_supports(isa))
        throw ConfigError(std::string("set_isa: ") + no_avx512);
    fix_blocking_once();
    chosen.store(int(isa));
}

void set_isa(std::string_view name) {
    set_isa(parse_isa(name));
}

} // namespace ouro
