#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Every backend of tcpconnlog where python cannot run (the arm64 busybox
# root of tests/vm/vmtest.py): --check, then, where the kernel takes the
# backend, a run with -j that must record one loopback connect (busybox nc
# to busybox nc -l) as established.
#
#   tests/vm/smoke.sh TOOL BACKEND[=no|=CHOSEN]...
#
# BACKEND=no: the kernel must refuse that backend (--check exit status 1
# with its failure line), as arm64 6.1 refuses fentry. BACKEND=CHOSEN:
# the run's ready line must name CHOSEN (auto=kprobe: auto falls back to
# kprobe). One line per backend; exit status 0 when every backend did as
# told, 1 if not, 2 for a usage error.
set -u

if [ $# -lt 2 ]; then
	echo "usage: smoke.sh TOOL BACKEND[=no|=CHOSEN]..." >&2
	exit 2
fi
tool=$1
shift

say() {
	echo "smoke: $backend: $*"
}

# wait_for SECONDS COMMAND...: until COMMAND succeeds, at most SECONDS
wait_for() {
	tries=$(($1 * 5))
	shift
	while ! "$@"; do
		tries=$((tries - 1))
		[ $tries -gt 0 ] || return 1
		sleep 0.2
	done
}

# shellcheck disable=SC2317 # (called through wait_for)
is_ready() {
	grep -q "^Tracing TCP connects (" "$err"
}

# shellcheck disable=SC2317 # (called through wait_for)
is_listening() {
	# that port, any address, state 0A (LISTEN); nc -l may take IPv6's
	grep -Eqs ":$(printf %04X "$port") 0+:0000 0A" /proc/net/tcp /proc/net/tcp6
}

# --check must say no, with exit status 1 and the backend's failure line
refused() {
	"$tool" --check -b "$backend" >"$err" 2>&1
	st=$?
	if [ $st -eq 0 ]; then
		say "FAIL: --check accepts it, expected the kernel to refuse it"
		return 1
	fi
	if [ $st -ne 1 ] || ! grep -q "^$backend: .* failed" "$err"; then
		say "FAIL: --check exit status $st, expected 1 and a failure line: $(cat "$err")"
		return 1
	fi
	say "not supported by this kernel, as expected (--check exit status 1): $(cat "$err")"
}

# --check passes, and a run records a connect to 127.0.0.1:$port
traced() {
	"$tool" --check -b "$backend" >"$err" 2>&1
	st=$?
	if [ $st -ne 0 ]; then
		say "FAIL: --check exit status $st: $(cat "$err")"
		return 1
	fi
	say "--check: $(cat "$err")"
	# one record (-P: only this port), or the time limit if none comes
	"$tool" -j -b "$backend" -P "$port" --max-events 1 --duration 60 >"$out" 2>"$err" &
	tracer=$!
	if ! wait_for 60 is_ready; then
		kill "$tracer" 2>/dev/null
		wait "$tracer"
		say "FAIL: no ready line in 60 s: $(cat "$err")"
		return 1
	fi
	if ! grep -q "^Tracing TCP connects ($chosen backend)" "$err"; then
		kill "$tracer" 2>/dev/null
		wait "$tracer"
		say "FAIL: the ready line names another backend than $chosen: $(cat "$err")"
		return 1
	fi
	# busybox's small nc (Debian's): no -s, no -z; both ends close when
	# their stdin ends
	timeout 30 nc -l -p "$port" </dev/null >/dev/null &
	server=$!
	wait_for 10 is_listening || say "nc -l is not listening on $port after 10 s"
	timeout 30 nc -w 5 127.0.0.1 "$port" </dev/null >/dev/null
	client=$?
	wait "$tracer"
	st=$?
	kill "$server" 2>/dev/null
	wait "$server"
	record=$(grep '"event":"connect"' "$out")
	for want in '"comm":"nc"' '"daddr":"127.0.0.1"' "\"dport\":$port," \
		'"result":"established"'; do
		case "$record" in
		*"$want"*) ;;
		*)
			say "FAIL: no $want in the record (nc exit status $client," \
				"tcpconnlog's $st): $record $(cat "$err")"
			return 1
			;;
		esac
	done
	if [ $st -ne 0 ]; then
		say "FAIL: tcpconnlog exit status $st: $(cat "$err")"
		return 1
	fi
	say "traced: $record"
}

status=0
port=40000
for arg; do
	backend=${arg%%=*}
	chosen=${arg#*=}
	port=$((port + 1))
	out=/tmp/smoke-$backend.json
	err=/tmp/smoke-$backend.err
	start=$(date +%s)
	if [ "$chosen" = no ]; then
		refused || status=1
	else
		traced || status=1
	fi
	say "$(($(date +%s) - start)) s"
done
exit $status
