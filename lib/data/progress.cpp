// Progress bar on stderr; see the header.
#include "ouro/data/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace ouro::data {

bool shows_progress(Progress mode) {
    return mode == Progress::always || (mode == Progress::automatic && isatty(2) == 1);
}

ProgressBar::ProgressBar(std::string label, std::uint64_t total, Progress mode, std::string unit)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total),
      active_(shows_progress(mode)), start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

ProgressBar::~ProgressBar() {
    finish();
}

void ProgressBar::update(std::uint64_t done) {
    done_ = done;
    if (!active_)
        return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_draw_ < std::chrono::milliseconds(100))
        return;
    last_draw_ = now;
    draw(done);
}

void ProgressBar::finish() {
    if (finished_)
        return;
    finished_ = true;
    if (!active_)
        return;
    draw(done_);
    std::fputc('\n', stderr);
    std::fflush(stderr);
}

void ProgressBar::draw(std::uint64_t done) {
    constexpr int width = 30;
    const double fraction = total_ == 0 ? 1.0 : std::min(1.0, double(done) / double(total_));
    const int filled = int(fraction * width);
    char bar[width + 1];
    for (int i = 0; i < width; ++i)
        bar[i] = i < filled ? '=' : (i == filled ? '>' : ' ');
    bar[width] = '\0';
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double scale = unit_ == "MB" ? 1e-6 : 1.0;
    const double rate = seconds > 0 ? double(done) * scale / seconds : 0.0;
    std::fprintf(stderr, "\r%s [%s] %3d%%  %.1f %s/s ", label_.c_str(), bar, int(fraction * 100),
                 rate, unit_.c_str());
    std::fflush(stderr);
}

} // namespace ouro::data
