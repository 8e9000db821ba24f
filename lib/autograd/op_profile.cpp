#include "ouro/autograd/op_profile.hpp"

namespace ouro {

OpProfile::Install::Install(OpProfile& profile) : previous_(current_) {
    current_ = &profile;
}

OpProfile::Install::~Install() {
    current_ = previous_;
}

void OpProfile::forward_done(const char* op) {
    const Clock::time_point now = Clock::now();
    OpTime& t = forward_[op];
    t.seconds += std::chrono::duration<double>(now - last_).count();
    ++t.calls;
    last_ = now;
}

void OpProfile::add_backward(const char* op, Clock::duration elapsed) {
    OpTime& t = backward_[op];
    t.seconds += std::chrono::duration<double>(elapsed).count();
    ++t.calls;
}

void OpProfile::clear() {
    forward_.clear();
    backward_.clear();
    last_ = Clock::now();
}

} // namespace ouro
