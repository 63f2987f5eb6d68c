# Shared set-up for the bats tests: libraries, free ports, a three-node
# cluster on 127.0.0.1 written into $BATS_TEST_TMPDIR, daemons started
# and stopped by PID.
bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert

# Every process a test starts in the background has a file here holding
# its PID (or, for a pipeline, minus its process group id).
PIDDIR=$BATS_TEST_TMPDIR/pids

# free_base: print a base port B such that the 12 UDP ports of three
# nodes (B+10*n+k, n = 0..2, k = 0..3) can be bound on 127.0.0.1 now.
# The base is random, so that files run with bats -j do not collide.
free_base() {
	python3 -I -S - <<-'PY'
	import random, socket, sys
	for _ in range(500):
	    b = random.randrange(20000, 60000, 10)
	    ok = True
	    for n in range(3):
	        for k in range(4):
	            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	            try:
	                s.bind(("127.0.0.1", b + 10 * n + k))
	            except OSError:
	                ok = False
	            finally:
	                s.close()
	    if ok:
	        print(b)
	        sys.exit(0)
	sys.exit(1)
	PY
}

# write_conf FILE BASE [persist] [secret_file]: a three-node paxos.conf
write_conf() {
	local file=$1 base=$2 persist=${3:-yes} secret=${4:-paxos.key} n
	{
		printf '[cluster]\n'
		printf 'secret_file = %s\n' "$secret"
		printf 'timeout = 200\nlearning_interval = 200\n'
		printf 'data_dir = data\npersist = %s\n' "$persist"
		for n in 1 2 3; do
			printf '\n[node %d]\nhost = 127.0.0.1\nport = %d\n' \
			    "$n" $((base + 10 * (n - 1)))
		done
	} > "$file"
}

# make_key FILE: a fresh secret, mode 600
make_key() {
	(umask 077 && paxos-keygen > "$1")
}

# make_cluster DIR [persist]: write DIR/paxos.key and DIR/paxos.conf for
# three nodes on fresh ports.  Sets CONF, CLUSTER_DIR and BASE.
make_cluster() {
	local dir=$1 persist=${2:-yes}
	mkdir -p "$dir"
	BASE=$(free_base) || { echo "no free ports" >&2; return 1; }
	make_key "$dir/paxos.key"
	write_conf "$dir/paxos.conf" "$BASE" "$persist"
	CLUSTER_DIR=$dir
	CONF=$dir/paxos.conf
}

# wait_for SECONDS COMMAND...: poll COMMAND until it succeeds
wait_for() {
	local limit=$1 end
	shift
	end=$((SECONDS + limit))
	until "$@"; do
		if ((SECONDS >= end)); then
			echo "wait_for: timed out after ${limit}s: $*" >&2
			return 1
		fi
		sleep 0.05
	done
}

# line_count FILE: lines in FILE, 0 when it does not exist
line_count() {
	if [ -e "$1" ]; then wc -l < "$1"; else echo 0; fi
}

# has_lines FILE N: FILE has at least N lines
has_lines() {
	(($(line_count "$1") >= $2))
}

# wait_lines FILE N [SECONDS]: wait until FILE has at least N lines
wait_lines() {
	wait_for "${3:-10}" has_lines "$1" "$2" || {
		echo "wait_lines: $1 has $(line_count "$1") lines, want $2" >&2
		return 1
	}
}

# daemon_log NAME ID: where start_daemon sends NAME ID's stderr
daemon_log() {
	echo "$BATS_TEST_TMPDIR/$1-$2.log"
}

# daemon_pid NAME ID: the recorded PID of NAME ID
daemon_pid() {
	cat "$PIDDIR/$1-$2.pid"
}

# start_daemon NAME ID [ARG...]: start NAME -c $CONF -i ID in the
# background, stderr appended to its log, and wait (at most 5 s) for one
# more `ready` line than the log held before.
start_daemon() {
	local name=$1 id=$2 log pid before i
	shift 2
	mkdir -p "$PIDDIR"
	log=$(daemon_log "$name" "$id")
	before=$(grep -cw ready "$log" 2>/dev/null || true)
	"$name" -c "$CONF" -i "$id" "$@" 3>&- </dev/null >/dev/null 2>>"$log" &
	pid=$!
	echo "$pid" > "$PIDDIR/$name-$id.pid"
	for ((i = 0; i < 250; i++)); do
		(($(grep -cw ready "$log" || true) > ${before:-0})) && return 0
		if ! alive "$pid"; then
			echo "$name $id exited before it was ready:" >&2
			cat "$log" >&2
			return 1
		fi
		sleep 0.02
	done
	echo "$name $id not ready within 5 s:" >&2
	cat "$log" >&2
	return 1
}

# start_acceptors [ARG...]: acceptors 1, 2 and 3
start_acceptors() {
	local n
	for n in 1 2 3; do start_daemon paxos-acceptor "$n" "$@" || return 1; done
}

# start_bg NAME COMMAND: run the shell COMMAND in the background in a
# session (and process group) of its own, so that stop_all ends every
# process of a pipeline.  Its PID is the process group id.
start_bg() {
	local name=$1 cmd=$2 pidfile
	mkdir -p "$PIDDIR"
	pidfile=$PIDDIR/$name.pgid
	rm -f "$pidfile"
	setsid bash -c 'echo $$ > "$1"; shift; eval "$1"' _ "$pidfile" "$cmd" \
	    3>&- </dev/null &
	wait_for 5 test -s "$pidfile"
}

