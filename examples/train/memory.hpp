// A check, before anything is allocated, that a training run from scratch fits in the machine's
// memory: flags such as --n-embd 65536 or --n-layer 1000 would otherwise end in std::bad_alloc
// after minutes of initialisation, or in the out-of-memory killer.
#pragma once

#include <ouro/nn/gpt_config.hpp>

#include <cstdint>

namespace ouro::train {

/// A lower estimate of the bytes a training step of `config` takes with micro-batches of
/// `batch_size` sequences: the parameters with their gradients and AdamW's two moments (4 floats
/// per parameter), and the activations kept for backward, about 16 B T C floats per block plus
/// half of the B NH T^2 attention matrix, and the logits with their gradient (2 B T V). Measured
/// peaks are 1.0 to 1.4 times this (the s preset at batch 32: 2.2 GB; xs at batch 8 with a
/// context of 2048: 1.5 GB).
double training_bytes(const nn::GPTConfig& config, std::int64_t batch_size);

/// Throws flags::UsageError when training_bytes() is more than the machine's physical memory:
/// "the model (n_layer 64, n_embd 4096, block size 128, vocabulary 65536) with --batch-size 32
/// needs at least 215.4 GB to train, more than this machine's 25.3 GB (use a smaller model or
/// --batch-size)". `vocab_known` false leaves the vocabulary out of the message.
void check_fits_memory(const nn::GPTConfig& config, std::int64_t batch_size, bool vocab_known);

} // namespace ouro::train
