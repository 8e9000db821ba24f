// autograd: fits a small two-layer network with ouro and prints the loss falling.
//
// The task: 3 interleaved spirals of 2-D points, one class each (a classic that a linear model
// cannot solve). The model is linear -> GELU -> linear, trained with cross-entropy by plain
// gradient descent written out below, so every step of the loop is visible:
//   forward (builds the graph) -> backward (fills .grad()) -> update (under NoGradGuard) -> zero.
#include "common/flags.hpp"

#include <ouro/core/eigen_view.hpp>
#include <ouro/ouro.hpp>

#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>
#include <numbers>

using namespace ouro;

namespace {

// n points per class on `classes` spiral arms with a little noise; x (N, 2), labels (N).
void make_spirals(int n, int classes, Rng& rng, TensorF& x, TensorI& labels) {
    x = TensorF({std::int64_t(n) * classes, 2});
    labels = TensorI({std::int64_t(n) * classes});
    for (int c = 0; c < classes; ++c)
        for (int i = 0; i < n; ++i) {
            const double r = double(i) / n;
            const double angle =
                4.0 * r + 2.0 * std::numbers::pi * c / classes + 0.2 * rng.normal();
            const std::int64_t row = std::int64_t(c) * n + i;
            x.at({row, 0}) = float(r * std::sin(angle));
            x.at({row, 1}) = float(r * std::cos(angle));
            labels[row] = c;
        }
}

// A parameter of the given shape, normal with standard deviation `std`.
VarF parameter(const Shape& shape, double std, Rng& rng) {
    TensorF t(shape);
    for (float& v : t.values())
        v = float(std * rng.normal());
    return VarF(std::move(t), /*requires_grad=*/true);
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"Fit a two-layer network to three spirals and print the loss falling"};
    int steps = 300, hidden = 64;
    std::uint64_t seed = 1;
    float lr = 1.0f;
    flags::whole(app.add_option("--steps", steps, "gradient descent steps")->capture_default_str(),
                 1, 1'000'000);
    flags::whole(app.add_option("--hidden", hidden, "hidden units")->capture_default_str(), 1,
                 65536);
    flags::real(app.add_option("--lr", lr, "learning rate")->capture_default_str(),
                flags::Interval{0, 1000, true, false});
    flags::seed(app.add_option("-s,--seed", seed, "random seed")->capture_default_str());
    if (const std::optional<int> rc = flags::parse(app, "autograd", argc, argv))
        return *rc;

    Rng rng{seed};
    TensorF x_data;
    TensorI labels;
    make_spirals(100, 3, rng, x_data, labels);
    const VarF x(x_data);

    // Parameters in PyTorch's nn.Linear layout: weight (out, in), bias (out).
    VarF w1 = parameter({hidden, 2}, 1.0, rng), b1(TensorF({hidden}), true);
    VarF w2 = parameter({3, hidden}, 0.1, rng), b2(TensorF({3}), true);
    std::vector<VarF> params{w1, b1, w2, b2};

    std::printf("step   loss    accuracy\n");
    for (int step = 0; step <= steps; ++step) {
        const VarF logits = ops::linear(ops::gelu(ops::linear(x, w1, b1)), w2, b2); // (N, 3)
        const VarF loss = ops::cross_entropy(logits, labels);

        if (step % (steps / 10 > 0 ? steps / 10 : 1) == 0) {
            int correct = 0;
            const TensorF& z = logits.value();
            for (std::int64_t i = 0; i < z.dim(0); ++i) {
                int best = 0;
                for (int c = 1; c < 3; ++c)
                    if (z.at({i, c}) > z.at({i, best}))
                        best = c;
                correct += best == labels[i];
            }
            std::printf("%4d  %.4f  %5.1f%%\n", step, double(loss.item()),
                        100.0 * correct / double(z.dim(0)));
        }
        if (step == steps)
            break;

        backward(loss);
        NoGradGuard no_grad; // the update is not part of any graph
        for (VarF& p : params) {
            vector_view(p.value()) -= lr * vector_view(p.grad());
            p.zero_grad();
        }
    }
    return 0;
}
