// Helpers shared by the generation tests: small GPTs with weights large enough that attention is
// sharp, full-recompute logits through GPT::forward, a naive double-precision decoder that
// spells out the cache semantics of InferenceSession (sliding window, sinks at cache positions),
// and two choosers (greedy, and plain sampling from the softmax).
#pragma once

#include <ouro/autograd/var.hpp>
#include <ouro/gen/generate.hpp>
#include <ouro/nn/gpt.hpp>
#include <ouro/ops/attention.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace ouro::gen::testing {

inline nn::GPTConfig small_config(nn::PositionEncoding position, std::int64_t block_size,
                                  std::int64_t n_layer = 2) {
    nn::GPTConfig c = nn::GPTConfig::gpt2(67, block_size, n_layer, 4, 32);
    c.position = position;
    return c;
}

/// A small Llama-style config (RMSNorm, SwiGLU, RoPE on interleaved pairs, separate classifier)
/// with n_kv_head key/value heads for 4 query heads: 4 (plain), 2 (grouped-query), 1 (multi-query).
inline nn::GPTConfig
small_llama_config(std::int64_t n_kv_head, std::int64_t block_size,
                   nn::PositionEncoding position = nn::PositionEncoding::rope) {
    nn::GPTConfig c = nn::GPTConfig::llama(67, block_size, 2, 4, n_kv_head, 32, 16);
    c.position = position;
    return c;
}

/// A GPT whose weights are uniform in +-1/sqrt(fan_in) (embeddings +-1, LayerNorm weights near
/// 1, biases +-0.1): activations of order one and attention far from uniform, so that a wrong
/// position or a missing key shows in the logits.
inline std::unique_ptr<nn::GPT<float>> make_model(const nn::GPTConfig& config, std::uint64_t seed) {
    Rng rng(seed);
    auto model = std::make_unique<nn::GPT<float>>(config, rng);
    model->train(false);
    for (auto& [name, p] : model->named_parameters()) {
        TensorF& t = p.value();
        const bool norm = name.find("ln_") != std::string::npos;
        const bool bias = name.size() >= 4 && name.substr(name.size() - 4) == "bias";
        const bool embedding =
            name.find("wte") != std::string::npos || name.find("wpe") != std::string::npos;
        const double a = bias        ? 0.1
                         : norm      ? 0.2
                         : embedding ? 1.0
                                     : 1.0 / std::sqrt(double(t.dim(-1)));
        for (std::int64_t i = 0; i < t.numel(); ++i)
            t[i] = float((norm && !bias ? 1.0 : 0.0) + a * (2.0 * rng.uniform() - 1.0));
    }
    return model;
}

/// The logits of the last of `tokens` by a full forward pass (no cache) at positions from 0.
inline std::vector<float> full_logits(const nn::GPT<float>& model,
                                      std::span<const std::int32_t> tokens) {
    NoGradGuard no_grad;
    const std::int64_t T = std::int64_t(tokens.size());
    TensorI idx({1, T});
    std::copy(tokens.begin(), tokens.end(), idx.data());
    const VarF logits = model.forward(idx);
    const std::int64_t V = model.config.vocab_size;
    const float* last = logits.value().data() + (T - 1) * V;
    return {last, last + V};
}

/// Largest |a - b| divided by the largest |b| of the row: the error relative to the logits'
/// scale (a relative error per element is meaningless for logits near zero).
inline double scaled_error(std::span<const float> a, std::span<const float> b) {
    REQUIRE(a.size() == b.size());
    double err = 0.0, scale = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        err = std::max(err, std::abs(double(a[i]) - double(b[i])));
        scale = std::max(scale, std::abs(double(b[i])));
    }
    return err / scale;
}

inline bool same_bits(std::span<const float> a, std::span<const float> b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](float x, float y) {
               return std::bit_cast<std::uint32_t>(x) == std::bit_cast<std::uint32_t>(y);
           });
}

/// A naive decoder in double that holds, per layer, the unrotated key and the value of every
/// cached token in a list, evicting the oldest entry after the sinks when the list would exceed
/// the context (with `sliding`). Positions for RoPE and ALiBi are indices in the list (cache
/// positions, StreamingLLM); learned positions are true positions. Feeding a token returns its
/// logits; attention() holds the weights of the last token, (layer, head) -> weights.
class ReferenceDecoder {
public:
    ReferenceDecoder(const nn::GPT<float>& model, std::int64_t context, bool sliding,
                     std::int64_t sinks)
        : m_(model), cfg_(model.config), context_(context), sliding_(sliding), sinks_(sinks),
          caches_(std::size_t(cfg_.n_layer)) {}

