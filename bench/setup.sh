#!/usr/bin/env bash
# Install what the benchmark needs, from a fresh clone:
#   - the project with its `bench` extra (peers + matplotlib) into the active Python
#   - OpenResty's pieces from Debian: nginx, the lua module, lua-resty-core and
#     lua-nginx-websocket (installed as `require "nginx.websocket.server"`)
# Idempotent: each step is skipped when its result is already there.
# Set BENCH_SKIP_APT=1 to skip the Debian packages (OpenResty is then skipped).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

if ! "$PY" -c 'import picows, aiohttp, websockets, geventwebsocket, matplotlib' 2>/dev/null; then
    echo "bench/setup: pip install -e .[bench]" >&2
    "$PY" -m pip install -q -e ".[bench]"
fi

if [ "${BENCH_SKIP_APT:-0}" != 1 ]; then
    need=()
    for pkg in nginx libnginx-mod-http-lua lua-resty-core lua-nginx-websocket zlib1g-dev redis-server; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
    done
    if [ ${#need[@]} -gt 0 ]; then
        SUDO=""
        [ "$(id -u)" = 0 ] || SUDO="sudo"
        echo "bench/setup: apt-get install ${need[*]}" >&2
        $SUDO apt-get update -q
        # nginx's postinst tries to start the service; there is no init here, so keep it from starting.
        DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 $SUDO apt-get install -y -q --no-install-recommends "${need[@]}"
        # Stop a packaged nginx if the install started one (it would sit on port 80 and use CPU).
        if [ -f /run/nginx.pid ]; then $SUDO nginx -s quit 2>/dev/null || true; fi
    fi
fi
echo "bench/setup: ok" >&2
