// attention's float kernel for the AVX-512 path, compiled with -march=x86-64-v4 (CMakeLists.txt).
// Per (batch, head) pair, query rows in blocks of row_block, as attention.cpp does on the AVX2
// path, but with the block products written for head sizes of a few vectors: no packing, the
// operands read in place (strided rows of the q, k, v buffers) except the keys and values,
// transposed once per pair so that a score row's keys are contiguous. Each product skips what the
// causal mask zeroes: a group of query rows meets only the keys up to its last row.
//
// Every element is computed by the same sequence of operations whatever the thread count (the
// caller gives each pair to one thread), so results are bit-identical for any thread count. The
// exp is exp16 below, the library's exp_approx (numerics/exp.hpp) lane by lane, in the forward and
// the backward alike; a softmax row is summed in the order of numerics::row_sum.
//
// No std:: function templates and no inline functions of shared headers: an out-of-line copy
// would be a symbol shared by name with code built for AVX2 (the isa_symbols test).
#include "attention_avx512.hpp"

#include "numerics/exp.hpp"

#include <immintrin.h>
#include <math.h>

namespace ouro::ops::avx512 {
namespace {

// Query rows per block: 32 rows of scores for T = 256 keys are 32 KB.
constexpr std::int64_t row_block = 32;
// A limit that never binds (see Causal).
constexpr std::int64_t unlimited = std::int64_t(1) << 40;

inline std::int64_t min64(std::int64_t a, std::int64_t b) {
    return a < b ? a : b;
}
inline std::int64_t max64(std::int64_t a, std::int64_t b) {
    return a > b ? a : b;
}
inline std::int64_t round16(std::int64_t n) {
    return (n + 15) / 16 * 16;
}

// The first count lanes (count clamped to 0..16).
inline __mmask16 lanes(std::int64_t count) {
    return count >= 16  ? __mmask16(0xffff)
           : count <= 0 ? __mmask16(0)
                        : __mmask16((1u << count) - 1);
}

// exp_approx of every lane: the same operations in the same order (see numerics/exp.hpp).
inline __m512 exp16(__m512 x) {
    using namespace numerics::exp_constants;
    __m512 xc = _mm512_max_ps(_mm512_set1_ps(lowest), x); // NaN (second operand) survives
    xc = _mm512_min_ps(_mm512_set1_ps(highest), xc);
    const __m512 magic = _mm512_set1_ps(round_magic);
    const __m512 shifted = _mm512_fmadd_ps(xc, _mm512_set1_ps(log2e), magic);
    const __m512 n = _mm512_sub_ps(shifted, magic);
    const __m512i ni =
        _mm512_sub_epi32(_mm512_castps_si512(shifted), _mm512_set1_epi32(magic_bits));
    __m512 r = _mm512_fmadd_ps(n, _mm512_set1_ps(-ln2_hi), xc);
    r = _mm512_fmadd_ps(n, _mm512_set1_ps(-ln2_lo), r);
    __m512 p = _mm512_set1_ps(c7);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(c6));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(c5));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(c4));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(c3));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    const __m512i a = _mm512_srai_epi32(ni, 1);
    const __m512i b = _mm512_sub_epi32(ni, a);
    const __m512i bias = _mm512_set1_epi32(127);
    const __m512 sa = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(a, bias), 23));
    const __m512 sb = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(b, bias), 23));
    return _mm512_mul_ps(_mm512_mul_ps(p, sa), sb);
}

// The sum of the lanes in numerics::OrderedSum's tree: lane k += lane k + 8, then + 4, + 2, + 1.
inline float tree_sum(__m512 v) {
    const __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
    __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    q = _mm_add_ps(q, _mm_movehl_ps(q, q));
    q = _mm_add_ss(q, _mm_shuffle_ps(q, q, 1));
    return _mm_cvtss_f32(q);
}

