// Uses ouro from outside: a tensor, an op, a backward pass. Prints "consumer ok" when the gradient
// is what calculus says.
#include <ouro/ouro.hpp>

#include <cmath>
#include <cstdio>

int main() {
    using namespace ouro;
    VarF x(TensorF({3}, {1.0f, 2.0f, 3.0f}), /*requires_grad=*/true);
    VarF y = ops::sum(ops::mul(x, x)); // y = sum x^2, dy/dx = 2x
    backward(y);
    const TensorF& g = x.grad();
    const bool ok = y.item() == 14.0f && g[0] == 2.0f && g[1] == 4.0f && g[2] == 6.0f;
    std::printf("y = %g, dy/dx = (%g, %g, %g)\n%s\n", double(y.item()), double(g[0]), double(g[1]),
                double(g[2]), ok ? "consumer ok" : "consumer WRONG");
    return ok ? 0 : 1;
}
