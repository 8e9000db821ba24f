// safetensors reading (with validation of every field) and writing.
#include "ouro/io/safetensors.hpp"

#include "ouro/core/atomic_file.hpp"
#include "ouro/core/checked.hpp"
#include "ouro/core/error.hpp"

#include "../data/json_error.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <optional>

namespace ouro::io {
namespace {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; ouro reads it in place");

std::uint64_t read_u64_le(const std::string& b) {
    std::uint64_t v = 0;
    std::memcpy(&v, b.data(), 8);
    return v;
}

template <typename U> U load(const unsigned char* p, std::size_t i) {
    U v;
    std::memcpy(&v, p + i * sizeof(U), sizeof(U));
    return v;
}

[[noreturn]] void bad_file(const std::string& source, const std::string& what) {
    throw FormatError(source + ": " + what);
}

// One tensor's header entry, with its byte range inside the data section (data_size bytes) and
// its size agreeing with its shape and dtype; `fail` throws.
SafetensorsEntry parse_entry(const std::string& source, const std::string& name,
                             const nlohmann::json& v, std::uint64_t data_size) {
    const auto fail = [&](const std::string& what) { bad_file(source, what); };
    const std::string what = "tensor '" + name + "'";
    if (!v.is_object() || !v.contains("dtype") || !v.contains("shape") ||
        !v.contains("data_offsets"))
        fail(what + " needs dtype, shape and data_offsets");
    SafetensorsEntry e;
    const nlohmann::json& dtype = v.at("dtype");
    if (!dtype.is_string() || !parse_dtype(dtype.get<std::string>(), e.dtype))
        fail(what + " has unknown dtype " + dtype.dump());
    const nlohmann::json& shape = v.at("shape");
    if (!shape.is_array() || shape.size() > std::size_t(Shape::max_rank))
        fail(what + " has an invalid shape " + shape.dump());
    std::vector<std::int64_t> dims;
    for (const auto& d : shape) {
        // Unsigned JSON integers only, and within int64 (a larger one would wrap negative).
        if (!d.is_number_unsigned() ||
            d.get<std::uint64_t>() > std::uint64_t(std::numeric_limits<std::int64_t>::max()))
            fail(what + " has an invalid shape " + shape.dump());
        dims.push_back(std::int64_t(d.get<std::uint64_t>()));
    }
    const std::optional<std::int64_t> numel = checked_numel(dims);
    if (!numel)
        fail(what + " has shape " + shape.dump() + " with more than 2^48 elements");
    e.shape = Shape(std::span<const std::int64_t>(dims));
    const nlohmann::json& off = v.at("data_offsets");
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() ||
        !off[1].is_number_unsigned())
        fail(what + " has invalid data_offsets " + off.dump());
    const auto begin = off[0].get<std::uint64_t>();
    const auto end = off[1].get<std::uint64_t>();
    if (end < begin)
        fail(what + " data_offsets " + off.dump() + " end before they begin");
    if (end > data_size)
        fail(what + " data_offsets " + off.dump() + " run past the end of the data (" +
             std::to_string(data_size) + " bytes)");
    // numel <= 2^48 and a dtype is at most 8 bytes: no overflow, but checked all the same.
    const std::optional<std::uint64_t> need =
        checked_mul(std::uint64_t(*numel), std::uint64_t(dtype_size(e.dtype)));
    if (!need || end - begin != *need)
        fail(what + " data_offsets " + off.dump() + " hold " + std::to_string(end - begin) +
             " bytes, shape " + e.shape.to_string() + " of " + dtype_name(e.dtype) + " needs " +
             (need ? std::to_string(*need) : std::string("more than 2^64")));
    e.begin = std::size_t(begin);
    e.end = std::size_t(end);
    return e;
}

// As the format requires (and Hugging Face's reader checks): the tensors' byte ranges tile the
// data section, with no gap and no overlap, so no byte is read as two tensors or hidden between
// them.
void check_tiling(const std::string& source, const std::map<std::string, SafetensorsEntry>& entries,
                  std::uint64_t data_size) {
    const auto fail = [&](const std::string& what) { bad_file(source, what); };
    std::vector<std::pair<const std::string*, const SafetensorsEntry*>> order;
    for (const auto& [name, e] : entries)
        order.emplace_back(&name, &e);
    std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
        return std::pair(a.second->begin, a.second->end) <
               std::pair(b.second->begin, b.second->end);
    });
    std::uint64_t at = 0;
    const std::string* previous = nullptr;
    for (const auto& [name, e] : order) {
        std::string range = "[";
        range.append(std::to_string(e->begin)).append(",").append(std::to_string(e->end));
        range += ']';
        if (e->begin < at)
            fail("tensor '" + *name + "' data_offsets " + range + " overlap those of tensor '" +
                 *previous + "', which end at byte " + std::to_string(at));
        if (e->begin > at)
            fail("tensor '" + *name + "' data_offsets " + range + " leave bytes " +
                 std::to_string(at) + ".." + std::to_string(e->begin) + " of the data unused");
        at = e->end;
        previous = name;
    }
    if (at != data_size)
        fail("the tensors hold " + std::to_string(at) + " bytes of data, but " +
             std::to_string(data_size) + " follow the header");
}

} // namespace