// One tile of a product: rows [0, R) and columns [0, cols) (cols <= 16 NV) of
// c (=, or += with add) alpha * sum over p in [p0, p1) of A(r, p) x[p], where A(r, p) =
// a[r * rs + p * cs] and x[p] is the row x + p * ldx. Each element: acc = 0, acc = fma(A, x, acc)
// for p in order, then c = alpha * acc or fma(alpha, acc, c). The loops over r and v are unrolled
// so that the accumulators live in registers (GCC otherwise keeps them on the stack).
template <int R, int NV>
void tile(const float* a, std::int64_t rs, std::int64_t cs, const float* x, std::int64_t ldx,
          std::int64_t p0, std::int64_t p1, float* c, std::int64_t ldc, std::int64_t cols,
          float alpha, bool add) {
    __mmask16 m[NV];
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v)
        m[v] = lanes(cols - 16 * v);
    __m512 acc[R][NV];
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 16
        for (int v = 0; v < NV; ++v)
            acc[r][v] = _mm512_setzero_ps();
    for (std::int64_t p = p0; p < p1; ++p) {
        const float* xp = x + p * ldx;
        __m512 xv[NV];
#pragma GCC unroll 16
        for (int v = 0; v < NV; ++v)
            xv[v] = _mm512_maskz_loadu_ps(m[v], xp + 16 * v);
        const float* ap = a + p * cs;
#pragma GCC unroll 16
        for (int r = 0; r < R; ++r) {
            const __m512 av = _mm512_set1_ps(ap[r * rs]);
#pragma GCC unroll 16
            for (int v = 0; v < NV; ++v)
                acc[r][v] = _mm512_fmadd_ps(av, xv[v], acc[r][v]);
        }
    }
    const __m512 al = _mm512_set1_ps(alpha);
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 16
        for (int v = 0; v < NV; ++v) {
            float* cr = c + r * ldc + 16 * v;
            const __m512 out = add ? _mm512_fmadd_ps(al, acc[r][v], _mm512_maskz_loadu_ps(m[v], cr))
                                   : _mm512_mul_ps(al, acc[r][v]);
            _mm512_mask_storeu_ps(cr, m[v], out);
        }
}

using Tile = void (*)(const float*, std::int64_t, std::int64_t, const float*, std::int64_t,
                      std::int64_t, std::int64_t, float*, std::int64_t, std::int64_t, float, bool);
// Row groups: 12 rows for products at most 32 columns wide (2 vectors), 6 rows of 4 vectors
// otherwise: 24 accumulators either way.
constexpr std::int64_t group_narrow = 12, group_wide = 6;
#define OURO_TILES(NV)                                                                             \
    {                                                                                              \
        nullptr, tile<1, NV>, tile<2, NV>, tile<3, NV>, tile<4, NV>, tile<5, NV>, tile<6, NV>,     \
            tile<7, NV>, tile<8, NV>, tile<9, NV>, tile<10, NV>, tile<11, NV>, tile<12, NV>        \
    }
constexpr Tile tiles_narrow[3][group_narrow + 1] = {{}, OURO_TILES(1), OURO_TILES(2)};
#undef OURO_TILES
#define OURO_TILES(NV)                                                                             \
    { nullptr, tile<1, NV>, tile<2, NV>, tile<3, NV>, tile<4, NV>, tile<5, NV>, tile<6, NV> }
constexpr Tile tiles_wide[5][group_wide + 1] = {
    {}, OURO_TILES(1), OURO_TILES(2), OURO_TILES(3), OURO_TILES(4)};
#undef OURO_TILES

// What the causal mask lets a group of output rows [i0, i1) skip: it needs only the columns
// below cols + i1 and the depth [i0 - depth_lo, depth_hi + i1) (clamped to the product's).
struct Causal {
    std::int64_t cols = unlimited, depth_hi = unlimited, depth_lo = unlimited;
};

