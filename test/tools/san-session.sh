#!/bin/sh
# san-session.sh BINDIR: the MyPaxos session (three acceptors, a
# proposer, a learner piped into kv-apply, the five commands) run with
# the programs in BINDIR, as `make san-programs` builds them under
# AddressSanitizer and UBSan.  The daemons end with SIGTERM, so that
# LeakSanitizer checks them at exit.  Fails on any sanitizer report in
# any program's stderr, or when kv-apply does not print ok ok Mike ok
# null.  Used by `make san-check` and test/hostile.bats.
#
# With $SESSION_WRAP set, every program runs under that command: with
# the plain build, this runs each under valgrind's memcheck, failing
# when one reports an error or a leak:
#   SESSION_WRAP='valgrind -q --leak-check=full --error-exitcode=99' \
#       sh test/tools/san-session.sh .
set -eu
wrap=${SESSION_WRAP:-}
[ $# = 1 ] || { echo "usage: san-session.sh bindir" >&2; exit 64; }
bin=$(cd "$1" && pwd)
for p in paxos-acceptor paxos-proposer paxos-learner paxos-submit \
    paxos-keygen paxos-status kv-apply; do
	[ -x "$bin/$p" ] || { echo "san-session: no $bin/$p" >&2; exit 66; }
done
dir=$(mktemp -d "${TMPDIR:-/tmp}/paxos-san.XXXXXX")
pids=
cleanup() {
	for p in $pids; do kill -KILL "$p" 2>/dev/null || true; done
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' HUP INT PIPE TERM

ASAN_OPTIONS=halt_on_error=1:abort_on_error=0:detect_leaks=1
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS UBSAN_OPTIONS

fail() {
	echo "san-session: $*" >&2
	for f in "$dir"/*.log; do echo "--- $f" >&2; cat "$f" >&2; done
	exit 1
}

# A free base port: 12 UDP ports from it can be bound on 127.0.0.1.
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
	for n in 1 2 3; do
		printf '\n[node %d]\nhost = 127.0.0.1\nport = %d\n' "$n" \
		    $((base + 10 * (n - 1)))
	done
} > "$dir/paxos.conf"
(umask 077 && $wrap "$bin/paxos-keygen" > "$dir/paxos.key" \
    2>"$dir/keygen.log")
(umask 077 && $wrap "$bin/paxos-keygen" --client < "$dir/paxos.key" \
    > "$dir/client.key" 2>>"$dir/keygen.log")
sed 's/^secret_file = .*/secret_file = client.key/' "$dir/paxos.conf" \
    > "$dir/client.conf"

# start PROGRAM ID: a daemon, waited for on its "ready" line
start() {
	$wrap "$bin/$1" -c "$dir/paxos.conf" -i "$2" 2>"$dir/$1-$2.log" &
	pids="$pids $!"
	i=0
	until grep -q ready "$dir/$1-$2.log" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 200 ] || fail "$1 $2 not ready in 10 s"
		sleep 0.05
	done
}

for n in 1 2 3; do start paxos-acceptor $n; done
start paxos-proposer 1
$wrap "$bin/paxos-learner" -c "$dir/paxos.conf" -i 1 --count 5 \
    2>"$dir/paxos-learner-1.log" | $wrap "$bin/kv-apply" \
    >"$dir/kv.out" 2>"$dir/kv-apply.log" &
session=$!
printf 'put name Mike\nput age 22\nget name\ndelete name\nget name\n' |
    $wrap "$bin/paxos-submit" -c "$dir/client.conf" -t 20000 \
    2>"$dir/paxos-submit.log" || fail "paxos-submit failed"
wait $session || fail "learner | kv-apply failed"
$wrap "$bin/paxos-status" -c "$dir/client.conf" --json >/dev/null \
    2>"$dir/paxos-status.log" || fail "paxos-status failed"
# A learner without --count stops on SIGTERM, like the daemons.  The
# file exists before the background job opens it, for the loop below.
: > "$dir/learner2.out"
$wrap "$bin/paxos-learner" -c "$dir/paxos.conf" -i 2 -n >"$dir/learner2.out" \
    2>"$dir/paxos-learner-2.log" &
pids="$pids $!"
i=0
until [ "$(wc -l < "$dir/learner2.out")" -ge 5 ]; do
	i=$((i + 1))
	[ $i -lt 200 ] || fail "learner 2 wrote $(wc -l < "$dir/learner2.out") of 5 lines"
	sleep 0.05
done
for p in $pids; do kill -TERM "$p"; done
for p in $pids; do wait "$p" || fail "a daemon exited $? on SIGTERM"; done
pids=

printf 'ok\nok\nMike\nok\nnull\n' | cmp -s - "$dir/kv.out" ||
    fail "kv-apply printed: $(cat "$dir/kv.out")"
if grep -lE 'runtime error|AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|ERROR SUMMARY: [1-9]|definitely lost: [1-9]' \
    "$dir"/*.log >/dev/null; then
	fail "a sanitizer or valgrind reported"
fi
echo "san-session: 7 programs${wrap:+ under $wrap}, $(ls "$dir"/*.log | wc -l) logs, no report"
