#include <ouro/core/eigen_view.hpp>

#include <doctest/doctest.h>

#include <type_traits>
#include <utility>

using namespace ouro;

namespace {

// Whether a view can be taken of an X&& (a temporary tensor must not give a dangling view).
template <typename X>
concept ViewsRvalue = requires(X&& x) {
    matrix_view(std::move(x));
};
template <typename X>
concept VectorViewsRvalue = requires(X&& x) {
    vector_view(std::move(x));
};
template <typename X>
concept ViewsLvalue = requires(X& x) {
    matrix_view(x);
};

} // namespace

TEST_SUITE("core") {
    TEST_CASE("Eigen views") {
        SUBCASE("a matrix view is (rows x last dimension), row-major, over the buffer") {
            TensorF a({2, 2, 3}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
            CHECK(matrix_view(a).rows() == 4);
            CHECK(matrix_view(a).cols() == 3);
            CHECK(matrix_view(a)(1, 0) == 3.0f);
            CHECK(matrix_view(a).data() == a.data());
            matrix_view(a)(0, 2) = 70.0f;
            CHECK(a[2] == 70.0f);
        }
        SUBCASE("a vector view holds every element in row-major order") {
            TensorD a({2, 3}, {0, 1, 2, 3, 4, 5});
            CHECK(vector_view(a).size() == 6);
            CHECK(vector_view(a)(4) == 4.0);
            vector_view(a) *= 2.0;
            CHECK(a.at({1, 2}) == 10.0);
        }
        SUBCASE("a scalar is 1 x 1") {
            TensorF s(Shape{}, 5.0f);
            CHECK(matrix_view(s).rows() == 1);
            CHECK(matrix_view(s).cols() == 1);
            CHECK(matrix_view(s)(0, 0) == 5.0f);
        }
        SUBCASE("const tensors give read-only views") {
            const TensorF a({2, 2}, {1, 2, 3, 4});
            using M = decltype(matrix_view(a));
            CHECK(std::is_same_v<M, ConstMatrixView<float>>);
            CHECK(matrix_view(a).transpose()(0, 1) == 3.0f);
            CHECK(vector_view(a).sum() == doctest::Approx(10.0));
        }
        SUBCASE("no view of a temporary tensor") {
            CHECK_FALSE(ViewsRvalue<TensorF>);
            CHECK_FALSE(VectorViewsRvalue<TensorD>);
            CHECK(ViewsLvalue<TensorF>);
            CHECK(ViewsLvalue<const TensorF>);
        }
    }
}
