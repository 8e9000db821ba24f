// How a team of N threads would share the work, measured on a machine with fewer cores: a library
// preloaded into a program built with GCC (LD_PRELOAD), which wraps libgomp's entry to every
// parallel region (GOMP_parallel) and its explicit barriers (GOMP_barrier), and reads each team
// thread's CPU time (CLOCK_THREAD_CPUTIME_ID) for each stretch of the region between barriers.
//
// Why CPU time: with 16 threads on 2 cores the wall time of a region says nothing about how its
// work was split, but a thread's CPU time is its share of the work whatever the oversubscription
// (with OMP_WAIT_POLICY=passive a waiting thread sleeps instead of spinning). Between two barriers
// the team's time on N real cores is at least that of its busiest thread, so
//
//     critical path = serial time of the calling thread outside regions
//                     + sum over region stretches of the busiest thread's CPU time
//
// is an estimate of the time on N cores, leaving out what the oversubscribed run cannot show:
// memory bandwidth shared by N cores, and the cost of starting and joining the team (counted:
// "regions"). "used" = work / critical path of a region: how many of the N threads it kept busy.
// A dynamically scheduled loop (schedule(dynamic)) hands its chunks to whichever threads the few
// cores are running, so there each chunk's CPU time is kept and the chunks are dealt again, in
// order, each to the thread of the N that is free first, as N cores would.
//
// The program marks what to measure by calling `ouro_team_balance_window(label, 1)` and
// `(label, 0)`, found with dlsym (benchmarks/profile_train.cpp does, around its profiled steps),
// or OURO_TEAM_BALANCE_WINDOW=label makes the whole run one window; closing a window prints its
// report to stderr. Barriers (explicit, and ending a worksharing loop) end a stretch. Tasks are
// not followed: a task's time counts for the thread that ran it, which on few cores is chance.
// Regions started inside another region (nested) count as their thread's work. Regions are named by
// their outlined function (addr2line).
//
//   OMP_WAIT_POLICY=passive LD_PRELOAD=build/benchmarks/libouro_team_balance.so
//       build/benchmarks/ouro_profile_train S 3 16      (one command)
#include <dlfcn.h>
#include <omp.h>
#include <time.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace {

using RegionFn = void (*)(void*);
using GompParallel = void (*)(RegionFn, void*, unsigned, unsigned);
using GompBarrier = void (*)();

double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}
double wall_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

template <typename F> F real(const char* name) {
    static_assert(sizeof(F) == sizeof(void*));
    void* p = dlsym(RTLD_NEXT, name);
    if (p == nullptr) {
        std::fprintf(stderr, "team_balance: %s not found in the OpenMP runtime\n", name);
        return nullptr;
    }
    F f;
    __builtin_memcpy(&f, &p, sizeof f);
    return f;
}

// A chunk of a dynamically scheduled loop: which thread ran it depends on which threads this
// machine's cores were running, so its cost is kept to be dealt again as N cores would.
struct Chunk {
    std::size_t stretch;
    long first; // the chunk's first iteration: dynamic scheduling hands them out in this order
    double cost;
};

// One run of a region: each thread's CPU time per stretch between barriers, and the chunks of its
// dynamically scheduled loops.
struct Instance {
    RegionFn fn;
    void* data;
    std::vector<std::vector<double>> stretches; // [thread][stretch]
    std::vector<std::vector<Chunk>> chunks;     // [thread]
};

// What one thread is doing inside a region.
struct InRegion {
    Instance* instance = nullptr;
    double stretch_start = 0.0;
    bool in_chunk = false;
    long chunk_first = 0;
    double chunk_start = 0.0;
};
thread_local InRegion in_region;
// Regions this thread runs inside a measured one (a nested team of one): their barriers and loops
// are part of the outer stretch.
thread_local int nested_depth = 0;

struct RegionStats {
    std::int64_t calls = 0, stretches = 0;
    double work = 0.0, critical = 0.0;
    int team = 0;
    std::vector<std::vector<double>> per_call; // each call's time per thread on N cores
};

struct Window {
    bool open = false;
    std::string label;
    double wall_start = 0.0, serial = 0.0, last_exit = 0.0;
    std::map<RegionFn, RegionStats> regions;
};
std::mutex window_mutex;
// Built on first use: the whole-program window opens from a constructor, which may run before this
// file's other globals are initialised.
Window& the_window() {
    static Window w;
    return w;
}
thread_local bool window_owner = false;

