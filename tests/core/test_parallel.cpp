// core/parallel.hpp: the thread-count setters and their guard, carrying an exception out of a
// parallel region, and the fixed reduction chunk that makes sums bit-identical at 1 and 2 threads.
#include <ouro/core/error.hpp>
#include <ouro/core/parallel.hpp>

#include <doctest/doctest.h>

#include <omp.h>

#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

using namespace ouro;

namespace {

// A sum over x in the house's fixed-order scheme: partial sums over detail::reduction_chunk
// elements, in parallel, then added in chunk order.
double chunked_sum(const std::vector<float>& x) {
    const auto n = std::int64_t(x.size());
    const std::int64_t chunks = (n + detail::reduction_chunk - 1) / detail::reduction_chunk;
    std::vector<double> partial(std::size_t(chunks), 0.0);
#pragma omp parallel for schedule(static)
    for (std::int64_t c = 0; c < chunks; ++c) {
        const std::int64_t end = std::min(n, (c + 1) * detail::reduction_chunk);
        double s = 0.0;
        for (std::int64_t i = c * detail::reduction_chunk; i < end; ++i)
            s += double(x[std::size_t(i)]);
        partial[std::size_t(c)] = s;
    }
    double total = 0.0;
    for (double s : partial)
        total += s;
    return total;
}

// Threads a parallel region actually runs with.
int threads_in_region() {
    int n = 0;
#pragma omp parallel
    {
#pragma omp single
        n = omp_get_num_threads();
    }
    return n;
}

} // namespace

TEST_SUITE("core") {
    TEST_CASE("thread count") {
        SUBCASE("set_num_threads sets the count of later regions and makes it explicit") {
            const ThreadCountGuard restore(num_threads()); // leave the suite's count as it was
            set_num_threads(2);
            CHECK(num_threads() == 2);
            CHECK(threads_in_region() == 2);
            CHECK(detail::thread_count_explicit());
            set_num_threads(1);
            CHECK(threads_in_region() == 1);
        }
        SUBCASE("ThreadCountGuard restores the count and whether it was explicit") {
            const int before = num_threads();
            detail::restore_num_threads(before, false);
            {
                const ThreadCountGuard guard(before + 1);
                CHECK(num_threads() == before + 1);
                CHECK(detail::thread_count_explicit());
                {
                    const ThreadCountGuard inner(1);
                    CHECK(num_threads() == 1);
                }
                CHECK(num_threads() == before + 1);
                CHECK(detail::thread_count_explicit());
            }
            CHECK(num_threads() == before);
            CHECK_FALSE(detail::thread_count_explicit());
        }
        SUBCASE("rejects counts below 1 and keeps the previous count") {
            const ThreadCountGuard restore(3);
            CHECK_THROWS_WITH_AS(set_num_threads(0),
                                 "set_num_threads: thread count must be at least 1, got 0",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(ThreadCountGuard(-2),
                                 "set_num_threads: thread count must be at least 1, got -2",
                                 ConfigError);
            CHECK(num_threads() == 3);
        }
    }

    TEST_CASE("ParallelErrors") {
        SUBCASE("carries the first exception out of a parallel region") {
            const ThreadCountGuard two(2);
            ParallelErrors errors;
#pragma omp parallel for schedule(static)
            for (int i = 0; i < 64; ++i) {
                try {
                    if (i == 40)
                        throw ConfigError("item " + std::to_string(i) + " is bad");
                } catch (...) {
                    errors.capture();
                }
            }
            CHECK_THROWS_WITH_AS(errors.rethrow(), "item 40 is bad", ConfigError);
        }
        SUBCASE("keeps only the first of several") {
            ParallelErrors errors;
            try {
                throw std::runtime_error("first");
            } catch (...) {
                errors.capture();
            }
            try {
                throw ShapeError("second");
            } catch (...) {
                errors.capture();
            }
            CHECK_THROWS_WITH_AS(errors.rethrow(), "first", std::runtime_error);
        }
        SUBCASE("rethrows nothing when nothing was captured") {
            const ParallelErrors errors;
            CHECK_NOTHROW(errors.rethrow());
        }
    }

    TEST_CASE("reduction_chunk") {
        SUBCASE("a chunked sum is bit-identical at 1 and 2 threads") {
            // Over several chunks, with values whose float sum depends on the order of addition.
            CHECK(detail::reduction_chunk == 4096);
            std::vector<float> x(3 * 4096 + 17);
            for (std::size_t i = 0; i < x.size(); ++i)
                x[i] = float(std::sin(double(i)) * std::pow(10.0, double(i % 7) - 3.0));
            double one, two;
            {
                const ThreadCountGuard guard(1);
                one = chunked_sum(x);
            }
            {
                const ThreadCountGuard guard(2);
                two = chunked_sum(x);
            }
            CHECK(std::memcmp(&one, &two, sizeof one) == 0);
        }
    }
}
