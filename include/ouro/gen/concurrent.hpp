// Independent pieces of work (a lab's experiments, decodes with different decoders, teacher
// forcing of held-out text) run at the same time on one team of threads, the decodes and teacher
// forcing inside them sharing that team.
//
//     std::vector<DecodedSequence> greedy, nucleus;
//     run_concurrently({[&] { greedy = decode(model, greedy_decoder, prompts, options); },
//                       [&] { nucleus = decode(model, top_p_decoder, prompts, options); }});
//
// Why: decode(model, ...) and teacher_force(model, ...) called one after another each spread
// their own sequences over the threads and end at a barrier; a call with few sequences either
// leaves threads idle or cuts its batch into smaller groups, which cost more per token (each pass
// reads the weights for fewer rows). Run side by side, the calls keep the batches of one thread
// and fill the threads with each other's work; only the last piece ends with threads idle.
//
// How: one OpenMP team of num_threads() threads; each piece is a task of it, and inside a piece
// decode(model, ...) and teacher_force(model, ...) make their groups of sequences tasks of the
// same team (cut for half the team, since other pieces run beside them), so that a thread that
// has finished its own work takes the groups of another. Each group still runs on one thread in
// a session of its own, so the results are those of one thread, bit for bit, for any thread count.
// Everything else a piece runs (a session of its own, a kernel) runs on the thread that runs the
// piece.
#pragma once

#include <functional>
#include <span>
#include <vector>

namespace ouro::gen {

/// Runs every piece once, at the same time on num_threads() threads (one after another, in order,
/// with one thread or inside another parallel region that is not run_concurrently's). The pieces
/// must not depend on each other's results, and whatever they share they may only read (or lock);
/// a piece may call run_concurrently again (its pieces join the same team). After a piece throws
/// no piece starts, and the exception of the first piece in the list that threw is rethrown once
/// the others are done.
void run_concurrently(std::span<const std::function<void()>> pieces);
/// The same for a braced list of pieces.
void run_concurrently(std::initializer_list<std::function<void()>> pieces);

} // namespace ouro::gen
