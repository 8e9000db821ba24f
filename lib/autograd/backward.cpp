// backward(): topological sort from the output, then each node's backward rule in reverse order
// (micrograd's algorithm), then the graph is freed.
#include "ouro/autograd/backward.hpp"

#include <memory>
#include <unordered_set>

namespace ouro {
namespace {

// Nodes reachable from `root` that require a gradient, inputs before the nodes that use them.
// Iterative depth-first search, so a deep graph cannot overflow the stack. The order holds the
// nodes (shared), so that backward can release each one as soon as its rule has run.
template <typename T>
std::vector<std::shared_ptr<Node<T>>> topological_order(const std::shared_ptr<Node<T>>& root) {
    std::vector<std::shared_ptr<Node<T>>> order;
    std::unordered_set<Node<T>*> visited;
    std::vector<std::pair<std::shared_ptr<Node<T>>, std::size_t>> stack{{root, 0}};
    visited.insert(root.get());
    while (!stack.empty()) {
        auto& [node, next] = stack.back();
        if (next < node->inputs.size()) {
            const std::shared_ptr<Node<T>>& child = node->inputs[next++];
            if (child->requires_grad && visited.insert(child.get()).second)
                stack.push_back({child, 0});
        } else {
            order.push_back(std::move(node));
            stack.pop_back();
        }
    }
    return order;
}

// Drops what the graph holds for an intermediate node whose rule has run (or will not run): its
// inputs, its rule (and the tensors the rule saved) and its gradient.
template <typename T> void free_node(Node<T>& n) {
    n.inputs.clear();
    n.backward = nullptr;
    n.grad = Tensor<T>();
    n.has_grad = false;
    n.graph_freed = true;
    n.grad_expires = false;
}

template <typename T>
void run_backward(const Var<T>& output, const Tensor<T>* seed, const BackwardOptions& options) {
    Node<T>& root = output.node();
    if (!root.requires_grad)
        throw Error(std::string("backward: the output of '") + root.op +
                    "' does not require a gradient (no input of its graph requires one, or it "
                    "was computed under NoGradGuard)");
    if (root.graph_freed)
        throw Error(std::string("backward: the graph behind '") + root.op +
                    "' was freed by an earlier backward; pass retain_graph to run it twice");
    if (seed == nullptr && root.value.numel() != 1)
        throw ShapeError("backward: the output must hold one element, got shape " +
                         root.value.shape().to_string() + "; pass a seed gradient");
    if (seed != nullptr && !(seed->shape() == root.value.shape()))
        throw ShapeError("backward: seed gradient is " + seed->shape().to_string() +
                         ", output is " + root.value.shape().to_string());

    std::vector<std::shared_ptr<Node<T>>> order = topological_order(output.node_ptr());
    for (const std::shared_ptr<Node<T>>& n : order) {
        if (n->graph_freed)
            throw Error(std::string("backward: the graph behind '") + n->op +
                        "' was freed by an earlier backward; pass retain_graph to run it twice");
        // Intermediate gradients are scratch space for this pass; leaves accumulate.
        if (!n->is_leaf()) {
            n->has_grad = false;
            n->grad = Tensor<T>();
        }
    }

    Tensor<T>& g = root.ensure_grad();
    if (seed)
        for (std::int64_t i = 0; i < g.numel(); ++i)
            g[i] += (*seed)[i];
    else
        g[0] += T(1);

    // Without retain_graph each node is released as soon as its rule has run (PyTorch does the
    // same): its gradient, its saved tensors and, unless a Var outside the graph holds it, its
    // value. All of a node's consumers run before it, so nothing reads them again; the peak
    // memory of a step is then that of the forward pass, not forward plus every gradient.
    const bool release = !options.retain_graph;
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
        Node<T>* n = it->get();
        if (n->backward && n->has_grad) {
            n->grad_expires = release;
            if (OpProfile* profile = OpProfile::current()) {
                const auto start = OpProfile::Clock::now();
                n->backward(*n);
                profile->add_backward(n->op, OpProfile::Clock::now() - start);
            } else {
                n->backward(*n);
            }
        }
        if (release) {
            if (!n->is_leaf())
                free_node(*n);
            it->reset();
        }
    }
}

} // namespace

template <typename T> void backward(const Var<T>& loss, const BackwardOptions& options) {
    run_backward<T>(loss, nullptr, options);
}

template <typename T>
void backward(const Var<T>& output, const Tensor<T>& seed, const BackwardOptions& options) {
    run_backward<T>(output, &seed, options);
}

template void backward<float>(const Var<float>&, const BackwardOptions&);
template void backward<double>(const Var<double>&, const BackwardOptions&);
template void backward<float>(const Var<float>&, const Tensor<float>&, const BackwardOptions&);
template void backward<double>(const Var<double>&, const Tensor<double>&, const BackwardOptions&);

} // namespace ouro
