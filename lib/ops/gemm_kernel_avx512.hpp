// The AVX-512 path's own float GEMM, included only by gemm_avx512.cpp (compiled for x86-64-v4):
// BLIS-style packing of op(A) into panels of mr = 12 rows and op(B) into panels of nr = 32
// columns, the depth cut into blocks of kc = matmul_avx512_kc, and a register-blocked
// micro-kernel with 24 zmm accumulators (12 rows x 2 vectors of 16 columns). A tile keeps one A
// panel (12 x kc) in L1 while it sweeps a B block (kc x nc) held in L2.
//
// Every element of C is computed the same way wherever it lies in a tile or a panel, whatever the
// tiling and the thread count: for each depth block in order, acc = 0; acc = fma(a_p, b_p, acc)
// for p in order; c = fma(alpha, acc, c) (alpha = 1 for run_gemm: c + acc), where c starts as C,
// or as the bias (zeros) for a fresh output. Lanes of a vector and edge panels take the same
// steps, so the bits depend only on the shape.
//
// Packing buffers are per thread, allocated on first use and kept (no allocation per product).
// No std:: templates: see gemm_tiles.hpp (an out-of-line copy would be shared by name with code
// built for AVX2).
#pragma once

#include "ouro/ops/matmul.hpp"

#include <immintrin.h>

#include <cstdint>
#include <cstdlib>

namespace ouro::ops::gemm::avx512 {
namespace {
namespace kernel {

constexpr std::int64_t mr = 12, nr = 32, kc = matmul_avx512_kc;
constexpr std::int64_t mc = 264; // rows of A packed at once (a multiple of mr above 256)
constexpr std::int64_t nc = 512; // columns of B packed at once: kc * nc floats stay in L2

// A matrix read element by element: M(i, j) = p[i * rs + j * cs].
struct Operand {
    const float* p;
    std::int64_t rs, cs;
};

// This thread's packing buffers, allocated on its first product and freed when it ends.
struct Scratch {
    float* a = nullptr;
    float* b = nullptr;
    float* shared = nullptr; // a whole packed B that this thread's product shares with its team
    std::int64_t shared_floats = 0;
    float* shared_a = nullptr; // and a whole packed A
    std::int64_t shared_a_floats = 0;
    float* sums = nullptr; // the row sums of A that a product takes (multiply's row_sums)
    std::int64_t sums_floats = 0;
    ~Scratch() {
        std::free(a);
        std::free(b);
        std::free(shared);
        std::free(shared_a);
        std::free(sums);
    }
};
thread_local Scratch scratch;

__mmask16 lanes(std::int64_t count) { // the first count lanes (count clamped to 0..16)
    return count >= 16  ? __mmask16(0xffff)
           : count <= 0 ? __mmask16(0)
                        : __mmask16((1u << count) - 1);
}

// Where a product's first depth block starts: from C (fresh false), or, without reading C, from
// `init` on every row (a bias at the block's columns; zeros when nullptr).
struct Start {
    bool fresh;
    const float* init;
};

// c (R x up to 32 columns, cols of them stored) = fma(alpha, a . b, old) over depth k, from a
// packed A panel (k x mr, rows first) and a packed B panel (k x nr); old is c, or the start.
template <int R>
void micro(std::int64_t k, const float* a, const float* b, float* c, std::int64_t ldc,
           std::int64_t cols, float alpha, Start start) {
    __m512 acc[R][2];
    for (int r = 0; r < R; ++r)
        acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    for (std::int64_t p = 0; p < k; ++p) {
        const __m512 b0 = _mm512_load_ps(b + p * nr), b1 = _mm512_load_ps(b + p * nr + 16);
        for (int r = 0; r < R; ++r) {
            const __m512 av = _mm512_set1_ps(a[p * mr + r]);
            acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
            acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
        }
    }
    const __m512 al = _mm512_set1_ps(alpha);
    const __mmask16 m0 = lanes(cols), m1 = lanes(cols - 16);
    if (start.fresh) {
        const __m512 i0 = start.init ? _mm512_maskz_loadu_ps(m0, start.init) : _mm512_setzero_ps();
        const __m512 i1 =
            start.init ? _mm512_maskz_loadu_ps(m1, start.init + 16) : _mm512_setzero_ps();
        for (int r = 0; r < R; ++r) {
            _mm512_mask_storeu_ps(c + r * ldc, m0, _mm512_fmadd_ps(al, acc[r][0], i0));
            _mm512_mask_storeu_ps(c + r * ldc + 16, m1, _mm512_fmadd_ps(al, acc[r][1], i1));
        }
        return;
    }
    for (int r = 0; r < R; ++r) {
        float* row = c + r * ldc;
        _mm512_mask_storeu_ps(row, m0,
                              _mm512_fmadd_ps(al, acc[r][0], _mm512_maskz_loadu_ps(m0, row)));
        _mm512_mask_storeu_ps(row + 16, m1,
                              _mm512_fmadd_ps(al, acc[r][1], _mm512_maskz_loadu_ps(m1, row + 16)));
    }
}

using Micro = void (*)(std::int64_t, const float*, const float*, float*, std::int64_t, std::int64_t,
                       float, Start);
constexpr Micro micro_for_rows[mr + 1] = {nullptr,   micro<1>,  micro<2>, micro<3>, micro<4>,
                                          micro<5>,  micro<6>,  micro<7>, micro<8>, micro<9>,
                                          micro<10>, micro<11>, micro<12>};

// r[i] lane j = r[j] lane i, for a 16 x 16 block.
void transpose16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) { // 2 x 2 blocks of single floats
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) { // 4 x 4 blocks within 128-bit lanes
        r[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
        r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xee);
        r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xee);
    }
    for (int i = 0; i < 16; i += 8) // then the 128-bit lanes, in two steps
        for (int j = 0; j < 4; ++j) {
            t[i + j] = _mm512_shuffle_f32x4(r[i + j], r[i + j + 4], 0x88);
            t[i + j + 4] = _mm512_shuffle_f32x4(r[i + j], r[i + j + 4], 0xdd);
        }
    for (int j = 0; j < 8; ++j) {
        r[j] = _mm512_shuffle_f32x4(t[j], t[j + 8], 0x88);
        r[j + 8] = _mm512_shuffle_f32x4(t[j], t[j + 8], 0xdd);
    }
}

