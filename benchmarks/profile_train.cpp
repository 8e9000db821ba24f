// Where the time of a training step goes: one optimizer step of PERF.md's config XS or S
// (zeroing, forward, backward, clipping, AdamW) timed phase by phase with an OpProfile, at each
// thread count given, one count after the other. Prints, per phase, milliseconds per step at each
// count and, when the counts include 1 and 2, the 2-thread speedup and the serial fraction it
// implies (Amdahl: speedup = 1 / (f + (1 - f) / 2), so f = 2 / speedup - 1). Also counts the heap
// blocks of tensor storage taken from the system per step (not those the tensor cache served).
//
// Usage: ouro_profile_train [XS|S] [STEPS] [THREADS...]     defaults: S 10 1 2
//
// With benchmarks/team_balance.cpp preloaded (LD_PRELOAD), each thread count's profiled steps are
// also a window of that tool: how the count's team shares each parallel region (see there).
#include "train_setup.hpp"

#include <ouro/autograd/op_profile.hpp>
#include <ouro/core/parallel.hpp>

#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <vector>

// Tensor storage comes from the aligned operator new; count it while a step is profiled.
namespace {
std::atomic<bool> counting{false};
std::atomic<std::int64_t> allocated_bytes{0}, allocations{0};
} // namespace

void* operator new(std::size_t bytes, std::align_val_t align) {
    if (counting.load(std::memory_order_relaxed)) {
        allocated_bytes += std::int64_t(bytes);
        ++allocations;
    }
    const std::size_t a = std::size_t(align);
    void* p = std::aligned_alloc(a, (bytes + a - 1) / a * a);
    if (p == nullptr)
        throw std::bad_alloc();
    return p;
}
void operator delete(void* p, std::align_val_t) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
    std::free(p);
}

using namespace ouro;

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// One thread count's model, optimizer, batch and summed phase times.
struct Run {
    int threads;
    bench::TrainSetup setup;
    std::map<std::string, double> seconds; // phase -> summed seconds
    std::map<std::string, std::int64_t> calls;
    std::int64_t steps = 0, bytes = 0, allocs = 0;

    Run(int t, const nn::GPTConfig& c, std::int64_t B) : threads(t), setup(c, B) {}

    void step(bool record) {
        ThreadCountGuard guard(threads);
        OpProfile profile;
        OpProfile::Install install(profile);
        const std::int64_t bytes0 = allocated_bytes, allocs0 = allocations;
        counting = record;
        const Clock::time_point start = Clock::now();
        Clock::time_point t = start;
        std::map<std::string, double> phase;
        setup.model->zero_grad();
        phase["zero_grad"] = seconds_since(t);
        profile.start_forward();
        t = Clock::now();
        const VarF loss = setup.model->loss(setup.x, setup.y);
        const double forward_s = seconds_since(t);
        t = Clock::now();
        backward(loss);
        const double backward_s = seconds_since(t);
        t = Clock::now();
        optim::clip_grad_norm(setup.model->parameters(), 1.0);
        phase["clip_grad_norm"] = seconds_since(t);
        t = Clock::now();
        setup.opt->step(1e-4);
        phase["AdamW"] = seconds_since(t);
        const double total = seconds_since(start);
        counting = false;
        if (!record)
            return;
        double forward_ops = 0, backward_ops = 0;
        for (const auto& [op, time] : profile.forward()) {
            phase["forward " + op] += time.seconds;
            calls["forward " + op] += time.calls;
            forward_ops += time.seconds;
        }
        for (const auto& [op, time] : profile.backward()) {
            phase["backward " + op] += time.seconds;
            calls["backward " + op] += time.calls;
            backward_ops += time.seconds;
        }
        // Forward time after the last op (the loss handle), and backward's own bookkeeping:
        // the topological order, the gradient buffers of the root, freeing the graph.
        phase["forward (between ops)"] = forward_s - forward_ops;
        phase["backward (graph order, freeing)"] = backward_s - backward_ops;
        phase["step total"] = total;
        for (const auto& [name, s] : phase)
            seconds[name] += s;
        bytes += allocated_bytes - bytes0;
        allocs += allocations - allocs0;
        ++steps;
    }
};

int usage(const std::string& why) {
    std::cerr << "ouro_profile_train: " << why
              << "\nusage: ouro_profile_train [XS|S] [STEPS] [THREADS...]  (defaults: S 10 1 2)\n";
    return 2;
}

} // namespace

