// Var<T>: a shared handle to a node of the autograd graph.
//
// The graph. Every op that takes Vars returns a new Var whose node holds the op's output value,
// the input nodes it was computed from, and a backward function. Calling backward(loss) walks the
// graph from the loss in reverse topological order; each node's backward function reads the
// node's gradient and ADDS into the gradients of its inputs (micrograd's rule, llm.c's "backward
// adds"). Gradients of leaves (parameters) therefore accumulate over several backward passes
// until zero_grad().
//
// Memory. A node owns its value and its gradient (Tensors, see tensor.hpp). Nodes are shared
// between the Vars that name them and the nodes that use them as inputs; the graph is a DAG of
// shared_ptrs from outputs to inputs, so it lives exactly as long as the loss (or another output)
// is held. backward() frees the graph behind the loss unless asked to retain it: intermediate
// nodes drop their inputs, their saved tensors and their gradients; leaves keep their gradients.
//
// Grad mode. Under NoGradGuard (or when no input requires a gradient) ops record nothing: the
// result is a plain leaf that does not require grad, as at inference time.
#pragma once

#include "ouro/autograd/op_profile.hpp"
#include "ouro/core/error.hpp"
#include "ouro/core/parallel.hpp"
#include "ouro/core/tensor.hpp"

#include <functional>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ouro {

template <typename T> struct Node {
    Tensor<T> value;
    /// Gradient of the loss with respect to value; valid only while has_grad is true.
    Tensor<T> grad;
    bool has_grad = false;
    bool requires_grad = false;
    /// Set once backward() has released this node's inputs and saved tensors.
    bool graph_freed = false;
    /// Set by backward() while this node's rule runs when the pass discards the node's gradient
    /// right after the rule (no retain_graph): the rule may then move the buffer out of grad.
    bool grad_expires = false;
    /// Name of the op that produced the value ("leaf" for inputs and parameters).
    const char* op = "leaf";
    std::vector<std::shared_ptr<Node>> inputs;
    /// Reads this node's grad and adds into its inputs' grads.
    std::function<void(Node&)> backward;

    /// The gradient buffer, allocated and zeroed on first use.
    Tensor<T>& ensure_grad() {
        if (!has_grad) {
            grad = Tensor<T>(value.shape());
            has_grad = true;
        }
        return grad;
    }
    bool is_leaf() const { return inputs.empty() && !backward && !graph_freed; }
};

template <typename T> class Var {
public:
    using Scalar = T;

    /// An undefined Var (no node). Most operations on it throw.
    Var() = default;
    /// A leaf holding `value`; set requires_grad for parameters and inputs you want gradients of.
    explicit Var(Tensor<T> value, bool requires_grad = false) : node_(std::make_shared<Node<T>>()) {
        node_->value = std::move(value);
        node_->requires_grad = requires_grad;
    }
    /// Wraps an existing node (used by ops).
    explicit Var(std::shared_ptr<Node<T>> node) : node_(std::move(node)) {}

    bool defined() const { return node_ != nullptr; }

    const Tensor<T>& value() const { return node().value; }
    /// Mutable access, for optimizers and initialisation. Changing the value of a node that a
    /// live graph has saved for backward makes that graph's gradients wrong.
    Tensor<T>& value() { return node().value; }
    const Shape& shape() const { return node().value.shape(); }
    std::int64_t numel() const { return node().value.numel(); }
    /// The single value of a one-element Var (e.g. a loss).
    T item() const { return node().value.item(); }

    bool requires_grad() const { return node().requires_grad; }
    /// Only leaves may change whether they require a gradient.
    void set_requires_grad(bool on) {
        if (!is_leaf())
            throw Error(std::string("Var::set_requires_grad: only leaves can change it; this "
                                    "Var is the output of '") +
                        node().op + "'");
        node().requires_grad = on;
    }
    bool is_leaf() const { return node().is_leaf(); }
    /// The op that produced this Var, or "leaf".
    std::string_view op() const { return node().op; }

    bool has_grad() const { return node().has_grad; }
    /// The accumulated gradient; throws Error when backward() has not reached this Var.
    const Tensor<T>& grad() const {
        if (!node().has_grad)
            throw Error(std::string("Var::grad: no gradient has been computed for this '") +
                        node().op + "' of shape " + shape().to_string());
        return node().grad;
    }
    /// Mutable access to the gradient, for clipping and optimizers (same errors as grad()).
    Tensor<T>& grad() { return const_cast<Tensor<T>&>(std::as_const(*this).grad()); }
    /// Zeroes the gradient, keeping its buffer (no-op when there is none yet).
    void zero_grad() {
        if (node().has_grad)
            node().grad.zero();
    }

    /// A new leaf with a copy of the value, cut off from the graph.
    Var detach() const { return Var(node().value, false); }

    Node<T>& node() const {
        if (!node_)
            throw Error("Var: use of an undefined Var");
        return *node_;
    }
    const std::shared_ptr<Node<T>>& node_ptr() const { return node_; }

private:
    std::shared_ptr<Node<T>> node_;
};

using VarF = Var<float>;
using VarD = Var<double>;

