// The tiled GEMM for the AVX2 + FMA path: the library's own flags and Eigen's namespace. (The
// single products of attention stay in attention.cpp on this path, as they were.)
#define OURO_GEMM_PATH avx2
#define OURO_GEMM_WITH_PRODUCT 0
#define OURO_GEMM_OWN_KERNEL 0
#include "gemm_tiles.hpp"
