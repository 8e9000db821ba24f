// The memory check of a new training run; see memory.hpp.
#include "memory.hpp"

#include "common/flags.hpp"

#include <ouro/nn/parameter_shapes.hpp>

#include <cstdio>
#include <string>

#include <unistd.h>

namespace ouro::train {

double training_bytes(const nn::GPTConfig& c, std::int64_t batch_size) {
    double parameters = 0;
    for (const auto& [name, shape] : nn::parameter_shapes(c))
        parameters += double(shape.numel());
    const double B = double(batch_size), T = double(c.block_size), C = double(c.n_embd);
    const double per_block = 16.0 * B * T * C + 0.5 * B * double(c.n_head) * T * T;
    const double floats =
        4.0 * parameters + double(c.n_layer) * per_block + 2.0 * B * T * double(c.vocab_size);
    return floats * double(sizeof(float));
}

void check_fits_memory(const nn::GPTConfig& config, std::int64_t batch_size, bool vocab_known) {
    const double need = training_bytes(config, batch_size);
    const double memory = double(sysconf(_SC_PHYS_PAGES)) * double(sysconf(_SC_PAGE_SIZE));
    if (memory <= 0 || need <= memory)
        return;
    const auto gb = [](double bytes) {
        char text[32];
        std::snprintf(text, sizeof text, "%.1f", bytes / 1e9);
        return std::string(text);
    };
    throw flags::UsageError(
        "the model (n_layer " + std::to_string(config.n_layer) + ", n_embd " +
        std::to_string(config.n_embd) + ", block size " + std::to_string(config.block_size) +
        (vocab_known ? ", vocabulary " + std::to_string(config.vocab_size) : std::string()) +
        ") with --batch-size " + std::to_string(batch_size) + " needs at least " + gb(need) +
        " GB to train, more than this machine's " + gb(memory) +
        " GB (use a smaller model or --batch-size)");
}

} // namespace ouro::train