int main(int argc, char** argv) try {
    std::vector<std::string> args(argv + 1, argv + argc);
    const std::string name = args.empty() ? "S" : args[0];
    if (name != "XS" && name != "S")
        return usage("unknown config '" + name + "' (XS or S)");
    const nn::GPTConfig config = name == "XS" ? nn::GPTConfig::xs() : nn::GPTConfig::s();
    const std::int64_t B = name == "XS" ? 32 : 16;
    int steps = 10;
    if (args.size() > 1 && (steps = std::atoi(args[1].c_str())) < 1)
        return usage("STEPS must be a positive number, got '" + args[1] + "'");
    std::vector<int> threads;
    for (std::size_t i = 2; i < args.size(); ++i)
        if (threads.push_back(std::atoi(args[i].c_str())); threads.back() < 1)
            return usage("THREADS must be positive numbers, got '" + args[i] + "'");
    if (threads.empty())
        threads = {1, 2};

    std::vector<Run> runs;
    for (int t : threads)
        runs.emplace_back(t, config, B);
    // Each thread count in turn: two steps to warm up (first touch of every buffer, the tensor
    // cache, the OpenMP team), then its profiled steps. (Alternating the counts step by step
    // was tried: each step then starts with cold caches and a sleeping worker thread, which
    // took a quarter off the 2-thread speedup of S.)
    // The team-balance tool, when it is preloaded.
    using Window = void (*)(const char*, int);
    Window window = nullptr;
    if (void* p = dlsym(RTLD_DEFAULT, "ouro_team_balance_window"))
        window = reinterpret_cast<Window>(p);
    for (Run& r : runs) {
        for (int i = 0; i < 2; ++i)
            r.step(false);
        const std::string label = name + ", " + std::to_string(r.threads) + " thread(s), " +
                                  std::to_string(steps) + " step(s)";
        if (window)
            window(label.c_str(), 1);
        for (int s = 0; s < steps; ++s)
            r.step(true);
        if (window)
            window(label.c_str(), 0);
    }

    const auto one =
        std::find_if(runs.begin(), runs.end(), [](const Run& r) { return r.threads == 1; });
    const auto two =
        std::find_if(runs.begin(), runs.end(), [](const Run& r) { return r.threads == 2; });
    const bool amdahl = one != runs.end() && two != runs.end();

    // Phases sorted by the first count's time, the total last.
    std::vector<std::string> phases;
    for (const auto& [phase, s] : runs[0].seconds)
        if (phase != "step total")
            phases.push_back(phase);
    std::sort(phases.begin(), phases.end(), [&](const std::string& a, const std::string& b) {
        return runs[0].seconds[a] > runs[0].seconds[b];
    });
    phases.push_back("step total");

    std::printf("config %s (B=%lld, T=%lld), %d profiled steps per thread count, ms per step\n",
                name.c_str(), static_cast<long long>(B), static_cast<long long>(config.block_size),
                steps);
    std::printf("%-34s %6s", "phase", "calls");
    for (const Run& r : runs)
        std::printf(" %9s",
                    (std::to_string(r.threads) + (r.threads == 1 ? " thread" : " thr")).c_str());
    std::printf(" %7s", "share");
    if (amdahl)
        std::printf(" %8s %7s", "1->2", "serial");
    std::printf("\n");
    const double total0 = runs[0].seconds["step total"];
    for (const std::string& phase : phases) {
        const auto calls = runs[0].calls.find(phase);
        std::printf("%-34s %6s", phase.c_str(),
                    calls == runs[0].calls.end()
                        ? (phase == "step total" ? "" : "1")
                        : std::to_string(calls->second / runs[0].steps).c_str());
        for (Run& r : runs)
            std::printf(" %9.2f", 1e3 * r.seconds[phase] / double(r.steps));
        std::printf(" %6.1f%%", 100.0 * runs[0].seconds[phase] / total0);
        if (amdahl) {
            const double speedup = one->seconds[phase] / two->seconds[phase];
            std::printf(" %7.2fx %6.0f%%", speedup,
                        100.0 * std::clamp(2.0 / speedup - 1.0, 0.0, 1.0));
        }
        std::printf("\n");
    }
    for (const Run& r : runs)
        std::printf("%d thread(s): %.1f tokens/s; tensor storage from the system per step: %lld "
                    "blocks (%.1f MB)\n",
                    r.threads, double(B * config.block_size * r.steps) / r.seconds.at("step total"),
                    static_cast<long long>(r.allocs / r.steps),
                    double(r.bytes) / double(r.steps) / 1e6);
    return 0;
} catch (const std::exception& e) {
    std::cerr << "ouro_profile_train: " << e.what() << "\n";
    return 1;
}
