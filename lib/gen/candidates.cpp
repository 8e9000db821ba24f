// CandidateSet: loading the logits, probabilities on demand, the truncation primitives (threshold
// compactions, the prefix walk with its heap and histogram shortcuts) and the weighted draw.
#include "ouro/gen/candidates.hpp"

#include "ouro/core/error.hpp"

#include "numerics/rows.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <functional>
#include <limits>
#include <string>

namespace ouro::gen {

namespace {

constexpr float inf = std::numeric_limits<float>::infinity();

// The stages keep every logit finite or -inf; a caller writing through mutable_logits() might
// not. An inf or NaN logit would make the weights NaN and leave no token to draw.
[[noreturn]] void not_finite() {
    throw ConfigError("sampler: a logit is inf or nan (logits must stay finite or -inf)");
}

// Orders by key, then by id, so that every sort here gives one answer whatever the input order.
struct KeyThenId {
    template <typename E> bool operator()(const E& a, const E& b) const {
        return a.key < b.key || (a.key == b.key && a.id < b.id);
    }
};

#if OURO_HAVE_AVX2
// For each 8-bit mask, the lanes whose bit is set, in order, then zeros: the permutation that
// packs the kept lanes of a group of eight to its front.
struct PackTable {
    alignas(32) std::int32_t lanes[256][8];
};
constexpr PackTable make_pack_table() {
    PackTable t{};
    for (int m = 0; m < 256; ++m) {
        int k = 0;
        for (int j = 0; j < 8; ++j)
            if ((m >> j) & 1)
                t.lanes[m][k++] = j;
    }
    return t;
}
constexpr PackTable pack_table = make_pack_table();

// The sign bits of eight int32 lanes (mask entries are 0 or -1).
inline int mask_bits(const std::int32_t* m) {
    return _mm256_movemask_ps(
        _mm256_castsi256_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(m))));
}
#endif

// Calls f(i) for every i < n with m[i] == value, in increasing order; groups of eight with no
// match are skipped with one vector compare.
template <typename F>
void for_each_equal(const std::int32_t* m, std::int64_t n, std::int32_t value, F f) {
    std::int64_t i = 0;
#if OURO_HAVE_AVX2
    const __m256i v = _mm256_set1_epi32(value);
    for (; i + 8 <= n; i += 8) {
        const __m256i eq =
            _mm256_cmpeq_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(m + i)), v);
        for (int bits = _mm256_movemask_ps(_mm256_castsi256_ps(eq)); bits != 0; bits &= bits - 1)
            f(i + std::countr_zero(unsigned(bits)));
    }
#endif
    for (; i < n; ++i)
        if (m[i] == value)
            f(i);
}

} // namespace

void CandidateSet::assign(std::span<const float> logits) {
    const auto V = std::int64_t(logits.size());
    if (V == 0)
        throw ShapeError("sampler: logits are empty");
    if (V > std::numeric_limits<std::int32_t>::max())
        throw ShapeError("sampler: " + std::to_string(V) +
                         " logits are more than token ids can number (2^31 - 1)");
    if (std::int64_t(z_.size()) < V) {
        id_.resize(std::size_t(V));
        pos_.resize(std::size_t(V));
        mask_.resize(std::size_t(V));
        z_.resize(std::size_t(V));
        w_.resize(std::size_t(V));
        keyed_.resize(std::size_t(V));
        block_sum_.resize(std::size_t((V + block - 1) / block));
        heap_.resize(std::size_t(heap_limit));
    }
    // One vectorised pass: copy, take the max, and count NaN and +inf (!(x < inf) is true for
    // both). The ids stay implicit while the list is dense.
    const float* src = logits.data();
    float* z = z_.data();
    std::int32_t bad = 0;
    float m = -inf;
#pragma omp simd reduction(max : m) reduction(+ : bad)
    for (std::int64_t i = 0; i < V; ++i) {
        const float x = src[i];
        z[i] = x;
        m = x > m ? x : m;
        bad += !(x < inf);
    }
    if (bad != 0)
        for (std::int64_t i = 0; i < V; ++i)
            if (!(src[i] < inf))
                throw ConfigError("sampler: logit " + std::to_string(i) + " is " +
                                  (std::isnan(src[i]) ? "nan" : "inf"));
    n_ = vocab_ = V;
    max_ = numerics::simd_max_result(m, z, V); // -inf, not lowest(), for a row of -inf under clang
    dense_ = max_valid_ = true;
    sorted_ = positions_valid_ = weights_valid_ = sum_valid_ = ids_written_ = false;
}