// Stores the first mr floats of v at dst, a depth step of an A panel. Unless it is the panel's
// last step, the whole vector is stored: its last 16 - mr floats land on the next step, which is
// written afterwards; the last step's store is masked, so that nothing lands past the panel.
void store_a_step(float* dst, __m512 v, bool last) {
    if (last)
        _mm512_mask_storeu_ps(dst, lanes(mr), v);
    else
        _mm512_storeu_ps(dst, v);
}

// out[p * ld + j] = src[j * stride + p] for j < n (n <= 16), p < k, in 16 x 16 blocks; out gets
// `lanes` floats per p (zeros for j >= n), stored under that mask. With ld = mr, out is an A panel
// (lanes(mr)), its steps stored in order by store_a_step.
void transpose_into(const float* src, std::int64_t stride, std::int64_t n, std::int64_t k,
                    float* out, std::int64_t ld, __mmask16 store) {
    std::int64_t p = 0;
    for (; p + 16 <= k; p += 16) {
        __m512 r[16];
        for (int j = 0; j < 16; ++j)
            r[j] = j < n ? _mm512_loadu_ps(src + j * stride + p) : _mm512_setzero_ps();
        transpose16(r);
        for (int i = 0; i < 16; ++i)
            if (ld == mr)
                store_a_step(out + (p + i) * ld, r[i], p + i + 1 == k);
            else
                _mm512_mask_storeu_ps(out + (p + i) * ld, store, r[i]);
    }
    for (; p < k; ++p)
        for (std::int64_t j = 0; j < 16; ++j)
            if (store >> j & 1)
                out[p * ld + j] = j < n ? src[j * stride + p] : 0.0f;
}

