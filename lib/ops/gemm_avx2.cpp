// The tiled GEMM for the AVX2 + FMA path: the library's own flags, Eigen in its own namespace.
#define OURO_GEMM_PATH avx2
#include "gemm_tiles.hpp"
