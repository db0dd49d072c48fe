#!/usr/bin/env bash
# Undo scripts/install.sh: stop and remove the login service and the atrad executable, the Bun
# that install.sh put into the prefix (if it did), and the folders it made that are now empty.
# Config and logs stay unless --purge, which works whether or not atrad is still installed.
# Caches shared with other tools (Bun's, npm's) are listed with the command that removes them.
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
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "uninstall.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

say() { printf '==> %s\n' "$*"; }

if [ -z "$prefix" ]; then
  if command -v brew >/dev/null 2>&1; then prefix="$(brew --prefix)"; else prefix="$HOME/.local"; fi
fi
atrad_home="${ATRAD_HOME:-$HOME/.atrad}"

atrad="$prefix/bin/atrad"
[ -x "$atrad" ] || atrad="$(command -v atrad || true)"
if [ -n "$atrad" ] && [ -x "$atrad" ]; then
  say "removing the login service and $atrad"
  "$atrad" uninstall --prefix "$prefix" ${purge[@]+"${purge[@]}"}
else
  # No binary to ask (a plain uninstall ran before, or it was deleted by hand): stop a
  # background atrad by its pidfile, so --purge never deletes the home of a running daemon.
  pidfile="$atrad_home/atrad.pid"
  pid="$(cat "$pidfile" 2>/dev/null || true)"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && ps -p "$pid" -o command= 2>/dev/null | grep -q atrad; then
    say "stopping the background atrad (pid $pid)"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  else
    say "atrad is not installed in $prefix/bin; nothing to stop"
  fi
fi
rm -f "$prefix/bin/atrad"

if [ -d "$prefix/libexec/atrad" ]; then
  say "removing $prefix/libexec/atrad (the Bun install.sh fetched, if any)"
  rm -rf "$prefix/libexec/atrad"
fi
# The folders install.sh made (mkdir -p) go too when nothing else lives in them; rmdir never
# removes a folder that still holds something, so Homebrew's or the user's stay.
for dir in "$prefix/libexec" "$prefix/bin" "$prefix"; do rmdir "$dir" 2>/dev/null || true; done

if [ ${#purge[@]} -gt 0 ]; then
  # What `atrad uninstall --purge` removes, for when there was no atrad to run it.
  removed=()
  for dir in "$atrad_home" "$HOME/Library/Logs/atrad" ${ATRAD_CONFIG:+"$ATRAD_CONFIG"}; do
    if [ -e "$dir" ]; then rm -rf "$dir"; removed+=("$dir"); fi
  done
  [ ${#removed[@]} -eq 0 ] || say "removed ${removed[*]}"
fi

# Caches the install filled that other tools share: named, not deleted.
caches=()
# Where Bun puts it, in Bun's order: BUN_INSTALL_CACHE_DIR, $BUN_INSTALL, $XDG_CACHE_HOME/.bun, ~/.bun.
if [ -n "${BUN_INSTALL:-}" ]; then bun_root="$BUN_INSTALL"
elif [ -n "${XDG_CACHE_HOME:-}" ]; then bun_root="$XDG_CACHE_HOME/.bun"
else bun_root="$HOME/.bun"; fi
bun_cache="${BUN_INSTALL_CACHE_DIR:-$bun_root/install/cache}"
# When the cache is all there is in ~/.bun (no Bun installed there), the whole folder can go.
if [ "$bun_cache" = "$bun_root/install/cache" ] && [ -z "$(ls -A "$bun_root" 2>/dev/null | grep -vx install)" ] &&
  [ -z "$(ls -A "$bun_root/install" 2>/dev/null | grep -vx cache)" ]; then bun_cache="$bun_root"; fi
[ -d "$bun_cache" ] && caches+=("  $bun_cache (Bun's package cache): rm -rf \"$bun_cache\"")
npm_cache="${npm_config_cache:-$HOME/.npm}"
[ -d "$npm_cache" ] && caches+=("  $npm_cache (npm's cache and logs): rm -rf \"$npm_cache\"  (or: npm cache clean --force)")
if [ ${#caches[@]} -gt 0 ]; then
  say "left in place, shared with other tools; remove them if nothing else needs them:"
  printf '%s\n' "${caches[@]}"
fi
say "atrad uninstalled"