// Prefetch the `count` floats at src into L1: the packs read rows far apart (a weight gradient
// takes 128-256 floats from each of 4096 rows), which the hardware prefetchers do not follow.
constexpr std::int64_t prefetch_rows = 8; // rows ahead
void prefetch(const float* src, std::int64_t count) {
    for (std::int64_t j = 0; j < count; j += 16)
        _mm_prefetch(reinterpret_cast<const char*>(src + j), _MM_HINT_T0);
}

// Rows [i0, i0 + rows) and depth [p0, p0 + k) of A into panels of mr rows: panel q holds
// A(i0 + q mr + r, p0 + p) at q * mr * k + p * mr + r (zeros past the last row).
void pack_a(const Operand& A, std::int64_t i0, std::int64_t rows, std::int64_t p0, std::int64_t k,
            float* out) {
    if (A.rs == 1) { // each depth step is a run of consecutive floats, read in one pass
        for (std::int64_t p = 0; p < k; ++p) {
            const float* src = A.p + i0 + (p0 + p) * A.cs;
            if (p + prefetch_rows < k)
                prefetch(src + prefetch_rows * A.cs, rows);
            for (std::int64_t q = 0; q * mr < rows; ++q) {
                const std::int64_t left = rows - q * mr;
                const __m512 v = left >= 16 ? _mm512_loadu_ps(src + q * mr)
                                            : _mm512_maskz_loadu_ps(lanes(left), src + q * mr);
                store_a_step(out + q * mr * k + p * mr, v, p + 1 == k);
            }
        }
        return;
    }
    for (std::int64_t q = 0; q * mr < rows; ++q) {
        const std::int64_t n = rows - q * mr < mr ? rows - q * mr : mr;
        float* panel = out + q * mr * k;
        const float* src = A.p + (i0 + q * mr) * A.rs + p0 * A.cs;
        if (A.cs == 1) { // rows of consecutive floats: transposed 16 x 16
            transpose_into(src, A.rs, n, k, panel, mr, lanes(mr));
        } else {
            for (std::int64_t p = 0; p < k; ++p)
                for (std::int64_t r = 0; r < mr; ++r)
                    panel[p * mr + r] = r < n ? src[r * A.rs + p * A.cs] : 0.0f;
        }
    }
}

// Depth [p0, p0 + k) and columns [j0, j0 + cols) of B into panels of nr columns: panel q holds
// B(p0 + p, j0 + q nr + j) at q * nr * k + p * nr + j, zeros past the last column.
void pack_b(const Operand& B, std::int64_t p0, std::int64_t k, std::int64_t j0, std::int64_t cols,
            float* out) {
    if (B.cs == 1) { // each depth step is a run of consecutive floats, read in one pass
        for (std::int64_t p = 0; p < k; ++p) {
            const float* src = B.p + (p0 + p) * B.rs + j0;
            if (p + prefetch_rows < k)
                prefetch(src + prefetch_rows * B.rs, cols);
            for (std::int64_t q = 0; q * nr < cols; ++q) {
                float* dst = out + q * nr * k + p * nr;
                const std::int64_t j = q * nr;
                _mm512_store_ps(dst, _mm512_maskz_loadu_ps(lanes(cols - j), src + j));
                _mm512_store_ps(dst + 16,
                                _mm512_maskz_loadu_ps(lanes(cols - j - 16), src + j + 16));
            }
        }
        return;
    }
    for (std::int64_t q = 0; q * nr < cols; ++q) {
        const std::int64_t n = cols - q * nr < nr ? cols - q * nr : nr;
        float* panel = out + q * nr * k;
        const float* src = B.p + p0 * B.rs + (j0 + q * nr) * B.cs;
        if (B.rs == 1) { // columns of consecutive floats: transposed 16 x 16
            transpose_into(src, B.cs, n, k, panel, nr, lanes(16));
            transpose_into(src + 16 * B.cs, B.cs, n - 16, k, panel + 16, nr, lanes(16));
        } else {
            for (std::int64_t p = 0; p < k; ++p)
                for (std::int64_t j = 0; j < nr; ++j)
                    panel[p * nr + j] = j < n ? src[j * B.cs + p * B.rs] : 0.0f;
        }
    }
}

