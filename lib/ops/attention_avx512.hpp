// attention's float kernel for the AVX-512 path (attention_avx512.cpp, compiled for x86-64-v4),
// one (batch, head) pair per call. Internal to the library: not installed. attention.cpp calls
// it only when current_isa() is Isa::avx512; the threads, the pairs and the order of a group's
// heads stay there.
//
// Only data types and declarations here: the functions live in ouro::ops::avx512 so that no
// symbol built for AVX-512 shares a name with AVX2 code (the isa_symbols test).
#pragma once

#include <cstdint>

namespace ouro::ops::avx512 {

/// One (batch, head) pair of causal attention: row t of each matrix starts at pointer + t * its
/// row stride; q, out and dout hold HS channels per row, k and v too (a head's slice of a wider
/// buffer). scale = 1 / sqrt(HS) as the caller rounds it; slope: the head's ALiBi slope or 0.
struct AttentionHead {
    const float* q;
    std::int64_t ldq;
    const float* k;
    const float* v;
    std::int64_t ldkv;
    std::int64_t T, HS;
    float scale, slope;
};

/// Floats of per-thread scratch that one call of the kernels below needs for T and HS.
std::int64_t attention_scratch_floats(std::int64_t T, std::int64_t HS);

/// out (T x HS, row stride ldo) = softmax(scores) v; lse (T) = each score row's log-sum-exp.
void attention_forward_head(const AttentionHead& head, float* out, std::int64_t ldo, float* lse,
                            float* scratch);

/// Adds the gradients into dq (row stride ldq), dk and dv (row stride ldkv); any may be nullptr.
/// out and lse are what the forward wrote, dout (row stride ldo) the gradient of out.
void attention_backward_head(const AttentionHead& head, const float* out, const float* dout,
                             std::int64_t ldo, const float* lse, float* dq, float* dk, float* dv,
                             float* scratch);

} // namespace ouro::ops::avx512
