#!/usr/bin/env bash
# Quick start, part 2: the whole test suite.
# Installs (or names) what the tests need: a C toolchain and cmake to build, ffmpeg and opus-tools
# to check our output files independently. Then runs every test against the release build, the
# same build scripts/demo.sh uses, so the project compiles once.
# The tests read shared test data from ../shared (override with ROOMCAST_SHARED=DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
need_tools test
need_browser_driver

shared=${ROOMCAST_SHARED:-../shared}
if [[ ! -d $shared/samples ]]; then
    echo "roomcast tests: shared test data not found at $shared (set ROOMCAST_SHARED=DIR)" >&2
    exit 1
fi
cargo test --release "$@"
