// attention's and attention_qkv's shape checks and autograd wrappers; the kernels are in
// attention.cpp (and attention_avx512.cpp on the AVX-512 path).
#include "ouro/ops/attention.hpp"

#include <string>

namespace ouro::ops {

namespace {

// The checks of n_head and n_kv_head shared by attention and attention_qkv (`op`).
void check_heads(const std::string& op, int n_head, const AttentionOptions& options) {
    if (n_head < 1)
        throw ConfigError(op + ": n_head must be at least 1, got " + std::to_string(n_head));
    const int n_kv = options.n_kv_head;
    if (n_kv < 0)
        throw ConfigError(op + ": n_kv_head must be at least 0 (0 means n_head), got " +
                          std::to_string(n_kv));
    if (n_kv > 0 && n_head % n_kv != 0)
        throw ConfigError(op + ": n_kv_head = " + std::to_string(n_kv) +
                          " does not divide n_head = " + std::to_string(n_head));
}

// The shape checks of attention (see attention.hpp for the messages).
void check_attention_shapes(const Shape& q, const Shape& k, const Shape& v, int n_head,
                            const AttentionOptions& options) {
    check_heads("attention", n_head, options);
    const int n_kv = options.n_kv_head;
    const auto shapes = [&] {
        return "q is " + q.to_string() + ", k is " + k.to_string() + ", v is " + v.to_string();
    };
    if (n_kv == 0 || n_kv == n_head) {
        // One kv head per query head: q, k and v have one shape.
        if (!(q == k) || !(q == v))
            throw ShapeError("attention: q, k and v must have the same shape: " + shapes());
        if (q.rank() != 3)
            throw ShapeError("attention: q, k and v must be (B, T, C), got " + q.to_string());
    } else {
        // Grouped: k and v have fewer channels than q.
        if (q.rank() != 3 || k.rank() != 3 || v.rank() != 3)
            throw ShapeError("attention: q, k and v must be (B, T, C): " + shapes());
        if (k[0] != q[0] || v[0] != q[0] || k[1] != q[1] || v[1] != q[1])
            throw ShapeError("attention: q, k and v must have the same batch and time: " +
                             shapes());
    }
    const std::int64_t C = q[2];
    if (C % n_head != 0)
        throw ShapeError("attention: C = " + std::to_string(C) + " is not a multiple of n_head = " +
                         std::to_string(n_head) + ": q is " + q.to_string());
    const std::int64_t HS = C / n_head;
    if (n_kv > 0 && (k[2] != n_kv * HS || v[2] != n_kv * HS))
        throw ShapeError("attention: k and v must have n_kv_head * HS = " + std::to_string(n_kv) +
                         " * " + std::to_string(HS) + " = " + std::to_string(n_kv * HS) +
                         " channels: " + shapes());
}

// The shape checks of attention_qkv (see attention.hpp for the messages); returns C.
std::int64_t check_qkv_shape(const Shape& qkv, int n_head, const AttentionOptions& options) {
    check_heads("attention_qkv", n_head, options);
    if (qkv.rank() != 3)
        throw ShapeError("attention_qkv: qkv must be (B, T, C + 2 * n_kv_head * HS), got " +
                         qkv.to_string());
    const std::int64_t n_kv = options.n_kv_head > 0 ? options.n_kv_head : n_head;
    const std::int64_t parts = n_head + 2 * n_kv;
    if (qkv[2] % parts != 0)
        throw ShapeError(
            "attention_qkv: the last dimension of qkv " + qkv.to_string() +
            " is not a multiple of n_head + 2 * n_kv_head = " + std::to_string(n_head) + " + 2 * " +
            std::to_string(n_kv) + " = " + std::to_string(parts));
    return qkv[2] / parts * n_head;
}

} // namespace

template <typename T>
Var<T> attention(const Var<T>& q, const Var<T>& k, const Var<T>& v, int n_head,
                 const AttentionOptions& options) {
    check_attention_shapes(q.shape(), k.shape(), v.shape(), n_head, options);
    const std::int64_t B = q.shape()[0], T_len = q.shape()[1], C = q.shape()[2];
    Tensor<T> out = Tensor<T>::uninitialized(q.shape());
    Tensor<T> lse = Tensor<T>::uninitialized(Shape{B, n_head, T_len});
    attention_forward(q.value().data(), k.value().data(), v.value().data(), out.data(), lse.data(),
                      B, T_len, C, n_head, options);
    return detail::make_result(
        "attention", std::move(out), {q, k, v},
        [saved_lse = std::move(lse), B, T_len, C, n_head, options](Node<T>& self) {
            attention_backward(self.inputs[0]->value.data(), self.inputs[1]->value.data(),
                               self.inputs[2]->value.data(), self.value.data(), saved_lse.data(),
                               self.grad.data(), detail::input_grad(self, 0),
                               detail::input_grad(self, 1), detail::input_grad(self, 2), B, T_len,
                               C, n_head, options);
        });
}

template <typename T>
Var<T> attention_qkv(const Var<T>& qkv, int n_head, const AttentionOptions& options) {
    const std::int64_t C = check_qkv_shape(qkv.shape(), n_head, options);
    const std::int64_t B = qkv.shape()[0], T_len = qkv.shape()[1];
    Tensor<T> out = Tensor<T>::uninitialized(Shape{B, T_len, C});
    Tensor<T> lse = Tensor<T>::uninitialized(Shape{B, n_head, T_len});
    attention_qkv_forward(qkv.value().data(), out.data(), lse.data(), B, T_len, C, n_head, options);
    return detail::make_result(
        "attention_qkv", std::move(out), {qkv},
        [saved_lse = std::move(lse), B, T_len, C, n_head, options](Node<T>& self) {
            attention_qkv_backward(self.inputs[0]->value.data(), self.value.data(),
                                   saved_lse.data(), self.grad.data(), detail::input_grad(self, 0),
                                   B, T_len, C, n_head, options);
        });
}

#define OURO_INSTANTIATE(T)                                                                        \
    template Var<T> attention<T>(const Var<T>&, const Var<T>&, const Var<T>&, int,                 \
                                 const AttentionOptions&);                                         \
    template Var<T> attention_qkv<T>(const Var<T>&, int, const AttentionOptions&);
OURO_INSTANTIATE(float)
OURO_INSTANTIATE(double)
#undef OURO_INSTANTIATE

} // namespace ouro::ops
