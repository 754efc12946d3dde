#!/bin/bash
# Instructions per message (or per handshake) in this project's echo worker, under callgrind.
#
#   bash bench/profiles/worker_cost.sh <checkout> "-c 20 -s 64"      # echo at 64 B
#   bash bench/profiles/worker_cost.sh <checkout> "-c 8 -C"          # handshakes
#
# Runs the real server (bench/peers/cosocket, one worker) from <checkout> under
# valgrind --tool=callgrind twice, driven by bench/build/wsload for 4 s and 12 s;
# (I2 - I1) / (msgs2 - msgs1) cancels start-up.  Counts do not depend on what the
# other core does; timings on the shared 2-core machine do.  The last runs' callgrind
# files are left in $CGDIR (default /tmp) as last_4.cg and last_12.cg for callgrind_annotate.
TREE=$1; LOADARGS="$2"; PY=$(python3 -c 'import sys;print(sys.executable)')
res=""
for DUR in 4 12; do
  PORT=$((9400 + DUR)); D=$(mktemp -d ${TMPDIR:-/tmp}/cgsrvXXXX); mkdir -p $D/logs
  sed -e "s#{port}#$PORT#; s#{workers}#1#; s#{here}#$TREE/bench/peers/cosocket#; s#{script}#echo.py#" $TREE/bench/peers/cosocket/nginx.conf > $D/nginx.conf
  (cd $D && PYTHONPATH=$TREE exec valgrind --tool=callgrind --callgrind-out-file=$D/cg.%p $PY -m cosocket -p $D -c $D/nginx.conf -g "daemon off;") >/dev/null 2>&1 </dev/null &
  for i in $(seq 1 100); do [ -f $D/logs/nginx.pid ] && break; sleep 0.2; done; sleep 8
  OUT=$($(dirname $0)/../build/wsload -p $PORT -u /echo $LOADARGS -d $DUR | tail -1)
  MSGS=$(echo "$OUT" | sed 's/.* msgs=\([0-9]*\).*/\1/')
  kill -QUIT $(cat $D/logs/nginx.pid); sleep 6
  cp $(for f in $D/cg.*; do echo "$(grep -m1 '^totals:' $f | awk '{print $2}') $f"; done | sort -n | tail -1 | cut -d' ' -f2) ${CGDIR:-/tmp}/last_$DUR.cg
  # the worker did the most work: its file has the largest total
  I=$(for f in $D/cg.*; do grep -m1 "^totals:" $f | awk '{print $2}'; done | sort -n | tail -1)
  echo "dur=$DUR msgs=$MSGS instr=$I" >&2
  res="$res $MSGS $I"
  rm -rf $D
done
python3 -c "
import sys; m1,i1,m2,i2=map(int,sys.argv[1:]); print('instructions per message: %.0f' % ((i2-i1)/(m2-m1)))" $res
