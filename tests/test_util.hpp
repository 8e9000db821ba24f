// Helpers shared by the tests: random tensors from a seed, closeness with absolute + relative
// tolerances, bitwise equality.
#pragma once

#include <ouro/core/isa.hpp>
#include <ouro/core/parallel.hpp>
#include <ouro/core/rng.hpp>
#include <ouro/core/tensor.hpp>
#include <ouro/nn/gpt_config.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <unistd.h>
#include <vector>

namespace ouro::testing {

/// The tiny GPT that the save/load tests use: vocabulary 13, context 8, 2 layers of 2 heads, width
/// 8 (GPT-2 blocks, learned positions).
inline nn::GPTConfig tiny_gpt() {
    return nn::GPTConfig::gpt2(13, 8, 2, 2, 8);
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

/// The instruction-set paths this CPU can run: AVX2 always, AVX-512 where the CPU has it.
inline std::vector<Isa> runnable_paths() {
    std::vector<Isa> paths{Isa::avx2};
    if (cpu_supports(Isa::avx512))
        paths.push_back(Isa::avx512);
    return paths;
}

/// True when both tensors have the same shape and the same bits.
template <typename T> bool bitwise_equal(const Tensor<T>& a, const Tensor<T>& b) {
    return a.shape() == b.shape() &&
           (a.numel() == 0 || std::memcmp(a.data(), b.data(), sizeof(T) * a.numel()) == 0);
}

/// Runs `run` at 1 and at 2 threads and checks that the tensors it returns (an op's output and
/// gradients, say) have the same bits both times: the house's rule that results never depend on
/// the thread count.
template <typename Run> void check_same_bits_at_1_and_2_threads(Run&& run) {
    const auto at = [&](int threads) {
        const ThreadCountGuard guard(threads);
        return run();
    };
    const auto one = at(1), two = at(2);
    REQUIRE(one.size() == two.size());
    for (std::size_t i = 0; i < one.size(); ++i) {
        INFO("result " << i << " of " << one.size());
        CHECK(bitwise_equal(one[i], two[i]));
    }
}

/// The largest team the thread-count tests run. Under AddressSanitizer clang's libomp leaks when a
/// team of more than 4 threads is followed by a smaller one (LeakSanitizer fails the test), so that
/// build stops at 4; the Release run keeps 8.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr int largest_team = 4;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr int largest_team = 4;
#else
inline constexpr int largest_team = 8;
#endif
#else
inline constexpr int largest_team = 8;
#endif

/// run() (a vector of tensors) with teams of 2, 3, 4 and largest_team threads gives the bits it
/// gives with one: teams larger than the tiles a product is cut into make the GEMM cut more (one
/// tile per thread on the AVX-512 path, pieces of tiles on the AVX2 path).
template <typename Run> void check_same_bits_for_teams(const Run& run) {
    decltype(run()) one;
    {
        const ThreadCountGuard threads(1);
        one = run();
    }
    std::vector<int> teams{2, 3, 4};
    if (largest_team > 4)
        teams.push_back(largest_team);
    for (const int n : teams) {
        CAPTURE(n);
        const ThreadCountGuard threads(n);
        const decltype(run()) r = run();
        REQUIRE(r.size() == one.size());
        for (std::size_t i = 0; i < r.size(); ++i) {
            INFO("result " << i << " of " << r.size());
            CHECK(bitwise_equal(r[i], one[i]));
        }
    }
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

/// The paths of `relatives` inside the shared data folder; or, when one of them is not there, an
/// empty list after a MESSAGE that the test skipped and why.
inline std::vector<std::filesystem::path>
shared_data_or_skip(std::initializer_list<std::string> relatives) {
    std::vector<std::filesystem::path> paths;
    std::string missing;
    for (const std::string& r : relatives) {
        paths.push_back(shared_data(r));
        if (paths.back().empty())
            missing += (missing.empty() ? "" : ", ") + r;
    }
    if (missing.empty())
        return paths;
    MESSAGE("skipped: " << missing << " not found under the shared data folder (OURO_SHARED_DATA)");
    return {};
}

/// shared_data_or_skip for one file: its path, or an empty one after the MESSAGE.
inline std::filesystem::path shared_data_or_skip(const std::string& relative) {
    const auto paths = shared_data_or_skip({relative});
    return paths.empty() ? std::filesystem::path() : paths[0];
}

inline void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), std::streamsize(bytes.size()));
}

/// A safetensors file's bytes: the 8-byte little-endian length of `json`, `json`, then
/// `data_bytes` zero bytes.
inline std::string safetensors_bytes(const std::string& json, std::size_t data_bytes) {
    std::string out(8, '\0');
    const std::uint64_t n = json.size();
    std::memcpy(out.data(), &n, 8);
    return out + json + std::string(data_bytes, '\0');
}

inline std::string read_bytes(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

} // namespace ouro::testing
