// safetensors (Hugging Face's tensor file format): an 8-byte little-endian header length N, N bytes
// of JSON mapping each tensor name to {"dtype", "shape", "data_offsets": [begin, end]} plus an
// optional "__metadata__" map of strings, then the raw little-endian data, offsets relative to its
// start. Reading validates everything before any tensor is used, and every error names the file.
#pragma once

#include "ouro/core/tensor.hpp"
#include "ouro/io/dtype.hpp"

#include <map>
#include <string>
#include <vector>

namespace ouro::io {

struct SafetensorsEntry {
    DType dtype;
    Shape shape;
    std::size_t begin = 0; ///< byte offsets into the data section
    std::size_t end = 0;
};

/// A safetensors file read into memory.
class Safetensors {
public:
    /// Reads and validates `path`. Throws IoError when it cannot be read or is not a regular file
    /// (core/file_checks.hpp) and FormatError (message "<path>: <what is wrong>") when it is not a
    /// well-formed safetensors file. Everything is checked while parsing, before any tensor is
    /// converted: the header length against the file size, the header as JSON (any JSON error,
    /// 1e400 included, is a FormatError), each shape (at most 2^48 elements: "<path>: tensor 'w'
    /// has shape [4611686018427387908,4] with more than 2^48 elements"), each byte range (in
    /// order: "... data_offsets [16,8] end before they begin", inside the data section, exactly
    /// shape x dtype size), and, as the format requires, that the ranges cover the data section
    /// with no gap or overlap ("... leave bytes 0..8 of the data unused", "... overlap those of
    /// tensor 'a', which end at byte 8", "<path>: the tensors hold 8 bytes of data, but 12 follow
    /// the header").
    static Safetensors read(const std::string& path);
    /// Validates bytes already in memory; `source` names them in errors.
    static Safetensors parse(std::string bytes, const std::string& source);

    const std::string& source() const { return source_; }
    bool contains(const std::string& name) const { return entries_.count(name) != 0; }
    /// Number of tensors (metadata not counted).
    std::size_t tensor_count() const { return entries_.size(); }
    /// Tensor names in the order of their data in the file.
    std::vector<std::string> names() const;
    /// Throws FormatError "<path>: no tensor named 'x'".
    const SafetensorsEntry& entry(const std::string& name) const;

    /// The tensor converted to float (from F32, F64, F16 or BF16). Throws FormatError for other
    /// dtypes or when `expected` is given and the stored shape differs.
    TensorF get_float(const std::string& name, const Shape* expected = nullptr) const;
    TensorD get_double(const std::string& name, const Shape* expected = nullptr) const;
    /// The tensor as int32 (from I32, I64 in range, U16 or U8).
    TensorI get_int(const std::string& name, const Shape* expected = nullptr) const;
    template <typename T>
    Tensor<T> get(const std::string& name, const Shape* expected = nullptr) const;

    const std::map<std::string, std::string>& metadata() const { return metadata_; }
    /// Throws FormatError "<path>: metadata has no 'key'".
    const std::string& metadata(const std::string& key) const;

private:
    template <typename T>
    Tensor<T> get_floating(const std::string& name, const Shape* expected) const;
    const unsigned char* data(const SafetensorsEntry& e) const;
    void check_shape(const std::string& name, const SafetensorsEntry& e,
                     const Shape* expected) const;

    std::string source_;
    std::string bytes_;
    std::size_t data_start_ = 0;
    std::map<std::string, SafetensorsEntry> entries_;
    std::map<std::string, std::string> metadata_;
};

/// Builds a safetensors file: tensors in the order added, metadata strings, written atomically.
class SafetensorsWriter {
public:
    /// Stores a float tensor as F32, F16 or BF16 (the last two round to nearest even).
    void add(const std::string& name, const TensorF& t, DType as = DType::F32);
    /// Stores a double tensor as F64 or F32.
    void add(const std::string& name, const TensorD& t, DType as = DType::F64);
    void add(const std::string& name, const TensorI& t);
    void set_metadata(const std::string& key, const std::string& value) { metadata_[key] = value; }

    /// The file's bytes.
    std::string serialize() const;
    /// Writes atomically (see core/atomic_file.hpp). Throws IoError.
    void write(const std::string& path) const;

private:
    struct Item {
        std::string name;
        DType dtype;
        Shape shape;
        std::string bytes;
    };
    void add_item(Item item);

    std::vector<Item> items_;
    std::map<std::string, std::string> metadata_;
};

} // namespace ouro::io