std::span<const std::int32_t> CandidateSet::ids() const {
    if (dense_ && !ids_written_) {
        for (std::int32_t i = 0; i < std::int32_t(n_); ++i)
            id_[std::size_t(i)] = i;
        ids_written_ = true;
    }
    return {id_.data(), std::size_t(n_)};
}

void CandidateSet::logits_changed(bool order_kept) {
    weights_valid_ = sum_valid_ = max_valid_ = false;
    if (!order_kept)
        sorted_ = false;
}

void CandidateSet::rebuild_positions() {
    for (std::int64_t i = 0; i < n_; ++i)
        pos_[std::size_t(id_[i])] = std::int32_t(i);
    positions_valid_ = true;
}

std::int64_t CandidateSet::find(std::int32_t id) {
    if (id < 0 || id >= vocab_)
        return -1;
    if (dense_)
        return id;
    if (!positions_valid_)
        rebuild_positions();
    const std::int64_t p = pos_[std::size_t(id)];
    return p < n_ && id_[p] == id ? p : -1;
}

float CandidateSet::max_logit() const {
    if (!max_valid_) {
        max_ = n_ == 0 ? -inf : numerics::row_max(z_.data(), n_);
        max_valid_ = true;
    }
    return max_;
}

std::int64_t CandidateSet::argmax() const {
    // The largest logit (a vectorised max), then the lowest id holding it: in a dense list the
    // first position, otherwise a scan of the ties.
    const float zmax = max_logit();
    if (!(zmax > -inf))
        throw ConfigError("sampler: no token left to choose: every logit is -inf");
    if (!(zmax < inf))
        not_finite();
    std::int64_t best = 0;
    while (best < n_ && z_[best] != zmax)
        ++best;
    if (best == n_) // only when a NaN hid from the max
        not_finite();
    if (!dense_)
        for (std::int64_t i = best + 1; i < n_; ++i)
            if (z_[i] == zmax && id_[i] < id_[best])
                best = i;
    return best;
}

void CandidateSet::ensure_weights() {
    if (!weights_valid_) {
        const float zmax = max_logit();
        if (!(zmax > -inf))
            throw ConfigError("sampler: no token left to choose: every logit is -inf");
        z_ref_ = zmax;
        // Shape: z (n) -> w (n), block by block, each block summed while it is in L1.
        // exp_approx vectorises; exp(-inf) gives 0.
        const float* z = z_.data();
        float* w = w_.data();
        double s = 0.0;
        for (std::int64_t b = 0, i0 = 0; i0 < n_; ++b, i0 += block) {
            const std::int64_t end = std::min(n_, i0 + block);
            for (std::int64_t i = i0; i < end; ++i)
                w[i] = numerics::exp_approx(z[i] - zmax);
            block_sum_[b] = numerics::sum_double(w + i0, end - i0);
            s += block_sum_[b];
        }
        if (!(zmax < inf) || !(s > 0.0 && s < double(inf)))
            not_finite();
        sum_ = s;
        weights_valid_ = sum_valid_ = true;
    }
    if (!sum_valid_) {
        double s = 0.0;
        for (std::int64_t b = 0, i0 = 0; i0 < n_; ++b, i0 += block) {
            block_sum_[b] = numerics::sum_double(w_.data() + i0, std::min(block, n_ - i0));
            s += block_sum_[b];
        }
        sum_ = s;
        sum_valid_ = true;
    }
}

