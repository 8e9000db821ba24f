// The tiled GEMM for the AVX-512 path, compiled with -march=x86-64-v4 (CMakeLists.txt). Eigen's
// namespace is renamed in this file only: its templates instantiated here are AVX-512 code, and
// under the name Eigen the linker would keep one copy of each for the whole program, either this
// one (illegal instructions on an AVX2 CPU) or the AVX2 one (no AVX-512 where it was chosen). The
// isa_symbols test checks that this object defines no symbol outside its own namespaces. Float
// products run on the path's own kernel (gemm_kernel_avx512.hpp), doubles on Eigen.
#define OURO_GEMM_PATH avx512
#define OURO_GEMM_WITH_PRODUCT 1
#define OURO_GEMM_OWN_KERNEL 1
#define Eigen ouro_eigen_avx512
#include "gemm_kernel_avx512.hpp"
#include "gemm_tiles.hpp"
