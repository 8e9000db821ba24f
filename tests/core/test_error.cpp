// core/error.hpp: every error ouro throws is an ouro::Error (and a std::runtime_error) that keeps
// its message; the four kinds are distinct, so callers can tell a bad shape from a bad file.
#include <ouro/core/error.hpp>

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <type_traits>

using namespace ouro;

namespace {

// Which of the four kinds `e` is, by catching in order from the most specific.
template <typename E> std::string kind_of(const E& e) {
    try {
        throw e;
    } catch (const ShapeError&) {
        return "shape";
    } catch (const ConfigError&) {
        return "config";
    } catch (const IoError&) {
        return "io";
    } catch (const FormatError&) {
        return "format";
    } catch (const Error&) {
        return "error";
    }
}

} // namespace

TEST_SUITE("core") {
    TEST_CASE("Error") {
        SUBCASE("every kind is an Error and a std::runtime_error") {
            static_assert(std::is_base_of_v<std::runtime_error, Error>);
            static_assert(std::is_base_of_v<Error, ShapeError>);
            static_assert(std::is_base_of_v<Error, ConfigError>);
            static_assert(std::is_base_of_v<Error, IoError>);
            static_assert(std::is_base_of_v<Error, FormatError>);
            CHECK_THROWS_WITH_AS(throw ShapeError("matmul: inner dimensions differ"),
                                 "matmul: inner dimensions differ", Error);
            CHECK_THROWS_WITH_AS(throw FormatError("f.bin: truncated"), "f.bin: truncated",
                                 std::runtime_error);
        }
        SUBCASE("the kinds are distinct") {
            CHECK(kind_of(ShapeError("a")) == "shape");
            CHECK(kind_of(ConfigError("a")) == "config");
            CHECK(kind_of(IoError("a")) == "io");
            CHECK(kind_of(FormatError("a")) == "format");
            CHECK(kind_of(Error("a")) == "error");
            static_assert(!std::is_base_of_v<ConfigError, ShapeError>);
            static_assert(!std::is_base_of_v<IoError, FormatError>);
            static_assert(!std::is_base_of_v<FormatError, IoError>);
        }
        SUBCASE("the message is kept exactly, and the constructor is explicit") {
            const std::string message = "io: /tmp/x: cannot open (No such file or directory)";
            const IoError e(message);
            CHECK(std::string(e.what()) == message);
            static_assert(!std::is_convertible_v<std::string, Error>);
            static_assert(!std::is_convertible_v<std::string, ConfigError>);
        }
    }
}
