#!/usr/bin/env bash
# gpulmm for the retry tests: logs every call to $FLAKY_DIR/calls.log and fails the first call that runs shard
# $FLAKY_SHARD (leaving $FLAKY_DIR/failed behind, so the next call for it runs for real).
# Usage: FLAKY_DIR=DIR FLAKY_SHARD=K GPULMM_MAIN=dist/src/cli/main.js bash flaky-gpulmm.sh ARGS...
set -euo pipefail
echo "$*" >>"$FLAKY_DIR/calls.log"
if [[ " $* " == *" --shard $FLAKY_SHARD "* ]] && [ ! -e "$FLAKY_DIR/failed" ]; then
  touch "$FLAKY_DIR/failed"
  echo "flaky-gpulmm: shard $FLAKY_SHARD fails this once" >&2
  exit 1
fi
exec node "$GPULMM_MAIN" "$@"