double CandidateSet::probability(std::int64_t i) {
    ensure_weights();
    return double(w_[i]) / sum_;
}

double CandidateSet::entropy() {
    ensure_weights();
    // H = log S - sum_i w_i (z_i - z_ref) / S, since log p_i = (z_i - z_ref) - log S; the sum
    // in double, block by block in a fixed order. Clamping z - z_ref at -200 changes no term
    // (w = 0 there) but keeps 0 * -inf out.
    double acc = 0.0;
    float d[block];
    for (std::int64_t i0 = 0; i0 < n_; i0 += block) {
        const std::int64_t len = std::min(block, n_ - i0);
        for (std::int64_t j = 0; j < len; ++j)
            d[j] = std::max(z_[i0 + j] - z_ref_, -200.0f);
        acc += numerics::dot_double(w_.data() + i0, d, len);
    }
    return std::log(sum_) - acc / sum_;
}

void CandidateSet::keep_logit_at_least(double threshold) {
    const float zmax = max_logit();
    if (!(zmax > -inf))
        throw ConfigError("sampler: no token left to choose: every logit is -inf");
    const double t = std::min(threshold, double(zmax));
    keep_if([&](std::int64_t i) { return double(z_[i]) >= t; });
}

void CandidateSet::keep_weight_at_least(double threshold) {
    ensure_weights();
    const float wmax = numerics::row_max(w_.data(), n_);
    const double t = std::min(threshold, double(wmax));
    keep_if([&](std::int64_t i) { return (w_[i] > 0.0f) & (double(w_[i]) >= t); });
}

void CandidateSet::compact() {
    // Stable: candidate i moves to slot k <= i, the number kept before it. With AVX2, a group of
    // eight is packed by one permutation per array (written whole: the lanes past the kept ones
    // land on slots that are read already, or rewritten later).
    const std::int32_t* m = mask_.data();
    std::int32_t* id = id_.data();
    float* z = z_.data();
    float* w = w_.data();
    std::int64_t k = 0, i = 0;
#if OURO_HAVE_AVX2
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (; i + 8 <= n_; i += 8) {
        const int bits = mask_bits(m + i);
        if (bits == 0)
            continue;
        const __m256i perm =
            _mm256_load_si256(reinterpret_cast<const __m256i*>(pack_table.lanes[bits]));
        const __m256i ids = dense_ ? _mm256_add_epi32(_mm256_set1_epi32(std::int32_t(i)), iota)
                                   : _mm256_loadu_si256(reinterpret_cast<const __m256i*>(id + i));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(id + k),
                            _mm256_permutevar8x32_epi32(ids, perm));
        _mm256_storeu_ps(z + k, _mm256_permutevar8x32_ps(_mm256_loadu_ps(z + i), perm));
        _mm256_storeu_ps(w + k, _mm256_permutevar8x32_ps(_mm256_loadu_ps(w + i), perm));
        k += std::popcount(unsigned(bits));
    }
#endif
    for (; i < n_; ++i) {
        id[k] = dense_ ? std::int32_t(i) : id[i];
        z[k] = z[i];
        w[k] = w[i];
        k += m[i] != 0;
    }
    if (k == n_ && !dense_)
        return;
    n_ = k;
    dense_ = false;
    positions_valid_ = false;
    sum_valid_ = false;
    max_valid_ = false;
}

void CandidateSet::sort_by_logit() {
    for (std::int64_t i = 0; i < n_; ++i)
        keyed_[i] = {-double(z_[i]), z_[i], w_[i], id(i)};
    std::sort(keyed_.begin(), keyed_.begin() + n_, KeyThenId{});
    for (std::int64_t i = 0; i < n_; ++i) {
        z_[i] = keyed_[i].z;
        w_[i] = keyed_[i].w;
        id_[i] = keyed_[i].id;
    }
    sorted_ = true;
    dense_ = false;
    positions_valid_ = false;
}

