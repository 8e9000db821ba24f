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
// report to stderr. Barriers (explicit, and ending a worksharing loop) end a stretch. Regions
// started inside another region (nested) count as their thread's work. Regions are named by their
// outlined function (addr2line).
//
// Tasks (GOMP_task) are followed: which thread runs a task on few cores is chance, so a region
// that ran tasks is scheduled again on N threads instead of by stretches. Each task, and each
// thread's own part of the region (its implicit task), is cut into pieces at its taskwaits and
// barriers, each piece its own CPU time (not that of tasks the thread ran inside it). A task is
// ready when the piece that created it has run as far as it had when it created it; the piece
// after a taskwait when the piece before it and the children created so far are done; the pieces
// after a barrier when every thread's piece before it and every task descending from before it
// are done. Ready pieces go, earliest ready first, to whichever of the N threads is free (as if
// tasks were untied: a little optimistic). Tasks with dependences or a copy function are not
// followed (counted as "untracked"); their time counts for the thread that ran them.
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
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <queue>
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

// A task, or a thread's own part of a region (its implicit task), cut into pieces at its taskwaits
// and barriers: each piece's CPU time, and the tasks it created.
struct Entity {
    Entity* parent = nullptr;        // the entity that created it; nullptr for an implicit task
    std::size_t parent_piece = 0;    // ... in which of its pieces
    double created_at = 0.0;         // ... after how much of that piece's CPU time
    std::size_t root_barrier = 0;    // barriers its implicit ancestor had passed when it began
    std::vector<double> pieces{0.0}; // CPU time per piece
    std::vector<std::vector<Entity*>> children{{}}; // created per piece
    std::vector<bool> ends_at_barrier;              // per piece but the last: barrier or taskwait
};

