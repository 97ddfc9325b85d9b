#!/usr/bin/env bash
# The Debian packages the tests drive, installed by `make test` when missing: Chromium and its
# driver (the desk's browser tests; never a browser downloaded at run time) and PostgreSQL's
# server (the store tests start their own, tests/postgres). As root it installs
# them with apt-get; otherwise it says what to install, and those tests skip locally (under
# CI=true they fail instead of skipping). Add a package here when a test starts driving one.
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium chromium-driver)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing ${need[*]} with apt-get (the desk's browser tests and the store tests drive them)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
else
    echo "note: ${need[*]} not installed: run 'make test' as root (or apt-get install them); their tests skip until then" >&2
fi
