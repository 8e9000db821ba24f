// How well a team of N threads can share the products of a training step on the AVX-512 path,
// from the tiles alone: an estimate for any team size, on any CPU (it runs no product). For
// PERF.md's configs XS and S, each linear's forward, input gradient and weight gradient (qkv, the
// attention projection, the MLP's two layers, the tied head) is cut into tiles as the kernel cuts
// it, the tiles are dealt in turn to the first free thread, and each tile costs its multiply-adds
// over the kernel's register blocks (12 rows x 32 columns, lib/ops/gemm_kernel_avx512.hpp). Printed
// per team: the step's multiply-adds / (team x the slowest thread's), i.e. the share of the team
// kept busy, with the tiles of matmul_tile_size with one tile per thread (before session 13) and
// with matmul_kernel_tile_size's (now). Memory bandwidth, clocks and the rest of the step are
// outside it.
//
// Usage: ouro_kernel_tiles [LARGEST_TEAM]     default: 16
#include <ouro/nn/gpt.hpp>
#include <ouro/ops/matmul.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

using ouro::ops::MatmulTile;

constexpr std::int64_t mr = 12, nr = 32;

std::int64_t ceil_div(std::int64_t a, std::int64_t b) {
    return (a + b - 1) / b;
}

struct Product {
    std::int64_t m, n, k;
};

// The step's products (m, n, k) for a config with `rows` = B x T rows.
std::vector<Product> products(const ouro::nn::GPTConfig& c, std::int64_t rows) {
    const std::int64_t C = c.n_embd, V = c.vocab_size;
    std::vector<Product> out;
    auto linear = [&](std::int64_t out_features, std::int64_t in, std::int64_t times) {
        for (std::int64_t i = 0; i < times; ++i) {
            out.push_back({rows, out_features, in}); // forward
            out.push_back({rows, in, out_features}); // input gradient
            out.push_back({out_features, in, rows}); // weight gradient
        }
    };
    linear(3 * C, C, c.n_layer);
    linear(C, C, c.n_layer);
    linear(4 * C, C, c.n_layer);
    linear(C, 4 * C, c.n_layer);
    linear(V, C, 1);
    return out;
}

// The slowest thread's multiply-adds for one product cut into tiles of `size`.
double slowest(const Product& p, MatmulTile size, std::int64_t team) {
    std::vector<double> thread(std::size_t(team), 0.0);
    for (std::int64_t r0 = 0; r0 < p.m; r0 += size.rows)
        for (std::int64_t c0 = 0; c0 < p.n; c0 += size.cols) {
            const std::int64_t rows = p.m - r0 < size.rows ? p.m - r0 : size.rows;
            const std::int64_t cols = p.n - c0 < size.cols ? p.n - c0 : size.cols;
            std::size_t first_free = 0;
            for (std::size_t t = 1; t < thread.size(); ++t)
                if (thread[t] < thread[first_free])
                    first_free = t;
            thread[first_free] +=
                double(ceil_div(rows, mr) * mr * ceil_div(cols, nr) * nr) * double(p.k);
        }
    double most = 0.0;
    for (const double t : thread)
        most = t > most ? t : most;
    return most;
}

// The share of a team kept busy over all of `ps`, with tiles from tile_of(product, team).
template <typename TileOf>
double busy(const std::vector<Product>& ps, std::int64_t team, const TileOf& tile_of) {
    double work = 0.0, time = 0.0;
    for (const Product& p : ps) {
        work += double(p.m) * double(p.n) * double(p.k);
        time += slowest(p, tile_of(p, team), team);
    }
    return work / (double(team) * time);
}

} // namespace

int main(int argc, char** argv) {
    std::int64_t largest = 16;
    if (argc > 2 || (argc == 2 && (largest = std::atoll(argv[1])) < 1)) {
        std::fprintf(stderr, "usage: ouro_kernel_tiles [LARGEST_TEAM]   (a team of at least 1; "
                             "default 16)\n");
        return 2;
    }
    const ouro::nn::GPTConfig xs = ouro::nn::GPTConfig::xs(), s = ouro::nn::GPTConfig::s();
    const std::vector<Product> xs_products = products(xs, 32 * xs.block_size);
    const std::vector<Product> s_products = products(s, 16 * s.block_size);
    auto before = [](const Product& p, std::int64_t team) {
        return ouro::ops::matmul_tile_size(
            1, p.m, p.n, team > ouro::ops::matmul_min_tiles ? team : ouro::ops::matmul_min_tiles);
    };
    auto now = [](const Product& p, std::int64_t team) {
        return ouro::ops::matmul_kernel_tile_size(1, p.m, p.n, team, mr, nr);
    };
    std::printf("share of the team kept busy by the step's products (AVX-512 kernel's tiles)\n");
    std::printf("%6s %10s %10s %10s %10s\n", "team", "S before", "S now", "XS before", "XS now");
    for (std::int64_t team = 1; team <= largest; ++team)
        std::printf("%6lld %9.1f%% %9.1f%% %9.1f%% %9.1f%%\n", static_cast<long long>(team),
                    100.0 * busy(s_products, team, before), 100.0 * busy(s_products, team, now),
                    100.0 * busy(xs_products, team, before), 100.0 * busy(xs_products, team, now));
    return 0;
}
