// Temperature, the truncation samplers and the final selections, then the naive references kept
// for tests.
#include "ouro/gen/truncation.hpp"

#include "checks.hpp"

#include "numerics/sum.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace ouro::gen {

namespace {
constexpr float inf = std::numeric_limits<float>::infinity();
} // namespace

void temperature(CandidateSet& c, double t) {
    detail::check_positive("temperature", t);
    const std::span<float> zs = c.mutable_logits();
    // Below t = 1 a finite logit may leave the float range: then shift by the largest logit
    // first, which softmax does not see (see the header). Dividing by t > 0, with or without the
    // shift, keeps the order of the logits (ties may appear, never inversions).
    std::int32_t over = 0;
    if (t < 1.0) {
        const double limit = double(std::numeric_limits<float>::max()) * t;
        for (const float z : zs)
            over += (z > -inf) & (std::abs(double(z)) > limit);
    }
    if (over == 0) {
        for (float& z : zs)
            z = float(double(z) / t);
    } else {
        const double shift = double(c.max_logit());
        for (float& z : zs)
            z = float((double(z) - shift) / t);
    }
    c.logits_changed(true);
}

void top_k(CandidateSet& c, std::int64_t k) {
    detail::check_count("top_k", k);
    if (k > 0)
        c.keep_top(k, 1.0);
}

void top_p(CandidateSet& c, double p) {
    detail::check_open_closed("top_p", p);
    if (p < 1.0)
        c.keep_top(0, p);
}

void min_p(CandidateSet& c, double p_min) {
    detail::check_closed("min_p", p_min);
    if (p_min > 0.0)
        c.keep_logit_at_least(double(c.max_logit()) + std::log(p_min));
}

void typical(CandidateSet& c, double tau) {
    detail::check_open_closed("typical", tau);
    if (tau == 1.0)
        return;
    const double h = c.entropy();
    // -log p_i - H = (log S - H + z_ref) - z_i: the distance of z_i from a centre, so equal
    // logits are equally typical.
    c.keep_nearest(std::log(c.weight_sum()) - h + double(c.weight_reference()), tau);
}

void epsilon(CandidateSet& c, double eps) {
    detail::check_closed_open("epsilon", eps);
    if (eps == 0.0)
        return;
    c.ensure_weights();
    c.keep_weight_at_least(eps * c.weight_sum());
}

void eta(CandidateSet& c, double value) {
    detail::check_closed_open("eta", value);
    if (value == 0.0)
        return;
    const double h = c.entropy();
    const double threshold = std::min(value, std::sqrt(value) * std::exp(-h));
    c.keep_weight_at_least(threshold * c.weight_sum());
}

void top_n_sigma(CandidateSet& c, double n) {
    detail::check_at_least("top_n_sigma", n, 0.0);
    if (n == 0.0)
        return;
    // Mean and population variance of the finite logits from sum z and sum z^2 in double, block
    // by block in a fixed order (banned tokens read as 0 and are not counted). Logits are a few
    // units wide, so the cancellation in E[z^2] - mean^2 costs nothing that matters in double.
    const std::span<const float> z = c.logits();
    const auto n_all = std::int64_t(z.size());
    constexpr std::int64_t block = 256;
    float buf[block];
    double s1 = 0.0, s2 = 0.0;
    std::int64_t finite = 0;
    for (std::int64_t i0 = 0; i0 < n_all; i0 += block) {
        const std::int64_t len = std::min(block, n_all - i0);
        for (std::int64_t j = 0; j < len; ++j) {
            const float v = z[std::size_t(i0 + j)];
            buf[j] = v > -inf ? v : 0.0f;
            finite += v > -inf;
        }
        s1 += numerics::sum_double(buf, len);
        s2 += numerics::dot_double(buf, buf, len);
    }
    if (finite == 0)
        throw ConfigError("sampler: no token left to choose: every logit is -inf");
    const double mean = s1 / double(finite);
    const double sigma = std::sqrt(std::max(0.0, s2 / double(finite) - mean * mean));
    c.keep_logit_at_least(double(c.max_logit()) - n * sigma);
}

bool xtc(CandidateSet& c, double probability, double threshold, Rng& rng) {
    detail::check_closed("xtc_probability", probability);
    detail::check_open_closed("xtc_threshold", threshold);
    if (probability == 0.0 || rng.uniform() >= probability)
        return false;
    c.ensure_weights();
    const double t = threshold * c.weight_sum();
    const std::span<const float> w = c.weights();
    std::int64_t above = 0;
    float least = inf;
    for (const float v : w)
        if (double(v) >= t) {
            ++above;
            least = std::min(least, v);
        }
    if (above < 2)
        return false;
    const std::int64_t before = c.size();
    c.keep_if([&](std::int64_t i) { return (double(w[i]) < t) | (w[i] == least); });
    return c.size() != before;
}

