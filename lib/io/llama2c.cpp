// llama2.c model files: the header checks, the reader of the three layouts and the writer of the
// float32 ones. Layouts and the mapping onto ouro's module names are in llama2c.hpp.
#include "ouro/io/llama2c.hpp"

#include "ouro/core/atomic_file.hpp"
#include "ouro/core/error.hpp"
#include "ouro/core/file_checks.hpp"
#include "ouro/core/half.hpp"

#include <array>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

namespace ouro::io {
namespace {

constexpr std::uint32_t magic = 0x616b3432; // "ak42"
constexpr std::int64_t versioned_header_bytes = 256;
// Bounds on the header fields, far above any llama2.c model (Llama 2 70B has dim 8192, 80 layers,
// 32000 tokens) and low enough that no product of them overflows 64 bits.
constexpr std::int64_t max_dim = 1 << 16, max_layers = 1 << 12, max_vocab = 1 << 22,
                       max_seq = 1 << 22;

struct Header {
    std::int64_t dim, hidden, layers, heads, kv_heads, vocab, seq_len;
    bool shared = true;
    std::int64_t group_size = 0; // version 2
    Llama2cFormat format = Llama2cFormat::legacy;

    std::int64_t head_size() const { return dim / heads; }
    std::int64_t kv_dim() const { return kv_heads * head_size(); }
    // Float32 (or, in version 2, int8) values of the matrices, and float32 values of the norms.
    std::int64_t matrix_values() const {
        return vocab * dim * (shared ? 1 : 2) +
               layers * (2 * dim * dim + 2 * kv_dim() * dim + 3 * hidden * dim);
    }
    std::int64_t norm_values() const { return (2 * layers + 1) * dim; }
    std::int64_t file_bytes() const {
        switch (format) {
        case Llama2cFormat::legacy:
            return 28 + 4 * (matrix_values() + norm_values() + seq_len * head_size());
        case Llama2cFormat::version1:
            return versioned_header_bytes + 4 * (matrix_values() + norm_values());
        case Llama2cFormat::version2:
            return versioned_header_bytes + 4 * norm_values() + matrix_values() +
                   4 * (matrix_values() / group_size);
        }
        return 0;
    }
};

std::string describe(const Header& h) {
    return "dim " + std::to_string(h.dim) + ", hidden_dim " + std::to_string(h.hidden) +
           ", n_layers " + std::to_string(h.layers) + ", n_heads " + std::to_string(h.heads) +
           ", n_kv_heads " + std::to_string(h.kv_heads) + ", vocab_size " +
           std::to_string(h.vocab) + ", seq_len " + std::to_string(h.seq_len);
}

// Checks the fields; returns an empty string when they are sane, else what is wrong.
std::string check_fields(const Header& h) {
    const auto in_range = [](const char* name, std::int64_t v, std::int64_t hi) -> std::string {
        if (v < 1 || v > hi)
            return std::string("header field ") + name + " = " + std::to_string(v) +
                   " is outside [1, " + std::to_string(hi) + "]";
        return {};
    };
    for (const std::string& e :
         {in_range("dim", h.dim, max_dim), in_range("hidden_dim", h.hidden, 4 * max_dim),
          in_range("n_layers", h.layers, max_layers), in_range("n_heads", h.heads, h.dim),
          in_range("n_kv_heads", h.kv_heads, h.heads), in_range("vocab_size", h.vocab, max_vocab),
          in_range("seq_len", h.seq_len, max_seq)})
        if (!e.empty())
            return e;
    if (h.dim % h.heads != 0)
        return "header field dim = " + std::to_string(h.dim) +
               " is not a multiple of n_heads = " + std::to_string(h.heads);
    if (h.heads % h.kv_heads != 0)
        return "header field n_kv_heads = " + std::to_string(h.kv_heads) +
               " does not divide n_heads = " + std::to_string(h.heads);
    if (h.head_size() % 2 != 0)
        return "head size " + std::to_string(h.head_size()) + " is odd (RoPE rotates pairs)";
    if (h.format == Llama2cFormat::version2 &&
        (h.group_size < 1 || h.group_size > max_dim || h.dim % h.group_size != 0))
        return "header field group_size = " + std::to_string(h.group_size) +
               " does not divide dim = " + std::to_string(h.dim);
    return {};
}

// The header of `path` as one of the layouts, or an explanation of why it is none. `bytes` is
// the file's size.
struct Probe {
    Header header{};
    std::string error; // empty when the file is a llama2.c model
};

Probe probe(const std::filesystem::path& path, std::uint64_t bytes) {
    Probe p;
    std::ifstream in(path, std::ios::binary);
    std::array<char, 64> buf{};
    in.read(buf.data(), buf.size());
    const std::int64_t got = in.gcount();
    const auto i32 = [&](int offset) {
        std::int32_t v;
        std::memcpy(&v, buf.data() + offset, 4);
        return std::int64_t(v);
    };
    Header& h = p.header;
    std::uint32_t m = 0;
    if (got >= 4)
        std::memcpy(&m, buf.data(), 4);
    if (m == magic && got >= 41) {
        const std::int64_t version = i32(4);
        if (version != 1 && version != 2) {
            p.error = "llama2.c version " + std::to_string(version) + " is not supported (1, 2)";
            return p;
        }
        h = {i32(8), i32(12), i32(16), i32(20), i32(24), i32(28), i32(32)};
        h.format = version == 1 ? Llama2cFormat::version1 : Llama2cFormat::version2;
        h.shared = buf[36] != 0;
        if (version == 2)
            h.group_size = i32(37);
    } else if (got >= 28) {
        h = {i32(0), i32(4), i32(8), i32(12), i32(16), i32(20), i32(24)};
        h.shared = h.vocab > 0;
        h.vocab = std::abs(h.vocab);
        h.format = Llama2cFormat::legacy;
    } else {
        p.error = "too short for a llama2.c header (" + std::to_string(got) + " bytes)";
        return p;
    }
    if (std::string e = check_fields(h); !e.empty()) {
        p.error = e;
        return p;
    }
    if (std::uint64_t(h.file_bytes()) != bytes)
        p.error = std::to_string(bytes) + " bytes, but a " + to_string(h.format) + " header with " +
                  describe(h) + (h.shared ? "" : " (separate classifier)") + " needs " +
                  std::to_string(h.file_bytes());
    return p;
}

// Reads float32 values in file order.
class Reader {
public:
    Reader(const std::filesystem::path& path, std::int64_t offset)
        : path_(path), in_(path, std::ios::binary) {
        in_.seekg(offset);
    }
    void floats(float* out, std::int64_t n) { bytes(out, n * 4); }
    void bytes(void* out, std::int64_t n) {
        in_.read(static_cast<char*>(out), n);
        if (in_.gcount() != n)
            throw IoError("llama2.c model: " + path_.string() + ": read failed (truncated file?)");
    }
    void skip(std::int64_t n) { in_.seekg(n, std::ios::cur); }

private:
    std::filesystem::path path_;
    std::ifstream in_;
};

float* weight(const Var<float>& v) {
    return const_cast<float*>(v.value().data());
}

// The matrices in the order of version 1 and 2's lists, as (destination, rows x cols) pieces:
// the token embedding, wq, wk, wv, wo, w1, w2, w3 (each for every layer), the classifier.
struct Piece {
    float* dst;
    std::int64_t values;
};

std::vector<Piece> matrix_pieces(const nn::GPT<float>& m, const Header& h) {
    std::vector<Piece> out;
    const std::int64_t D = h.dim, KV = h.kv_dim(), H = h.hidden;
    out.push_back({weight(m.wte->weight), h.vocab * D});
    const auto each = [&](auto&& f) {
        for (const nn::Block<float>* b : m.h)
            out.push_back(f(*b));
    };
    each([&](const nn::Block<float>& b) { return Piece{weight(b.attn->c_attn->weight), D * D}; });
    each([&](const nn::Block<float>& b) {
        return Piece{weight(b.attn->c_attn->weight) + D * D, KV * D};
    });
    each([&](const nn::Block<float>& b) {
        return Piece{weight(b.attn->c_attn->weight) + (D + KV) * D, KV * D};
    });
    each([&](const nn::Block<float>& b) { return Piece{weight(b.attn->c_proj->weight), D * D}; });
    each([&](const nn::Block<float>& b) { return Piece{weight(b.mlp->c_fc->weight), H * D}; });
    each([&](const nn::Block<float>& b) { return Piece{weight(b.mlp->c_proj->weight), D * H}; });
    each([&](const nn::Block<float>& b) {
        return Piece{weight(b.mlp->c_fc->weight) + H * D, H * D};
    });
    if (!h.shared)
        out.push_back({weight(m.lm_head->weight), h.vocab * D});
    return out;
}

std::vector<Piece> norm_pieces(const nn::GPT<float>& m, const Header& h) {
    std::vector<Piece> out;
    for (const nn::Block<float>* b : m.h)
        out.push_back({weight(b->ln_1->weight), h.dim});
    for (const nn::Block<float>* b : m.h)
        out.push_back({weight(b->ln_2->weight), h.dim});
    out.push_back({weight(m.ln_f->weight), h.dim});
    return out;
}

nn::GPTConfig config_of(const Header& h) {
    nn::GPTConfig c =
        nn::GPTConfig::llama(h.vocab, h.seq_len, h.layers, h.heads, h.kv_heads, h.dim);
    c.mlp_hidden = h.hidden;
    c.tied_head = h.shared;
    return c;
}

// model.py's precompute_freqs_cis: cos and sin of t * theta^(-2i / HS), t < seq_len, i < HS/2,
// computed in float32 as PyTorch does.
void write_rope_tables(AtomicFile& out, const Header& h, double theta) {
    const std::int64_t half = h.head_size() / 2;
    std::vector<float> freqs(static_cast<std::size_t>(half));
    std::vector<float> row(static_cast<std::size_t>(half));
    for (std::int64_t i = 0; i < half; ++i)
        freqs[std::size_t(i)] = 1.0f / std::pow(float(theta), float(2 * i) / float(h.head_size()));
    for (const bool sine : {false, true})
        for (std::int64_t t = 0; t < h.seq_len; ++t) {
            for (std::int64_t i = 0; i < half; ++i) {
                const float a = float(t) * freqs[std::size_t(i)];
                row[std::size_t(i)] = sine ? std::sin(a) : std::cos(a);
            }
            out.write(row.data(), row.size() * 4);
        }
}

} // namespace

const char* to_string(Llama2cFormat f) {
    switch (f) {
    case Llama2cFormat::legacy:
        return "legacy";
    case Llama2cFormat::version1:
        return "version1";
    case Llama2cFormat::version2:
        return "version2";
    }
    return "legacy";
}

bool is_llama2c_model(const std::filesystem::path& path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
        return false;
    const std::uint64_t bytes = std::filesystem::file_size(path, ec);
    return !ec && probe(path, bytes).error.empty();
}

Llama2cModel import_llama2c(const std::filesystem::path& path) {
    require_regular_file(path, "llama2.c model");
    const std::uint64_t bytes = std::filesystem::file_size(path);
    const Probe p = probe(path, bytes);
    if (!p.error.empty())
        throw FormatError(path.string() + ": not a llama2.c model: " + p.error);
    const Header& h = p.header;
    // Zeros: every weight is overwritten below.
    Llama2cModel out{std::make_unique<nn::GPT<float>>(config_of(h), nn::Init::zeros()), h.format};
    const nn::GPT<float>& m = *out.model;
    const std::vector<Piece> matrices = matrix_pieces(m, h), norms = norm_pieces(m, h);

    if (h.format == Llama2cFormat::legacy) {
        Reader in(path, 28);
        // Matrices and norms interleaved as run.c reads them: embedding, rms_att, wq, wk, wv, wo,
        // rms_ffn, w1, w2, w3, rms_final, RoPE tables, classifier.
        const std::int64_t L = h.layers;
        const auto read = [&](const Piece& pc) { in.floats(pc.dst, pc.values); };
        read(matrices[0]);
        for (std::int64_t l = 0; l < L; ++l)
            read(norms[std::size_t(l)]);
        for (std::int64_t i = 1; i <= 4 * L; ++i) // wq, wk, wv, wo
            read(matrices[std::size_t(i)]);
        for (std::int64_t l = 0; l < L; ++l)
            read(norms[std::size_t(L + l)]);
        for (std::int64_t i = 4 * L + 1; i <= 7 * L; ++i) // w1, w2, w3
            read(matrices[std::size_t(i)]);
        read(norms.back());
        in.skip(4 * h.seq_len * h.head_size());
        if (!h.shared)
            read(matrices.back());
    } else if (h.format == Llama2cFormat::version1) {
        Reader in(path, versioned_header_bytes);
        for (const Piece& pc : norms)
            in.floats(pc.dst, pc.values);
        for (const Piece& pc : matrices)
            in.floats(pc.dst, pc.values);
    } else {
        Reader in(path, versioned_header_bytes);
        for (const Piece& pc : norms)
            in.floats(pc.dst, pc.values);
        // All int8 values first, then all scales: hold the values, then widen them group by
        // group with their scales.
        std::vector<std::vector<std::int8_t>> values;
        values.reserve(matrices.size());
        for (const Piece& pc : matrices) {
            values.emplace_back(std::size_t(pc.values));
            in.bytes(values.back().data(), pc.values);
        }
        std::vector<float> scales;
        for (std::size_t i = 0; i < matrices.size(); ++i) {
            const Piece& pc = matrices[i];
            scales.resize(std::size_t(pc.values / h.group_size));
            in.floats(scales.data(), std::int64_t(scales.size()));
            for (std::int64_t j = 0; j < pc.values; ++j)
                pc.dst[j] =
                    float(values[i][std::size_t(j)]) * scales[std::size_t(j / h.group_size)];
            values[i] = {};
        }
    }
    return out; // a shared classifier is the embedding itself (GPTConfig::tied_head)
}

void export_llama2c(const nn::GPT<float>& model, const std::filesystem::path& path,
                    Llama2cFormat format) {
    const nn::GPTConfig& c = model.config;
    const auto refuse = [](const std::string& what) {
        throw ConfigError("export_llama2c: llama2.c cannot represent " + what);
    };
    if (c.norm != nn::NormKind::rmsnorm)
        refuse("a model with LayerNorm (it needs rmsnorm)");
    if (c.mlp != nn::MlpKind::swiglu)
        refuse("a model with a GELU MLP (it needs swiglu)");
    if (c.position != nn::PositionEncoding::rope || c.rope_layout != ops::RopeLayout::interleaved)
        refuse("positions other than RoPE on interleaved pairs");
    if (c.bias)
        refuse("biases");
    if (std::abs(c.norm_eps - 1e-5) > 1e-12)
        refuse("norm_eps " + std::to_string(c.norm_eps) + " (run.c uses 1e-5)");
    if (format == Llama2cFormat::version2)
        refuse("version 2 on writing (int8 groups): write legacy or version1");
    Header h{c.n_embd,     c.hidden_size(), c.n_layer,   c.n_head,
             c.kv_heads(), c.vocab_size,    c.block_size};
    h.shared = c.tied_head;
    h.format = format;
    if (std::string e = check_fields(h); !e.empty())
        refuse(e);
    const std::vector<Piece> matrices = matrix_pieces(model, h), norms = norm_pieces(model, h);
    AtomicFile out(path);
    const auto i32 = [&](std::int64_t v) {
        const std::int32_t x = std::int32_t(v);
        out.write(&x, 4);
    };
    const auto write = [&](const Piece& pc) { out.write(pc.dst, std::size_t(pc.values) * 4); };
    if (format == Llama2cFormat::legacy) {
        for (const std::int64_t v : {h.dim, h.hidden, h.layers, h.heads, h.kv_heads})
            i32(v);
        i32(h.shared ? h.vocab : -h.vocab);
        i32(h.seq_len);
        const std::int64_t L = h.layers;
        write(matrices[0]);
        for (std::int64_t l = 0; l < L; ++l)
            write(norms[std::size_t(l)]);
        for (std::int64_t i = 1; i <= 4 * L; ++i)
            write(matrices[std::size_t(i)]);
        for (std::int64_t l = 0; l < L; ++l)
            write(norms[std::size_t(L + l)]);
        for (std::int64_t i = 4 * L + 1; i <= 7 * L; ++i)
            write(matrices[std::size_t(i)]);
        write(norms.back());
        write_rope_tables(out, h, c.rope_base);
        if (!h.shared)
            write(matrices.back());
    } else {
        out.write(&magic, 4);
        i32(1);
        for (const std::int64_t v :
             {h.dim, h.hidden, h.layers, h.heads, h.kv_heads, h.vocab, h.seq_len})
            i32(v);
        const std::uint8_t shared = h.shared ? 1 : 0;
        out.write(&shared, 1);
        const std::string pad(std::size_t(versioned_header_bytes) - std::size_t(out.size()), '\0');
        out.write(pad);
        for (const Piece& pc : norms)
            write(pc);
        for (const Piece& pc : matrices)
            write(pc);
    }
    out.commit();
}

} // namespace ouro::io
