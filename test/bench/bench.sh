#!/bin/sh
# make bench: a three-acceptor, one-proposer, one-learner cluster on
# loopback; prints throughput (values/s from submission until the learner
# has written them), one-in-flight commit latency, and each daemon's peak
# resident memory.  Every figure is the median of RUNS runs (default 5).
# PROFILE=1 records the runs with perf(1) and prints where the time went.
# First it prints what the host allows (test/bench/host_probe.c): a
# one-in-flight commit is a chain of wake-ups and synced writes.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
RUNS=${RUNS:-5}
CLIENTS=${CLIENTS:-4}
WINDOW=${WINDOW:-128}
N64=${N64:-50000}		# values per client, 64-byte values
N1K=${N1K:-20000}		# values per client, 1 KiB values
N32K=${N32K:-1000}		# values per client, 32 KiB values
NLAT=${NLAT:-3000}		# values for the latency runs
SESSIONS=${SESSIONS:-2000}	# earlier client sessions, last row
BUSY_POLL=${BUSY_POLL:-100}	# microseconds, second set of latency runs
dir=$(mktemp -d "${TMPDIR:-/tmp}/paxos-bench.XXXXXX")
pids=
cleanup() {
	for q in $pids; do kill "$q" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }

# PROFILE=1: record every run with perf(1), system-wide, and print where
# the CPU time went (by process and library, then by function).
PROFILE=${PROFILE:-}
perfpid=
profile_start() {	# KIND
	[ -n "$PROFILE" ] || return 0
	perf record -a -q -o "$dir/perf.$1" 2>/dev/null &
	perfpid=$!
	sleep 0.2
}
profile_stop() {
	[ -n "$perfpid" ] || return 0
	kill -INT "$perfpid"
	wait "$perfpid" 2>/dev/null || true
	perfpid=
}
profile_report() {
	[ -n "$PROFILE" ] || return 0
	for f in "$dir"/perf.*; do
		echo
		echo "profile of ${f##*/perf.}: share of CPU samples"
		perf report -i "$f" --no-children --stdio --sort comm,dso \
		    --percent-limit 1.5 2>/dev/null | grep '%' | sed 's/^/  /'
		echo "  top functions:"
		perf report -i "$f" --no-children --stdio --sort comm,sym \
		    --percent-limit 1 2>/dev/null | grep '%' | head -20 |
		    sed 's/^/  /'
	done
}

free_base() {
	python3 -c '
import random, socket
for _ in range(200):
    b = random.randrange(40000, 60000, 10)
    try:
        for p in range(b, b + 24):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.0.1", p)); s.close()
        print(b); break
    except OSError:
        pass'
}

# up PERSIST [BUSY_POLL]: a fresh cluster in $dir/c
up() {
	rm -rf "$dir/c"
	mkdir -p "$dir/c"
	(umask 077 && "$top/paxos-keygen" > "$dir/c/paxos.key")
	base=$(free_base)
	{
		printf '[cluster]\nsecret_file = paxos.key\ntimeout = 1000\n'
		printf 'learning_interval = 1000\ndata_dir = data\npersist = %s\n' "$1"
		printf 'busy_poll = %s\n' "${2:-0}"
		# Exactly the cluster that runs: three acceptors, node 1
		# also the proposer and the learner.
		for n in 1 2 3; do
			printf '\n[node %d]\nhost = 127.0.0.1\nport = %d\n' \
			    $n $((base + 10 * (n - 1)))
			[ $n = 1 ] && r='acceptor proposer learner' ||
			    r=acceptor
			printf 'roles = %s\n' "$r"
		done
	} > "$dir/c/paxos.conf"
	daemons=
	for n in 1 2 3; do start paxos-acceptor $n; done
	start paxos-proposer 1
}

start() {
	"$top/$1" -c "$dir/c/paxos.conf" -i "$2" 2>"$dir/c/$1-$2.log" &
	pids="$pids $!"
	daemons="$daemons $1-$2:$!"
	i=0
	until grep -qs ready "$dir/c/$1-$2.log"; do
		i=$((i + 1))
		[ $i -lt 200 ] || { cat "$dir/c/$1-$2.log" >&2; exit 1; }
		sleep 0.02
	done
}

down() {
	for q in $pids; do kill "$q" 2>/dev/null || true; done
	wait 2>/dev/null || true
	pids=
}

