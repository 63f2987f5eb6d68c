#!/bin/sh
# make demo: the MyPaxos session on a three-node cluster on loopback.
# Starts three acceptors and a proposer from etc/demo.conf, pipes a
# learner into kv-apply, submits the five commands, and stops it all.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/paxos-demo.XXXXXX")
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
	echo "demo: $*" >&2
	for f in "$dir"/*.log; do echo "--- $f" >&2; cat "$f" >&2; done
	exit 1
}

# start PROGRAM ID: run a daemon and wait for its "ready" line
start() {
	"$top/$1" -c "$dir/paxos.conf" -i "$2" 2>"$dir/$1-$2.log" &
	pids="$pids $!"
	i=0
	until grep -q ready "$dir/$1-$2.log"; do
		i=$((i + 1))
		[ $i -lt 100 ] || fail "$1 $2 did not start"
		sleep 0.05
	done
}

cp "$top/etc/demo.conf" "$dir/paxos.conf"
(umask 077 && "$top/paxos-keygen" > "$dir/paxos.key")
for n in 1 2 3; do start paxos-acceptor $n; done
start paxos-proposer 1
"$top/paxos-learner" -c "$dir/paxos.conf" -i 1 --count 5 \
    2>"$dir/paxos-learner-1.log" | "$top/kv-apply" &
pids="$pids $!"
printf 'put name Mike\nput age 22\nget name\ndelete name\nget name\n' |
    "$top/paxos-submit" -c "$dir/paxos.conf" -t 10000 ||
    fail "paxos-submit failed"
wait $! || fail "learner | kv-apply failed"
