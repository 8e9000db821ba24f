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
//
// Each layer has its own umbrella header and CMake target (ouro/core.hpp and ouro::core, io, gen,
// lab; docs/ARCHITECTURE.md draws them); this one includes all four.
#pragma once

#include "ouro/core.hpp"
#include "ouro/gen.hpp"
#include "ouro/io.hpp"
#include "ouro/lab.hpp"
