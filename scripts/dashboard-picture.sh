#!/bin/sh
# Regenerates docs/dashboard.svg, the README's picture, from the real screen
# of `gonogo demo` at 140x28: the demo runs in a pseudo-terminal, the keys
# below are typed (3: prod; j: the second row; Enter: its detail), and the screen is read back
# through a terminal emulator and written as SVG (examples/screenshot.rs).
set -eu
cd "$(dirname "$0")/.."
cargo build --release --bin gonogo
cargo run --release --example screenshot -- target/release/gonogo docs/dashboard.svg 3 j Enter