// c (m x n, row stride ldc) (=, or += with add) alpha A x, A (m x k) with A(i, p) = a[i * rs +
// p * cs], x (k x n) with rows of stride ldx; the rows in groups, the columns in tiles of 64.
void product(const float* a, std::int64_t rs, std::int64_t cs, const float* x, std::int64_t ldx,
             float* c, std::int64_t ldc, std::int64_t m, std::int64_t n, std::int64_t k,
             float alpha, bool add, Causal causal) {
    const bool narrow = n <= 32;
    const std::int64_t group = narrow ? group_narrow : group_wide;
    for (std::int64_t i0 = 0; i0 < m; i0 += group) {
        const std::int64_t i1 = min64(m, i0 + group);
        const std::int64_t ncols = min64(n, causal.cols + i1);
        const std::int64_t p1 = min64(k, causal.depth_hi + i1);
        const std::int64_t p0 = max64(0, i0 - causal.depth_lo);
        for (std::int64_t j0 = 0; j0 < ncols; j0 += 64) {
            const std::int64_t cols = min64(64, ncols - j0), nv = (cols + 15) / 16;
            const Tile t = narrow ? tiles_narrow[nv][i1 - i0] : tiles_wide[nv][i1 - i0];
            t(a + i0 * rs, rs, cs, x + j0, ldx, p0, p1, c + i0 * ldc + j0, ldc, cols, alpha, add);
        }
    }
}

// xt (HS x T, row stride ldt) = the transpose of x (T x HS, row stride ldx), in blocks of 16 x 16
// transposed in registers: pairs of floats, then of pairs (within 128-bit lanes), then of 128-bit
// lanes. Rows past T and channels past HS load as zeros and are not stored.
void transpose(const float* x, std::int64_t ldx, std::int64_t T, std::int64_t HS, float* xt,
               std::int64_t ldt) {
    for (std::int64_t s0 = 0; s0 < T; s0 += 16)
        for (std::int64_t c0 = 0; c0 < HS; c0 += 16) {
            const __mmask16 channels = lanes(HS - c0), keys = lanes(T - s0);
            __m512 r[16], t[16];
            for (int i = 0; i < 16; ++i)
                r[i] = s0 + i < T ? _mm512_maskz_loadu_ps(channels, x + (s0 + i) * ldx + c0)
                                  : _mm512_setzero_ps();
            for (int i = 0; i < 16; i += 2) {
                t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
                t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
            }
            // r[4k + j], 128-bit lane L: channel 4L + j of rows 4k .. 4k + 3.
            for (int i = 0; i < 16; i += 4) {
                r[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
                r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xee);
                r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
                r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xee);
            }
            for (int j = 0; j < 4; ++j) {
                const __m512 v0 = _mm512_shuffle_f32x4(r[j], r[4 + j], 0x88);
                const __m512 v1 = _mm512_shuffle_f32x4(r[j], r[4 + j], 0xdd);
                const __m512 w0 = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0x88);
                const __m512 w1 = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0xdd);
                t[j] = _mm512_shuffle_f32x4(v0, w0, 0x88);      // channel j
                t[4 + j] = _mm512_shuffle_f32x4(v1, w1, 0x88);  // channel 4 + j
                t[8 + j] = _mm512_shuffle_f32x4(v0, w0, 0xdd);  // channel 8 + j
                t[12 + j] = _mm512_shuffle_f32x4(v1, w1, 0xdd); // channel 12 + j
            }
            for (int j = 0; j < 16 && c0 + j < HS; ++j)
                _mm512_mask_storeu_ps(xt + (c0 + j) * ldt + s0, keys, t[j]);
        }
}

// row[s] = 0 for from <= s < to.
inline void zero_tail(float* row, std::int64_t from, std::int64_t to) {
    for (std::int64_t s = from; s < to; s += 16)
        _mm512_mask_storeu_ps(row + s, lanes(to - s), _mm512_setzero_ps());
}

// dst (T x HS, contiguous) = x (T x HS, row stride ldx). The products read k and v from such
// copies: rows of a (B, T, C) or (B, T, 3C) buffer are kilobytes apart and fall into a few sets
// of the L1 cache, so a head's 32 KB would not stay there.
void copy_rows(const float* x, std::int64_t ldx, std::int64_t T, std::int64_t HS, float* dst) {
    for (std::int64_t s = 0; s < T; ++s)
        for (std::int64_t c = 0; c < HS; c += 16) {
            const __mmask16 m = lanes(HS - c);
            _mm512_mask_storeu_ps(dst + s * HS + c, m, _mm512_maskz_loadu_ps(m, x + s * ldx + c));
        }
}

