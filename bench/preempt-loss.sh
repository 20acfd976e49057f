#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Records and outcomes lost to skipped probe runs on a preemptible kernel:
# 12 threads connect 150 times each to a loopback listener while two shell
# loops hog the CPUs; per backend and run, prints the records printed (of
# 1800), those left pending at exit (outcome never seen) and `skipped`.
# Run it in a guest, from the top of a built checkout:
#   python3 tests/vm/vmtest.py run --kernel 7.2 -- sh bench/preempt-loss.sh
# Environment: BIN (the tracer), BACKENDS, RUNS.
BIN=${BIN:-build/tcpconnlog}
hog() { while :; do :; done; }
hog & hog1=$!
hog & hog2=$!
trap 'kill $hog1 $hog2' EXIT
for backend in ${BACKENDS:-fentry kprobe tracepoint}; do
	for run in $(seq "${RUNS:-2}"); do
		"$BIN" -b "$backend" -j --no-drop-privileges >/tmp/preempt-loss.out 2>/dev/null &
		tracer=$!
		sleep 4		# attached: the tool takes under a second, the guest more
		/usr/bin/python3 - <<'PY'
import socket, threading
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1024)
port = srv.getsockname()[1]

def accept_all():
    while True:
        srv.accept()[0].close()

def connect_many():
    for _ in range(150):
        s = socket.socket()
        s.connect(("127.0.0.1", port))
        s.close()

threading.Thread(target=accept_all, daemon=True).start()
threads = [threading.Thread(target=connect_many) for _ in range(12)]
for t in threads:
    t.start()
for t in threads:
    t.join()
PY
		kill -INT $tracer
		wait $tracer
		out=/tmp/preempt-loss.out
		echo "$backend run $run: records $(grep -c '"event":"connect"' $out)" \
		     "pending $(grep -c '"result":"pending"' $out)" \
		     "$(grep -o '"skipped":[0-9]*' $out || echo '"skipped":0')"
	done
done
