// Uses one layer only: links ouro::core and includes its umbrella header. Prints "consumer ok"
// when a Linear layer's gradient is what calculus says.
#include <ouro/core.hpp>

#include <cstdio>

int main() {
    using namespace ouro;
    VarF x(TensorF({1, 2}, {1.0f, 2.0f}));
    VarF w(TensorF({1, 2}, {3.0f, 4.0f}), /*requires_grad=*/true);
    VarF b(TensorF({1}, {0.5f}));
    VarF y = ops::sum(ops::linear(x, w, b)); // y = x . w + b, dy/dw = x
    backward(y);
    const TensorF& g = w.grad();
    const bool ok = y.item() == 11.5f && g[0] == 1.0f && g[1] == 2.0f;
    std::printf("core only: y = %g, dy/dw = (%g, %g)\n%s\n", double(y.item()), double(g[0]),
                double(g[1]), ok ? "consumer ok" : "consumer WRONG");
    return ok ? 0 : 1;
}
