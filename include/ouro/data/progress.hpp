// A one-line progress bar on stderr for long data jobs (encoding a corpus, training a tokenizer).
// By default it draws only when stderr is a terminal, so logs and pipes stay clean.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace ouro::data {

/// When to draw progress: only on a terminal (automatic), always, or never.
enum class Progress { automatic, always, never };

/// Whether `mode` draws progress here and now (automatic: whether stderr is a terminal).
bool shows_progress(Progress mode);

/// Draws "label [=====>    ]  42%  12.3 MB/s" on stderr, at most every 100 ms, from one thread.
class ProgressBar {
public:
    /// `total` is the amount of work (bytes, items); `unit` names it in the rate ("MB", "items").
    ProgressBar(std::string label, std::uint64_t total, Progress mode, std::string unit = "MB");
    ~ProgressBar();
    ProgressBar(const ProgressBar&) = delete;
    ProgressBar& operator=(const ProgressBar&) = delete;

    /// Reports that `done` of `total` is finished; redraws when 100 ms have passed.
    void update(std::uint64_t done);
    /// Draws the final state and ends the line (once; the destructor calls it too).
    void finish();
    /// Whether this bar draws at all.
    bool active() const { return active_; }

private:
    void draw(std::uint64_t done);

    std::string label_, unit_;
    std::uint64_t total_;
    bool active_;
    bool finished_ = false;
    std::uint64_t done_ = 0;
    std::chrono::steady_clock::time_point start_, last_draw_;
};

} // namespace ouro::data
