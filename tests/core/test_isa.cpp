#include "test_util.hpp"

#include <ouro/core/error.hpp>
#include <ouro/core/isa.hpp>

#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

using namespace ouro;

namespace {

// Whether /proc/cpuinfo lists every AVX-512 feature the avx512 path needs (false where there is
// no /proc/cpuinfo to read).
bool cpuinfo_has_avx512() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("flags", 0) == 0) {
            std::istringstream words(line);
            std::string word;
            int found = 0;
            while (words >> word)
                found += word == "avx512f" || word == "avx512vl" || word == "avx512bw" ||
                         word == "avx512dq";
            return found == 4;
        }
    return false;
}

} // namespace

TEST_SUITE("core") {
    TEST_CASE("instruction-set paths") {
        SUBCASE("names round-trip") {
            for (const Isa isa : {Isa::avx2, Isa::avx512})
                CHECK(parse_isa(isa_name(isa)) == isa);
            CHECK(isa_name(Isa::avx2) == "avx2");
            CHECK(isa_name(Isa::avx512) == "avx512");
        }
        SUBCASE("rejects unknown names") {
            CHECK_THROWS_WITH_AS(parse_isa("sse4"),
                                 "isa: unknown instruction set 'sse4' (use avx2 or avx512)",
                                 ConfigError);
            CHECK_THROWS_WITH_AS(set_isa("AVX2"),
                                 "isa: unknown instruction set 'AVX2' (use avx2 or avx512)",
                                 ConfigError);
        }
        SUBCASE("the CPU check agrees with /proc/cpuinfo") {
            CHECK(cpu_supports(Isa::avx2));
            CHECK(cpu_supports(Isa::avx512) == cpuinfo_has_avx512());
        }
        SUBCASE("OURO_ISA chooses the path") {
            using detail::isa_from_environment;
            CHECK(isa_from_environment(nullptr) == default_isa());
            CHECK(isa_from_environment("") == default_isa());
            CHECK(isa_from_environment("avx2") == Isa::avx2);
            CHECK_THROWS_WITH_AS(isa_from_environment("avx"),
                                 "OURO_ISA=avx: unknown instruction set (use avx2 or avx512)",
                                 ConfigError);
            if (cpu_supports(Isa::avx512))
                CHECK(isa_from_environment("avx512") == Isa::avx512);
            else
                CHECK_THROWS_WITH_AS(
                    isa_from_environment("avx512"),
                    "OURO_ISA=avx512: this CPU has no AVX-512 (F, VL, BW, DQ); use avx2",
                    ConfigError);
        }
        SUBCASE("the process runs the path OURO_ISA names, else the default") {
            const char* setting = std::getenv("OURO_ISA");
            if (setting != nullptr && *setting != '\0')
                CHECK(active_isa() == setting);
            else
                CHECK(current_isa() == default_isa());
        }
        SUBCASE("set_isa and IsaGuard switch the path and restore it") {
            const Isa before = current_isa();
            {
                const IsaGuard guard(Isa::avx2);
                CHECK(active_isa() == "avx2");
                if (cpu_supports(Isa::avx512)) {
                    const IsaGuard inner(Isa::avx512);
                    CHECK(active_isa() == "avx512");
                } else {
                    CHECK_THROWS_WITH_AS(
                        set_isa(Isa::avx512),
                        "set_isa: this CPU has no AVX-512 (F, VL, BW, DQ); use avx2", ConfigError);
                }
                CHECK(active_isa() == "avx2");
            }
            CHECK(current_isa() == before);
        }
    }
}
