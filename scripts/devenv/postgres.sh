#!/usr/bin/env bash
# Make sure PostgreSQL's server programs are here for the AppView tests, and print the folder
# holding them (initdb, postgres) on stdout.
#
# Bluesky's AppView (in @atproto/dev-env's TestNetwork) keeps its index in PostgreSQL. The
# tests start a throwaway server of their own (tests/appview.py); this only provides the
# programs: $FEEDBOT_PG_BIN when set, else Debian's (/usr/lib/postgresql/N/bin, the newest),
# else initdb on PATH. When none is found and we are root on Debian (CI: a fresh machine),
# it installs Debian's postgresql package with apt-get, once; the package's own cluster
# service is not used. Kept apart from scripts/devenv.sh on purpose: changing it must not
# make the npm install (whose stamp hashes devenv.sh) run again.
#
# Usage: scripts/devenv/postgres.sh      Works without a terminal (CI=true, no stdin).
set -euo pipefail

say() { printf 'postgres: %s\n' "$*" >&2; }

find_bin() {
    if [[ -n "${FEEDBOT_PG_BIN:-}" ]]; then
        [[ -x "$FEEDBOT_PG_BIN/initdb" && -x "$FEEDBOT_PG_BIN/postgres" ]] && printf '%s\n' "$FEEDBOT_PG_BIN"
        return
    fi
    local dir
    dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    if [[ -n "$dir" && -x "$dir/initdb" && -x "$dir/postgres" ]]; then
        printf '%s\n' "$dir"
        return
    fi
    if command -v initdb >/dev/null && command -v postgres >/dev/null; then
        dirname "$(command -v initdb)"
    fi
}

bin="$(find_bin)"
if [[ -z "$bin" ]]; then
    if [[ -n "${FEEDBOT_PG_BIN:-}" ]]; then
        say "FEEDBOT_PG_BIN=$FEEDBOT_PG_BIN holds no initdb and postgres"
        exit 1
    fi
    if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null; then
        say "PostgreSQL's server programs are missing: install them (Debian: apt-get install postgresql) or set FEEDBOT_PG_BIN"
        exit 1
    fi
    exec 9>/tmp/feedbot-postgres-install.lock
    if command -v flock >/dev/null; then flock 9; fi
    bin="$(find_bin)"  # another run may have installed it while we waited
    if [[ -z "$bin" ]]; then
        say "installing Debian's postgresql package (about a minute)"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2
        apt-get install -y -qq --no-install-recommends postgresql >&2
        bin="$(find_bin)"
        [[ -n "$bin" ]] || { say "postgresql installed, but initdb was not found"; exit 1; }
    fi
fi
printf '%s\n' "$bin"
