// backward(): topological sort from the output, then each node's backward rule in reverse order
// (micrograd's algorithm), then the graph is freed.
#include "ouro/autograd/backward.hpp"

#include <unordered_set>

namespace ouro {
namespace {

// Nodes reachable from `root` that require a gradient, inputs before the nodes that use them.
// Iterative depth-first search, so a deep graph cannot overflow the stack.
template <typename T> std::vector<Node<T>*> topological_order(Node<T>* root) {
    std::vector<Node<T>*> order;
    std::unordered_set<Node<T>*> visited;
    std::vector<std::pair<Node<T>*, std::size_t>> stack{{root, 0}};
    visited.insert(root);
    while (!stack.empty()) {
        auto& [node, next] = stack.back();
        if (next < node->inputs.size()) {
            Node<T>* child = node->inputs[next++].get();
            if (child->requires_grad && visited.insert(child).second)
                stack.push_back({child, 0});
        } else {
            order.push_back(node);
            stack.pop_back();
        }
    }
    return order;
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

    const std::vector<Node<T>*> order = topological_order(&root);
    for (Node<T>* n : order) {
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

    for (auto it = order.rbegin(); it != order.rend(); ++it) {
        Node<T>* n = *it;
        if (!n->backward || !n->has_grad)
            continue;
        if (OpProfile* profile = OpProfile::current()) {
            const auto start = OpProfile::Clock::now();
            n->backward(*n);
            profile->add_backward(n->op, OpProfile::Clock::now() - start);
        } else {
            n->backward(*n);
        }
    }

    if (!options.retain_graph)
        for (Node<T>* n : order) {
            if (n->is_leaf())
                continue;
            n->inputs.clear();
            n->backward = nullptr;
            n->grad = Tensor<T>();
            n->has_grad = false;
            n->graph_freed = true;
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
