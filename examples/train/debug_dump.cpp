// The debug-state dump's step: forward with the activation log on, backward with the graph
// retained so that every intermediate gradient can still be read, then the writer of the library.
#include "debug_dump.hpp"

#include <ouro/autograd/backward.hpp>
#include <ouro/io/debug_state.hpp>

#include <utility>
#include <vector>

namespace ouro::train {

template <typename T>
double dump_debug_state(const std::string& path, nn::GPT<T>& model, const TensorI& idx,
                        const TensorI& targets) {
    model.zero_grad();
    std::vector<std::pair<std::string, Var<T>>> activations;
    const Var<T> loss = model.loss(idx, targets, {.activations = &activations});
    backward(loss, BackwardOptions{.retain_graph = true});
    io::write_debug_state<T>(path, model, idx, targets, activations, double(loss.item()));
    return double(loss.item());
}

template double dump_debug_state<float>(const std::string&, nn::GPT<float>&, const TensorI&,
                                        const TensorI&);
template double dump_debug_state<double>(const std::string&, nn::GPT<double>&, const TensorI&,
                                         const TensorI&);

} // namespace ouro::train