float CandidateSet::kth_largest_logit(std::int64_t k) {
    // A min-heap of the k largest finite logits seen so far; most logits lose to its top at once.
    float* h = heap_.data();
    std::int64_t m = 0;
    const std::greater<float> later;
    const auto offer = [&](float z) {
        if (m < k) {
            if (z > -inf) {
                h[m++] = z;
                std::push_heap(h, h + m, later);
            }
        } else if (z > h[0]) {
            std::pop_heap(h, h + m, later);
            h[m - 1] = z;
            std::push_heap(h, h + m, later);
        }
    };
    const float* z = z_.data();
    std::int64_t i = 0;
    for (; i < n_ && m < k; ++i)
        offer(z[i]);
#if OURO_HAVE_AVX2
    // Once the heap is full, a group of eight that cannot beat its top is skipped whole.
    for (; i + 8 <= n_; i += 8) {
        const __m256 beat = _mm256_cmp_ps(_mm256_loadu_ps(z + i), _mm256_set1_ps(h[0]), _CMP_GT_OQ);
        if (_mm256_movemask_ps(beat) != 0)
            for (std::int64_t j = i; j < i + 8; ++j)
                offer(z[j]);
    }
#endif
    for (; i < n_; ++i)
        offer(z[i]);
    return m < k ? std::numeric_limits<float>::lowest() : h[0];
}

template <typename Key, typename Bin>
double CandidateSet::cut(Key key, Bin bin_of, std::int64_t count, double target) {
    // The key of the candidate, in increasing (key, id) order over the finite keys, at which the
    // running count reaches `count` (when > 0) or the running w reaches `target`; the candidates
    // to keep are then those with key <= the answer. +inf when neither is reached. bin_of(i) is
    // in [0, bins), non-decreasing in key(i), or -1 exactly where key(i) = +inf.
    constexpr double none = std::numeric_limits<double>::infinity();
    const bool by_mass = target < none;
    auto crossed = [&](std::int64_t c, double m) {
        return (count > 0 && c >= count) || (by_mass && m >= target);
    };
    // Sorts keyed_[0, len) and walks it from the running count c and mass m; the last key when
    // the targets are never reached (everything stays).
    auto walk = [&](std::int64_t len, std::int64_t c, double m) {
        std::sort(keyed_.begin(), keyed_.begin() + len, KeyThenId{});
        for (std::int64_t j = 0; j < len; ++j) {
            ++c;
            m += keyed_[j].w;
            if (crossed(c, m))
                return keyed_[j].key;
        }
        return len > 0 ? keyed_[len - 1].key : none;
    };
    if (n_ <= small_list) {
        std::int64_t len = 0;
        for (std::int64_t i = 0; i < n_; ++i) {
            const double k = key(i);
            if (k < none)
                keyed_[len++] = {k, z_[i], w_[i], id(i)};
        }
        return walk(len, 0, 0.0);
    }
    // Long list: a histogram of the keys finds the bin where the walk crosses; only that bin is
    // sorted. The bins go to mask_ in a loop that vectorises; they follow the key order.
    std::int32_t* bin = mask_.data();
    for (std::int64_t i = 0; i < n_; ++i)
        bin[i] = bin_of(i);
    // Counts only when a count limits the walk, masses only when a mass does. Masses go to two
    // histograms, even and odd candidates, added bin by bin after: neighbours that share a bin
    // then do not wait on each other's store.
    bin_count_.fill(0);
    bin_mass_.fill(0.0);
    if (count > 0)
        for (std::int64_t i = 0; i < n_; ++i)
            if (const std::int32_t b = bin[i]; b >= 0)
                ++bin_count_[std::size_t(b)];
    if (by_mass) {
        std::array<double, bins>& odd = bin_mass_odd_;
        odd.fill(0.0);
        const float* w = w_.data();
        std::int64_t i = 0;
        for (; i + 2 <= n_; i += 2) {
            const std::int32_t b0 = bin[i], b1 = bin[i + 1];
            if (b0 >= 0)
                bin_mass_[std::size_t(b0)] += double(w[i]);
            if (b1 >= 0)
                odd[std::size_t(b1)] += double(w[i + 1]);
        }
        if (i < n_ && bin[i] >= 0)
            bin_mass_[std::size_t(bin[i])] += double(w[i]);
        for (int b = 0; b < bins; ++b)
            bin_mass_[std::size_t(b)] += odd[std::size_t(b)];
    }
    std::int64_t c = 0;
    double m = 0.0;
    int cross = 0;
    for (; cross < bins && !crossed(c + bin_count_[cross], m + bin_mass_[cross]); ++cross) {
        c += bin_count_[cross];
        m += bin_mass_[cross];
    }
    if (cross == bins)
        return none;
    std::int64_t len = 0;
    for_each_equal(bin, n_, cross, [&](std::int64_t i) {
        keyed_[len++] = {key(i), z_[i], w_[i], id(i)};
    });
    return walk(len, c, m);
}