/// Whether ops record the graph on this thread (true unless a NoGradGuard is alive).
class GradMode {
public:
    static bool is_enabled() { return enabled_; }
    static void set_enabled(bool on) { enabled_ = on; }

private:
    static inline thread_local bool enabled_ = true;
};

/// Disables graph recording on this thread for its lifetime (inference, optimizer updates,
/// finite differences).
class NoGradGuard {
public:
    NoGradGuard() : previous_(GradMode::is_enabled()) { GradMode::set_enabled(false); }
    ~NoGradGuard() { GradMode::set_enabled(previous_); }
    NoGradGuard(const NoGradGuard&) = delete;
    NoGradGuard& operator=(const NoGradGuard&) = delete;

private:
    bool previous_;
};

namespace detail {

/// Builds an op's result: when grad mode is on and some input requires a gradient, the result
/// records `op`, the inputs and `backward_fn`; otherwise it is a plain leaf.
template <typename T, typename BackwardFn>
Var<T> make_result(const char* op, Tensor<T> value, std::span<const Var<T>> inputs,
                   BackwardFn&& backward_fn) {
    if (OpProfile* profile = OpProfile::current())
        profile->forward_done(op);
    Var<T> out(std::move(value));
    out.node().op = op;
    bool needs_grad = false;
    if (GradMode::is_enabled())
        for (const Var<T>& in : inputs)
            needs_grad = needs_grad || in.requires_grad();
    if (needs_grad) {
        Node<T>& n = out.node();
        n.requires_grad = true;
        n.inputs.reserve(inputs.size());
        for (const Var<T>& in : inputs)
            n.inputs.push_back(in.node_ptr());
        n.backward = std::forward<BackwardFn>(backward_fn);
    }
    return out;
}

/// make_result for ops with a fixed number of inputs.
template <typename T, typename BackwardFn>
Var<T> make_result(const char* op, Tensor<T> value, std::initializer_list<Var<T>> inputs,
                   BackwardFn&& backward_fn) {
    return make_result(op, std::move(value), std::span<const Var<T>>(inputs.begin(), inputs.size()),
                       std::forward<BackwardFn>(backward_fn));
}

/// make_result for ops with a run-time number of inputs (concat).
template <typename T, typename BackwardFn>
Var<T> make_result(const char* op, Tensor<T> value, const std::vector<Var<T>>& inputs,
                   BackwardFn&& backward_fn) {
    return make_result(op, std::move(value), std::span<const Var<T>>(inputs),
                       std::forward<BackwardFn>(backward_fn));
}

/// The gradient buffer of input i if that input requires a gradient, else nullptr. Backward
/// functions add into the buffers this returns.
template <typename T> T* input_grad(Node<T>& node, std::size_t i) {
    Node<T>& in = *node.inputs[i];
    return in.requires_grad ? in.ensure_grad().data() : nullptr;
}

/// Where a backward rule puts input i's gradient. When the input has a gradient already, `data`
/// is that buffer and the rule adds into it (fresh is false). When it has none yet, `data` is a
/// new, uninitialised buffer that the rule must write in full (fresh is true): writing x instead
/// of adding x to a zero-filled buffer saves a pass over memory and gives the same values (only
/// a zero's sign can differ: 0 + (-0) is +0). `data` is nullptr when the input needs no gradient.
template <typename T> struct GradTarget {
    T* data = nullptr;
    bool fresh = false;
};
template <typename T> GradTarget<T> input_grad_target(Node<T>& node, std::size_t i) {
    Node<T>& in = *node.inputs[i];
    if (!in.requires_grad)
        return {};
    if (in.has_grad)
        return {in.grad.data(), false};
    in.grad = Tensor<T>::uninitialized(in.value.shape());
    in.has_grad = true;
    return {in.grad.data(), true};
}

/// Adds `g` (as many elements as input i's value) into input i's gradient, or, when the input
/// has none yet, makes a copy of g its gradient (no zero-fill, no addition). Does nothing when the
/// input needs no gradient.
template <typename T> void pass_grad(Node<T>& node, std::size_t i, const Tensor<T>& g) {
    const GradTarget<T> target = input_grad_target(node, i);
    if (target.data == nullptr)
        return;
    if (target.fresh) {
        parallel_copy(g.data(), g.numel(), target.data);
        return;
    }
    const T* src = g.data();
    const std::int64_t n = g.numel();
#pragma omp parallel for schedule(static) if (n >= parallel_fill_threshold)
    for (std::int64_t j = 0; j < n; ++j)
        target.data[j] += src[j];
}

/// pass_grad of the node's own gradient to input i, moving the buffer instead of copying it
/// when the input has no gradient yet and the pass discards this node's gradient anyway
/// (grad_expires). Call it last in a rule: the node's grad may be empty after it.
template <typename T> void pass_own_grad(Node<T>& node, std::size_t i) {
    Node<T>& in = *node.inputs[i];
    if (in.requires_grad && !in.has_grad && node.grad_expires && &in != &node) {
        in.grad = std::move(node.grad).reshaped(in.value.shape());
        in.has_grad = true;
        return;
    }
    pass_grad(node, i, node.grad);
}

} // namespace detail
} // namespace ouro
