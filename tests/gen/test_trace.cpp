// gen/trace.hpp: the per-token trace's CSV and JSON Lines writers.
#include <ouro/core/error.hpp>
#include <ouro/gen/trace.hpp>

#include "test_util.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <span>
#include <sstream>
#include <string>
#include <vector>

using namespace ouro;
using namespace ouro::gen;

TEST_SUITE("gen") {
    TEST_CASE("trace writers") {
        TraceRecord a;
        a.sequence = 1;
        a.step = 2;
        a.position = 7;
        a.context = 7;
        a.token = 42;
        a.text = "say \"hi\",\nthen";
        a.decision.prob_raw = 0.25;
        a.decision.prob_final = 0.5;
        a.decision.entropy_raw = 1.5;
        a.decision.entropy_final = 0.75;
        a.decision.rank_raw = 1;
        a.decision.p_max_raw = 0.375;
        a.decision.top_raw = {{3, 0.375}, {42, 0.25}};
        a.decision.changed_by = "top_k";
        a.repeats = {true, false, false, false};
        TraceRecord b;
        b.token = 5;
        b.text = "\xff";
        b.p_end = 0.125;

        SUBCASE("CSV: the documented columns, quoting, empty cells") {
            ouro::testing::TempDir dir;
            const std::vector<TraceRecord> records = {a, b};
            write_trace_csv(dir / "trace.csv", records);
            const std::string text = ouro::testing::read_bytes(dir / "trace.csv");
            const std::string expected =
                "sequence,step,position,context,story,token,text,prob_raw,prob_final,entropy_raw,"
                "entropy_final,rank_raw,p_max_raw,top1_token,top1_prob,top2_token,top2_prob,"
                "top3_token,top3_prob,top4_token,top4_prob,top5_token,top5_prob,changed_by,"
                "repeat_1,repeat_2,repeat_3,repeat_4,p_end\n"
                "1,2,7,7,0,42,\"say \"\"hi\"\",\nthen\",0.25,0.5,1.5,0.75,1,0.375,3,0.375,42,0.25,"
                ",,,,,,top_k,1,0,0,0,\n"
                "0,0,0,0,0,5,\xff,0,0,0,0,0,0,,,,,,,,,,,,0,0,0,0,0.125\n";
            CHECK(text == expected);
        }
        SUBCASE("JSON Lines: one object per record") {
            ouro::testing::TempDir dir;
            write_trace_jsonl(dir / "trace.jsonl", std::vector<TraceRecord>{a, b});
            const std::string text = ouro::testing::read_bytes(dir / "trace.jsonl");
            std::istringstream in(text);
            std::string line;
            std::vector<nlohmann::json> rows;
            while (std::getline(in, line))
                rows.push_back(nlohmann::json::parse(line));
            REQUIRE(rows.size() == 2);
            CHECK(rows[0]["token"] == 42);
            CHECK(rows[0]["text"] == "say \"hi\",\nthen");
            CHECK(rows[0]["top5"] == nlohmann::json::parse("[[3, 0.375], [42, 0.25]]"));
            CHECK(rows[0]["repeats"] == nlohmann::json::parse("[true, false, false, false]"));
            CHECK(rows[0]["p_end"].is_null());
            CHECK(rows[0]["changed_by"] == "top_k");
            CHECK(rows[1]["text"] == "\xef\xbf\xbd"); // U+FFFD for the invalid byte
            CHECK(rows[1]["p_end"] == 0.125);
            CHECK(text.starts_with("{\"sequence\":1,\"step\":2,\"position\":7,\"context\":7,"
                                   "\"story\":0,\"token\":42,\"text\":"));
        }

        SUBCASE("top_n sets the top-k columns and the JSON array's name") {
            CHECK(trace_csv_header(0) ==
                  "sequence,step,position,context,story,token,text,prob_raw,prob_final,"
                  "entropy_raw,entropy_final,rank_raw,p_max_raw,changed_by,repeat_1,repeat_2,"
                  "repeat_3,repeat_4,p_end");
            CHECK(trace_csv_header(1).find(",top1_token,top1_prob,changed_by,") !=
                  std::string::npos);
            CHECK(trace_csv_header(7).find(",top7_token,top7_prob,changed_by,") !=
                  std::string::npos);
            // One pair kept of two; three pairs with one empty.
            CHECK(trace_csv_row(a, 1).find(",0.375,3,0.375,top_k,") != std::string::npos);
            CHECK(trace_csv_row(a, 3).find(",0.375,3,0.375,42,0.25,,,top_k,") != std::string::npos);
            const nlohmann::json one = nlohmann::json::parse(trace_json_line(a, 1));
            CHECK(one["top1"] == nlohmann::json::parse("[[3, 0.375]]"));
            CHECK(!one.contains("top5"));
            const nlohmann::json none = nlohmann::json::parse(trace_json_line(a, 0));
            CHECK(none["top0"] == nlohmann::json::array());
            const nlohmann::json ten = nlohmann::json::parse(trace_json_line(a, 10));
            CHECK(ten["top10"] == nlohmann::json::parse("[[3, 0.375], [42, 0.25]]"));
        }
        SUBCASE("the stream writers write what the file writers write") {
            ouro::testing::TempDir dir;
            const std::vector<TraceRecord> records = {a, b};
            write_trace_csv(dir / "t.csv", records);
            write_trace_jsonl(dir / "t.jsonl", records);
            std::ostringstream csv, jsonl;
            write_trace_csv(csv, records);
            write_trace_jsonl(jsonl, records);
            CHECK(csv.str() == ouro::testing::read_bytes(dir / "t.csv"));
            CHECK(jsonl.str() == ouro::testing::read_bytes(dir / "t.jsonl"));
            CHECK(csv.str() ==
                  trace_csv_header() + "\n" + trace_csv_row(a) + "\n" + trace_csv_row(b) + "\n");
            CHECK(jsonl.str() == trace_json_line(a) + "\n" + trace_json_line(b) + "\n");
            // No records: the CSV header alone, an empty JSON Lines file.
            std::ostringstream empty_csv, empty_jsonl;
            write_trace_csv(empty_csv, std::span<const TraceRecord>{});
            write_trace_jsonl(empty_jsonl, std::span<const TraceRecord>{});
            CHECK(empty_csv.str() == trace_csv_header() + "\n");
            CHECK(empty_jsonl.str().empty());
        }
        SUBCASE("numbers are the shortest form that reads back to the same double") {
            TraceRecord r;
            r.decision.prob_raw = 0.1;
            r.decision.prob_final = 1.0 / 3.0;
            r.decision.entropy_raw = 1e-300;
            r.decision.entropy_final = 2.0;
            r.p_end = 5e-324; // the smallest subnormal double
            const std::string row = trace_csv_row(r);
            CHECK(row.find(",0.1,0.3333333333333333,1e-300,2,") != std::string::npos);
            CHECK(row.ends_with(",5e-324"));
            const nlohmann::json j = nlohmann::json::parse(trace_json_line(r));
            CHECK(j["prob_final"].get<double>() == 1.0 / 3.0);
            CHECK(j["entropy_raw"].get<double>() == 1e-300);
            CHECK(j["p_end"].get<double>() == 5e-324);
        }
        SUBCASE("a carriage return is quoted; a plain text cell is not") {
            TraceRecord r;
            r.text = "a\rb";
            r.decision.changed_by = "min_p";
            const std::string row = trace_csv_row(r);
            CHECK(row.find(",\"a\rb\",") != std::string::npos);
            CHECK(row.find(",min_p,") != std::string::npos);
            const std::string header = trace_csv_header();
            CHECK(std::count(row.begin(), row.end(), ',') ==
                  std::count(header.begin(), header.end(), ','));
        }
        SUBCASE("a file that cannot be written: IoError naming the path") {
            ouro::testing::TempDir dir;
            const std::filesystem::path path = dir / "missing" / "trace.csv";
            const std::string reason = "cannot create a temporary file for " + path.string() +
                                       ": No such file or directory";
            CHECK_THROWS_WITH_AS(write_trace_csv(path, std::vector<TraceRecord>{a}), reason.c_str(),
                                 IoError);
            CHECK_THROWS_WITH_AS(write_trace_jsonl(path, std::vector<TraceRecord>{a}),
                                 reason.c_str(), IoError);
            CHECK_FALSE(std::filesystem::exists(dir / "missing"));
        }
    }
}