// x (T x HS, row stride ldx) += acc (T x HS, contiguous).
void add_rows(const float* acc, std::int64_t T, std::int64_t HS, float* x, std::int64_t ldx) {
    for (std::int64_t s = 0; s < T; ++s)
        for (std::int64_t c = 0; c < HS; c += 16) {
            const __mmask16 m = lanes(HS - c);
            float* row = x + s * ldx + c;
            _mm512_mask_storeu_ps(row, m,
                                  _mm512_add_ps(_mm512_maskz_loadu_ps(m, row),
                                                _mm512_maskz_loadu_ps(m, acc + s * HS + c)));
        }
}

// Turns the dot products row[0..t] of query row t into scores, in place, and returns their max:
// score = fma(dot, scale, -slope * (t - s)), as attention.cpp's scores_row.
inline float scores_row(float* row, std::int64_t t, float scale, float slope) {
    const __m512 sc = _mm512_set1_ps(scale), nslope = _mm512_set1_ps(-slope);
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    __m512 mx = _mm512_set1_ps(-__builtin_inff());
    if (slope == 0.0f) { // fma(dot, scale, -0 * dist) rounds as dot * scale
        for (std::int64_t s0 = 0; s0 <= t; s0 += 16) {
            const __mmask16 m = lanes(t + 1 - s0);
            const __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, row + s0), sc);
            _mm512_mask_storeu_ps(row + s0, m, v);
            mx = _mm512_mask_max_ps(mx, m, mx, v);
        }
        return _mm512_reduce_max_ps(mx);
    }
    for (std::int64_t s0 = 0; s0 <= t; s0 += 16) {
        const __mmask16 m = lanes(t + 1 - s0);
        const __m512 dist =
            _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_set1_epi32(int(t - s0)), iota));
        const __m512 v =
            _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, row + s0), sc, _mm512_mul_ps(nslope, dist));
        _mm512_mask_storeu_ps(row + s0, m, v);
        mx = _mm512_mask_max_ps(mx, m, mx, v);
    }
    return _mm512_reduce_max_ps(mx);
}

// row[s] = exp(row[s] - shift) for s <= t, zeros for t < s < nk; returns the sum of the exps in
// numerics::row_sum's order.
inline float exp_row(float* row, std::int64_t t, std::int64_t nk, float shift) {
    const __m512 sh = _mm512_set1_ps(shift);
    __m512 sum = _mm512_setzero_ps();
    for (std::int64_t s0 = 0; s0 <= t; s0 += 16) {
        const __mmask16 m = lanes(t + 1 - s0);
        const __m512 e = exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, row + s0), sh));
        _mm512_mask_storeu_ps(row + s0, m, e);
        sum = _mm512_mask_add_ps(sum, m, sum, e);
    }
    zero_tail(row, t + 1, nk);
    return tree_sum(sum);
}

// The dot product of two rows of n floats, in lanes of 16 summed by tree_sum.
inline float dot(const float* a, const float* b, std::int64_t n) {
    __m512 acc = _mm512_setzero_ps();
    for (std::int64_t c = 0; c < n; c += 16) {
        const __mmask16 m = lanes(n - c);
        acc =
            _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + c), _mm512_maskz_loadu_ps(m, b + c), acc);
    }
    return tree_sum(acc);
}

} // namespace

std::int64_t attention_scratch_floats(std::int64_t T, std::int64_t HS) {
    return (5 * HS + 2 * row_block) * round16(T);
}

void attention_forward_head(const AttentionHead& head, float* out, std::int64_t ldo, float* lse,
                            float* scratch) {
    const std::int64_t T = head.T, HS = head.HS, ld = round16(T);
    float* kt = scratch;
    float* vc = kt + HS * ld;
    float* P = vc + HS * ld;
    transpose(head.k, head.ldkv, T, HS, kt, ld);
    copy_rows(head.v, head.ldkv, T, HS, vc);
    for (std::int64_t r0 = 0; r0 < T; r0 += row_block) {
        const std::int64_t nr = min64(row_block, T - r0), nk = r0 + nr;
        product(head.q + r0 * head.ldq, head.ldq, 1, kt, ld, P, ld, nr, nk, HS, 1.0f, false,
                Causal{.cols = r0});
        for (std::int64_t i = 0; i < nr; ++i) {
            const std::int64_t t = r0 + i;
            float* row = P + i * ld;
            const float mx = scores_row(row, t, head.scale, head.slope);
            const float sum = exp_row(row, t, nk, mx);
            lse[t] = mx + logf(sum);
            const __m512 inv = _mm512_set1_ps(1.0f / sum);
            for (std::int64_t s0 = 0; s0 <= t; s0 += 16) {
                const __mmask16 m = lanes(t + 1 - s0);
                _mm512_mask_storeu_ps(row + s0, m,
                                      _mm512_mul_ps(_mm512_maskz_loadu_ps(m, row + s0), inv));
            }
        }
        product(P, ld, 1, vc, HS, out + r0 * ldo, ldo, nr, HS, nk, 1.0f, false,
                Causal{.depth_hi = r0});
    }
}

