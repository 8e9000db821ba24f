// Naive double-precision references for the nn tests: a GPT block computed row by row from the
// formulas (Linear as x W^T + b, LayerNorm, GELU's tanh form, RoPE, causal softmax attention with
// ALiBi and grouped-query heads), independent of ouro's kernels; and randomise(), which gives a
// module's parameters values that exercise every path.
#pragma once

#include "test_util.hpp"

#include <ouro/nn/gpt_config.hpp>
#include <ouro/nn/module.hpp>

#include <ouro/core/tensor.hpp>

#include <cmath>
#include <cstdint>
#include <numbers>
#include <vector>

namespace ouro::testing {

/// Every parameter of m uniform in [-0.5, 0.5): biases and norm weights away from their initial
/// zeros and ones, so that each term of a module's formula shows in its output.
inline void randomise(nn::Module<double>& m, Rng& rng) {
    for (auto& [name, p] : m.named_parameters())
        p.value() = random_tensor<double>(p.shape(), rng, -0.5, 0.5);
}

} // namespace ouro::testing

namespace ouro::testing::naive {

using Rows = std::vector<std::vector<double>>; // (N, features)

inline Rows rows_of(const TensorD& x) {
    const std::int64_t F = x.dim(x.rank() - 1), N = x.numel() / F;
    Rows out(static_cast<std::size_t>(N), std::vector<double>(static_cast<std::size_t>(F)));
    for (std::int64_t i = 0; i < N; ++i)
        for (std::int64_t j = 0; j < F; ++j)
            out[std::size_t(i)][std::size_t(j)] = x[i * F + j];
    return out;
}

/// y = x W^T + b, W (OUT, IN); `b` may be null.
inline Rows linear(const Rows& x, const TensorD& W, const TensorD* b) {
    const std::int64_t OUT = W.dim(0), IN = W.dim(1);
    Rows y(x.size(), std::vector<double>(std::size_t(OUT)));
    for (std::size_t n = 0; n < x.size(); ++n)
        for (std::int64_t o = 0; o < OUT; ++o) {
            double s = b ? (*b)[o] : 0.0;
            for (std::int64_t i = 0; i < IN; ++i)
                s += x[n][std::size_t(i)] * W[o * IN + i];
            y[n][std::size_t(o)] = s;
        }
    return y;
}

/// LayerNorm over each row: (x - mean) / sqrt(var + eps) * w + b (biased variance).
inline Rows layernorm(const Rows& x, const TensorD& w, const TensorD* b, double eps) {
    Rows y = x;
    for (auto& row : y) {
        double mean = 0.0, var = 0.0;
        for (double v : row)
            mean += v;
        mean /= double(row.size());
        for (double v : row)
            var += (v - mean) * (v - mean);
        var /= double(row.size());
        for (std::size_t j = 0; j < row.size(); ++j)
            row[j] = (row[j] - mean) / std::sqrt(var + eps) * w[std::int64_t(j)] +
                     (b ? (*b)[std::int64_t(j)] : 0.0);
    }
    return y;
}

/// RMSNorm over each row: x / sqrt(mean(x^2) + eps) * w.
inline Rows rmsnorm(const Rows& x, const TensorD& w, double eps) {
    Rows y = x;
    for (auto& row : y) {
        double ms = 0.0;
        for (double v : row)
            ms += v * v;
        ms /= double(row.size());
        for (std::size_t j = 0; j < row.size(); ++j)
            row[j] = row[j] / std::sqrt(ms + eps) * w[std::int64_t(j)];
    }
    return y;
}

inline double gelu(double x) {
    return 0.5 * x *
           (1.0 + std::tanh(std::sqrt(2.0 / std::numbers::pi) * (x + 0.044715 * x * x * x)));
}

/// Rotates one head's channels `h` (HS values) to position p, pairs (i, i + HS/2) or (2i, 2i + 1).
inline void rope(double* h, std::int64_t HS, std::int64_t p, double base, bool interleaved) {
    for (std::int64_t i = 0; i < HS / 2; ++i) {
        const double angle = double(p) * std::pow(base, -2.0 * double(i) / double(HS));
        const std::int64_t lo = interleaved ? 2 * i : i, hi = interleaved ? 2 * i + 1 : i + HS / 2;
        const double a = h[lo], b = h[hi];
        h[lo] = a * std::cos(angle) - b * std::sin(angle);
        h[hi] = b * std::cos(angle) + a * std::sin(angle);
    }
}

/// Causal self-attention of one sequence (T rows of q (C), k and v (KVD)) with NH query heads and
/// NKV key/value heads; ALiBi slopes 2^(-8 (h + 1) / NH) (NH a power of two) when `alibi`.
inline Rows attention(const Rows& q, const Rows& k, const Rows& v, std::int64_t NH,
                      std::int64_t NKV, bool alibi) {
    const std::int64_t T = std::int64_t(q.size()), C = std::int64_t(q[0].size()), HS = C / NH;
    Rows out(q.size(), std::vector<double>(std::size_t(C), 0.0));
    for (std::int64_t h = 0; h < NH; ++h) {
        const std::int64_t kh = h / (NH / NKV);
        const double slope = alibi ? std::pow(2.0, -8.0 * double(h + 1) / double(NH)) : 0.0;
        for (std::int64_t t = 0; t < T; ++t) {
            std::vector<double> score(std::size_t(t + 1));
            double max = -INFINITY, total = 0.0;
            for (std::int64_t s = 0; s <= t; ++s) {
                double dot = 0.0;
                for (std::int64_t c = 0; c < HS; ++c)
                    dot += q[std::size_t(t)][std::size_t(h * HS + c)] *
                           k[std::size_t(s)][std::size_t(kh * HS + c)];
                score[std::size_t(s)] = dot / std::sqrt(double(HS)) - slope * double(t - s);
                max = std::max(max, score[std::size_t(s)]);
            }
            for (double& x : score)
                total += (x = std::exp(x - max));
            for (std::int64_t s = 0; s <= t; ++s)
                for (std::int64_t c = 0; c < HS; ++c)
                    out[std::size_t(t)][std::size_t(h * HS + c)] +=
                        score[std::size_t(s)] / total * v[std::size_t(s)][std::size_t(kh * HS + c)];
        }
    }
    return out;
}

/// CausalSelfAttention of one sequence x (T, C): c_attn, split, RoPE at positions offset + t,
/// attention, c_proj. Weights are (OUT, IN) with optional biases.
inline Rows causal_self_attention(const Rows& x, const nn::GPTConfig& c, const TensorD& w_attn,
                                  const TensorD* b_attn, const TensorD& w_proj,
                                  const TensorD* b_proj, std::int64_t offset = 0) {
    const std::int64_t C = c.n_embd, KVD = c.kv_dim(), HS = c.head_size();
    const Rows qkv = linear(x, w_attn, b_attn);
    Rows q, k, v;
    for (const auto& row : qkv) {
        q.emplace_back(row.begin(), row.begin() + C);
        k.emplace_back(row.begin() + C, row.begin() + C + KVD);
        v.emplace_back(row.begin() + C + KVD, row.end());
    }
    if (c.position == nn::PositionEncoding::rope) {
        const bool inter = c.rope_layout == ops::RopeLayout::interleaved;
        for (std::size_t t = 0; t < q.size(); ++t) {
            for (std::int64_t h = 0; h < c.n_head; ++h)
                rope(q[t].data() + h * HS, HS, offset + std::int64_t(t), c.rope_base, inter);
            for (std::int64_t h = 0; h < c.kv_heads(); ++h)
                rope(k[t].data() + h * HS, HS, offset + std::int64_t(t), c.rope_base, inter);
        }
    }
    const Rows y =
        attention(q, k, v, c.n_head, c.kv_heads(), c.position == nn::PositionEncoding::alibi);
    return linear(y, w_proj, b_proj);
}

/// The MLP on rows h (after its norm): c_fc, GELU or SwiGLU (gate features first: silu(gate) *
/// up), c_proj.
inline Rows mlp(const Rows& h, nn::MlpKind kind, const TensorD& w_fc, const TensorD* b_fc,
                const TensorD& w_proj, const TensorD* b_proj) {
    Rows a = linear(h, w_fc, b_fc);
    for (auto& row : a) {
        if (kind == nn::MlpKind::gelu) {
            for (double& v : row)
                v = gelu(v);
        } else {
            const std::size_t H = row.size() / 2;
            for (std::size_t j = 0; j < H; ++j)
                row[j] = row[j] / (1.0 + std::exp(-row[j])) * row[H + j];
            row.resize(H);
        }
    }
    return linear(a, w_proj, b_proj);
}

} // namespace ouro::testing::naive