# kill_daemon NAME ID [SIGNAL]: signal NAME ID (default KILL) by its
# recorded PID and wait until it is gone.
kill_daemon() {
	local pid
	pid=$(daemon_pid "$1" "$2")
	kill -s "${3:-KILL}" "$pid" 2>/dev/null || true
	wait_for 5 eval "! alive $pid" || return 1
	rm -f "$PIDDIR/$1-$2.pid"
}

# wait_status PID: wait (at most 10 s) for the child PID to end and set
# STATUS to its exit status
wait_status() {
	wait_for 10 eval "! alive $1" || return 1
	STATUS=0
	wait "$1" || STATUS=$?
}

# _targets: the kill targets of every recorded process
_targets() {
	local f
	for f in "$PIDDIR"/*.pid; do
		[ -e "$f" ] && cat "$f"
	done
	for f in "$PIDDIR"/*.pgid; do
		[ -e "$f" ] && echo "-$(cat "$f")"
	done
	return 0
}

# alive TARGET: is the process (PID) or any process of the group (-PGID)
# still running?  Zombies do not count: kill -0 would.
alive() {
	if [[ $1 == -* ]]; then
		ps -e -o pgid=,stat= |
		    awk -v g="${1#-}" '$1 == g && $2 !~ /^Z/ { f = 1 } END { exit !f }'
	else
		ps -o stat= -p "$1" 2>/dev/null | grep -qv '^Z'
	fi
}

# stop_all: end everything this test started, by recorded PID only:
# SIGTERM, up to 2 s of grace, then SIGKILL.
stop_all() {
	local t targets left i
	[ -d "$PIDDIR" ] || return 0
	targets=$(_targets)
	for t in $targets; do kill -TERM -- "$t" 2>/dev/null || true; done
	for ((i = 0; i < 40; i++)); do
		left=0
		for t in $targets; do
			if alive "$t"; then left=1; fi
		done
		((left)) || break
		sleep 0.05
	done
	for t in $targets; do kill -KILL -- "$t" 2>/dev/null || true; done
	rm -rf "$PIDDIR"
	return 0
}

# learn N [ARG...]: run a learner (stderr to learner.log) until it has
# written N values; its output goes to stdout.  Fails after 15 s.
learn() {
	local n=$1
	shift
	timeout 15 paxos-learner -c "$CONF" --count "$n" "$@" \
	    2>>"$BATS_TEST_TMPDIR/learner.log" 3>&-
}

# submit [ARG...]: paxos-submit on $CONF, bounded by 15 s
submit() {
	timeout 15 paxos-submit -c "$CONF" "$@" 3>&-
}

# bad_conf LINE...: write the lines to $BATS_TEST_TMPDIR/bad.conf
bad_conf() {
	printf '%s\n' "$@" > "$BATS_TEST_TMPDIR/bad.conf"
}

# usage_matches_getopt PROG: the usage line PROG -h prints lists exactly
# the options of the getopt string (and long options) in cmd/PROG.c:
# the flags in one [-...] group, each option with an argument as
# [-X word], each long option as [--name word].
usage_matches_getopt() {
	local prog=$1 src optstring usage flags="" want="" args=() longs=()
	local i c groups n=0 g
	src=$BATS_TEST_DIRNAME/../cmd/$prog.c
	optstring=$(grep -oE 'getopt(_long)?\(argc, argv, "[^"]*"' "$src" |
	    sed -E 's/.*"([^"]*)"$/\1/')
	[ -n "$optstring" ] || { echo "no getopt string in $src" >&2; return 1; }
	usage=$("$prog" -h) || return 1
	for ((i = 0; i < ${#optstring}; i++)); do
		c=${optstring:i:1}
		if [ "${optstring:i+1:1}" = : ]; then
			args+=("$c")
			i=$((i + 1))
		else
			want+=$c
		fi
	done
	while read -r g; do longs+=("$g"); done < <(grep -oE \
	    '\{ *"[a-z-]+", *required_argument' "$src" | sed -E 's/.*"([a-z-]+)".*/\1/')
	[[ $usage == "usage: $prog "* ]] ||
	    { echo "usage does not start with 'usage: $prog': $usage" >&2; return 1; }
	flags=$(grep -oE '\[-[A-Za-z]+\]' <<<"$usage" | head -1 | tr -d '[]-')
	if [ "$(fold -w1 <<<"$flags" | sort | tr -d '\n')" != \
	    "$(fold -w1 <<<"$want" | sort | tr -d '\n')" ]; then
		echo "usage flags [-$flags], getopt flags $want" >&2
		return 1
	fi
	[ -z "$flags" ] || n=1
	for c in "${args[@]}"; do
		grep -qE "\[-$c [a-z]+\]" <<<"$usage" ||
		    { echo "usage lacks [-$c ...]: $usage" >&2; return 1; }
		n=$((n + 1))
	done
	for g in "${longs[@]}"; do
		grep -qE "\[--$g [a-z]+\]" <<<"$usage" ||
		    { echo "usage lacks [--$g ...]: $usage" >&2; return 1; }
		n=$((n + 1))
	done
	while read -r g; do
		[ -n "$g" ] || continue
		grep -qF "[--$g]" <<<"$usage" ||
		    { echo "usage lacks [--$g]: $usage" >&2; return 1; }
		n=$((n + 1))
	done < <(grep -oE '\{ *"[a-z-]+", *no_argument' "$src" |
	    sed -E 's/.*"([a-z-]+)".*/\1/')
	groups=$(grep -oE '\[--?[A-Za-z][^]]*\]' <<<"$usage" | wc -l)
	[ "$groups" = "$n" ] ||
	    { echo "usage has $groups option groups, getopt $n: $usage" >&2; return 1; }
}
