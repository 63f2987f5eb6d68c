#!/bin/sh
# flood-bench.sh [N] [SECONDS]: how a cluster on 127.0.0.1 fares under a
# garbage flood.  Starts three acceptors, a proposer and a learner with
# the programs in the current directory, times paxos-submit -w 32 of N
# values (default 2000) without a flood, then again while
# test/tools/paxos-flood sends garbage at the port of every daemon for SECONDS
# (default 10), and prints values per second, the datagrams sent, each
# daemon's peak memory (VmHWM) and drop counters, and how many lines the
# daemons logged meanwhile.  Not a test: run it by hand from the top
# directory after make and make tools.
set -eu
n=${1:-2000}
secs=${2:-10}
top=$(pwd)
[ -x "$top/paxos-acceptor" ] && [ -x "$top/test/tools/paxos-flood" ] ||
    { echo "flood-bench: run from the top directory after make tools" >&2; exit 66; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/paxos-flood.XXXXXX")
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' HUP INT PIPE TERM

base=$(python3 -I -S -c '
import random, socket
for _ in range(500):
    b = random.randrange(20000, 60000, 10)
    try:
        for n in range(3):
            for k in range(4):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                try:
                    s.bind(("127.0.0.1", b + 10 * n + k))
                finally:
                    s.close()
    except OSError:
        continue
    print(b)
    break
')
{
	printf '[cluster]\nsecret_file = paxos.key\ntimeout = 200\n'
	printf 'learning_interval = 200\ndata_dir = data\npersist = yes\n'
	for i in 1 2 3; do
		printf '\n[node %d]\nhost = 127.0.0.1\nport = %d\n' "$i" \
		    $((base + 10 * (i - 1)))
	done
} > "$dir/paxos.conf"
(umask 077 && "$top/paxos-keygen" > "$dir/paxos.key")
conf=$dir/paxos.conf

start() {
	"$top/$1" -c "$conf" -i "$2" 2>"$dir/$1-$2.log" >/dev/null &
	pids="$pids $!"
	eval "pid_$3=$!"
	i=0
	until grep -q ready "$dir/$1-$2.log" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 100 ] || { cat "$dir/$1-$2.log" >&2; exit 1; }
		sleep 0.05
	done
}
start paxos-acceptor 1 a1
start paxos-acceptor 2 a2
start paxos-acceptor 3 a3
start paxos-proposer 1 p1
start paxos-learner 1 l1

# run LABEL: time paxos-submit of n values; prints values per second
run() {
	seq 1 "$n" | sed "s/^/$1-/" > "$dir/in"
	t0=$(date +%s.%N)
	"$top/paxos-submit" -c "$conf" -w 32 -t 60000 < "$dir/in"
	t1=$(date +%s.%N)
	echo "$n $t0 $t1" | awk '{ printf "%.0f", $1 / ($3 - $2) }'
}

run warm >/dev/null
quiet=$(run quiet)
lines0=$(cat "$dir"/*.log | wc -l)
# the five ports a daemon listens on
"$top/test/tools/paxos-flood" -d "$secs" $((base + 1)) $((base + 2)) \
    $((base + 3)) $((base + 11)) $((base + 21)) > "$dir/flood.out" &
flood=$!
sleep 1
flooded=$(run flooded)
wait $flood
lines1=$(cat "$dir"/*.log | wc -l)
echo "paxos-submit -w 32, $n values: $quiet values/s quiet, $flooded values/s under the flood"
echo "paxos-flood: $(cat "$dir/flood.out")"
echo "daemon log lines during the flood: $((lines1 - lines0))"
for d in a1 a2 a3 p1 l1; do
	eval "pid=\$pid_$d"
	printf '%s: %s, %s\n' "$d" \
	    "$(awk '/^VmHWM/ { printf "VmHWM %s kB", $2 }' /proc/$pid/status)" \
	    "$(awk '/^VmRSS/ { printf "VmRSS %s kB", $2 }' /proc/$pid/status)"
done
"$top/paxos-status" -c "$conf" | awk 'NR == 1 || $5 != "answer"'
