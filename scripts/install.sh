#!/usr/bin/env bash
# Install atrad from this checkout, brew-style: ensure Bun, install dependencies, build the
# one executable, put it on PATH, and (unless --no-service) register the login service.
#   ./scripts/install.sh [--prefix DIR] [--no-service] [--with-ollama]
# Idempotent: re-running upgrades in place. ./scripts/uninstall.sh undoes it.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix=""
service=1
service_flags=()
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix="$2"; shift 2 ;;
    --prefix=*) prefix="${1#--prefix=}"; shift ;;
    --no-service) service=0; shift ;;
    --with-ollama) service_flags+=(--with-ollama); shift ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

say() { printf '==> %s\n' "$*"; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }

if [ -z "$prefix" ]; then
  if command -v brew >/dev/null 2>&1; then prefix="$(brew --prefix)"; else prefix="$HOME/.local"; fi
fi
mkdir -p "$prefix/bin" "$prefix/libexec/atrad"
prefix="$(cd "$prefix" && pwd)"

# 1. Bun: on PATH already, else Homebrew's, else from the npm registry into the prefix (never global,
#    so an install into a scratch prefix leaves the machine as it was).
bun="$(command -v bun || true)"
if [ -n "$bun" ] && ! "$bun" --version >/dev/null 2>&1; then bun=""; fi   # a broken shim counts as missing
if [ -z "$bun" ] && "$prefix/libexec/atrad/bun/node_modules/.bin/bun" --version >/dev/null 2>&1; then
  bun="$prefix/libexec/atrad/bun/node_modules/.bin/bun"
fi
if [ -z "$bun" ]; then
  if command -v brew >/dev/null 2>&1; then
    say "installing Bun with Homebrew"
    brew install oven-sh/bun/bun >/dev/null || brew install bun >/dev/null
    bun="$(command -v bun)"
  else
    command -v npm >/dev/null 2>&1 || die "need Bun, Homebrew or npm to continue"
    say "installing Bun from the npm registry into $prefix/libexec/atrad/bun"
    # --loglevel=error, not --silent: when the registry is unreachable the user must see why.
    npm install --loglevel=error --no-audit --no-fund --no-update-notifier --prefix "$prefix/libexec/atrad/bun" bun >/dev/null ||
      die "npm could not install Bun (its error is above): check the network or proxy, or install Bun yourself (https://bun.sh) and run this again"
    bun="$prefix/libexec/atrad/bun/node_modules/.bin/bun"
  fi
fi
"$bun" --version >/dev/null 2>&1 || die "Bun at $bun does not run"
mkdir -p "$prefix/libexec/atrad/bin"
ln -sf "$bun" "$prefix/libexec/atrad/bin/bun"   # .ci/run and later upgrades find this Bun here
export PATH="$(dirname "$bun"):$PATH"   # package scripts call `bun` by name
say "using Bun $("$bun" --version) ($bun)"

# 2. Dependencies and the executable.
cd "$root"
say "installing dependencies"
"$bun" install --frozen-lockfile >/dev/null || die "bun install failed (its error is above): check the network or proxy and run this again"
say "building dist/atrad"
"$bun" scripts/build.ts >/dev/null || die "building dist/atrad failed (its error is above)"  # not `bun run build`: it echoes the command to stderr
install -m 0755 "$root/dist/atrad" "$prefix/bin/atrad"
say "installed $prefix/bin/atrad ($("$prefix/bin/atrad" --version))"

# 3. The login service. --prefix keeps `atrad install` from copying itself anywhere else
#    (it finds itself already in place) and records where it lives for `atrad uninstall`.
if [ "$service" = 1 ]; then
  say "registering the login service"
  # With $prefix/bin on its PATH, so it leaves the PATH advice to the end of this script.
  PATH="$prefix/bin:$PATH" "$prefix/bin/atrad" install --prefix "$prefix" ${service_flags[@]+"${service_flags[@]}"}
else
  say "skipped the login service (--no-service); start it later with: atrad install"
fi
# A script cannot change its caller's PATH: say the one line to paste (and to add to the
# shell's startup file), with $HOME spelled out so it stays right if pasted elsewhere.
case ":$PATH:" in
  *":$prefix/bin:"*) say "run: atrad status" ;;
  *)
    shown="$prefix/bin"
    case "$shown" in "$HOME"/*) shown="\$HOME${shown#"$HOME"}" ;; esac
    say "atrad is not on your PATH yet; paste this line here (and into your shell's startup file):"
    printf 'export PATH="%s:$PATH"\n' "$shown"
    ;;
esac
