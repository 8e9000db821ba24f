// Helpers shared by the tests: random tensors from a seed, closeness with absolute + relative
// tolerances, bitwise equality.
#pragma once

#include <ouro/core/rng.hpp>
#include <ouro/core/tensor.hpp>
#include <ouro/nn/gpt_config.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

namespace ouro::testing {

/// The tiny GPT that the save/load tests use: vocabulary 13, context 8, 2 layers of 2 heads, width
/// 8 (GPT-2 blocks, learned positions).
inline nn::GPTConfig tiny_gpt() {
    nn::GPTConfig c;
    c.vocab_size = 13;
    c.block_size = 8;
    c.n_layer = 2;
    c.n_head = 2;
    c.n_embd = 8;
    return c;
}

/// A (2, 8) batch of token ids drawn uniformly below V.
inline TensorI token_batch(Rng& rng, std::int64_t V) {
    TensorI idx({2, 8});
    for (auto& v : idx.values())
        v = std::int32_t(rng.below(std::uint64_t(V)));
    return idx;
}

/// A tensor of the given shape with values uniform in [lo, hi).
template <typename T>
Tensor<T> random_tensor(const Shape& shape, Rng& rng, double lo = -1.0, double hi = 1.0) {
    Tensor<T> t(shape);
    for (std::int64_t i = 0; i < t.numel(); ++i)
        t[i] = T(lo + (hi - lo) * rng.uniform());
    return t;
}

/// Index of the first element where |a - b| > atol + rtol * |b|, or -1 when all are close.
template <typename T>
std::int64_t first_not_close(const Tensor<T>& a, const Tensor<T>& b, double atol, double rtol) {
    for (std::int64_t i = 0; i < a.numel(); ++i) {
        const double x = double(a[i]), y = double(b[i]);
        if (!(std::abs(x - y) <= atol + rtol * std::abs(y)))
            return i;
    }
    return -1;
}

/// Checks shapes equal and every element close; reports the first element that is not.
template <typename T>
void check_close(const Tensor<T>& actual, const Tensor<T>& expected, double atol, double rtol) {
    REQUIRE(actual.shape().to_string() == expected.shape().to_string());
    const std::int64_t i = first_not_close(actual, expected, atol, rtol);
    INFO("element " << i << ": actual " << (i >= 0 ? double(actual[i]) : 0.0) << ", expected "
                    << (i >= 0 ? double(expected[i]) : 0.0));
    CHECK(i == -1);
}

/// True when both tensors have the same shape and the same bits.
template <typename T> bool bitwise_equal(const Tensor<T>& a, const Tensor<T>& b) {
    return a.shape() == b.shape() &&
           (a.numel() == 0 || std::memcmp(a.data(), b.data(), sizeof(T) * a.numel()) == 0);
}

} // namespace ouro::testing

namespace ouro::testing {

/// Checks that fn() throws E whose message is exactly `message` (for messages that contain
/// run-time parts such as temporary paths; CHECK_THROWS_WITH_AS needs a literal).
template <typename E, typename F> void check_throws_message(F&& fn, const std::string& message) {
    try {
        fn();
        FAIL("no exception thrown; expected: " << message);
    } catch (const E& e) {
        CHECK(std::string(e.what()) == message);
    }
}

} // namespace ouro::testing

namespace ouro::testing {

/// A fresh directory under the system's temporary directory, removed with everything in it.
class TempDir {
public:
    TempDir() {
        static std::atomic<int> counter{0};
        path_ = std::filesystem::temp_directory_path() /
                ("ouro-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        std::filesystem::remove_all(path_);
        std::filesystem::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

/// `relative` inside the shared data folder, or an empty path when this build has no shared data
/// folder or the file is not there (the caller then says that it skipped).
inline std::filesystem::path shared_data(const std::string& relative) {
#ifdef OURO_SHARED_DATA
    const std::filesystem::path p = std::filesystem::path(OURO_SHARED_DATA) / relative;
    if (std::filesystem::exists(p))
        return p;
#endif
    (void)relative;
    return {};
}

inline void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), std::streamsize(bytes.size()));
}

inline std::string read_bytes(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

} // namespace ouro::testing