Safetensors Safetensors::read(const std::string& path) {
    return parse(read_file(path, "Safetensors::read"), path);
}

Safetensors Safetensors::parse(std::string bytes, const std::string& source) {
    Safetensors f;
    f.source_ = source;
    auto fail = [&](const std::string& what) { throw FormatError(source + ": " + what); };
    if (bytes.size() < 8)
        fail("file is " + std::to_string(bytes.size()) +
             " bytes, too short for a safetensors header");
    const std::uint64_t header_len = read_u64_le(bytes);
    if (header_len > bytes.size() - 8)
        fail("header length " + std::to_string(header_len) + " runs past the end of the file (" +
             std::to_string(bytes.size()) + " bytes)");
    f.data_start_ = 8 + std::size_t(header_len);
    const std::uint64_t data_size = bytes.size() - f.data_start_;

    nlohmann::json header;
    try {
        header =
            nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + std::ptrdiff_t(f.data_start_));
    } catch (const nlohmann::json::exception& e) {
        fail("header is not valid JSON: " + detail::json_error_text(e));
    }
    if (!header.is_object())
        fail("header is not a JSON object");

    // Every field is checked for its JSON type before it is read, so nlohmann's own exceptions
    // cannot arise below; the catch is the boundary that keeps them inside the library anyway.
    try {
        for (auto it = header.begin(); it != header.end(); ++it) {
            const std::string& name = it.key();
            const nlohmann::json& v = it.value();
            if (name == "__metadata__") {
                if (!v.is_object())
                    fail("__metadata__ is not an object");
                for (auto m = v.begin(); m != v.end(); ++m) {
                    if (!m.value().is_string())
                        fail("metadata '" + m.key() + "' is not a string");
                    f.metadata_[m.key()] = m.value().get<std::string>();
                }
                continue;
            }
            f.entries_.emplace(name, parse_entry(source, name, v, data_size));
        }
    } catch (const nlohmann::json::exception& e) {
        fail("header: " + detail::json_error_text(e));
    }
    check_tiling(source, f.entries_, data_size);
    f.bytes_ = std::move(bytes);
    return f;
}

std::vector<std::string> Safetensors::names() const {
    std::vector<std::string> out;
    for (auto& [name, e] : entries_)
        out.push_back(name);
    std::stable_sort(out.begin(), out.end(), [&](const std::string& a, const std::string& b) {
        return entries_.at(a).begin < entries_.at(b).begin;
    });
    return out;
}

const SafetensorsEntry& Safetensors::entry(const std::string& name) const {
    auto it = entries_.find(name);
    if (it == entries_.end())
        throw FormatError(source_ + ": no tensor named '" + name + "'");
    return it->second;
}

const std::string& Safetensors::metadata(const std::string& key) const {
    auto it = metadata_.find(key);
    if (it == metadata_.end())
        throw FormatError(source_ + ": metadata has no '" + key + "'");
    return it->second;
}

const unsigned char* Safetensors::data(const SafetensorsEntry& e) const {
    return reinterpret_cast<const unsigned char*>(bytes_.data()) + data_start_ + e.begin;
}

void Safetensors::check_shape(const std::string& name, const SafetensorsEntry& e,
                              const Shape* expected) const {
    if (expected && !(e.shape == *expected))
        throw FormatError(source_ + ": tensor '" + name + "' is " + e.shape.to_string() +
                          ", expected " + expected->to_string());
}

template <typename T>
Tensor<T> Safetensors::get_floating(const std::string& name, const Shape* expected) const {
    const SafetensorsEntry& e = entry(name);
    check_shape(name, e, expected);
    if (e.dtype != DType::F64 && e.dtype != DType::F32 && e.dtype != DType::F16 &&
        e.dtype != DType::BF16)
        throw FormatError(source_ + ": tensor '" + name + "' is " + dtype_name(e.dtype) +
                          ", expected a floating-point dtype");
    // Every element is written below: no zero-fill first (on a machine with a busy core, each
    // fill over the team could wait for a descheduled thread).
    Tensor<T> t = Tensor<T>::uninitialized(e.shape);
    const unsigned char* p = data(e);
    const std::size_t n = std::size_t(t.numel());
    T* out = t.data();
    for (std::size_t i = 0; i < n; ++i) {
        switch (e.dtype) {
        case DType::F64:
            out[i] = T(load<double>(p, i));
            break;
        case DType::F32:
            out[i] = T(load<float>(p, i));
            break;
        case DType::F16:
            out[i] = T(half_to_float(load<std::uint16_t>(p, i)));
            break;
        default:
            out[i] = T(bfloat16_to_float(load<std::uint16_t>(p, i)));
            break;
        }
    }
    return t;
}

