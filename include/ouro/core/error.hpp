// Error types thrown by ouro. Library code never exits or aborts: every failure a caller can cause
// (a bad shape, a bad file, a bad setting) is reported by throwing one of these, with a message
// that names the operation, what was expected and what came, e.g.
//   matmul: inner dimensions differ: a is (4, 8), b is (7, 3)
// The messages are part of the interface and are tested exactly.
#pragma once

#include <stdexcept>
#include <string>

namespace ouro {

/// Base class of every exception ouro throws on purpose.
class Error : public std::runtime_error {
public:
    explicit Error(const std::string& message) : std::runtime_error(message) {}
};

/// A tensor of the wrong shape, rank or size was passed to an operation.
class ShapeError : public Error {
public:
    using Error::Error;
};

/// A value or setting outside what an operation accepts (a probability outside [0, 1), an
/// index out of range, an unknown name).
class ConfigError : public Error {
public:
    using Error::Error;
};

/// A file could not be opened, read or written. The message names the path.
class IoError : public Error {
public:
    using Error::Error;
};

/// A file was read but its contents are not what its format requires. The message names the
/// path and what was wrong.
class FormatError : public Error {
public:
    using Error::Error;
};

} // namespace ouro