    std::vector<double> feed(std::int32_t token) {
        const std::int64_t C = cfg_.n_embd, NH = cfg_.n_head, HS = C / NH;
        std::vector<double> x(static_cast<std::size_t>(C));
        for (std::int64_t c = 0; c < C; ++c)
            x[std::size_t(c)] = value(m_.wte->weight, token * C + c) +
                                (m_.wpe ? value(m_.wpe->weight, position_ * C + c) : 0.0);
        attention_.assign(std::size_t(cfg_.n_layer), {});
        for (std::int64_t l = 0; l < cfg_.n_layer; ++l) {
            const nn::Block<float>& b = *m_.h[std::size_t(l)];
            const std::vector<double> a = layernorm(x, b.ln_1->weight, b.ln_1->bias);
            const std::vector<double> qkv = linear(a, b.attn->c_attn->weight, b.attn->c_attn->bias);
            Cache& cache = caches_[std::size_t(l)];
            cache.k.emplace_back(qkv.begin() + C, qkv.begin() + 2 * C);
            cache.v.emplace_back(qkv.begin() + 2 * C, qkv.end());
            if (sliding_ && std::int64_t(cache.k.size()) > context_) {
                cache.k.erase(cache.k.begin() + sinks_);
                cache.v.erase(cache.v.begin() + sinks_);
            }
            const std::int64_t n = std::int64_t(cache.k.size());
            // Without sliding, list indices are the true positions.
            const std::int64_t query_at = n - 1;
            const std::vector<double> slopes = cfg_.position == nn::PositionEncoding::alibi
                                                   ? ops::alibi_slopes(int(NH))
                                                   : std::vector<double>(NH, 0.0);
            std::vector<double> y(static_cast<std::size_t>(C));
            for (std::int64_t h = 0; h < NH; ++h) {
                std::vector<double> q(qkv.begin() + h * HS, qkv.begin() + (h + 1) * HS);
                rotate(q, query_at);
                std::vector<double> s(static_cast<std::size_t>(n));
                for (std::int64_t j = 0; j < n; ++j) {
                    std::vector<double> k(cache.k[std::size_t(j)].begin() + h * HS,
                                          cache.k[std::size_t(j)].begin() + (h + 1) * HS);
                    rotate(k, j);
                    double dot = 0.0;
                    for (std::int64_t c = 0; c < HS; ++c)
                        dot += q[std::size_t(c)] * k[std::size_t(c)];
                    s[std::size_t(j)] =
                        dot / std::sqrt(double(HS)) - slopes[std::size_t(h)] * double(query_at - j);
                }
                const double mx = *std::max_element(s.begin(), s.end());
                double sum = 0.0;
                for (double& v : s)
                    sum += v = std::exp(v - mx);
                for (double& v : s)
                    v /= sum;
                for (std::int64_t j = 0; j < n; ++j)
                    for (std::int64_t c = 0; c < HS; ++c)
                        y[std::size_t(h * HS + c)] +=
                            s[std::size_t(j)] * cache.v[std::size_t(j)][std::size_t(h * HS + c)];
                attention_[std::size_t(l)].push_back(s);
            }
            const std::vector<double> o = linear(y, b.attn->c_proj->weight, b.attn->c_proj->bias);
            for (std::int64_t c = 0; c < C; ++c)
                x[std::size_t(c)] += o[std::size_t(c)];
            std::vector<double> f = linear(layernorm(x, b.ln_2->weight, b.ln_2->bias),
                                           b.mlp->c_fc->weight, b.mlp->c_fc->bias);
            for (double& v : f)
                v = 0.5 * v * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v)));
            const std::vector<double> o2 = linear(f, b.mlp->c_proj->weight, b.mlp->c_proj->bias);
            for (std::int64_t c = 0; c < C; ++c)
                x[std::size_t(c)] += o2[std::size_t(c)];
        }
        hidden_ = layernorm(x, m_.ln_f->weight, m_.ln_f->bias);
        ++position_;
        return linear(hidden_, m_.wte->weight, VarF());
    }

    const std::vector<double>& hidden() const { return hidden_; }
    /// attention()[layer][head][entry]
    const std::vector<std::vector<std::vector<double>>>& attention() const { return attention_; }