float* buffer(float*& slot, std::int64_t floats) {
    if (!slot)
        slot = static_cast<float*>(std::aligned_alloc(64, std::size_t(floats) * sizeof(float)));
    return slot;
}

// The calling thread's buffer (slot, of size `size`) for a whole packed B or A of at least
// `floats` floats (grown, never shrunk: the same shapes come back every step).
float* grown_buffer(float*& slot, std::int64_t& size, std::int64_t floats) {
    if (size < floats) {
        std::free(slot);
        const std::int64_t bytes = (floats * std::int64_t(sizeof(float)) + 63) / 64 * 64;
        slot = static_cast<float*>(std::aligned_alloc(64, std::size_t(bytes)));
        size = floats;
    }
    return slot;
}
float* shared_buffer(std::int64_t floats) {
    return grown_buffer(scratch.shared, scratch.shared_floats, floats);
}
float* shared_a_buffer(std::int64_t floats) {
    return grown_buffer(scratch.shared_a, scratch.shared_a_floats, floats);
}

// A B packed whole, once, for all the tiles of a product: depth block p0 (kb deep) at
// p + p0 * cols, where cols is B's width rounded up to nr; in it, the panel of columns
// [j, j + nr) (j a multiple of nr) at j * kb, laid out as pack_b lays out its panels.
struct PackedB {
    float* p;
    std::int64_t cols;
};

// Panel q of depth block p0 of the whole B (cols wide) into packed (see PackedB).
void pack_b_panel(const Operand& B, std::int64_t cols, std::int64_t k, std::int64_t block,
                  std::int64_t q, const PackedB& packed) {
    const std::int64_t p0 = block * kc, kb = k - p0 < kc ? k - p0 : kc;
    const std::int64_t j = q * nr, n = cols - j < nr ? cols - j : nr;
    pack_b(B, p0, kb, j, n, packed.p + p0 * packed.cols + j * kb);
}

// An A packed whole, once, for all the tiles of a product whose tiles cut its rows every
// `tile_rows` rows: the rows of tile t are packed as pack_a packs them from row t * tile_rows, at
// packed row t * tile_pad (tile_rows rounded up to mr). Depth block p0 (kb deep) lies at
// p + p0 * rows, rows being the packed rows of all tiles; in it, packed row r (a multiple of mr)
// at r * kb.
struct PackedA {
    float* p;
    std::int64_t rows, tile_rows, tile_pad;
};

// Row tile t of depth block `block` of the whole A (m rows) into packed (see PackedA).
void pack_a_tile(const Operand& A, std::int64_t m, std::int64_t k, std::int64_t block,
                 std::int64_t t, const PackedA& packed) {
    const std::int64_t p0 = block * kc, kb = k - p0 < kc ? k - p0 : kc;
    const std::int64_t i0 = t * packed.tile_rows;
    const std::int64_t rows = m - i0 < packed.tile_rows ? m - i0 : packed.tile_rows;
    pack_a(A, i0, rows, p0, kb, packed.p + p0 * packed.rows + t * packed.tile_pad * kb);
}

// acc[q * 16 + r] += A(q mr + r, p) for panels q = q0 .. q0 + U - 1 of a packed block (panels mr
// rows, kb deep), p in order: one chain per row, as a plain sum over p adds them, U panels at a
// time so that the additions overlap.
template <int U>
void add_row_sums(const float* block, std::int64_t q0, std::int64_t kb, float* acc) {
    __m512 s[U];
    for (int u = 0; u < U; ++u)
        s[u] = _mm512_load_ps(acc + (q0 + u) * 16);
    for (std::int64_t p = 0; p < kb; ++p)
        for (int u = 0; u < U; ++u)
            s[u] = _mm512_add_ps(
                s[u], _mm512_maskz_loadu_ps(lanes(mr), block + (q0 + u) * mr * kb + p * mr));
    for (int u = 0; u < U; ++u)
        _mm512_store_ps(acc + (q0 + u) * 16, s[u]);
}
void add_row_sums(const float* block, std::int64_t panels, std::int64_t kb, float* acc) {
    std::int64_t q = 0;
    for (; q + 4 <= panels; q += 4)
        add_row_sums<4>(block, q, kb, acc);
    if (panels - q == 3)
        add_row_sums<3>(block, q, kb, acc);
    else if (panels - q == 2)
        add_row_sums<2>(block, q, kb, acc);
    else if (panels - q == 1)
        add_row_sums<1>(block, q, kb, acc);
}

