// The instruction-set paths of the dispatched kernels (the training GEMM): each is compiled once
// per instruction set into objects of its own, and one path is chosen per process, as PyTorch's
// CPU kernels are. Everything else in the library is built for AVX2 + FMA.
//
//   avx2    AVX2 + FMA: runs on every CPU the library runs on, and gives the same results on all
//           of them (the library's results before run-time dispatch existed).
//   avx512  AVX-512 F, VL, BW, DQ (x86-64-v4): 16-lane kernels; float products on the library's
//           own GEMM kernel (fixed depth blocks, ops::matmul_avx512_kc), doubles on Eigen.
//           Results differ from avx2's in the last bits (another summation order), and are the
//           same on every AVX-512 CPU.
//
// On both paths Eigen's GEMM (all of avx2's products, avx512's doubles) blocks for a fixed 48 KiB
// L1 cache, not the CPU's own (which would change how the depth of a long product is cut, and so
// its rounding): with the same path, every machine computes the same bits. This sets Eigen's cache
// sizes for the whole process, so other Eigen code in it blocks the same way (a matter of speed
// only).
//
// The path is chosen at the first kernel call: the environment variable OURO_ISA (avx2 or
// avx512) when it is set and not empty, else default_isa(). set_isa (the programs' --isa flag)
// changes it later. On either path, results are bit-identical for any thread count.
#pragma once

#include <string_view>

namespace ouro {

/// An instruction-set path of the dispatched kernels.
enum class Isa { avx2, avx512 };

/// "avx2" or "avx512".
std::string_view isa_name(Isa isa);

/// The path named `name`. Throws ConfigError
///   "isa: unknown instruction set 'sse4' (use avx2 or avx512)".
Isa parse_isa(std::string_view name);

/// Whether this CPU (and its operating system) runs path `isa`: AVX2 + FMA for avx2, AVX-512
/// F, VL, BW and DQ for avx512.
bool cpu_supports(Isa isa);

/// The path a process takes when OURO_ISA is not set: avx512 where the CPU has it, else avx2.
Isa default_isa();

/// The path the kernels take now (chosen at the first call, see above). Throws ConfigError when
/// OURO_ISA asks for what cannot run:
///   "OURO_ISA=sse4: unknown instruction set (use avx2 or avx512)"
///   "OURO_ISA=avx512: this CPU has no AVX-512 (F, VL, BW, DQ); use avx2"
Isa current_isa();

/// isa_name(current_isa()): "avx2" or "avx512".
std::string_view active_isa();

/// Makes `isa` the path of every later kernel call in the process. Throws ConfigError
///   "set_isa: this CPU has no AVX-512 (F, VL, BW, DQ); use avx2".
void set_isa(Isa isa);

/// set_isa(parse_isa(name)).
void set_isa(std::string_view name);

/// Makes `isa` the path for its lifetime and restores the previous one after (tests and
/// benchmarks that compare the paths).
class IsaGuard {
public:
    explicit IsaGuard(Isa isa) : previous_(current_isa()) { set_isa(isa); }
    ~IsaGuard() { set_isa(previous_); }
    IsaGuard(const IsaGuard&) = delete;
    IsaGuard& operator=(const IsaGuard&) = delete;

private:
    Isa previous_;
};

namespace detail {
/// The path for an OURO_ISA of `value` (nullptr or empty: not set), with current_isa()'s
/// messages.
Isa isa_from_environment(const char* value);
} // namespace detail

} // namespace ouro
