// The per-token trace of generation (COLLAPSE.md, "Metrics"): for every generated token, where it
// stands, what was chosen and how (the TokenDecision the chooser filled), and whether it extends
// an n-gram already seen, for n = 1..4. Writers for JSON Lines and CSV.
//
// CSV: one header line, then one line per record, comma-separated, in exactly this order:
//   sequence,step,position,context,story,token,text,prob_raw,prob_final,entropy_raw,
//   entropy_final,rank_raw,p_max_raw,top1_token,top1_prob,top2_token,top2_prob,top3_token,
//   top3_prob,top4_token,top4_prob,top5_token,top5_prob,changed_by,repeat_1,repeat_2,repeat_3,
//   repeat_4,p_end
// Numbers are written in the shortest form that reads back to the same double; repeat_n is 0 or
// 1; top-k cells beyond the alternatives the record holds and p_end without an end token are
// empty. The top-k columns are top1 .. topN for the writers' top_n (5 by default, as above; 0
// writes none). Text cells
// (text, changed_by) are quoted when they hold a comma, a quote, a CR or an LF, with quotes
// doubled (RFC 4180); their bytes are written as they are.
//
// JSON Lines: one object per record and line, with the same names, except that the top-N pairs
// are one array "top<N>" ("top5" by default): [[token, prob], ...] and the repeats one array
// "repeats": [r1, r2, r3, r4] of booleans; p_end is null without an end token. Text that is not
// valid UTF-8 (a byte-level BPE token can hold part of a character) has each bad byte replaced by
// U+FFFD.
#pragma once

#include "ouro/gen/token_decision.hpp"

#include <array>
#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <limits>
#include <span>
#include <string>

namespace ouro::gen {

struct TraceRecord {
    std::int64_t sequence = 0; ///< which prompt of the batch
    std::int64_t step = 0;     ///< 0 for the first generated token
    std::int64_t position = 0; ///< index of the token in prompt + generated tokens
    /// Tokens the model attended to when it predicted this one (less than `position` once a
    /// context policy cropped or slid the context).
    std::int64_t context = 0;
    /// Stories started before this token within the sequence (EndOfText::new_story), from 0.
    std::int64_t story = 0;
    std::int32_t token = -1;
    std::string text; ///< the caller's decode(token), or "" without a decode function
    TokenDecision decision;
    /// repeats[n - 1]: the last n tokens, this one included, occurred before in prompt +
    /// generated tokens (n = 1: the token itself was seen before).
    std::array<bool, 4> repeats{};
    /// Probability of the end-of-text token under the raw logits (NaN without an end token).
    double p_end = std::numeric_limits<double>::quiet_NaN();
};

/// The CSV header line (the column list above, with top_n top-k pairs), without a line break.
std::string trace_csv_header(std::int64_t top_n = 5);
/// One record as a CSV line with top_n top-k pairs (the record's first top_n alternatives, empty
/// cells past the ones it has), without a line break.
std::string trace_csv_row(const TraceRecord& record, std::int64_t top_n = 5);
/// One record as a JSON object on one line ("top<top_n>": its first top_n alternatives), without
/// a line break.
std::string trace_json_line(const TraceRecord& record, std::int64_t top_n = 5);

/// Writes the header and one line per record.
void write_trace_csv(std::ostream& out, std::span<const TraceRecord> records,
                     std::int64_t top_n = 5);
/// Writes one line per record.
void write_trace_jsonl(std::ostream& out, std::span<const TraceRecord> records,
                       std::int64_t top_n = 5);
/// The same into a file, written atomically; throws IoError naming the path.
void write_trace_csv(const std::filesystem::path& path, std::span<const TraceRecord> records,
                     std::int64_t top_n = 5);
void write_trace_jsonl(const std::filesystem::path& path, std::span<const TraceRecord> records,
                       std::int64_t top_n = 5);

} // namespace ouro::gen