private:
    struct Cache {
        std::vector<std::vector<double>> k, v;
    };
    static double value(const VarF& p, std::int64_t i) { return double(p.value()[i]); }

    std::vector<double> linear(const std::vector<double>& x, const VarF& w, const VarF& b) const {
        const std::int64_t out = w.shape()[0], in = w.shape()[1];
        std::vector<double> y(static_cast<std::size_t>(out));
        for (std::int64_t o = 0; o < out; ++o) {
            double acc = b.defined() ? value(b, o) : 0.0;
            for (std::int64_t i = 0; i < in; ++i)
                acc += x[std::size_t(i)] * value(w, o * in + i);
            y[std::size_t(o)] = acc;
        }
        return y;
    }
    std::vector<double> layernorm(const std::vector<double>& x, const VarF& w,
                                  const VarF& b) const {
        const double n = double(x.size());
        double mean = 0.0, var = 0.0;
        for (double v : x)
            mean += v / n;
        for (double v : x)
            var += (v - mean) * (v - mean) / n;
        std::vector<double> y(x.size());
        for (std::size_t i = 0; i < x.size(); ++i)
            y[i] = (x[i] - mean) / std::sqrt(var + 1e-5) * value(w, std::int64_t(i)) +
                   (b.defined() ? value(b, std::int64_t(i)) : 0.0);
        return y;
    }
    // RoPE at `position` on one head (rotate-half layout); nothing for other encodings.
    void rotate(std::vector<double>& v, std::int64_t position) const {
        if (cfg_.position != nn::PositionEncoding::rope)
            return;
        const std::size_t half = v.size() / 2;
        for (std::size_t i = 0; i < half; ++i) {
            const double angle =
                double(position) * std::pow(cfg_.rope_base, -double(2 * i) / double(v.size()));
            const double x1 = v[i], x2 = v[i + half];
            v[i] = x1 * std::cos(angle) - x2 * std::sin(angle);
            v[i + half] = x2 * std::cos(angle) + x1 * std::sin(angle);
        }
    }

    const nn::GPT<float>& m_;
    nn::GPTConfig cfg_;
    std::int64_t context_;
    bool sliding_;
    std::int64_t sinks_;
    std::int64_t position_ = 0;
    std::vector<Cache> caches_;
    std::vector<double> hidden_;
    std::vector<std::vector<std::vector<double>>> attention_;
};

inline std::vector<float> to_float(const std::vector<double>& v) {
    return {v.begin(), v.end()};
}

/// Greedy: the largest logit, the lowest index on ties; fills the raw fields of the decision.
struct Greedy {
    int resets = 0;
    void reset() { ++resets; }
    std::int32_t sample(std::span<const float> logits, std::span<const std::int32_t>, Rng&,
                        TokenDecision* d) {
        const auto best = std::max_element(logits.begin(), logits.end());
        const std::int32_t token = std::int32_t(best - logits.begin());
        if (d) {
            d->token = token;
            d->rank_raw = 0;
            double m = *best, sum = 0.0;
            for (float z : logits)
                sum += std::exp(double(z) - m);
            d->prob_raw = d->prob_final = d->p_max_raw = 1.0 / sum;
        }
        return token;
    }
};

/// Plain sampling from softmax(logits) with one uniform draw per token.
struct Sampler {
    std::int32_t sample(std::span<const float> logits, std::span<const std::int32_t>, Rng& rng,
                        TokenDecision* d) {
        const double m = *std::max_element(logits.begin(), logits.end());
        double sum = 0.0;
        for (float z : logits)
            sum += std::exp(double(z) - m);
        double u = rng.uniform() * sum;
        std::int32_t token = std::int32_t(logits.size()) - 1;
        for (std::size_t i = 0; i < logits.size(); ++i) {
            u -= std::exp(double(logits[i]) - m);
            if (u < 0) {
                token = std::int32_t(i);
                break;
            }
        }
        if (d) {
            d->token = token;
            d->prob_raw = d->prob_final = std::exp(double(logits[std::size_t(token)]) - m) / sum;
        }
        return token;
    }
};

/// `n` tokens uniform over the vocabulary.
inline std::vector<std::int32_t> random_tokens(std::int64_t n, std::int64_t vocab, Rng& rng) {
    std::vector<std::int32_t> t(static_cast<std::size_t>(n));
    for (auto& v : t)
        v = std::int32_t(rng.below(std::uint64_t(vocab)));
    return t;
}

} // namespace ouro::gen::testing
