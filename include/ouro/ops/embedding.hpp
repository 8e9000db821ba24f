// Embedding lookup: row ids[i] of a table, for every position i (GPT-2's wte and wpe).
//
// For ids (...) and a table (V, C) the result is (..., C) with out[i, :] = table[ids[i], :]. The
// backward pass scatter-adds: dtable[ids[i], :] += dout[i, :]. A row of the table that several
// positions share collects their gradients in position order: threads split the channels into
// fixed blocks and each walks all the positions, so the sums do not depend on the thread count.
#pragma once

#include "ouro/autograd/var.hpp"

#include <cstdint>

namespace ouro::ops {

/// Forward kernel. ids (N), table (V, C), out (N, C). Checks the ids first and throws ConfigError
/// for one outside [0, V) ("embedding: id 70 at position 3 is outside [0, 64)"). Parallel over
/// positions.
template <typename T>
void embedding_forward(const std::int32_t* ids, const T* table, T* out, std::int64_t N,
                       std::int64_t V, std::int64_t C);

/// Backward kernel: ADDS dout (N, C) into the rows of dtable (V, C) that the ids name. Ids are
/// trusted (the forward kernel checked them). Parallel over fixed blocks of channels.
template <typename T>
void embedding_backward(const std::int32_t* ids, const T* dout, T* dtable, std::int64_t N,
                        std::int64_t C);

/// Naive serial forward, kept for tests.
template <typename T>
void embedding_reference(const std::int32_t* ids, const T* table, T* out, std::int64_t N,
                         std::int64_t C);

/// Rows of table (V, C) picked by int32 ids (...); returns (..., C). Throws ShapeError when the
/// table is not a matrix ("embedding: table must be (V, C), got (64)") and ConfigError for an id
/// outside [0, V) ("embedding: id 70 at position 3 is outside [0, 64)"; the position is the flat
/// index into ids).
template <typename T> Var<T> embedding(const TensorI& ids, const Var<T>& table);

} // namespace ouro::ops