void run_wrapped(void* p) {
    auto* instance = static_cast<Instance*>(p);
    const auto tid = std::size_t(omp_get_thread_num());
    in_region = {instance, thread_cpu_seconds()};
    instance->fn(instance->data);
    if (tid < instance->stretches.size())
        instance->stretches[tid].push_back(thread_cpu_seconds() - in_region.stretch_start);
    in_region = {};
}

// addr2line names for the regions' outlined functions (addresses relative to their module).
std::map<RegionFn, std::string> region_names(const std::vector<RegionFn>& fns) {
    std::map<RegionFn, std::string> names;
    for (RegionFn fn : fns) {
        void* address = nullptr;
        __builtin_memcpy(&address, &fn, sizeof address);
        Dl_info info{};
        char hex[32];
        std::snprintf(hex, sizeof hex, "%p", address);
        names[fn] = hex;
        if (dladdr(address, &info) == 0)
            continue;
        // The main program's module has no name here.
        const std::string module = info.dli_fname != nullptr && info.dli_fname[0] != '\0'
                                       ? info.dli_fname
                                       : "/proc/self/exe";
        const auto offset = std::uintptr_t(address) - std::uintptr_t(info.dli_fbase);
        char offset_hex[32];
        std::snprintf(offset_hex, sizeof offset_hex, "0x%jx", std::uintmax_t(offset));
        const std::string command =
            "addr2line -f -C -e '" + module + "' " + offset_hex + " 2>/dev/null";
        if (FILE* pipe = popen(command.c_str(), "r")) {
            char line[4096];
            if (std::fgets(line, sizeof line, pipe) != nullptr && line[0] != '?') {
                std::string name(line);
                name.erase(name.find_last_not_of("\n") + 1);
                names[fn] = name;
            }
            pclose(pipe);
        }
    }
    return names;
}

// A demangled outlined function shortened to what says where it is: the enclosing function
// without its parameters, and the clone suffix.
std::string short_name(std::string name) {
    const std::size_t clone = name.find(" [clone ");
    std::string suffix = clone == std::string::npos ? "" : name.substr(clone + 8);
    if (!suffix.empty() && suffix.back() == ']')
        suffix.pop_back();
    name = name.substr(0, clone);
    // Drop the parameter lists: everything between a '(' and its ')', at any depth.
    std::string out;
    int depth = 0;
    for (char c : name) {
        if (c == '(')
            ++depth;
        if (depth == 0)
            out += c;
        if (c == ')' && depth > 0 && --depth == 0)
            out += "()";
    }
    if (out.size() > 96)
        out = out.substr(0, 45) + " ... " + out.substr(out.size() - 46);
    return out + (suffix.empty() ? "" : " " + suffix);
}

void report(const Window& w, double wall) {
    double work = 0.0, critical = 0.0;
    std::int64_t calls = 0;
    int team = 0;
    std::vector<RegionFn> fns;
    for (const auto& [fn, s] : w.regions) {
        work += s.work;
        critical += s.critical;
        calls += s.calls;
        team = std::max(team, s.team);
        fns.push_back(fn);
    }
    const std::map<RegionFn, std::string> names = region_names(fns);
    // Largest loss first: the time a region adds to the critical path beyond an even split.
    std::sort(fns.begin(), fns.end(), [&](RegionFn a, RegionFn b) {
        const RegionStats &x = w.regions.at(a), &y = w.regions.at(b);
        return x.critical - x.work / x.team > y.critical - y.work / y.team;
    });
    std::fprintf(stderr,
                 "team balance, %s: teams of up to %d threads, %lld regions\n"
                 "  wall time of the window                 %10.1f ms (on this machine's cores)\n"
                 "  work: CPU time inside regions + serial %10.1f ms\n"
                 "  serial (calling thread outside regions) %10.1f ms\n"
                 "  critical path on %2d cores (estimate)    %10.1f ms = serial + the busiest "
                 "thread of each stretch\n"
                 "  work / critical path                    %10.2f\n",
                 w.label.c_str(), team, static_cast<long long>(calls), 1e3 * wall,
                 1e3 * (work + w.serial), 1e3 * w.serial, team, 1e3 * (critical + w.serial),
                 (work + w.serial) / (critical + w.serial));
    std::fprintf(stderr, "  %-100s %7s %10s %10s %6s %10s\n", "region (outlined function)", "calls",
                 "work ms", "critical", "used", "lost ms");
    for (RegionFn fn : fns) {
        const RegionStats& s = w.regions.at(fn);
        if (s.critical < 1e-3 * (critical + w.serial) * 0.01 && fns.size() > 25)
            continue; // under 0.001% of the path: noise in the table
        std::fprintf(stderr, "  %-100s %7lld %10.2f %10.2f %6.1f %10.2f\n",
                     short_name(names.at(fn)).c_str(), static_cast<long long>(s.calls),
                     1e3 * s.work, 1e3 * s.critical, s.critical > 0 ? s.work / s.critical : 0.0,
                     1e3 * (s.critical - s.work / s.team));
    }
    // OURO_TEAM_BALANCE_CALLS=N: each call of the N regions that lose the most, thread by thread,
    // as N cores would share it.
    const char* calls_env = std::getenv("OURO_TEAM_BALANCE_CALLS");
    const std::size_t shown = std::min<std::size_t>(
        fns.size(), calls_env != nullptr ? std::size_t(std::atoi(calls_env)) : 0);
    for (std::size_t i = 0; i < shown; ++i) {
        const RegionStats& s = w.regions.at(fns[i]);
        std::fprintf(stderr, "  calls of %s, ms per thread:\n",
                     short_name(names.at(fns[i])).c_str());
        for (std::size_t c = 0; c < s.per_call.size(); ++c) {
            std::fprintf(stderr, "    %3zu:", c);
            for (double t : s.per_call[c])
                std::fprintf(stderr, " %.2f", 1e3 * t);
            std::fprintf(stderr, "\n");
        }
    }
}

