// logit_stats: see logit_stats.hpp for the numerics.
#include "logit_stats.hpp"

#include "rows.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ouro::numerics {

namespace {

// Chunk of logits whose exps go through a stack buffer (a multiple of sum_lanes, so that S and A
// are summed in the order of one ordered_sum over the row), and the group of logits that one
// compare against the n-th best skips.
constexpr std::int64_t chunk = 256, group = 16;
static_assert(chunk % sum_lanes == 0);

} // namespace

LogitStats logit_stats(std::span<const float> logits, std::int32_t token, std::int32_t end_token,
                       std::int64_t top_n) {
    std::vector<std::pair<std::int32_t, double>> top;
    LogitStats out = logit_stats(logits, token, end_token, top_n, top);
    out.top = std::move(top);
    return out;
}

LogitStats logit_stats(std::span<const float> logits, std::int32_t token, std::int32_t end_token,
                       std::int64_t top_n, std::vector<std::pair<std::int32_t, double>>& top) {
    // Shape: z (V).
    const float* z = logits.data();
    const auto V = std::int64_t(logits.size());
    const float zmax = row_max(z, V);
    const float zt = z[token];
    float w[chunk], dz[chunk];
    OrderedSum<double> s_sum, a_sum;
    LogitStats out;
    const auto n = std::size_t(std::clamp<std::int64_t>(top_n, 0, V));
    // The ids of the best so far in top[k].first (best first); their probabilities at the end.
    top.resize(n);
    std::size_t m = 0;
    // The n-th best so far; +inf when n = 0, so that no logit enters.
    float last =
        n > 0 ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity();
    for (std::int64_t j0 = 0; j0 < V; j0 += chunk) {
        const std::int64_t len = std::min(chunk, V - j0);
        const float* zc = z + j0;
        // Clamping z - z_max at -200 changes no term (w = 0 there) but keeps 0 * -inf out.
        for (std::int64_t j = 0; j < len; ++j) {
            w[j] = exp_approx(zc[j] - zmax);
            dz[j] = std::max(zc[j] - zmax, -200.0f);
        }
        s_sum.add(len, [&w](std::int64_t j) { return double(w[j]); });
        a_sum.add(len, [&w, &dz](std::int64_t j) { return double(w[j]) * double(dz[j]); });
        // rank: larger logits, and equal logits with a lower id.
        for (std::int64_t j = 0; j < len; ++j)
            out.rank += zc[j] > zt;
        for (std::int64_t j = 0; j < std::min(len, token - j0); ++j)
            out.rank += zc[j] == zt;
        // The best n finite logits: groups that cannot beat the n-th are skipped with one
        // vector compare; ties keep the lower id first (only a larger logit moves ahead).
        for (std::int64_t g = 0; g < len; g += group) {
            const std::int64_t end = std::min(len, g + group);
            int hits = 0;
            for (std::int64_t j = g; j < end; ++j)
                hits += zc[j] > last;
            if (hits == 0)
                continue;
            for (std::int64_t j = g; j < end; ++j) {
                if (!(zc[j] > last))
                    continue;
                std::size_t k = m < n ? m++ : n - 1;
                for (; k > 0 && zc[j] > z[top[k - 1].first]; --k)
                    top[k].first = top[k - 1].first;
                top[k].first = std::int32_t(j0 + j);
                if (m == n)
                    last = z[top[n - 1].first];
            }
        }
    }
    const double s = s_sum.total(), a = a_sum.total();
    const auto p = [&](std::int32_t id) { return double(exp_approx(z[id] - zmax)) / s; };
    out.prob = p(token);
    out.log_prob = (double(zt) - double(zmax)) - std::log(s);
    out.entropy = std::log(s) - a / s;
    out.p_max = 1.0 / s;
    out.p_end =
        end_token >= 0 && end_token < V ? p(end_token) : std::numeric_limits<double>::quiet_NaN();
    top.resize(m);
    for (std::size_t k = 0; k < m; ++k)
        top[k].second = p(top[k].first);
    return out;
}

double token_probability(std::span<const float> logits, std::int32_t token) {
    const float* z = logits.data();
    const auto V = std::int64_t(logits.size());
    const float zmax = row_max(z, V);
    return double(exp_approx(z[token] - zmax)) / row_sum_exp<double>(z, V, zmax);
}

void log_probabilities(std::span<const float> logits, std::vector<double>& out) {
    const float* z = logits.data();
    const auto V = std::int64_t(logits.size());
    const float zmax = row_max(z, V);
    const double log_s = std::log(row_sum_exp<double>(z, V, zmax));
    out.resize(logits.size());
    for (std::int64_t i = 0; i < V; ++i)
        out[std::size_t(i)] = (double(z[i]) - double(zmax)) - log_s;
}

} // namespace ouro::numerics