void CandidateSet::keep_mass_superset(double target) {
    // The mass within 1, 2, 4, 8 and 16 of the largest logit, in one vectorised pass with float
    // sums. They only choose a set that surely holds the answer, so a margin covers their
    // rounding (at most n * 2^-24 of S each): the first level whose mass exceeds the target by
    // the margin holds every candidate the walk can reach, with the same running sums.
    const float zmax = max_logit();
    const float* z = z_.data();
    const float* w = w_.data();
    constexpr int levels = 5;
    constexpr float depth[levels] = {1.0f, 2.0f, 4.0f, 8.0f, 16.0f};
    float held[levels] = {};
    std::int64_t i = 0;
#if OURO_HAVE_AVX2
    __m256 acc[levels];
    for (__m256& a : acc)
        a = _mm256_setzero_ps();
    const __m256 top = _mm256_set1_ps(zmax);
    for (; i + 8 <= n_; i += 8) {
        const __m256 d = _mm256_sub_ps(top, _mm256_loadu_ps(z + i));
        const __m256 wi = _mm256_loadu_ps(w + i);
        for (int l = 0; l < levels; ++l)
            acc[l] = _mm256_add_ps(
                acc[l], _mm256_and_ps(_mm256_cmp_ps(d, _mm256_set1_ps(depth[l]), _CMP_LE_OQ), wi));
    }
    for (int l = 0; l < levels; ++l) {
        alignas(32) float lanes[8];
        _mm256_store_ps(lanes, acc[l]);
        for (const float v : lanes)
            held[l] += v;
    }
#endif
    for (; i < n_; ++i)
        for (int l = 0; l < levels; ++l)
            held[l] += zmax - z[i] <= depth[l] ? w[i] : 0.0f;
    const double margin = 1e-3 + 2.0 * double(n_) * 0x1.0p-24;
    const double needed = target + margin * sum_;
    for (int l = 0; l < levels; ++l)
        if (double(held[l]) >= needed) {
            const float d = depth[l];
            keep_if([=](std::int64_t j) { return zmax - z[j] <= d; });
            return;
        }
}

