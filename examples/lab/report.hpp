// The collapse report: one self-contained HTML file (inline CSS and SVG, no network) with the
// long sample shaded by entropy and its loop marked, its beginning / middle / end side by side
// with their numbers, every experiment that ran (table, plots, findings) and a summary that
// states, with the measured numbers, which mechanisms are at work for this model.
#pragma once

#include "demo.hpp"
#include "lab.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace collapse {

/// The one-sentence answer at the top of the report: whether greedy decoding loops where nucleus
/// sampling does not on the same prompts, with 95% confidence intervals, and whether the
/// difference is larger than their uncertainty; "" without the demo's numbers.
std::string headline(const Measurements& m);

/// The summary's sentences, from the experiments' typed results (and the long sample when given);
/// block_size is the model's trained context.
std::vector<std::string> summarize(const LongSample* sample, const Measurements& m,
                                   std::int64_t block_size);

/// Writes the report atomically: the summary from `m`, then each presented result.
void write_report(const std::filesystem::path& path, Lab& lab, const LongSample* sample,
                  const Measurements& m, const std::vector<ExperimentResult>& results);

} // namespace collapse
