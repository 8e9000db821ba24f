// The weights of a GPT by the part they play, as plain tensors: what a reader of the model that
// is not the autograd forward needs (the inference session's decode schedule, exporters). GPT::view
// fills it from the modules, so which tensor is the classifier or the norm of a block is written
// once. The pointers borrow the model's tensors: valid while the model lives, and they see every
// update of its weights.
#pragma once

#include "ouro/core/tensor.hpp"
#include "ouro/nn/gpt_config.hpp"

#include <vector>

namespace ouro::nn {

template <typename T> struct NormView {
    NormKind kind = NormKind::layernorm;
    const Tensor<T>* weight = nullptr; ///< (C)
    const Tensor<T>* bias = nullptr;   ///< (C), or nullptr (always for rmsnorm)
    double eps = 1e-5;
};

template <typename T> struct LinearView {
    const Tensor<T>* weight = nullptr; ///< (OUT, IN), PyTorch's layout
    const Tensor<T>* bias = nullptr;   ///< (OUT), or nullptr
};

template <typename T> struct BlockView {
    NormView<T> norm_1;     ///< ln_1
    LinearView<T> qkv;      ///< attn.c_attn: C -> C + 2 KVD, rows q, then k, then v
    LinearView<T> attn_out; ///< attn.c_proj: C -> C
    NormView<T> norm_2;     ///< ln_2
    LinearView<T> mlp_in;   ///< mlp.c_fc: C -> H (gelu) or 2H (swiglu: gate rows, then up rows)
    LinearView<T> mlp_out;  ///< mlp.c_proj: H -> C
};

template <typename T> struct ModelView {
    GPTConfig config;
    const Tensor<T>* token_embedding = nullptr;    ///< (V, C)
    const Tensor<T>* position_embedding = nullptr; ///< (block_size, C), learned positions only
    std::vector<BlockView<T>> blocks;
    NormView<T> final_norm; ///< ln_f
    LinearView<T> head;     ///< the classifier (V, C): wte when tied, else lm_head; no bias
};

} // namespace ouro::nn