TensorF Safetensors::get_float(const std::string& name, const Shape* expected) const {
    return get_floating<float>(name, expected);
}
TensorD Safetensors::get_double(const std::string& name, const Shape* expected) const {
    return get_floating<double>(name, expected);
}

TensorI Safetensors::get_int(const std::string& name, const Shape* expected) const {
    const SafetensorsEntry& e = entry(name);
    check_shape(name, e, expected);
    TensorI t(e.shape);
    const unsigned char* p = data(e);
    for (std::size_t i = 0; i < std::size_t(t.numel()); ++i) {
        std::int64_t v = 0;
        switch (e.dtype) {
        case DType::I32:
            v = load<std::int32_t>(p, i);
            break;
        case DType::I64:
            v = load<std::int64_t>(p, i);
            break;
        case DType::U16:
            v = load<std::uint16_t>(p, i);
            break;
        case DType::U8:
            v = load<std::uint8_t>(p, i);
            break;
        default:
            throw FormatError(source_ + ": tensor '" + name + "' is " + dtype_name(e.dtype) +
                              ", expected an integer dtype");
        }
        if (v < INT32_MIN || v > INT32_MAX)
            throw FormatError(source_ + ": tensor '" + name + "' value " + std::to_string(v) +
                              " does not fit in int32");
        t[std::int64_t(i)] = std::int32_t(v);
    }
    return t;
}

template <> TensorF Safetensors::get<float>(const std::string& name, const Shape* expected) const {
    return get_float(name, expected);
}
template <> TensorD Safetensors::get<double>(const std::string& name, const Shape* expected) const {
    return get_double(name, expected);
}
template <>
TensorI Safetensors::get<std::int32_t>(const std::string& name, const Shape* expected) const {
    return get_int(name, expected);
}

void SafetensorsWriter::add_item(Item item) {
    for (const Item& i : items_)
        if (i.name == item.name)
            throw ConfigError("SafetensorsWriter: tensor '" + item.name + "' added twice");
    if (item.name == "__metadata__")
        throw ConfigError("SafetensorsWriter: '__metadata__' is not a tensor name");
    items_.push_back(std::move(item));
}

void SafetensorsWriter::add(const std::string& name, const TensorF& t, DType as) {
    Item item{name, as, t.shape(), {}};
    const std::size_t n = std::size_t(t.numel());
    if (as == DType::F32) {
        item.bytes.assign(reinterpret_cast<const char*>(t.data()), n * 4);
    } else if (as == DType::F16 || as == DType::BF16) {
        item.bytes.resize(n * 2);
        for (std::size_t i = 0; i < n; ++i) {
            const std::uint16_t h = as == DType::F16 ? float_to_half(t[std::int64_t(i)])
                                                     : float_to_bfloat16(t[std::int64_t(i)]);
            std::memcpy(item.bytes.data() + 2 * i, &h, 2);
        }
    } else {
        throw ConfigError(std::string("SafetensorsWriter: cannot store float tensor '") + name +
                          "' as " + dtype_name(as));
    }
    add_item(std::move(item));
}

void SafetensorsWriter::add(const std::string& name, const TensorD& t, DType as) {
    if (as == DType::F32)
        return add(name, t.cast<float>(), DType::F32);
    if (as != DType::F64)
        throw ConfigError(std::string("SafetensorsWriter: cannot store double tensor '") + name +
                          "' as " + dtype_name(as));
    add_item({name, DType::F64, t.shape(),
              std::string(reinterpret_cast<const char*>(t.data()), std::size_t(t.numel()) * 8)});
}

void SafetensorsWriter::add(const std::string& name, const TensorI& t) {
    add_item({name, DType::I32, t.shape(),
              std::string(reinterpret_cast<const char*>(t.data()), std::size_t(t.numel()) * 4)});
}

std::string SafetensorsWriter::serialize() const {
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!metadata_.empty())
        header["__metadata__"] = metadata_;
    std::size_t offset = 0;
    for (const Item& i : items_) {
        nlohmann::ordered_json e;
        e["dtype"] = dtype_name(i.dtype);
        e["shape"] = std::vector<std::int64_t>(i.shape.begin(), i.shape.end());
        e["data_offsets"] = {offset, offset + i.bytes.size()};
        header[i.name] = e;
        offset += i.bytes.size();
    }
    std::string json;
    try {
        json = header.dump();
    } catch (const nlohmann::json::exception& e) { // names and metadata must be UTF-8
        throw ConfigError(
            "SafetensorsWriter: a tensor name or metadata value is not valid UTF-8 (" +
            detail::json_error_text(e) + ")");
    }
    json.append((8 - json.size() % 8) % 8, ' '); // data starts 8-byte aligned
    std::string out(8, '\0');
    const std::uint64_t len = json.size();
    std::memcpy(out.data(), &len, 8);
    out += json;
    out.reserve(out.size() + offset);
    for (const Item& i : items_)
        out += i.bytes;
    return out;
}

void SafetensorsWriter::write(const std::string& path) const {
    write_file_atomic(path, serialize());
}

} // namespace ouro::io
