#!/usr/bin/env bash
# Sign-off log throughput and load time: appends per second for one writer
# and four writer processes, and load / verify / refresh of a
# 100,000-event log. Prints the numbers; release build.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --release --test ledger -- --ignored --nocapture measure
