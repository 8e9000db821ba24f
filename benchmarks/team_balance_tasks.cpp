// Tasks of known cost for the team-balance tool's test (test_team_balance.cmake): on a team of 4
// threads, the shape of run_concurrently with decodes inside (lib/gen/sequence_jobs.cpp): one
// thread creates 2 piece tasks; each piece runs 5 ms, creates 4 job tasks of 20 ms, waits for
// them, then runs 5 ms more. Costs are CPU time, spun on the thread's own clock, so they hold on
// any machine however loaded. On 4 threads: the pieces 0-5 ms, the 8 jobs 5-45 ms (two rounds of
// 4), the pieces' ends 45-50 ms: 180 ms of work on a critical path of 50 ms (3.6 threads busy).
// Without the tool the program just runs. Usage: ouro_team_balance_tasks
#include <dlfcn.h>
#include <omp.h>
#include <time.h>

#include <cstdio>

namespace {

double thread_cpu_ms() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return 1e3 * double(ts.tv_sec) + 1e-6 * double(ts.tv_nsec);
}

// Uses `ms` milliseconds of this thread's CPU time.
void spin(double ms) {
    const double end = thread_cpu_ms() + ms;
    volatile double sink = 0.0;
    while (thread_cpu_ms() < end)
        for (int i = 0; i < 1000; ++i)
            sink = sink + 1.0;
}

} // namespace

int main() {
    using Window = void (*)(const char*, int);
    Window window = nullptr;
    if (void* p = dlsym(RTLD_DEFAULT, "ouro_team_balance_window"))
        window = reinterpret_cast<Window>(p);
    if (window)
        window("tasks", 1);
#pragma omp parallel num_threads(4)
    {
#pragma omp single
        for (int piece = 0; piece < 2; ++piece) {
#pragma omp task default(none)
            {
                spin(5.0);
                for (int job = 0; job < 4; ++job) {
#pragma omp task default(none)
                    spin(20.0);
                }
#pragma omp taskwait
                spin(5.0);
            }
        }
    }
    if (window)
        window("tasks", 0);
    std::printf("done\n");
    return 0;
}
