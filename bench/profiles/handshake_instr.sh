#!/bin/sh
# Instructions per handshake (callgrind, server + in-process client): (I(N) - I(200)) / (N - 200).
# usage: bench/profiles/handshake_instr.sh [N=1000]
N=${1:-1000}
PY=$(python3 -c "import sys; print(sys.executable)")
cd "$(dirname "$0")/../.."
count() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$PY" bench/profiles/handshake_cost.py --count "$1" 2>&1 \
        | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
a=$(count 200)
b=$(count "$N")
echo "instructions per handshake: $(( (b - a) / (N - 200) ))  (I(200)=$a I($N)=$b)"