// A barrier ends a stretch: the time waiting in it is nobody's work.
template <typename Barrier> void at_barrier(const Barrier& barrier) {
    Instance* instance = nested_depth == 0 ? in_region.instance : nullptr;
    const auto tid = std::size_t(omp_get_thread_num());
    if (instance != nullptr && tid < instance->stretches.size())
        instance->stretches[tid].push_back(thread_cpu_seconds() - in_region.stretch_start);
    barrier();
    if (instance != nullptr)
        in_region.stretch_start = thread_cpu_seconds();
}

} // namespace

extern "C" {

// Opens (open != 0) or closes a measured window; closing prints its report.
__attribute__((visibility("default"))) void ouro_team_balance_window(const char* label, int open) {
    Window& w = the_window();
    const std::lock_guard lock(window_mutex);
    if (open) {
        w = Window{};
        w.open = true;
        w.label = label != nullptr ? label : "";
        w.wall_start = wall_seconds();
        w.last_exit = thread_cpu_seconds();
        window_owner = true;
        return;
    }
    if (!w.open)
        return;
    if (window_owner)
        w.serial += thread_cpu_seconds() - w.last_exit;
    w.open = false;
    window_owner = false;
    report(w, wall_seconds() - w.wall_start);
}

__attribute__((visibility("default"))) void GOMP_parallel(RegionFn fn, void* data,
                                                          unsigned num_threads, unsigned flags) {
    static const GompParallel next = real<GompParallel>("GOMP_parallel");
    Window& w = the_window();
    bool measured = false;
    {
        const std::lock_guard lock(window_mutex);
        measured = w.open && in_region.instance == nullptr;
        if (measured && window_owner)
            w.serial += thread_cpu_seconds() - w.last_exit;
    }
    if (!measured) {
        const bool nested = in_region.instance != nullptr;
        nested_depth += nested;
        next(fn, data, num_threads, flags);
        nested_depth -= nested;
        return;
    }
    const int team_size = num_threads > 0 ? int(num_threads) : omp_get_max_threads();
    Instance instance{fn, data, std::vector<std::vector<double>>(std::size_t(team_size)),
                      std::vector<std::vector<Chunk>>(std::size_t(team_size))};
    next(run_wrapped, &instance, num_threads, flags);
    const std::lock_guard lock(window_mutex);
    if (!w.open)
        return;
    // The bookkeeping below is the tool's, not the program's: the serial time restarts after it.
    struct RestartSerial {
        ~RestartSerial() {
            if (window_owner)
                the_window().last_exit = thread_cpu_seconds();
        }
    } restart;
    RegionStats& stats = w.regions[fn];
    ++stats.calls;
    std::size_t stretches = 0;
    int team = 0;
    for (const auto& t : instance.stretches)
        if (!t.empty()) {
            stretches = std::max(stretches, t.size());
            ++team;
        }
    stats.team = std::max(stats.team, team);
    // Each thread's time in this call, as N cores would share it (chunks dealt again).
    std::vector<double>& threads = stats.per_call.emplace_back(std::size_t(team), 0.0);
    stats.stretches += std::int64_t(stretches);
    for (std::size_t k = 0; k < stretches; ++k) {
        // Each thread's own work in the stretch (outside dynamically dealt chunks) ...
        std::vector<double> busy(std::size_t(team), 0.0);
        std::vector<Chunk> dealt;
        std::size_t t = 0;
        for (std::size_t i = 0; i < instance.stretches.size(); ++i) {
            if (instance.stretches[i].empty())
                continue;
            if (k < instance.stretches[i].size()) {
                stats.work += instance.stretches[i][k];
                busy[t] = instance.stretches[i][k];
            }
            for (const Chunk& c : instance.chunks[i])
                if (c.stretch == k) {
                    busy[t] -= c.cost;
                    dealt.push_back(c);
                }
            busy[t] = std::max(busy[t], 0.0);
            ++t;
        }
        // ... then the chunks, in order, each to the thread that is free first.
        std::sort(dealt.begin(), dealt.end(),
                  [](const Chunk& a, const Chunk& b) { return a.first < b.first; });
        for (const Chunk& c : dealt)
            *std::min_element(busy.begin(), busy.end()) += c.cost;
        stats.critical += *std::max_element(busy.begin(), busy.end());
        for (std::size_t i = 0; i < busy.size(); ++i)
            threads[i] += busy[i];
    }
}

// An explicit barrier (#pragma omp barrier, the end of a single).
__attribute__((visibility("default"))) void GOMP_barrier() {
    static const GompBarrier next = real<GompBarrier>("GOMP_barrier");
    at_barrier(next);
}

// The end of a worksharing loop without nowait: its barrier.
__attribute__((visibility("default"))) void GOMP_loop_end() {
    static const GompBarrier next = real<GompBarrier>("GOMP_loop_end");
    at_barrier(next);
}

// Dynamically scheduled loops (schedule(dynamic)): each chunk's CPU time, from the call that
// handed it out to the call that asks for the next.
using GompLoopStart = bool (*)(long, long, long, long, long*, long*);
using GompLoopNext = bool (*)(long*, long*);

namespace {
void chunk_boundary(bool got, const long* istart) {
    InRegion& r = in_region;
    if (r.instance == nullptr || nested_depth > 0)
        return;
    const double now = thread_cpu_seconds();
    const auto tid = std::size_t(omp_get_thread_num());
    if (r.in_chunk && tid < r.instance->chunks.size())
        r.instance->chunks[tid].push_back(
            {r.instance->stretches[tid].size(), r.chunk_first, now - r.chunk_start});
    r.in_chunk = got;
    r.chunk_first = got ? *istart : 0;
    r.chunk_start = now;
}
} // namespace

__attribute__((visibility("default"))) bool
GOMP_loop_nonmonotonic_dynamic_start(long start, long end, long incr, long chunk_size, long* istart,
                                     long* iend) {
    static const GompLoopStart next = real<GompLoopStart>("GOMP_loop_nonmonotonic_dynamic_start");
    const bool got = next(start, end, incr, chunk_size, istart, iend);
    chunk_boundary(got, istart);
    return got;
}

__attribute__((visibility("default"))) bool GOMP_loop_nonmonotonic_dynamic_next(long* istart,
                                                                                long* iend) {
    static const GompLoopNext next = real<GompLoopNext>("GOMP_loop_nonmonotonic_dynamic_next");
    const bool got = next(istart, iend);
    chunk_boundary(got, istart);
    return got;
}

__attribute__((visibility("default"))) bool GOMP_loop_dynamic_start(long start, long end, long incr,
                                                                    long chunk_size, long* istart,
                                                                    long* iend) {
    static const GompLoopStart next = real<GompLoopStart>("GOMP_loop_dynamic_start");
    const bool got = next(start, end, incr, chunk_size, istart, iend);
    chunk_boundary(got, istart);
    return got;
}

__attribute__((visibility("default"))) bool GOMP_loop_dynamic_next(long* istart, long* iend) {
    static const GompLoopNext next = real<GompLoopNext>("GOMP_loop_dynamic_next");
    const bool got = next(istart, iend);
    chunk_boundary(got, istart);
    return got;
}

} // extern "C"

namespace {
// OURO_TEAM_BALANCE_WINDOW=label: the whole program is one window, from the library's loading to
// the program's exit (any GCC-built program: train --threads 16, sample --threads 16). The window
// closes in an exit handler registered after the window was built, so it runs before the
// window's destructor.
void close_whole_program() {
    ouro_team_balance_window(std::getenv("OURO_TEAM_BALANCE_WINDOW"), 0);
}
__attribute__((constructor)) void open_whole_program() {
    if (const char* label = std::getenv("OURO_TEAM_BALANCE_WINDOW")) {
        ouro_team_balance_window(label, 1);
        std::atexit(close_whole_program);
    }
}
} // namespace
