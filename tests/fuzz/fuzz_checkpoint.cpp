// ouro checkpoints from a file: read (which validates the tensors against the config), build the
// model, load the optimizer state, and run one forward pass of one token.
#include "fuzz_util.hpp"

#include <ouro/io/checkpoint.hpp>

using namespace ouro;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto path = fuzz::write_scratch(
        "ck.safetensors", std::string_view(reinterpret_cast<const char*>(data), size));
    fuzz::refused_or_ok([&] {
        const io::Checkpoint ck = io::Checkpoint::read(path.string());
        auto model = ck.build_model<float>();
        if (ck.has_optimizer) {
            optim::AdamW<float> opt(model->named_parameters(), {});
            fuzz::refused_or_ok([&] { ck.load_optimizer(opt); });
        }
        const TensorI idx({1, 1}, {0});
        (void)model->forward(idx);
    });
    return 0;
}
