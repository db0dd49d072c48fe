#!/usr/bin/env bash
# Undo scripts/install.sh: stop and remove the login service and the atrad executable, and the
# Bun that install.sh put into the prefix (if it did). Config and logs stay unless --purge.
#   ./scripts/uninstall.sh [--prefix DIR] [--purge]
# Idempotent: running it again when nothing is installed succeeds quietly.
set -euo pipefail

prefix=""
purge=()
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix="$2"; shift 2 ;;
    --prefix=*) prefix="${1#--prefix=}"; shift ;;
    --purge) purge=(--purge); shift ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    *) echo "uninstall.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

say() { printf '==> %s\n' "$*"; }

if [ -z "$prefix" ]; then
  if command -v brew >/dev/null 2>&1; then prefix="$(brew --prefix)"; else prefix="$HOME/.local"; fi
fi

atrad="$prefix/bin/atrad"
[ -x "$atrad" ] || atrad="$(command -v atrad || true)"
if [ -n "$atrad" ] && [ -x "$atrad" ]; then
  say "removing the login service and $atrad"
  "$atrad" uninstall --prefix "$prefix" ${purge[@]+"${purge[@]}"}
else
  say "atrad is not installed in $prefix/bin; nothing to stop"
fi
rm -f "$prefix/bin/atrad"

if [ -d "$prefix/libexec/atrad" ]; then
  say "removing $prefix/libexec/atrad (the Bun install.sh fetched, if any)"
  rm -rf "$prefix/libexec/atrad"
fi
say "atrad uninstalled"