# peak resident memory (KiB) of each daemon, before it is stopped
peaks() {
	for d in $daemons; do
		[ -r "/proc/${d#*:}/status" ] || continue
		printf '%s %s\n' "${d%%:*}" \
		    "$(awk '/VmHWM/ {print $2}' "/proc/${d#*:}/status")"
	done
}

# cpu VALUES: each daemon's time on a CPU per value, in microseconds
# (/proc/PID/schedstat, nanoseconds; time stolen by a host not counted)
cpu() {
	for d in $daemons; do
		[ -r "/proc/${d#*:}/schedstat" ] || continue
		printf '%s %s\n' "${d%%:*}" "$(awk -v n="$1" \
		    '{printf "%.1f", $1 / n / 1000}' "/proc/${d#*:}/schedstat")"
	done
}

median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

# throughput PERSIST SIZE PER_CLIENT [SESSIONS]: values/s until the
# learner wrote all, after SESSIONS earlier one-value client sessions
throughput() {
	up "$1"
	warm=$(( (${4:-0} + 7) / 8 * 8 ))	# whole rounds of 8
	total=$((CLIENTS * $3))
	# Started first, it follows the log from position 1 as it grows.
	"$top/paxos-learner" -c "$dir/c/paxos.conf" -i 1 \
	    --count $((total + warm)) >/dev/null 2>"$dir/c/learner.log" &
	lp=$!
	i=0
	while [ "$i" -lt "$warm" ]; do
		wp=
		for k in 1 2 3 4 5 6 7 8; do
			"$top/test/bench/bench_client" -c "$dir/c/paxos.conf" \
			    -n 1 >/dev/null &
			wp="$wp $!"
		done
		for q in $wp; do wait "$q"; done
		i=$((i + 8))
	done
	daemons="$daemons paxos-learner-1:$lp"
	profile_start "throughput.$1.$2.$warm"
	t0=$(now)
	cp=
	for k in $(seq "$CLIENTS"); do
		"$top/test/bench/bench_client" -c "$dir/c/paxos.conf" -n "$3" \
		    -s "$2" -w "$WINDOW" >/dev/null &
		cp="$cp $!"
	done
	for q in $cp; do wait "$q"; done
	key=$1.$2
	[ "$warm" = 0 ] || key=$key.sessions
	peaks > "$dir/peaks.$key"
	wait $lp
	t1=$(now)
	profile_stop
	cpu $total > "$dir/cpu.$key"
	down
	echo "$total $t0 $t1" | awk '{printf "%.0f\n", $1 / ($3 - $2)}'
}

# latency PERSIST BUSY_POLL: p50 p99 p999 in microseconds, one value in
# flight, with the learner running as in the throughput runs
latency() {
	up "$1" "$2"
	"$top/paxos-learner" -c "$dir/c/paxos.conf" -i 1 --count "$NLAT" \
	    >/dev/null 2>"$dir/c/learner.log" &
	pids="$pids $!"
	profile_start "latency.$1.busy_poll.$2"
	"$top/test/bench/bench_client" -c "$dir/c/paxos.conf" -n "$NLAT" \
	    -s 64 -w 1 | awk '{print $8, $10, $12}'
	profile_stop
	down
}

# CPU time taken by other guests of a virtual machine's host, in ticks
# (/proc/stat "steal"), and all ticks: noise the figures carry.
ticks() { awk '/^cpu / {t = 0; for (i = 2; i <= NF; i++) t += $i;
    print $9, t}' /proc/stat; }
# stolen TICKS_BEFORE: the share stolen since, in percent
stolen() { echo "$1 $(ticks)" | awk '{s = 0; if ($4 > $2)
    s = 100 * ($3 - $1) / ($4 - $2); printf "%.1f", s}'; }

row() {	# label persist size per-client [sessions]
	t0=$(ticks)
	r=$(for i in $(seq "$RUNS"); do
		throughput "$2" "$3" "$4" "${5:-0}"; done | median)
	printf '%-44s %12s   (%s%% stolen)\n' "$1" "$r values/s" \
	    "$(stolen "$t0")"
}
steal0=$(ticks)
echo "paxos bench: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)," \
    "$CLIENTS clients x -w $WINDOW, median of $RUNS runs"
echo "host: $("$top/test/bench/host_probe" "$dir")"
# How an idle CPU waits decides how fast it wakes: a virtual machine's
# guest halt polling (0: off) trades host CPU for wake-up latency.
idle=$(cat /sys/devices/system/cpu/cpuidle/current_driver 2>/dev/null) ||
    idle=none
hp=/sys/module/haltpoll/parameters/guest_halt_poll_ns
[ -r "$hp" ] && idle="$idle, guest halt polling up to $(cat "$hp") ns"
echo "idle CPUs: $idle"
echo
echo "throughput (submission to written by the learner)"
row "  64 B values, persist = no" no 64 "$N64"
row "  64 B values, persist = yes" yes 64 "$N64"
row "  1 KiB values, persist = no" no 1024 "$N1K"
row "  1 KiB values, persist = yes" yes 1024 "$N1K"
row "  32 KiB values, persist = yes" yes 32768 "$N32K"
row "  64 B, persist = no, after $SESSIONS sessions" no 64 "$N64" "$SESSIONS"
echo
echo "commit latency, one value in flight (microseconds)"
for bp in 0 "$BUSY_POLL"; do
	for mode in no yes; do
		t0=$(ticks)
		for i in $(seq "$RUNS"); do latency $mode "$bp"; done \
		    > "$dir/lat.$mode"
		printf '  persist = %-3s busy_poll = %-4s p50 %6s  p99 %6s  p99.9 %6s   (%s%% stolen)\n' \
		    $mode "$bp" \
		    "$(cut -d' ' -f1 "$dir/lat.$mode" | median)" \
		    "$(cut -d' ' -f2 "$dir/lat.$mode" | median)" \
		    "$(cut -d' ' -f3 "$dir/lat.$mode" | median)" \
		    "$(stolen "$t0")"
	done
done
echo
echo "peak resident memory (KiB) in the 64 B, persist = yes runs"
sed 's/^/  /' "$dir/peaks.yes.64"
echo
echo "CPU time per value (microseconds), last throughput run of each kind"
for k in no.64 yes.64 no.1024 yes.1024; do
	printf '  %-8s' "$k"
	awk '{printf " %s %s", $1, $2}' "$dir/cpu.$k"
	echo
done
echo
echo "cpu stolen by the host during the runs: $(stolen "$steal0")%"
profile_report
