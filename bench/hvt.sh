#!/usr/bin/env bash
# The hvt tender beside spt: start-to-exit time and image sizes (see
# platform/hvt/bench.sh for the options).
exec "$(dirname "$0")/../platform/hvt/bench.sh" "$@"
