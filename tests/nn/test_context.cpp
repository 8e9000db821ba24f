// nn/context.hpp: ForwardContext records named activations only when a log is given, in call
// order, and hands dropout its Rng.
#include <ouro/nn/context.hpp>
#include <ouro/ops/dropout.hpp>

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace ouro;
using namespace ouro::nn;

TEST_SUITE("nn") {
    TEST_CASE("ForwardContext") {
        SUBCASE("record appends (name, activation) in call order when a log is set") {
            std::vector<std::pair<std::string, VarD>> log;
            ForwardContext<double> ctx;
            ctx.activations = &log;
            const VarD a(TensorD({}, {1.0})), b(TensorD({}, {2.0}));
            ctx.record("h.0.ln_1", a);
            ctx.record("h.0.attn.q", b);
            REQUIRE(log.size() == 2);
            CHECK(log[0].first == "h.0.ln_1");
            CHECK(log[1].first == "h.0.attn.q");
            CHECK(log[1].second.node_ptr() == b.node_ptr()); // the Var itself, not a copy
        }
        SUBCASE("without a log, record does nothing; the default context has no Rng") {
            const ForwardContext<float> ctx;
            CHECK(ctx.rng == nullptr);
            CHECK(ctx.activations == nullptr);
            CHECK_NOTHROW(ctx.record("x", VarF(TensorF({1}))));
        }
        SUBCASE("the context's Rng is the one dropout draws from") {
            Rng a(42), b(42);
            const ForwardContext<double> ctx{.rng = &a};
            const VarD x(TensorD({64}, 1.0));
            const VarD y1 = ops::dropout(x, 0.5, *ctx.rng, true);
            const VarD y2 = ops::dropout(x, 0.5, b, true);
            for (std::int64_t i = 0; i < 64; ++i)
                CHECK(y1.value()[i] == y2.value()[i]);
            CHECK(a.next_u64() == b.next_u64()); // both advanced alike
        }
    }
}
