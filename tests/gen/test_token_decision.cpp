// gen/token_decision.hpp: the record's defaults, and its raw fields as both fillers write them
// (the sampler chain, and fill_raw_decision for the searches) against a naive double softmax:
// the same numbers whichever decoder chose the token.
#include <ouro/gen/sampler.hpp>
#include <ouro/gen/search.hpp>
#include <ouro/gen/token_decision.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

using namespace ouro;
using namespace ouro::gen;

namespace {

// The raw fields from the definition: softmax in double, rank = logits above plus equal logits
// with a lower id, the five most probable finite tokens (lower id first among ties).
TokenDecision naive_raw(const std::vector<float>& z, std::int32_t token) {
    double max = -INFINITY, total = 0.0;
    for (float v : z)
        max = std::max(max, double(v));
    std::vector<double> p(z.size());
    for (std::size_t i = 0; i < z.size(); ++i)
        total += (p[i] = std::exp(double(z[i]) - max));
    TokenDecision d;
    d.token = token;
    for (std::size_t i = 0; i < z.size(); ++i) {
        p[i] /= total;
        if (p[i] > 0)
            d.entropy_raw -= p[i] * std::log(p[i]);
        d.p_max_raw = std::max(d.p_max_raw, p[i]);
        const auto t = std::size_t(token);
        d.rank_raw += z[i] > z[t] || (z[i] == z[t] && i < t);
    }
    d.prob_raw = p[std::size_t(token)];
    std::vector<std::int32_t> ids(z.size());
    std::iota(ids.begin(), ids.end(), 0);
    std::stable_sort(ids.begin(), ids.end(), [&](std::int32_t a, std::int32_t b) {
        return z[std::size_t(a)] > z[std::size_t(b)];
    });
    for (std::int32_t id : ids)
        if (d.top_raw.size() < 5 && std::isfinite(z[std::size_t(id)]))
            d.top_raw.emplace_back(id, p[std::size_t(id)]);
    return d;
}

void check_raw(const TokenDecision& got, const TokenDecision& want) {
    CHECK(got.token == want.token);
    CHECK(got.prob_raw == doctest::Approx(want.prob_raw).epsilon(1e-6));
    CHECK(got.entropy_raw == doctest::Approx(want.entropy_raw).epsilon(1e-6));
    CHECK(got.p_max_raw == doctest::Approx(want.p_max_raw).epsilon(1e-6));
    CHECK(got.rank_raw == want.rank_raw);
    REQUIRE(got.top_raw.size() == want.top_raw.size());
    for (std::size_t i = 0; i < want.top_raw.size(); ++i) {
        CHECK(got.top_raw[i].first == want.top_raw[i].first);
        CHECK(got.top_raw[i].second == doctest::Approx(want.top_raw[i].second).epsilon(1e-6));
    }
}

} // namespace

TEST_SUITE("gen") {
    TEST_CASE("TokenDecision") {
        SUBCASE("a fresh record holds no token and no statistics") {
            const TokenDecision d;
            CHECK(d.token == -1);
            CHECK(d.prob_raw == 0.0);
            CHECK(d.prob_final == 0.0);
            CHECK(d.entropy_raw == 0.0);
            CHECK(d.entropy_final == 0.0);
            CHECK(d.rank_raw == 0);
            CHECK(d.p_max_raw == 0.0);
            CHECK(d.top_raw.empty());
            CHECK(d.changed_by.empty());
        }
        SUBCASE("forward matches reference: raw fields from the chain and from the searches") {
            const float inf = std::numeric_limits<float>::infinity();
            // Seven tokens with a tie (ids 1 and 4) and a banned one (-inf).
            const std::vector<float> z = {0.5f, 2.0f, -1.0f, 0.25f, 2.0f, -inf, 1.5f};
            // fill_raw_decision for every token: the searches' and teacher forcing's record.
            for (std::int32_t t = 0; t < 7; ++t) {
                CAPTURE(t);
                TokenDecision d;
                fill_raw_decision(z, t, d);
                check_raw(d, naive_raw(z, t));
                CHECK(d.prob_final == d.prob_raw); // nothing transformed the distribution
                CHECK(d.entropy_final == d.entropy_raw);
            }
            // The greedy chain picks the lowest id among the tied maxima and fills the same.
            SamplerSettings s;
            s.greedy = true;
            SamplerChain chain = SamplerChain::from_settings(s);
            Rng rng(1);
            TokenDecision d;
            CHECK(chain.sample(z, {}, rng, &d) == 1);
            check_raw(d, naive_raw(z, 1));
            CHECK(d.rank_raw == 0);
            CHECK(d.changed_by.empty()); // the raw argmax, moved by no stage
            // Two maxima share p: greedy's final distribution is the softmax of the same logits.
            CHECK(d.prob_final == doctest::Approx(d.prob_raw).epsilon(1e-6));
        }
        SUBCASE("fewer than five finite logits give fewer top entries") {
            const float inf = std::numeric_limits<float>::infinity();
            const std::vector<float> z = {-inf, 1.0f, -inf, 0.0f};
            TokenDecision d;
            fill_raw_decision(z, 3, d);
            check_raw(d, naive_raw(z, 3));
            CHECK(d.top_raw.size() == 2);
            CHECK(d.rank_raw == 1);
        }
    }
}
