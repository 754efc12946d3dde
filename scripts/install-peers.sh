#!/usr/bin/env bash
# Install the real WebSocket peers that tests/interop talks to:
#   - Debian: nginx + the Lua module + lua-resty-core + lua-nginx-websocket
#     (the original lua-resty-websocket, as `require "nginx.websocket.server"`),
#     chromium (headless browser), nodejs + npm, redis-server (the cosocket.redis tests)
#   - npm: the `ws` package into tests/interop/node/node_modules
# (The Python peers, websockets and aiohttp, come with the project's `test` extra.)
#
# Idempotent and quick when everything is there.  It never fails the caller:
# when something cannot be installed (not root, no network) it says so and
# the matching interop tests skip with a message naming the package.
# INSTALL_PEERS_SKIP=1 skips it entirely.
set -uo pipefail
cd "$(dirname "$0")/.."

say() { echo "install-peers: $*" >&2; }

if [ "${INSTALL_PEERS_SKIP:-0}" = 1 ]; then
    say "skipped (INSTALL_PEERS_SKIP=1)"
    exit 0
fi

# --- Debian packages -------------------------------------------------------
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

need=()
if command -v dpkg-query >/dev/null 2>&1; then
    for pkg in nginx libnginx-mod-http-lua lua-resty-core lua-nginx-websocket chromium redis-server; do
        installed "$pkg" || need+=("$pkg")
    done
    command -v node >/dev/null 2>&1 || need+=(nodejs)
    command -v npm >/dev/null 2>&1 || need+=(npm)
fi

if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
        say "not root: cannot apt-get install ${need[*]}; the interop tests needing them will skip"
    elif ! command -v apt-get >/dev/null 2>&1; then
        say "no apt-get: cannot install ${need[*]}; the interop tests needing them will skip"
    else
        say "apt-get install ${need[*]}"
        if apt-get update -q >/dev/null; then
            # nginx's postinst tries to start the service: RUNLEVEL=1 keeps it from starting.
            if ! DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y -q --no-install-recommends \
                    "${need[@]}" >/dev/null; then
                say "apt-get install failed; trying the packages one by one"
                for pkg in "${need[@]}"; do
                    DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y -q --no-install-recommends \
                        "$pkg" >/dev/null || say "could not install $pkg; its interop tests will skip"
                done
            fi
            # A packaged nginx started by the install would sit on port 80: stop it.
            if [ -f /run/nginx.pid ]; then nginx -s quit 2>/dev/null || true; fi
        else
            say "apt-get update failed (no network?); the interop tests needing ${need[*]} will skip"
        fi
    fi
fi

# --- npm: ws -----------------------------------------------------------------
NODE_DIR=tests/interop/node
if [ -f "$NODE_DIR/node_modules/ws/package.json" ]; then
    :
elif ! command -v npm >/dev/null 2>&1; then
    say "no npm: cannot install the Node.js ws package; its interop tests will skip"
else
    say "npm install ws into $NODE_DIR/node_modules"
    (cd "$NODE_DIR" && npm install --no-audit --no-fund --no-package-lock --loglevel=error --fetch-retries=1 --fetch-timeout=30000 >/dev/null 2>&1) \
        || say "npm install failed (no network?); the Node.js ws interop tests will skip"
fi

say "done"
exit 0
