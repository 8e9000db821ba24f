// The tiled GEMM under matmul and linear on each instruction-set path (ouro/core/isa.hpp): every
// path matches the naive reference and gives the same bits for any thread count.
#include "test_util.hpp"

#include <ouro/core/isa.hpp>
#include <ouro/core/parallel.hpp>
#include <ouro/ops/matmul.hpp>

#include <Eigen/Core>
#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace ouro;
using namespace ouro::ops;
using ouro::testing::bitwise_equal;
using ouro::testing::check_close;
using ouro::testing::random_tensor;
using ouro::testing::runnable_paths;

namespace {

// Forward and both gradients of one linear layer with a bias, (rows, in) -> (rows, out).
struct LinearResult {
    TensorF out, dx, dw, db;
};
LinearResult run_linear(const TensorF& x, const TensorF& w, const TensorF& bias,
                        const TensorF& dout) {
    const std::int64_t rows = x.shape()[0], in = x.shape()[1], out = w.shape()[0];
    LinearResult r{TensorF({rows, out}), TensorF({rows, in}), TensorF({out, in}), TensorF({out})};
    linear_forward(x.data(), w.data(), bias.data(), r.out.data(), rows, in, out);
    linear_backward(x.data(), w.data(), dout.data(), r.dx.data(), r.dw.data(), r.db.data(), rows,
                    in, out);
    return r;
}

} // namespace

TEST_SUITE("ops") {
    TEST_CASE("matmul and linear on every instruction-set path") {
        Rng rng(11);
        // Sizes that are not multiples of 8 or 16 lanes, large enough to be cut into tiles.
        const std::int64_t rows = 301, in = 133, out = 77;
        const TensorF x = random_tensor<float>({rows, in}, rng);
        const TensorF w = random_tensor<float>({out, in}, rng);
        const TensorF bias = random_tensor<float>({out}, rng);
        const TensorF dout = random_tensor<float>({rows, out}, rng);

        SUBCASE("forward matches reference") {
            TensorF expected({rows, out});
            linear_reference(x.data(), w.data(), bias.data(), expected.data(), rows, in, out);
            const MatmulDims d = matmul_dims(Shape{3, 37, 29}, Shape{3, 41, 29}, false, true);
            const TensorF a = random_tensor<float>({3, 37, 29}, rng);
            const TensorF b = random_tensor<float>({3, 41, 29}, rng);
            TensorF want({3, 37, 41});
            matmul_reference(a.data(), b.data(), want.data(), d);
            for (const Isa path : runnable_paths()) {
                CAPTURE(isa_name(path));
                const IsaGuard guard(path);
                check_close(run_linear(x, w, bias, dout).out, expected, 1e-5, 1e-5);
                TensorF got({3, 37, 41});
                matmul_forward(a.data(), b.data(), got.data(), d);
                check_close(got, want, 1e-5, 1e-5);
            }
        }
        SUBCASE("gradients match the reference products") {
            // dx = dout . w, dw = dout^T . x: the forward reference on transposed copies.
            TensorF w_t({in, out}), dout_t({out, rows}), x_t({in, rows});
            for (std::int64_t o = 0; o < out; ++o)
                for (std::int64_t i = 0; i < in; ++i)
                    w_t[i * out + o] = w[o * in + i];
            for (std::int64_t q = 0; q < rows; ++q) {
                for (std::int64_t o = 0; o < out; ++o)
                    dout_t[o * rows + q] = dout[q * out + o];
                for (std::int64_t i = 0; i < in; ++i)
                    x_t[i * rows + q] = x[q * in + i];
            }
            TensorF dx({rows, in}), dw({out, in});
            linear_reference(dout.data(), w_t.data(), nullptr, dx.data(), rows, out, in);
            linear_reference(dout_t.data(), x_t.data(), nullptr, dw.data(), out, rows, in);
            for (const Isa path : runnable_paths()) {
                CAPTURE(isa_name(path));
                const IsaGuard guard(path);
                const LinearResult r = run_linear(x, w, bias, dout);
                check_close(r.dx, dx, 1e-5, 1e-5);
                check_close(r.dw, dw, 1e-4, 1e-5);
            }
        }
        SUBCASE("Eigen blocks for a fixed L1 size, not the CPU's") {
            run_linear(x, w, bias, dout);
            CHECK(Eigen::l1CacheSize() == 48 * 1024);
        }
        SUBCASE("bit-identical for any thread count") {
            for (const Isa path : runnable_paths()) {
                CAPTURE(isa_name(path));
                const IsaGuard guard(path);
                LinearResult one;
                {
                    const ThreadCountGuard threads(1);
                    one = run_linear(x, w, bias, dout);
                }
                // Not 5: clang's libomp leaks its bookkeeping for a team that large on a 2-core
                // machine, which fails the sanitizer run (LeakSanitizer).
                for (const int n : {2, 3}) {
                    const ThreadCountGuard threads(n);
                    const LinearResult r = run_linear(x, w, bias, dout);
                    CHECK(bitwise_equal(r.out, one.out));
                    CHECK(bitwise_equal(r.dx, one.dx));
                    CHECK(bitwise_equal(r.dw, one.dw));
                    CHECK(bitwise_equal(r.db, one.db));
                }
            }
        }
    }
}
