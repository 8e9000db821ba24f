// The debug-state dump: forward with the activation log on, backward with the graph retained so
// every intermediate gradient can be read, then everything written by name.
#include "ouro/io/debug_state.hpp"

#include "ouro/autograd/backward.hpp"
#include "ouro/io/checkpoint.hpp"
#include "ouro/io/safetensors.hpp"

namespace ouro::io {

template <typename T>
double dump_debug_state(const std::string& path, nn::GPT<T>& model, const TensorI& idx,
                        const TensorI& targets) {
    model.zero_grad();
    std::vector<std::pair<std::string, Var<T>>> activations;
    const Var<T> loss = model.loss(idx, targets, {.activations = &activations});
    backward(loss, BackwardOptions{.retain_graph = true});

    SafetensorsWriter w;
    w.set_metadata("config", config_to_json(model.config));
    w.set_metadata("loss", std::to_string(double(loss.item())));
    w.add("input.idx", idx);
    w.add("input.targets", targets);
    for (auto& [name, p] : model.named_parameters())
        w.add("param." + name, p.value());
    for (auto& [name, v] : activations)
        w.add("act." + name, v.value());
    for (auto& [name, v] : activations)
        if (v.has_grad())
            w.add("grad." + name, v.grad());
    for (auto& [name, p] : model.named_parameters())
        if (p.has_grad())
            w.add("grad.param." + name, p.grad());
    w.write(path);
    return double(loss.item());
}

template double dump_debug_state<float>(const std::string&, nn::GPT<float>&, const TensorI&,
                                        const TensorI&);
template double dump_debug_state<double>(const std::string&, nn::GPT<double>&, const TensorI&,
                                         const TensorI&);

} // namespace ouro::io
