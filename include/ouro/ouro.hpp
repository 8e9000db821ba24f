// ouro: tensors, reverse-mode autograd and the ops of a GPT, on the CPU.
//
// A worked example (the README has the full program):
//
//   #include <ouro/ouro.hpp>
//   using namespace ouro;
//   VarF w(TensorF({3}, {1.0f, 2.0f, 3.0f}), /*requires_grad=*/true);   // a parameter
//   VarF x(TensorF({3}, {0.5f, 0.5f, 0.5f}));                            // an input
//   VarF loss = ops::sum(ops::mul(w, x));                                 // builds the graph
//   backward(loss);                                                       // w.grad() == x
//
// The memory model: a Tensor owns its buffer (copies are deep). A Var is a shared handle to a
// graph node that owns a value and a gradient; the graph lives as long as its output is held and
// is freed by backward(). Ops live in ouro::ops, one header each; each has a forward kernel, a
// backward kernel that adds into gradients, a naive reference, and the Var wrapper.
#pragma once

#include "ouro/core/atomic_file.hpp"
#include "ouro/core/error.hpp"
#include "ouro/core/parallel.hpp"
#include "ouro/core/rng.hpp"
#include "ouro/core/shape.hpp"
#include "ouro/core/tensor.hpp"

#include "ouro/autograd/backward.hpp"
#include "ouro/autograd/gradcheck.hpp"
#include "ouro/autograd/var.hpp"

#include "ouro/ops/attention.hpp"
#include "ouro/ops/concat.hpp"
#include "ouro/ops/cross_entropy.hpp"
#include "ouro/ops/dropout.hpp"
#include "ouro/ops/elementwise.hpp"
#include "ouro/ops/embedding.hpp"
#include "ouro/ops/gelu.hpp"
#include "ouro/ops/layernorm.hpp"
#include "ouro/ops/matmul.hpp"
#include "ouro/ops/reduce.hpp"
#include "ouro/ops/reshape.hpp"
#include "ouro/ops/rmsnorm.hpp"
#include "ouro/ops/rope.hpp"
#include "ouro/ops/softmax.hpp"
#include "ouro/ops/swiglu.hpp"
#include "ouro/ops/transpose.hpp"
#include "ouro/ops/unary.hpp"

#include "ouro/data/batch_loader.hpp"
#include "ouro/data/download.hpp"
#include "ouro/data/pretokenizer.hpp"
#include "ouro/data/progress.hpp"
#include "ouro/data/sha256.hpp"
#include "ouro/data/tinystories.hpp"
#include "ouro/data/token_shard.hpp"
#include "ouro/data/tokenizer.hpp"

#include "ouro/nn/gpt.hpp"
#include "ouro/nn/gpt_config.hpp"
#include "ouro/nn/module.hpp"

#include "ouro/optim/adamw.hpp"
#include "ouro/optim/clip.hpp"
#include "ouro/optim/lr_schedule.hpp"

#include "ouro/io/checkpoint.hpp"
#include "ouro/io/debug_state.hpp"
#include "ouro/io/dtype.hpp"
#include "ouro/io/gpt2_formats.hpp"
#include "ouro/io/hugging_face.hpp"
#include "ouro/io/llama2c.hpp"
#include "ouro/io/model_bundle.hpp"
#include "ouro/io/safetensors.hpp"

#include "ouro/lab/bleu.hpp"
#include "ouro/lab/diversity.hpp"
#include "ouro/lab/html_report.hpp"
#include "ouro/lab/loops.hpp"
#include "ouro/lab/next_token_repetition.hpp"
#include "ouro/lab/positional.hpp"
#include "ouro/lab/repetition.hpp"
#include "ouro/lab/self_reinforcement.hpp"
#include "ouro/lab/svg_plot.hpp"
#include "ouro/lab/table.hpp"

#include "ouro/gen/generate.hpp"
#include "ouro/gen/sampler.hpp"
#include "ouro/gen/search.hpp"
#include "ouro/gen/session.hpp"
#include "ouro/gen/token_decision.hpp"
#include "ouro/gen/trace.hpp"
