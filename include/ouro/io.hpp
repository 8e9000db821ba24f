// ouro/io.hpp: the io layer, ouro::io (CMake target ouro::io): tokenizers, corpora, token shards
// and batches (data); checkpoints, safetensors and the other model formats (io). Builds on
// ouro::core only.
#pragma once

#include "ouro/data/batch_loader.hpp"
#include "ouro/data/pretokenizer.hpp"
#include "ouro/data/sha256.hpp"
#include "ouro/data/tinystories.hpp"
#include "ouro/data/token_shard.hpp"
#include "ouro/data/tokenizer.hpp"

#include "ouro/io/checkpoint.hpp"
#include "ouro/io/debug_state.hpp"
#include "ouro/io/dtype.hpp"
#include "ouro/io/gpt2_formats.hpp"
#include "ouro/io/hugging_face.hpp"
#include "ouro/io/llama2c.hpp"
#include "ouro/io/model_bundle.hpp"
#include "ouro/io/safetensors.hpp"
