// ouro/gen.hpp: the generation layer, ouro::gen (CMake target ouro::gen): the inference session
// with its KV cache, the sampler chain, beam and contrastive search, stop strings and the
// per-token trace. Builds on ouro::core only (a tokenizer's strings come from the caller).
#pragma once

#include "ouro/gen/candidates.hpp"
#include "ouro/gen/generate.hpp"
#include "ouro/gen/penalties.hpp"
#include "ouro/gen/sampler.hpp"
#include "ouro/gen/search.hpp"
#include "ouro/gen/session.hpp"
#include "ouro/gen/stop_strings.hpp"
#include "ouro/gen/token_decision.hpp"
#include "ouro/gen/trace.hpp"
#include "ouro/gen/truncation.hpp"
