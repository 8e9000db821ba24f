// Trace writers: CSV (RFC 4180 quoting, shortest round-trip numbers) and JSON Lines (through
// nlohmann-json). The formats are specified in trace.hpp.
#include "ouro/gen/trace.hpp"

#include "ouro/core/atomic_file.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ostream>

namespace ouro::gen {
namespace {

// The shortest decimal form that reads back to the same double; "" for NaN.
std::string number(double v) {
    if (std::isnan(v))
        return "";
    char buf[32];
    const auto res = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, res.ptr);
}

std::string quoted(const std::string& s) {
    if (s.find_first_of(",\"\r\n") == std::string::npos)
        return s;
    std::string out = "\"";
    for (const char c : s) {
        if (c == '"')
            out += '"';
        out += c;
    }
    return out + '"';
}

} // namespace

std::string trace_csv_header(std::int64_t top_n) {
    std::string h = "sequence,step,position,context,story,token,text,prob_raw,prob_final,"
                    "entropy_raw,entropy_final,rank_raw,p_max_raw";
    for (std::int64_t i = 1; i <= top_n; ++i)
        h += ",top" + std::to_string(i) + "_token,top" + std::to_string(i) + "_prob";
    h += ",changed_by,repeat_1,repeat_2,repeat_3,repeat_4,p_end";
    return h;
}

std::string trace_csv_row(const TraceRecord& r, std::int64_t top_n) {
    const TokenDecision& d = r.decision;
    std::string s = std::to_string(r.sequence) + ',' + std::to_string(r.step) + ',' +
                    std::to_string(r.position) + ',' + std::to_string(r.context) + ',' +
                    std::to_string(r.story) + ',' + std::to_string(r.token) + ',' + quoted(r.text) +
                    ',' + number(d.prob_raw) + ',' + number(d.prob_final) + ',' +
                    number(d.entropy_raw) + ',' + number(d.entropy_final) + ',' +
                    std::to_string(d.rank_raw) + ',' + number(d.p_max_raw);
    for (std::size_t i = 0; i < std::size_t(std::max<std::int64_t>(top_n, 0)); ++i) {
        if (i < d.top_raw.size())
            s += ',' + std::to_string(d.top_raw[i].first) + ',' + number(d.top_raw[i].second);
        else
            s += ",,";
    }
    s += ',' + quoted(d.changed_by);
    for (const bool rep : r.repeats)
        s += rep ? ",1" : ",0";
    return s + ',' + number(r.p_end);
}

std::string trace_json_line(const TraceRecord& r, std::int64_t top_n) {
    const TokenDecision& d = r.decision;
    nlohmann::ordered_json j;
    j["sequence"] = r.sequence;
    j["step"] = r.step;
    j["position"] = r.position;
    j["context"] = r.context;
    j["story"] = r.story;
    j["token"] = r.token;
    j["text"] = r.text;
    j["prob_raw"] = d.prob_raw;
    j["prob_final"] = d.prob_final;
    j["entropy_raw"] = d.entropy_raw;
    j["entropy_final"] = d.entropy_final;
    j["rank_raw"] = d.rank_raw;
    j["p_max_raw"] = d.p_max_raw;
    nlohmann::ordered_json& top = j["top" + std::to_string(top_n)];
    top = nlohmann::ordered_json::array();
    for (std::size_t i = 0; i < d.top_raw.size() && std::int64_t(i) < top_n; ++i)
        top.push_back({d.top_raw[i].first, d.top_raw[i].second});
    j["changed_by"] = d.changed_by;
    j["repeats"] = r.repeats;
    if (std::isnan(r.p_end))
        j["p_end"] = nullptr;
    else
        j["p_end"] = r.p_end;
    return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

void write_trace_csv(std::ostream& out, std::span<const TraceRecord> records, std::int64_t top_n) {
    out << trace_csv_header(top_n) << '\n';
    for (const TraceRecord& r : records)
        out << trace_csv_row(r, top_n) << '\n';
}

void write_trace_jsonl(std::ostream& out, std::span<const TraceRecord> records,
                       std::int64_t top_n) {
    for (const TraceRecord& r : records)
        out << trace_json_line(r, top_n) << '\n';
}

void write_trace_csv(const std::filesystem::path& path, std::span<const TraceRecord> records,
                     std::int64_t top_n) {
    AtomicFile file(path);
    file.write(trace_csv_header(top_n) + '\n');
    for (const TraceRecord& r : records)
        file.write(trace_csv_row(r, top_n) + '\n');
    file.commit();
}

void write_trace_jsonl(const std::filesystem::path& path, std::span<const TraceRecord> records,
                       std::int64_t top_n) {
    AtomicFile file(path);
    for (const TraceRecord& r : records)
        file.write(trace_json_line(r, top_n) + '\n');
    file.commit();
}

} // namespace ouro::gen