void attention_backward_head(const AttentionHead& head, const float* out, const float* dout,
                             std::int64_t ldo, const float* lse, float* dq, float* dk, float* dv,
                             float* scratch) {
    const std::int64_t T = head.T, HS = head.HS, ld = round16(T);
    float* kt = scratch;
    float* vt = kt + HS * ld;
    float* kc = vt + HS * ld;
    // dK and dV of the head, summed over the row blocks here and added into dk, dv at the end.
    float* dk_head = kc + HS * ld;
    float* dv_head = dk_head + HS * ld;
    float* P = dv_head + HS * ld;
    float* dS = P + row_block * ld;
    transpose(head.k, head.ldkv, T, HS, kt, ld);
    transpose(head.v, head.ldkv, T, HS, vt, ld);
    copy_rows(head.k, head.ldkv, T, HS, kc);
    for (std::int64_t j = 0; j < 2 * HS * ld; j += 16)
        _mm512_storeu_ps(dk_head + j, _mm512_setzero_ps());
    for (std::int64_t r0 = 0; r0 < T; r0 += row_block) {
        const std::int64_t nr = min64(row_block, T - r0), nk = r0 + nr;
        const float* q_rows = head.q + r0 * head.ldq;
        const float* do_rows = dout + r0 * ldo;
        // Recompute the probabilities from the saved log-sum-exp.
        product(q_rows, head.ldq, 1, kt, ld, P, ld, nr, nk, HS, 1.0f, false, Causal{.cols = r0});
        for (std::int64_t i = 0; i < nr; ++i) {
            const std::int64_t t = r0 + i;
            float* row = P + i * ld;
            scores_row(row, t, head.scale, head.slope);
            exp_row(row, t, nk, lse[t]);
        }
        // dV += P^T dO: key s meets the query rows t >= s only.
        if (dv)
            product(P, 1, ld, do_rows, ldo, dv_head, HS, nk, HS, nr, 1.0f, true,
                    Causal{.depth_lo = r0});
        if (!dq && !dk)
            continue;
        // dS = P * (dO V^T - D), D_t = dO_t . O_t.
        product(do_rows, ldo, 1, vt, ld, dS, ld, nr, nk, HS, 1.0f, false, Causal{.cols = r0});
        for (std::int64_t i = 0; i < nr; ++i) {
            const std::int64_t t = r0 + i;
            const __m512 D = _mm512_set1_ps(dot(do_rows + i * ldo, out + t * ldo, HS));
            const float* p = P + i * ld;
            float* ds = dS + i * ld;
            for (std::int64_t s0 = 0; s0 <= t; s0 += 16) {
                const __mmask16 m = lanes(t + 1 - s0);
                const __m512 d = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, ds + s0), D);
                _mm512_mask_storeu_ps(ds + s0, m,
                                      _mm512_mul_ps(_mm512_maskz_loadu_ps(m, p + s0), d));
            }
            zero_tail(ds, t + 1, nk);
        }
        if (dq)
            product(dS, ld, 1, kc, HS, dq + r0 * head.ldq, head.ldq, nr, HS, nk, head.scale, true,
                    Causal{.depth_hi = r0});
        if (dk)
            product(dS, 1, ld, q_rows, head.ldq, dk_head, HS, nk, HS, nr, head.scale, true,
                    Causal{.depth_lo = r0});
    }
    if (dk)
        add_rows(dk_head, T, HS, dk, head.ldkv);
    if (dv)
        add_rows(dv_head, T, HS, dv, head.ldkv);
}

} // namespace ouro::ops::avx512
