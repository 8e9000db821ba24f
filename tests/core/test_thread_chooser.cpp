#include <ouro/core/parallel.hpp>
#include <ouro/core/thread_chooser.hpp>

#include <doctest/doctest.h>

#include <omp.h>

#include <cstdint>
#include <vector>

using namespace ouro;

namespace {

// Runs `runs` runs of one unit each through the chooser, the team taking `team_time` and one
// thread `one_time` per unit; returns the total time.
double simulate(ThreadChooser& chooser, int runs, double team_time, double one_time) {
    double total = 0.0;
    for (int i = 0; i < runs; ++i) {
        const double t = chooser.next() == 1 ? one_time : team_time;
        chooser.record(t, 1);
        total += t;
    }
    return total;
}

// The default count, not an explicit one, for the guard's lifetime (restored after).
struct DefaultCount {
    explicit DefaultCount(int n) : guard(n) { detail::restore_num_threads(n, false); }
    ThreadCountGuard guard;
};

} // namespace

TEST_SUITE("core") {
    TEST_CASE("ThreadChooser keeps the faster of the team and one thread") {
        const DefaultCount count(2);
        SUBCASE("a team twice as fast is chosen, and probes cost little") {
            ThreadChooser chooser(0, 0.0);
            CHECK(chooser.team() == 2);
            CHECK(chooser.next() == 1); // one thread first
            const double total = simulate(chooser, 2000, 0.5, 1.0);
            CHECK(chooser.next() == 2);
            CHECK(total < 1.01 * 2000 * 0.5 + 4.0); // under 1% above the team's time
            CHECK(chooser.probes() < 20);
        }
        SUBCASE("a team ten times slower (a busy core) is left after one probe") {
            ThreadChooser chooser(0, 0.0);
            const double total = simulate(chooser, 2000, 10.0, 1.0);
            CHECK(chooser.next() == 1);
            CHECK(total < 1.04 * 2000 * 1.0 + 10.0);
            CHECK(chooser.probes() <= 8);
        }
        SUBCASE("the choice follows a change of load") {
            ThreadChooser chooser(0, 0.0);
            simulate(chooser, 500, 0.5, 1.0);
            CHECK(chooser.next() == 2);
            simulate(chooser, 5000, 10.0, 1.0); // another program takes a core
            CHECK(chooser.next() == 1);
            simulate(chooser, 20000, 0.5, 1.0); // and leaves
            CHECK(chooser.next() == 2);
        }
        SUBCASE("on busy cores the first probe waits until it costs under 1%") {
            ThreadChooser chooser(0, 0.1);
            simulate(chooser, 9900, 0.5, 0.001); // 9.9 s of work
            CHECK(chooser.probes() == 0);
            simulate(chooser, 1000, 0.5, 0.001);
            CHECK(chooser.probes() == 1);
            CHECK(chooser.next() == 1);
        }
        SUBCASE("runs of different sizes are not compared") {
            ThreadChooser chooser(0, 0.0);
            chooser.record(1.0, 1);     // one thread, one unit
            chooser.record(1.0, 1);     // one thread
            CHECK(chooser.next() == 2); // the probe
            chooser.record(64.0, 100);  // a prompt of 100 rows: faster per row, but not comparable
            CHECK(chooser.next() == 2); // probed again
            CHECK(chooser.probes() == 0);
            chooser.record(2.0, 1); // slower per row than one thread
            CHECK(chooser.probes() == 1);
            CHECK(chooser.next() == 1);
        }
    }

    TEST_CASE("ThreadChooser obeys an explicit thread count") {
        const ThreadCountGuard guard(2);
        ThreadChooser chooser;
        for (int i = 0; i < 50; ++i) {
            CHECK(chooser.next() == 2);
            chooser.record(i % 2 ? 100.0 : 1.0, 1);
        }
        CHECK(chooser.probes() == 0);
        const ThreadCountGuard three(3);
        CHECK(chooser.next() == 3);
    }

    TEST_CASE("ChosenThreads sets the count for its scope and times it") {
        const DefaultCount count(2);
        ThreadChooser chooser(0, 0.0);
        {
            const ChosenThreads chosen(chooser, 1);
            CHECK(chosen.threads() == 1);
            CHECK(num_threads() == 1);
        }
        CHECK(num_threads() == 2);
        CHECK_FALSE(detail::thread_count_explicit());
    }

    TEST_CASE("ChosenThreads inside a parallel region: one thread, nothing recorded") {
        const DefaultCount count(2);
        // A chooser that would try the team on its second run.
        ThreadChooser chooser(0, 0.0);
        std::vector<int> chosen(2, -1);
#pragma omp parallel num_threads(2)
        {
            for (int run = 0; run < 20; ++run) {
                const ChosenThreads scope(chooser, 1);
                chosen[std::size_t(omp_get_thread_num())] = scope.threads();
            }
        }
        CHECK(chosen[0] == 1);
        CHECK(chosen[1] != 2);
        CHECK(chooser.probes() == 0);
        // Outside, the chooser starts from scratch: one thread, then a probe of the team.
        { const ChosenThreads first(chooser, 1); }
        { const ChosenThreads second(chooser, 1); }
        const ChosenThreads third(chooser, 1);
        CHECK(third.threads() == 2);
    }
}
