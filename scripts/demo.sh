#!/usr/bin/env bash
# The main job: installs what is missing, builds, and runs the autograd example, which fits a small
# model with ouro and prints its loss falling.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-deps.sh
cmake --preset default >/dev/null
cmake --build --preset default -j "$(nproc)" --target autograd_example
./build/examples/autograd/autograd_example "$@"