void CandidateSet::keep_top(std::int64_t count, double mass) {
    const bool by_mass = mass < 1.0;
    if (count <= 0 && !by_mass) {
        keep_if([&](std::int64_t i) { return z_[i] > -inf; });
        return;
    }
    double target = std::numeric_limits<double>::infinity();
    if (by_mass) {
        ensure_weights();
        target = mass * sum_;
    }
    if (!sorted_ && count > 0 && count <= heap_limit && n_ > 4 * count) {
        // A small count: the k-th largest logit by a heap, then the list is short.
        const float kth = kth_largest_logit(count);
        keep_if([&](std::int64_t i) { return z_[i] >= kth; });
    }
    if (!sorted_ && n_ > small_list && by_mass)
        keep_mass_superset(target);
    if (!sorted_ && n_ > small_list) {
        // Key -z; bins by the distance below the largest logit, those 32 or more below
        // (w < e^-32) sharing the last. Float arithmetic rounds, but monotonically.
        const float zmax = max_logit();
        const float scale = float(bins) / 32.0f;
        const float* z = z_.data();
        const double cut_key = cut([z](std::int64_t i) { return -double(z[i]); },
                                   [=](std::int64_t i) {
                                       const float d =
                                           std::min((zmax - z[i]) * scale, float(bins - 1));
                                       return z[i] > -inf ? int(d) : -1;
                                   },
                                   count, target);
        // Keep z >= the crossing logit (exactly -cut_key), or every finite one.
        const float z_cut = cut_key < std::numeric_limits<double>::infinity()
                                ? float(-cut_key)
                                : std::numeric_limits<float>::lowest();
        keep_if([z, z_cut](std::int64_t i) { return z[i] >= z_cut; });
        return;
    }
    if (!sorted_)
        sort_by_logit();
    // The list is sorted: walk its prefix, then extend over the ties of the last kept logit.
    std::int64_t end = 0;
    double cum = 0.0;
    bool crossed = false;
    for (; end < n_ && z_[end] > -inf; ++end) {
        cum += by_mass ? double(w_[end]) : 0.0;
        if ((count > 0 && end + 1 >= count) || cum >= target) {
            crossed = true;
            break;
        }
    }
    if (crossed) {
        const float last = z_[end];
        for (++end; end < n_ && z_[end] == last; ++end) {
        }
    }
    if (end != n_) {
        n_ = end;
        positions_valid_ = false;
        sum_valid_ = false;
    }
}

void CandidateSet::keep_nearest(double centre, double mass) {
    if (!(mass < 1.0)) {
        keep_if([&](std::int64_t i) { return z_[i] > -inf; });
        return;
    }
    ensure_weights();
    // Key |z - centre| (+inf for banned tokens); distances of 32 or more share the last bin.
    const float* z = z_.data();
    const auto distance = [z, centre](std::int64_t i) { return std::abs(centre - double(z[i])); };
    const double scale = double(bins) / 32.0;
    const double cut_key = cut(
        distance,
        [=](std::int64_t i) {
            const double d = std::min(distance(i) * scale, bins - 1.0);
            return z[i] > -inf ? int(d) : -1;
        },
        0, mass * sum_);
    keep_if([=](std::int64_t i) { return (distance(i) <= cut_key) & (z[i] > -inf); });
}

std::int64_t CandidateSet::draw(double u) {
    ensure_weights();
    const double target = u * sum_;
    // Skip whole blocks by their sums, then walk the block where the running sum crosses.
    double cum = 0.0;
    std::int64_t b = 0, begin = 0;
    for (; begin + block < n_ && cum + block_sum_[b] <= target; ++b, begin += block)
        cum += block_sum_[b];
    std::int64_t last = -1;
    for (std::int64_t i = begin; i < n_; ++i) {
        if (!(w_[i] > 0.0f))
            continue;
        cum += double(w_[i]);
        last = i;
        if (cum > target)
            return i;
    }
    // Rounding left the running sum at or below u * S: take the last possible candidate.
    if (last < 0)
        for (std::int64_t i = begin - 1; i >= 0 && last < 0; --i)
            if (w_[i] > 0.0f)
                last = i;
    // S > 0 (ensure_weights checks it), so some w > 0 and a candidate was found: never -1.
    if (last < 0)
        throw ConfigError("sampler: no token left to choose: every logit is -inf");
    return last;
}

} // namespace ouro::gen
