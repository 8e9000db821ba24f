// The debug-state dump: every tensor of one step, written by name.
#include "ouro/io/debug_state.hpp"

#include "ouro/io/checkpoint.hpp"
#include "ouro/io/safetensors.hpp"

namespace ouro::io {

template <typename T>
void write_debug_state(const std::string& path, const nn::GPT<T>& model, const TensorI& idx,
                       const TensorI& targets,
                       std::span<const std::pair<std::string, Var<T>>> activations, double loss) {
    SafetensorsWriter w;
    w.set_metadata("config", config_to_json(model.config));
    w.set_metadata("loss", std::to_string(loss));
    w.add("input.idx", idx);
    w.add("input.targets", targets);
    const auto parameters = model.named_parameters();
    for (const auto& [name, p] : parameters)
        w.add("param." + name, p.value());
    for (const auto& [name, v] : activations)
        w.add("act." + name, v.value());
    for (const auto& [name, v] : activations)
        if (v.has_grad())
            w.add("grad." + name, v.grad());
    for (const auto& [name, p] : parameters)
        if (p.has_grad())
            w.add("grad.param." + name, p.grad());
    w.write(path);
}

template void write_debug_state<float>(const std::string&, const nn::GPT<float>&, const TensorI&,
                                       const TensorI&,
                                       std::span<const std::pair<std::string, Var<float>>>, double);
template void write_debug_state<double>(const std::string&, const nn::GPT<double>&, const TensorI&,
                                        const TensorI&,
                                        std::span<const std::pair<std::string, Var<double>>>,
                                        double);

} // namespace ouro::io
