// Progress bar on stderr; see the header.
#include "common/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace ouro::examples {

namespace {

// Columns of UTF-8 text (a file name in a label may hold any character).
std::size_t columns_of(const std::string& s) {
    return std::size_t(std::count_if(
        s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// `s` cut to `n` columns, ending in "..." when cut; never inside a UTF-8 character.
std::string shorten(const std::string& s, std::size_t n) {
    if (columns_of(s) <= n)
        return s;
    if (n < 3)
        return std::string(n, '.');
    std::string out;
    std::size_t cols = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const bool starts = (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80;
        if (starts && cols == n - 3)
            break;
        cols += starts;
        out += s[i];
    }
    return out + "...";
}

} // namespace

bool shows_progress(Progress mode) {
    return mode == Progress::always || (mode == Progress::automatic && isatty(2) == 1);
}

std::string format_duration(double seconds) {
    const auto s = std::int64_t(std::isfinite(seconds) && seconds > 0 ? seconds : 0);
    char buf[48];
    if (s < 60)
        std::snprintf(buf, sizeof buf, "%llds", (long long)s);
    else if (s < 3600)
        std::snprintf(buf, sizeof buf, "%lldm%02llds", (long long)(s / 60), (long long)(s % 60));
    else
        std::snprintf(buf, sizeof buf, "%lldh%02lldm", (long long)(s / 3600),
                      (long long)(s / 60 % 60));
    return buf;
}

std::string format_progress(const std::string& label, std::uint64_t done, std::uint64_t total,
                            double seconds, const std::string& unit, const std::string& note) {
    const double fraction = total == 0 ? 1.0 : std::min(1.0, double(done) / double(total));
    const double scale = unit == "MB" ? 1e-6 : 1.0;
    const double rate = seconds > 0 ? double(done) * scale / seconds : 0.0;
    char head[96];
    std::snprintf(head, sizeof head, " %3d%%  %.1f %s/s  elapsed ", int(fraction * 100), rate,
                  unit.c_str());
    std::string times = head + format_duration(seconds);
    if (done < total)
        times += ", ETA " + (done == 0 || seconds <= 0
                                 ? std::string("?")
                                 : format_duration(seconds / double(done) * double(total - done)));
    // label + " [" + bar + "]" + times + "  " + note, within the width: the bar narrows first
    // (to 10 columns), then the label and the note are cut short.
    const std::size_t fixed = columns_of(times) + 3;
    const std::size_t note_cols = note.empty() ? 0 : columns_of(note) + 2;
    std::size_t label_cols = columns_of(label);
    const std::size_t room =
        progress_columns - std::min(progress_columns - 10, label_cols + fixed + note_cols);
    const std::size_t bar = std::clamp<std::size_t>(room, 10, 30);
    if (label_cols + fixed + bar > progress_columns)
        label_cols = progress_columns > fixed + bar ? progress_columns - fixed - bar : 0;
    const std::size_t used = label_cols + fixed + bar;
    const std::size_t note_room =
        !note.empty() && used + 2 < progress_columns ? progress_columns - used - 2 : 0;
    std::string line = shorten(label, label_cols) + " [";
    const auto filled = std::size_t(fraction * double(bar));
    for (std::size_t i = 0; i < bar; ++i)
        line += i < filled ? '=' : (i == filled ? '>' : ' ');
    line += "]" + times;
    if (note_room > 0)
        line += "  " + shorten(note, note_room);
    return line;
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
    if (drawn_ > 0 && now - last_draw_ < std::chrono::milliseconds(100))
        return;
    last_draw_ = now;
    draw(done);
}

void ProgressBar::update(std::uint64_t done, std::string note) {
    note_ = std::move(note);
    update(done);
}

void ProgressBar::clear() {
    if (!active_ || drawn_ == 0)
        return;
    std::fprintf(stderr, "\r%*s\r", int(drawn_), "");
    std::fflush(stderr);
    drawn_ = 0;
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
    drawn_ = 0;
}

void ProgressBar::draw(std::uint64_t done) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const std::string line = format_progress(label_, done, total_, seconds, unit_, note_);
    const std::size_t cols = columns_of(line);
    // Spaces over what is left of a longer line drawn before.
    const int pad = drawn_ > cols ? int(drawn_ - cols) : 0;
    std::fprintf(stderr, "\r%s%*s", line.c_str(), pad, "");
    std::fflush(stderr);
    drawn_ = cols;
}

} // namespace ouro::examples