// One run of a region: each thread's CPU time per stretch between barriers, and the chunks of its
// dynamically scheduled loops; and its tasks, when it has any.
struct Instance {
    RegionFn fn;
    void* data;
    std::vector<std::vector<double>> stretches; // [thread][stretch]
    std::vector<std::vector<Chunk>> chunks;     // [thread]
    std::vector<Entity> implicit;               // [thread]
    std::mutex tasks_mutex;
    std::vector<std::unique_ptr<Entity>> tasks;
    std::int64_t untracked = 0; // tasks not followed (guarded by tasks_mutex)
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
// The entity this thread is running in a measured region, and since when (CPU time) it has been.
thread_local Entity* current = nullptr;
thread_local double current_since = 0.0;
// Whether the current entity waits in a barrier or taskwait: the time until a task starts there
// is nobody's.
thread_local bool waiting = false;

// Adds the CPU time since current_since to the current entity's piece.
void charge_current() {
    const double now = thread_cpu_seconds();
    if (current != nullptr)
        current->pieces.back() += now - current_since;
    current_since = now;
}
// Ends the current entity's piece (at a taskwait or a barrier).
void end_piece(bool barrier) {
    charge_current();
    current->pieces.push_back(0.0);
    current->children.emplace_back();
    current->ends_at_barrier.push_back(barrier);
}

struct RegionStats {
    std::int64_t calls = 0, stretches = 0, tasks = 0, untracked = 0;
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
    if (tid < instance->implicit.size()) {
        current = &instance->implicit[tid];
        current_since = in_region.stretch_start;
    }
    instance->fn(instance->data);
    charge_current();
    current = nullptr;
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
                 "thread of each stretch (tasks: scheduled again)\n"
                 "  work / critical path                    %10.2f\n",
                 w.label.c_str(), team, static_cast<long long>(calls), 1e3 * wall,
                 1e3 * (work + w.serial), 1e3 * w.serial, team, 1e3 * (critical + w.serial),
                 (work + w.serial) / (critical + w.serial));
    std::int64_t tasks = 0, untracked = 0;
    for (const auto& [fn, s] : w.regions) {
        tasks += s.tasks;
        untracked += s.untracked;
    }
    if (tasks + untracked > 0)
        std::fprintf(stderr, "  tasks followed / not followed            %lld / %lld\n",
                     static_cast<long long>(tasks), static_cast<long long>(untracked));
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
// It also ends the thread's piece of the region (tasks run inside it are their own).
template <typename Barrier> void at_barrier(const Barrier& barrier) {
    Instance* instance = nested_depth == 0 ? in_region.instance : nullptr;
    const auto tid = std::size_t(omp_get_thread_num());
    if (instance != nullptr && tid < instance->stretches.size())
        instance->stretches[tid].push_back(thread_cpu_seconds() - in_region.stretch_start);
    const bool follow = instance != nullptr && tid < instance->implicit.size() &&
                        current == &instance->implicit[tid];
    if (follow) {
        end_piece(true);
        waiting = true;
    }
    barrier();
    if (instance != nullptr)
        in_region.stretch_start = thread_cpu_seconds();
    if (follow) {
        waiting = false;
        current_since = thread_cpu_seconds();
    }
}

// The pieces of a region that ran tasks, scheduled again on `team` threads (see the top of this
// file): the time until all are done, or a negative value if the record does not hold together
// (a barrier that not every thread reached).
double schedule_tasks(const Instance& in, std::size_t team) {
    std::vector<const Entity*> all; // the implicit tasks of the threads that ran, then the tasks
    for (std::size_t t = 0; t < in.implicit.size(); ++t)
        if (t < in.stretches.size() && !in.stretches[t].empty())
            all.push_back(&in.implicit[t]);
    const std::size_t implicit_count = all.size();
    for (const std::unique_ptr<Entity>& t : in.tasks)
        all.push_back(t.get());
    std::map<const Entity*, std::size_t> index;
    for (std::size_t i = 0; i < all.size(); ++i)
        index[all[i]] = i;
    // Per entity: children created up to each piece; per implicit task: the barrier of each piece
    // that ends at one.
    std::vector<std::vector<std::size_t>> created_upto(all.size());
    std::vector<std::vector<std::size_t>> barrier_of(all.size());
    std::size_t barriers = 0, total_pieces = 0;
    for (std::size_t i = 0; i < all.size(); ++i) {
        std::size_t created = 0, passed = 0;
        for (std::size_t k = 0; k < all[i]->pieces.size(); ++k) {
            created += all[i]->children[k].size();
            created_upto[i].push_back(created);
            const bool barrier = k < all[i]->ends_at_barrier.size() && all[i]->ends_at_barrier[k];
            barrier_of[i].push_back(barrier ? passed++ : std::numeric_limits<std::size_t>::max());
        }
        if (i < implicit_count)
            barriers = std::max(barriers, passed);
        total_pieces += all[i]->pieces.size();
    }
    std::vector<std::size_t> tasks_by_root(barriers + 1, 0), done_by_root(barriers + 1, 0);
    for (std::size_t i = implicit_count; i < all.size(); ++i)
        ++tasks_by_root[std::min(all[i]->root_barrier, barriers)];
    std::vector<std::size_t> arrived(barriers, 0);
    std::size_t released = 0;

    struct Ready {
        double time;
        std::size_t order, entity, piece;
    };
    auto later = [](const Ready& a, const Ready& b) {
        return a.time != b.time ? a.time > b.time : a.order > b.order;
    };
    std::priority_queue<Ready, std::vector<Ready>, decltype(later)> ready(later);
    struct Running {
        double finish;
        std::size_t entity, piece;
    };
    auto sooner = [](const Running& a, const Running& b) { return a.finish > b.finish; };
    std::priority_queue<Running, std::vector<Running>, decltype(sooner)> running(sooner);
    std::size_t order = 0, idle = team, done_pieces = 0;
    double now = 0.0;
    constexpr std::size_t none = std::numeric_limits<std::size_t>::max();
    std::vector<std::size_t> children_done(all.size(), 0), resumes(all.size(), none);

    for (std::size_t i = 0; i < implicit_count; ++i)
        ready.push({0.0, order++, i, 0});
    auto try_continue = [&](std::size_t i) {
        const std::size_t k = resumes[i];
        if (k != none && children_done[i] >= created_upto[i][k - 1]) {
            ready.push({now, order++, i, k});
            resumes[i] = none;
        }
    };
    auto try_release = [&] {
        std::size_t tasks_done = 0, tasks_before = 0;
        for (std::size_t r = 0; r < released; ++r) {
            tasks_done += done_by_root[r];
            tasks_before += tasks_by_root[r];
        }
        while (released < barriers) {
            tasks_done += done_by_root[released];
            tasks_before += tasks_by_root[released];
            if (arrived[released] < implicit_count || tasks_done < tasks_before)
                return;
            for (std::size_t i = 0; i < implicit_count; ++i)
                for (std::size_t k = 0; k < barrier_of[i].size(); ++k)
                    if (barrier_of[i][k] == released)
                        ready.push({now, order++, i, k + 1});
            ++released;
        }
    };
    auto complete = [&](std::size_t i, std::size_t k) {
        ++done_pieces;
        const Entity* e = all[i];
        if (k + 1 < e->pieces.size()) {
            if (barrier_of[i][k] != none) {
                ++arrived[barrier_of[i][k]];
                try_release();
            } else {
                resumes[i] = k + 1;
                try_continue(i);
            }
            return;
        }
        if (e->parent != nullptr) {
            const std::size_t p = index.at(e->parent);
            ++children_done[p];
            try_continue(p);
        }
        if (i >= implicit_count) {
            ++done_by_root[std::min(e->root_barrier, barriers)];
            try_release();
        }
    };
    for (;;) {
        while (idle > 0 && !ready.empty() && ready.top().time <= now) {
            const Ready r = ready.top();
            ready.pop();
            const Entity* e = all[r.entity];
            for (const Entity* child : e->children[r.piece])
                ready.push({now + child->created_at, order++, index.at(child), 0});
            running.push({now + e->pieces[r.piece], r.entity, r.piece});
            --idle;
        }
        double next = std::numeric_limits<double>::infinity();
        if (!running.empty())
            next = running.top().finish;
        if (idle > 0 && !ready.empty())
            next = std::min(next, ready.top().time);
        if (next == std::numeric_limits<double>::infinity())
            break;
        now = std::max(now, next);
        while (!running.empty() && running.top().finish <= now) {
            const Running r = running.top();
            running.pop();
            ++idle;
            complete(r.entity, r.piece);
        }
    }
    return done_pieces == total_pieces ? now : -1.0;
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
    Instance instance;
    instance.fn = fn;
    instance.data = data;
    instance.stretches.resize(std::size_t(team_size));
    instance.chunks.resize(std::size_t(team_size));
    instance.implicit.resize(std::size_t(team_size));
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
    stats.untracked += instance.untracked;
    if (!instance.tasks.empty()) {
        // Tasks: the region's pieces scheduled again on the team (the stretches would count each
        // task for whichever thread ran it here).
        const double path = schedule_tasks(instance, std::size_t(team));
        if (path >= 0.0) {
            for (const Entity& e : instance.implicit) // a thread that did not run has 0
                for (double piece : e.pieces)
                    stats.work += piece;
            for (const std::unique_ptr<Entity>& t : instance.tasks)
                for (double piece : t->pieces)
                    stats.work += piece;
            stats.critical += path;
            stats.tasks += std::int64_t(instance.tasks.size());
            stats.per_call.push_back({path});
            return;
        }
        stats.untracked += std::int64_t(instance.tasks.size()); // not scheduled: stretches below
    }
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

// Tasks: GOMP_task as GCC 11 and later call it. A followed task runs through run_task, which
// makes it the thread's current entity; its arguments travel behind a header that names it.
using TaskFn = void (*)(void*);
using TaskCopy = void (*)(void*, void*);
using GompTask = void (*)(TaskFn, void*, TaskCopy, long, long, bool, unsigned, void**, int, void*);

namespace {
struct TaskHeader {
    TaskFn fn;
    Entity* entity;
    Instance* instance;
    long offset; // of the task's arguments from the header
};

void run_task(void* block) {
    const auto* header = static_cast<const TaskHeader*>(block);
    if (waiting)
        current_since = thread_cpu_seconds();
    else
        charge_current();
    const bool was_waiting = waiting;
    waiting = false;
    Entity* const previous = current;
    const InRegion previous_region = in_region;
    if (in_region.instance == nullptr) // run after the region's last barrier
        in_region.instance = header->instance;
    current = header->entity;
    current_since = thread_cpu_seconds();
    header->fn(static_cast<char*>(block) + header->offset);
    charge_current();
    current = previous;
    waiting = was_waiting;
    in_region = previous_region;
}
} // namespace

__attribute__((visibility("default"))) void GOMP_task(TaskFn fn, void* data, TaskCopy cpyfn,
                                                      long arg_size, long arg_align, bool if_clause,
                                                      unsigned flags, void** depend, int priority,
                                                      void* detach) {
    static const GompTask next = real<GompTask>("GOMP_task");
    Instance* instance = nested_depth == 0 ? in_region.instance : nullptr;
    if (instance == nullptr || current == nullptr || cpyfn != nullptr || depend != nullptr ||
        arg_size < 0 || arg_align < 1) {
        if (instance != nullptr) {
            const std::lock_guard lock(instance->tasks_mutex);
            ++instance->untracked;
        }
        next(fn, data, cpyfn, arg_size, arg_align, if_clause, flags, depend, priority, detach);
        return;
    }
    charge_current();
    auto task = std::make_unique<Entity>();
    task->parent = current;
    task->parent_piece = current->pieces.size() - 1;
    task->created_at = current->pieces.back();
    task->root_barrier = current->parent != nullptr
                             ? current->root_barrier
                             : std::size_t(std::count(current->ends_at_barrier.begin(),
                                                      current->ends_at_barrier.end(), true));
    Entity* const entity = task.get();
    {
        const std::lock_guard lock(instance->tasks_mutex);
        instance->tasks.push_back(std::move(task));
    }
    current->children.back().push_back(entity);
    const long align = std::max<long>(arg_align, long(alignof(TaskHeader)));
    const long offset = (long(sizeof(TaskHeader)) + align - 1) / align * align;
    const long size = offset + arg_size;
    void* block =
        std::aligned_alloc(std::size_t(align), std::size_t((size + align - 1) / align * align));
    new (block) TaskHeader{fn, entity, instance, offset};
    if (arg_size > 0)
        std::memcpy(static_cast<char*>(block) + offset, data, std::size_t(arg_size));
    next(run_task, block, nullptr, size, align, if_clause, flags, nullptr, priority, detach);
    std::free(block);
    current_since = thread_cpu_seconds();
}

// A taskwait ends the piece of the entity that waits.
__attribute__((visibility("default"))) void GOMP_taskwait() {
    static const GompBarrier next = real<GompBarrier>("GOMP_taskwait");
    const bool follow = nested_depth == 0 && in_region.instance != nullptr && current != nullptr;
    if (follow) {
        end_piece(false);
        waiting = true;
    }
    next();
    if (follow) {
        waiting = false;
        current_since = thread_cpu_seconds();
    }
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
