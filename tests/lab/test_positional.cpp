#include <ouro/core/error.hpp>
#include <ouro/lab/positional.hpp>

#include <doctest/doctest.h>

using namespace ouro;
using namespace ouro::lab;
using Values = std::vector<std::vector<double>>;

TEST_SUITE("lab") {
    TEST_CASE("means by position and by window") {
        // s0 = 1 2 3 4 5, s1 = 3 6, s2 = 2
        const Values v = {{1, 2, 3, 4, 5}, {3, 6}, {2}};
        SUBCASE("by position, ignoring positions a sequence lacks") {
            // t0: (1 + 3 + 2) / 3 = 2; t1: (2 + 6) / 2 = 4; t2: 3; t3: 4; t4: 5
            const PositionMeans m = mean_by_position(v);
            CHECK(m.mean == std::vector<double>{2, 4, 3, 4, 5});
            CHECK(m.count == std::vector<std::int64_t>{3, 2, 1, 1, 1});
        }
        SUBCASE("by window, pooling every value in it") {
            // window 2: w0 = positions 0, 1: 1 2 | 3 6 | 2 -> 14 / 5 = 2.8 (token-weighted;
            //   the mean of the two position means would be (2 + 4) / 2 = 3)
            //   w1 = positions 2, 3: 3 4 -> 3.5; w2 = position 4: 5 -> 5
            const WindowMeans w = mean_by_window(v, 2);
            CHECK(w.window == 2);
            CHECK(w.mean == std::vector<double>{2.8, 3.5, 5});
            CHECK(w.count == std::vector<std::int64_t>{5, 2, 1});
            CHECK(w.begin(2) == 4);
            // window 3: w0 = 1 2 3 | 3 6 | 2 -> 17 / 6; w1 = 4 5 -> 4.5
            const WindowMeans w3 = mean_by_window(v, 3);
            CHECK(w3.mean[0] == doctest::Approx(17.0 / 6.0).epsilon(1e-15));
            CHECK(w3.mean[1] == 4.5);
            CHECK(w3.count == std::vector<std::int64_t>{6, 2});
            // A window longer than every sequence: one window holding everything,
            // (15 + 9 + 2) / 8 = 3.25.
            const WindowMeans all = mean_by_window(v, 100);
            CHECK(all.mean == std::vector<double>{3.25});
            // window 1 is the per-position mean.
            CHECK(mean_by_window(v, 1).mean == mean_by_position(v).mean);
        }
        SUBCASE("edge cases") {
            CHECK(mean_by_position(Values{}).mean.empty());
            CHECK(mean_by_position(Values{{}, {}}).count.empty());
            CHECK(mean_by_window(Values{}, 4).mean.empty());
            CHECK(mean_by_window(Values{{}, {}}, 4).count.empty());
        }
        SUBCASE("rejects bad arguments") {
            CHECK_THROWS_WITH_AS(mean_by_window(v, 0),
                                 "mean_by_window: window must be at least 1, got 0", ConfigError);
        }
    }
}
