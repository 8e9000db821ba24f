// A one-line progress bar on stderr for long jobs (encoding a corpus, training a tokenizer, a
// download, training steps, the lab's experiments), with the elapsed time and an estimate of the
// time left. By default it draws only when stderr is a terminal, so logs and pipes stay clean; it
// is redrawn in place and never wider than 100 columns.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace ouro::examples {

/// When to draw progress: only on a terminal (automatic), always, or never.
enum class Progress { automatic, always, never };

/// Whether `mode` draws progress here and now (automatic: whether stderr is a terminal).
bool shows_progress(Progress mode);

/// The most columns a progress line takes.
inline constexpr std::size_t progress_columns = 100;

/// A duration as people read it: "7s", "2m05s", "1h03m" (whole seconds, rounded down).
std::string format_duration(double seconds);

/// One progress line (no '\r', no line break), at most progress_columns wide:
///   "encoding [==========>         ]  35%  12.3 MB/s  elapsed 4s, ETA 7s  note"
/// `done` of `total` (bytes when `unit` is "MB", else items of `unit`) after `seconds`. The ETA
/// is "?" before any work is done and left out once all is; to keep within the width the bar
/// narrows first (from 30 to 10 columns), then `label`, then `note`, are cut short (ending in
/// "...").
std::string format_progress(const std::string& label, std::uint64_t done, std::uint64_t total,
                            double seconds, const std::string& unit, const std::string& note = "");

/// Draws format_progress on stderr, at most every 100 ms, from one thread.
class ProgressBar {
public:
    /// `total` is the amount of work (bytes, items); `unit` names it in the rate ("MB", "items").
    ProgressBar(std::string label, std::uint64_t total, Progress mode, std::string unit = "MB");
    ~ProgressBar();
    ProgressBar(const ProgressBar&) = delete;
    ProgressBar& operator=(const ProgressBar&) = delete;

    /// Reports that `done` of `total` is finished; redraws when 100 ms have passed.
    void update(std::uint64_t done);
    /// The same, with `note` shown after the times (a loss, a file name).
    void update(std::uint64_t done, std::string note);
    /// Erases the drawn line, so that other output can be printed in its place; the next
    /// update draws the bar again below it.
    void clear();
    /// Draws the final state and ends the line (once; the destructor calls it too).
    void finish();
    /// Whether this bar draws at all.
    bool active() const { return active_; }

private:
    void draw(std::uint64_t done);

    std::string label_, unit_, note_;
    std::uint64_t total_;
    bool active_;
    bool finished_ = false;
    std::size_t drawn_ = 0; ///< columns of the line on screen (0: none)
    std::uint64_t done_ = 0;
    std::chrono::steady_clock::time_point start_, last_draw_;
};

} // namespace ouro::examples