// c (rows x cols, row stride ldc) = fma(alpha, A . B, c) k block by k block (see the top of this
// file), on the calling thread, the first block starting from `start`. A is (rows x k), B is
// (k x cols); with a `packed` B (its p not nullptr), B's columns are those of packed from
// column col0 (a multiple of nr), and B itself is not read; likewise with a `packed_a`, A's rows
// are those of packed_a from packed row a_row0 (a multiple of mr). With row_sums, also
// row_sums[i] += (sum of A(i, p) over p in order, from zero) for i < rows, from A's panels as
// they are used (so only when cols > 0): a bias gradient, the column sums of the dY whose
// transpose is A, without a pass of its own over dY.
void multiply(const Operand& A, const Operand& B, float* c, std::int64_t ldc, std::int64_t rows,
              std::int64_t cols, std::int64_t k, float alpha, Start start,
              const PackedB& packed = PackedB{nullptr, 0}, std::int64_t col0 = 0,
              const PackedA& packed_a = PackedA{nullptr, 0, 0, 0}, std::int64_t a_row0 = 0,
              float* row_sums = nullptr) {
    float* acc = nullptr; // the row sums, one 16-lane slot per panel of mr rows
    if (row_sums) {
        const std::int64_t floats = (rows + mr - 1) / mr * 16;
        acc = grown_buffer(scratch.sums, scratch.sums_floats, floats);
        for (std::int64_t i = 0; i < floats; ++i)
            acc[i] = 0.0f;
    }
    if (k == 0) {
        if (start.fresh)
            for (std::int64_t i = 0; i < rows; ++i)
                for (std::int64_t j = 0; j < cols; ++j)
                    c[i * ldc + j] = start.init ? start.init[j] : 0.0f;
    }
    float* const pa = buffer(scratch.a, mc * kc);
    float* const pb = buffer(scratch.b, kc * nc);
    for (std::int64_t p0 = 0; p0 < k; p0 += kc) {
        const std::int64_t kb = k - p0 < kc ? k - p0 : kc;
        for (std::int64_t j0 = 0; j0 < cols; j0 += nc) {
            const std::int64_t nb = cols - j0 < nc ? cols - j0 : nc;
            const float* b_block = pb;
            if (packed.p)
                b_block = packed.p + p0 * packed.cols + (col0 + j0) * kb;
            else
                pack_b(B, p0, kb, j0, nb, pb);
            for (std::int64_t i0 = 0; i0 < rows; i0 += mc) {
                const std::int64_t mb = rows - i0 < mc ? rows - i0 : mc;
                const float* a_block = pa;
                if (packed_a.p)
                    a_block = packed_a.p + p0 * packed_a.rows + (a_row0 + i0) * kb;
                else
                    pack_a(A, i0, mb, p0, kb, pa);
                if (acc && j0 == 0)
                    add_row_sums(a_block, (mb + mr - 1) / mr, kb, acc + i0 / mr * 16);
                for (std::int64_t ir = 0; ir < mb; ir += mr) {
                    const Micro run = micro_for_rows[mb - ir < mr ? mb - ir : mr];
                    const float* a_panel = a_block + ir * kb;
                    for (std::int64_t jr = 0; jr < nb; jr += nr) {
                        const bool fresh = start.fresh && p0 == 0;
                        const float* init = fresh && start.init ? start.init + j0 + jr : nullptr;
                        run(kb, a_panel, b_block + jr * kb, c + (i0 + ir) * ldc + j0 + jr, ldc,
                            nb - jr < nr ? nb - jr : nr, alpha, Start{fresh, init});
                    }
                }
            }
        }
    }
    if (acc)
        for (std::int64_t i = 0; i < rows; ++i)
            row_sums[i] += acc[i / mr * 16 + i % mr];
}

} // namespace kernel
} // namespace
} // namespace ouro::ops::gemm::avx512
