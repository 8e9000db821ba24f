// OpProfile: where the time of a forward and backward pass goes, op by op.
//
// While an OpProfile is installed on a thread (OpProfile::Install), every op that thread runs is
// timed: an op's forward is the time from the previous op's result (or from start_forward()) to
// its own result, which is when make_result records it, so the kernels and the output's
// allocation are counted and nothing is counted twice; an op's backward is the time of its node's
// backward rule inside backward(). Times are wall-clock sums per op name over all calls. With no
// profile installed the cost is one thread-local pointer test per op.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

namespace ouro {

/// Summed wall time and call count of one op's forward or backward rule.
struct OpTime {
    double seconds = 0;
    std::int64_t calls = 0;
};

class OpProfile {
public:
    using Clock = std::chrono::steady_clock;

    /// Installs `profile` on the calling thread for the lifetime of the guard (nesting restores
    /// the previous one).
    class Install {
    public:
        explicit Install(OpProfile& profile);
        ~Install();
        Install(const Install&) = delete;
        Install& operator=(const Install&) = delete;

    private:
        OpProfile* previous_;
    };

    /// Starts the clock of the next forward op: call it right before a forward pass.
    void start_forward() { last_ = Clock::now(); }

    /// Records that op `op` produced its result now (called by make_result).
    void forward_done(const char* op);
    /// Adds the time of one node's backward rule.
    void add_backward(const char* op, Clock::duration elapsed);

    /// Per op name, forward and backward times.
    const std::map<std::string, OpTime>& forward() const { return forward_; }
    const std::map<std::string, OpTime>& backward() const { return backward_; }
    void clear();

    /// The profile installed on the calling thread, or nullptr.
    static OpProfile* current() { return current_; }

private:
    static inline thread_local OpProfile* current_ = nullptr;
    Clock::time_point last_ = Clock::now();
    std::map<std::string, OpTime> forward_, backward_;
};

} // namespace ouro