std::int64_t select_greedy(CandidateSet& c) {
    return c.argmax();
}

std::int64_t select_sample(CandidateSet& c, Rng& rng) {
    return c.draw(rng.uniform());
}

const char* to_string(MirostatSurprise s) {
    return s == MirostatSurprise::raw ? "raw" : "truncated";
}

MirostatSurprise parse_mirostat_surprise(std::string_view name) {
    if (name == "truncated")
        return MirostatSurprise::truncated;
    if (name == "raw")
        return MirostatSurprise::raw;
    throw ConfigError("sampler: unknown mirostat surprise '" + std::string(name) +
                      "' (expected truncated or raw)");
}

MirostatV2::MirostatV2(double tau, double eta, MirostatSurprise surprise)
    : tau_(tau), eta_(eta), mu_(2.0 * tau), surprise_(surprise) {
    detail::check_positive("mirostat_tau", tau);
    detail::check_positive("mirostat_eta", eta);
}

std::int64_t MirostatV2::select(CandidateSet& c, Rng& rng) {
    c.ensure_weights();
    const double total = c.weight_sum();
    // s > mu  <=>  p < 2^-mu  <=>  w < S 2^-mu. keep_weight_at_least keeps the argmax regardless.
    c.keep_weight_at_least(total * std::exp2(-mu_));
    // The draw renormalises: weight_sum() is then the kept mass (the weights keep their scale).
    const std::int64_t pos = select_sample(c, rng);
    const double norm = surprise_ == MirostatSurprise::raw ? total : c.weight_sum();
    const double surprise = -std::log2(double(c.weights()[pos]) / norm);
    mu_ -= eta_ * (surprise - tau_);
    return pos;
}

namespace {

// The finite logits with their double-precision probabilities.
struct RefToken {
    std::int32_t id;
    double z, p;
};

std::vector<RefToken> reference_softmax(std::span<const float> logits) {
    std::vector<RefToken> t;
    double zmax = -std::numeric_limits<double>::infinity();
    for (const float z : logits)
        zmax = std::max(zmax, double(z));
    double s = 0.0;
    for (std::size_t i = 0; i < logits.size(); ++i)
        if (logits[i] > -inf) {
            t.push_back({std::int32_t(i), double(logits[i]), std::exp(double(logits[i]) - zmax)});
            s += t.back().p;
        }
    for (RefToken& r : t)
        r.p /= s;
    return t;
}

// Walks `t` in order; keeps the prefix up to the first element where the count reaches `count`
// (when > 0) or the mass reaches `mass`, plus the following elements with an equal key.
template <typename Key>
std::vector<std::int32_t> keep_prefix(std::vector<RefToken> t, std::int64_t count, double mass,
                                      Key key) {
    std::sort(t.begin(), t.end(), [&](const RefToken& a, const RefToken& b) {
        return key(a) < key(b) || (key(a) == key(b) && a.id < b.id);
    });
    std::size_t end = t.size();
    double cum = 0.0;
    for (std::size_t i = 0; i < t.size(); ++i) {
        cum += t[i].p;
        if ((count > 0 && std::int64_t(i) + 1 >= count) || (mass < 1.0 && cum >= mass)) {
            end = i + 1;
            while (end < t.size() && key(t[end]) == key(t[i]))
                ++end;
            break;
        }
    }
    std::vector<std::int32_t> ids;
    for (std::size_t i = 0; i < end; ++i)
        ids.push_back(t[i].id);
    std::sort(ids.begin(), ids.end());
    return ids;
}

} // namespace

std::vector<std::int32_t> keep_top_reference(std::span<const float> logits, std::int64_t count,
                                             double mass) {
    return keep_prefix(reference_softmax(logits), count, mass,
                       [](const RefToken& r) { return -r.z; });
}

std::vector<std::int32_t> typical_reference(std::span<const float> logits, double tau) {
    std::vector<RefToken> t = reference_softmax(logits);
    double h = 0.0;
    for (const RefToken& r : t)
        if (r.p > 0.0)
            h -= r.p * std::log(r.p);
    // -log p - H with log p = z - logsumexp(z), computed from z so that equal logits tie.
    double zmax = -std::numeric_limits<double>::infinity(), s = 0.0;
    for (const RefToken& r : t)
        zmax = std::max(zmax, r.z);
    for (const RefToken& r : t)
        s += std::exp(r.z - zmax);
    const double log_z = zmax + std::log(s);
    return keep_prefix(std::move(t), 0, tau,
                       [&](const RefToken& r) { return std::abs(log_z - h - r.z); });
}

} // namespace ouro::gen
