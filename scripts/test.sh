#!/usr/bin/env bash
# Run the test suite with the Bun that scripts/install.sh brought, even when it is not on PATH.
#   ./scripts/test.sh [--long] [bun test args…]
# Default: every *.test.ts, test files spread over worker processes (most tests wait on sockets
# and child processes, so a few workers per core pay off). --long: the long runs instead
# (*.long.ts: the HTTP fuzz, the reduced soak, install.sh from a clean clone; ATRAD_FUZZ=N /
# ATRAD_SOAK=N requests for longer ones). Also `npm test` / `bun run test[:long]`.
# ATRAD_TEST_WORKERS=N sets the number of workers (1: one process, files in turn).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
long=0
if [ "${1:-}" = "--long" ]; then long=1; shift; fi
case "${1:-}" in -h|--help) sed -n '2,8p' "$0"; exit 0 ;; esac

say() { printf '==> %s\n' "$*"; }
die() { printf 'test.sh: %s\n' "$*" >&2; exit 1; }

# Bun: on PATH, else where install.sh keeps its own: <prefix>/libexec/atrad/bin/bun, the prefix
# being ATRAD_PREFIX (for install.sh --prefix DIR), Homebrew's, or ~/.local.
runs() { [ -n "$1" ] && "$1" --version >/dev/null 2>&1; }
bun="$(command -v bun || true)"
if ! runs "$bun"; then
  bun=""
  brew_prefix="$(command -v brew >/dev/null 2>&1 && brew --prefix 2>/dev/null || true)"
  for p in "${ATRAD_PREFIX:-}" "$brew_prefix" "$HOME/.local"; do
    [ -n "$p" ] || continue
    if runs "$p/libexec/atrad/bin/bun"; then bun="$p/libexec/atrad/bin/bun"; break; fi
  done
fi
[ -n "$bun" ] || die "no Bun found on PATH or in ~/.local/libexec/atrad/bin: run ./scripts/install.sh first (it brings Bun), or set ATRAD_PREFIX=DIR if you installed with --prefix DIR"
# Tests spawn `bun` by name here and there; the Bun found must be the one they get.
export PATH="$(dirname "$bun"):$PATH"

cd "$root"
if [ ! -d node_modules ]; then
  say "installing dependencies (bun install --frozen-lockfile)"
  "$bun" install --frozen-lockfile >/dev/null
fi

# Bun itself never reads bunfig.toml's [test] timeout (oven-sh/bun#7789): a plain `bun test`
# gives every test without its own timeout 5 s. Pass the file's value on in every mode.
timeout="$(sed -n 's/^timeout *= *\([0-9][0-9]*\).*/\1/p' bunfig.toml)"
if [ "$long" = 1 ]; then
  files=()
  while IFS= read -r f; do files+=("./$f"); done < <(find src test -name '*.long.ts' | sort)
  [ ${#files[@]} -gt 0 ] || die "no *.long.ts files found"
  exec "$bun" test ${timeout:+--timeout="$timeout"} "${files[@]}" "$@"
fi
workers="${ATRAD_TEST_WORKERS:-4}"
if [ "$workers" -le 1 ]; then exec "$bun" test ${timeout:+--timeout="$timeout"} "$@"; fi
# Each run records how long every file took, on this machine only (node_modules is not
# committed), and the next run starts the slowest files first, so none of them ends up last.
timings="node_modules/.cache/atrad-test-timings.json"
mkdir -p "$(dirname "$timings")"
exec "$bun" test --parallel="$workers" ${timeout:+--timeout="$timeout"} --timings="$timings" --update-timings "$@"
