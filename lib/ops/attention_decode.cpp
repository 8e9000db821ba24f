// attention's decode schedule: one new query against a head's KV cache (attention.hpp describes
// the cache layout). The scores are a vector loop over cache entries reading the transposed keys
// contiguously; softmax and the weighted sum of values follow in a fixed order that depends only
// on the runs of entries, so a query gets the same bits whatever else is computed with it.
#include "ouro/ops/attention.hpp"

#include "numerics/rows.hpp"

#include <algorithm>
#include <cmath>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define OURO_DECODE_AVX2 1
#else
#define OURO_DECODE_AVX2 0
#endif

namespace ouro::ops {
namespace {

constexpr std::int64_t key_block = cache_key_block;

// out[j] = q . kt[:, j] for j < count <= key_block, with kt (HS rows of stride key_block) part
// of one block of transposed keys. Each entry's sum runs over the channels in order with fused
// multiply-adds, in a vector lane or in the scalar tail alike.
inline void dot_block(const float* q, const float* kt, std::int64_t HS, std::int64_t count,
                      float* out) {
    constexpr std::int64_t stride = key_block;
    std::int64_t j = 0;
#if OURO_DECODE_AVX2
    for (; j + 32 <= count; j += 32) {
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (std::int64_t c = 0; c < HS; ++c) {
            const __m256 qc = _mm256_broadcast_ss(q + c);
            const float* k = kt + c * stride + j;
            a0 = _mm256_fmadd_ps(qc, _mm256_loadu_ps(k), a0);
            a1 = _mm256_fmadd_ps(qc, _mm256_loadu_ps(k + 8), a1);
            a2 = _mm256_fmadd_ps(qc, _mm256_loadu_ps(k + 16), a2);
            a3 = _mm256_fmadd_ps(qc, _mm256_loadu_ps(k + 24), a3);
        }
        _mm256_storeu_ps(out + j, a0);
        _mm256_storeu_ps(out + j + 8, a1);
        _mm256_storeu_ps(out + j + 16, a2);
        _mm256_storeu_ps(out + j + 24, a3);
    }
    for (; j + 8 <= count; j += 8) {
        __m256 a = _mm256_setzero_ps();
        for (std::int64_t c = 0; c < HS; ++c)
            a = _mm256_fmadd_ps(_mm256_broadcast_ss(q + c), _mm256_loadu_ps(kt + c * stride + j),
                                a);
        _mm256_storeu_ps(out + j, a);
    }
#endif
    for (; j < count; ++j) {
        float a = 0.0f;
        for (std::int64_t c = 0; c < HS; ++c)
            a = std::fma(q[c], kt[c * stride + j], a);
        out[j] = a;
    }
}

// The scores of one query against entries [col0, col0 + count) of a head's key blocks `kt`.
inline void dot_columns(const float* q, const float* kt, std::int64_t col0, std::int64_t HS,
                        std::int64_t count, float* out) {
    for (std::int64_t done = 0; done < count;) {
        const std::int64_t col = col0 + done, offset = col % key_block;
        const std::int64_t len = std::min(count - done, key_block - offset);
        dot_block(q, kt + col / key_block * HS * key_block + offset, HS, len, out + done);
        done += len;
    }
}

// y (HS) = sum over entries of p[n] v_n, v_n the value rows of the runs, entries oldest first.
// Four partial sums, entry i of a run going to sum i % 4, added as (0 + 1) + (2 + 3): the order
// depends only on the runs, which depend only on the query's position.
inline void weighted_values(const float* p, const CacheRun* runs, int nruns, const float* v,
                            std::int64_t HS, float* y) {
    std::int64_t c = 0;
#if OURO_DECODE_AVX2
    for (; c + 8 <= HS; c += 8) {
        __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                         _mm256_setzero_ps()};
        const float* pn = p;
        for (int i = 0; i < nruns; ++i) {
            const float* vs = v + runs[i].column * HS + c;
            std::int64_t j = 0;
            for (; j + 4 <= runs[i].count; j += 4)
                for (int k = 0; k < 4; ++k)
                    acc[k] = _mm256_fmadd_ps(_mm256_broadcast_ss(pn + j + k),
                                             _mm256_loadu_ps(vs + (j + k) * HS), acc[k]);
            // The last 1-3 entries of the run, to sums 0, 1, 2 (an unrolled tail keeps the sums in
            // registers).
            const auto add = [&](__m256& a, std::int64_t e) {
                a = _mm256_fmadd_ps(_mm256_broadcast_ss(pn + e), _mm256_loadu_ps(vs + e * HS), a);
            };
            if (j < runs[i].count)
                add(acc[0], j);
            if (j + 1 < runs[i].count)
                add(acc[1], j + 1);
            if (j + 2 < runs[i].count)
                add(acc[2], j + 2);
            pn += runs[i].count;
        }
        _mm256_storeu_ps(
            y + c, _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
    }
#endif
    for (; c < HS; ++c) {
        float acc[4] = {};
        const float* pn = p;
        for (int i = 0; i < nruns; ++i) {
            const float* vs = v + runs[i].column * HS + c;
            for (std::int64_t j = 0; j < runs[i].count; ++j)
                acc[j % 4] = std::fma(pn[j], vs[j * HS], acc[j % 4]);
            pn += runs[i].count;
        }
        y[c] = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    }
}

} // namespace

void cache_store(const float* k, const float* v, std::int64_t column, std::int64_t HS, float* keys,
                 float* values) {
    for (std::int64_t c = 0; c < HS; ++c)
        keys[cache_key_index(column, c, HS)] = k[c];
    std::copy_n(v, HS, values + column * HS);
}

std::int64_t attention_decode(const float* q, const float* q_sink, const float* keys,
                              const float* values, const CacheRun* runs, int nruns,
                              const DecodeQuery& query, float* weights, float* out) {
    const std::int64_t HS = query.head_size;
    // Scores: dot products over the transposed keys, then the scale and the ALiBi bias exactly
    // as the attention op forms them.
    std::int64_t n = 0;
    for (int i = 0; i < nruns; ++i) {
        const CacheRun& g = runs[i];
        const float* qq = g.sink ? q_sink : q;
        // Distances: true ones in the window; from the query's cache position for the sinks.
        const std::int64_t query_at = g.sink ? query.sink_position : query.position;
        float* s = weights + n;
        dot_columns(qq, keys, g.column, HS, g.count, s);
        for (std::int64_t j = 0; j < g.count; ++j)
            s[j] = std::fma(s[j], query.scale,
                            -query.slope * float(std::int32_t(query_at - (g.position + j))));
        n += g.count;
    }
    const float m = numerics::row_max(weights, n);
    numerics::exp_row(weights, n, m, weights);
    const float inv = 1.0f / numerics::row_sum(weights, n);
    for (std::int64_t j = 0; j < n; ++j)
        weights[j] *= inv;
    weighted_values(weights, runs, nruns, values, HS, out);
    return n;
}

} // namespace ouro::ops
