#!/usr/bin/env bats
# The systemd units of etc/systemd: systemd-analyze verify and security
# on the installed units, and their ExecStart= command lines run the way
# systemd runs them (no systemd needed for that): readiness over
# $NOTIFY_SOCKET, the learner pipeline's resume and its exit status.

setup() {
	load test_helper
	TOP=$BATS_TEST_DIRNAME/..
	UNITS="paxos-acceptor@.service paxos-proposer@.service paxos-learner@.service"
}

teardown() {
	stop_all
}

# top_make ARG...: make in the top folder, deaf to the flags and
# variables of a make that may be running this test (make check)
top_make() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$TOP" "$@"
}

# install_units: make install into $BATS_TEST_TMPDIR/root as a package
# would (PREFIX=/usr); UNITDIR is where the units are, DESTROOT the root.
install_units() {
	DESTROOT=$BATS_TEST_TMPDIR/root
	top_make install DESTDIR="$DESTROOT" PREFIX=/usr \
	    SYSCONFDIR=/etc >/dev/null
	UNITDIR=$DESTROOT/usr/lib/systemd/system
}

# install_here: make install with every path inside $T (no DESTDIR), so
# that the units' command lines name programs and files that exist.
install_here() {
	T=$BATS_TEST_TMPDIR/t
	top_make install PREFIX="$T/usr" SYSCONFDIR="$T/etc" \
	    >/dev/null
	UNITDIR=$T/usr/lib/systemd/system
	make_cluster "$T/etc/paxos"	# replaces the example paxos.conf
}

need_systemd_analyze() {
	command -v systemd-analyze >/dev/null ||
	    skip "systemd-analyze is not installed (Debian package systemd)"
}

# unit_key UNIT KEY: the values of KEY= in UNIT, continuation lines
# joined with a space as systemd joins them
unit_key() {
	sed -e ':a' -e '/\\$/{N;s/\\\n/ /;ba' -e '}' "$UNITDIR/$1" |
	    sed -n "s/^$2=//p"
}

# command_line UNIT ID: ExecStart= of UNIT for instance ID with the
# specifiers and $$ replaced as systemd does: shell syntax for the same
# argument vector (the units use only single quotes and no escapes).
command_line() {
	unit_key "$1" ExecStart |
	    sed -e "s/%i/$2/g" -e 's/%%/%/g' -e 's/\$\$/$/g'
}

# notify_listen: a datagram socket at $NOTIFY_SOCKET whose messages are
# appended, one per line, to $BATS_TEST_TMPDIR/notify.log
notify_listen() {
	NOTIFY_SOCKET=$BATS_TEST_TMPDIR/notify
	((${#NOTIFY_SOCKET} < 100)) || NOTIFY_SOCKET=$(mktemp -u /tmp/pxn.XXXXXX)
	NOTIFY_LOG=$BATS_TEST_TMPDIR/notify.log
	: > "$NOTIFY_LOG"
	start_bg notify "exec python3 -I -S -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], \"ab\", buffering=0) as f:
    while True:
        f.write(s.recv(4096) + b\"\\n\")
' '$NOTIFY_SOCKET' '$NOTIFY_LOG'"
	wait_for 5 test -S "$NOTIFY_SOCKET"
}

# run_unit UNIT ID NAME [VAR=value...]: run UNIT's command line for
# instance ID in the background, in a process group of its own, in an
# environment made only of the unit's Environment= lines, the VARs and
# NOTIFY_SOCKET, as systemd would.  Stdout goes to
# $BATS_TEST_TMPDIR/NAME.out, stderr to NAME.err; UNIT_PID is the main
# process.
run_unit() {
	local unit=$1 id=$2 name=$3 cmd
	shift 3
	cmd=$(command_line "$unit" "$id")
	mkdir -p "$PIDDIR"
	# In a non-interactive shell a background job shares our process
	# group, so setsid need not fork: $! is the unit's main process.
	setsid env -i HOME=/ LANG=C NOTIFY_SOCKET="${NOTIFY_SOCKET:-}" \
	    $(unit_key "$unit" Environment) "$@" bash -c "$cmd" \
	    >"$BATS_TEST_TMPDIR/$name.out" 2>"$BATS_TEST_TMPDIR/$name.err" \
	    </dev/null 3>&- &
	UNIT_PID=$!
	echo "$UNIT_PID" > "$PIDDIR/$name.pgid"
}

# stop_unit NAME: SIGTERM to every process of the unit, as systemd's
# default KillMode=control-group does; STATUS is the main process's.
stop_unit() {
	kill -TERM -- "-$(cat "$PIDDIR/$1.pgid")"
	wait_status "$UNIT_PID"
	rm -f "$PIDDIR/$1.pgid"
}

# learner_env NAME [VAR=value...]: the variables of the shipped example
# learner-1.env, with /var/lib/paxos replaced by $BATS_TEST_TMPDIR, into
# the array ENV, then the VARs
learner_env() {
	local line
	ENV=()
	while IFS= read -r line; do
		ENV+=("${line//\/var\/lib\/paxos/$BATS_TEST_TMPDIR}")
	done < <(grep -E '^[A-Z_]+=' "$T/usr/share/doc/paxos/examples/learner-1.env")
	ENV+=("$@")
}

# consumer_at POS: the example consumer has saved position POS
consumer_at() {
	[ "$(kv-apply -s "$BATS_TEST_TMPDIR/kv-1.state" --position 2>/dev/null)" = "$1" ]
}

has_ready() {
	grep -qx 'READY=1' "$NOTIFY_LOG"
}

# readies N: at least N READY=1 messages have arrived
readies() {
	(($(grep -cx 'READY=1' "$NOTIFY_LOG") >= $1))
}

@test "systemd-analyze verify accepts every installed unit" {
	local u dir
	need_systemd_analyze
	install_units
	# verify checks that ExecStart= programs exist: point the units at
	# the programs in DESTDIR; man: links are checked in its man pages.
	dir=$BATS_TEST_TMPDIR/units
	mkdir -p "$dir"
	for u in $UNITS; do
		sed "s|=/usr/|=$DESTROOT/usr/|" "$UNITDIR/$u" > "$dir/$u"
		grep -q "^ExecStart=$DESTROOT/usr/\|^ExecStart=/bin/bash" "$dir/$u"
		run -0 env MANPATH="$DESTROOT/usr/share/man" \
		    systemd-analyze verify "$dir/$u"
		assert_output ""
	done
}

@test "systemd-analyze verify notices a bad unit (the check has teeth)" {
	need_systemd_analyze
	install_units
	sed -e "s|=/usr/|=$DESTROOT/usr/|" -e 's|exec \$\$CONSUMER"'\''|exec $$CONSUMER"|' \
	    "$UNITDIR/paxos-learner@.service" > "$BATS_TEST_TMPDIR/x@.service"
	run systemd-analyze verify --man=no "$BATS_TEST_TMPDIR/x@.service"
	assert_failure
	assert_output --partial "Unbalanced quoting"
	sed "s|^ExecStart=/usr/sbin/|ExecStart=/nonexistent/|" \
	    "$UNITDIR/paxos-acceptor@.service" > "$BATS_TEST_TMPDIR/y@.service"
	run systemd-analyze verify --man=no "$BATS_TEST_TMPDIR/y@.service"
	assert_failure
}

@test "systemd-analyze security rates every unit's exposure below 2.0" {
	local u
	need_systemd_analyze
	install_units
	for u in $UNITS; do
		run systemd-analyze security --offline=yes --threshold=20 \
		    "$UNITDIR/$u"
		assert_success
	done
}

@test "the units run as user paxos in /var/lib/paxos, restart unless 64, 65, 78" {
	local u
	install_units
	for u in $UNITS; do
		assert_equal "$(unit_key "$u" Type)" notify
		assert_equal "$(unit_key "$u" User)" paxos
		assert_equal "$(unit_key "$u" StateDirectory)" paxos
		assert_equal "$(unit_key "$u" Restart)" on-failure
		assert_equal "$(unit_key "$u" RestartPreventExitStatus)" "64 65 78"
		assert_equal "$(unit_key "$u" CapabilityBoundingSet)" ""
		assert_equal "$(unit_key "$u" ProtectSystem)" strict
	done
	assert_equal "$(unit_key paxos-learner@.service NotifyAccess)" all
	grep -qx 'u paxos - "Paxos replicated log" /var/lib/paxos' \
	    "$DESTROOT/usr/lib/sysusers.d/paxos.conf"
	grep -Eq '^data_dir = /var/lib/paxos( |;|$)' "$DESTROOT/etc/paxos/paxos.conf"
}

@test "acceptor and proposer units: READY=1 over NOTIFY_SOCKET, exit 0 on SIGTERM" {
	local n
	install_here
	notify_listen
	for n in 1 2 3; do
		run_unit paxos-acceptor@.service "$n" acceptor-$n
		wait_for 5 readies "$n"
	done
	run_unit paxos-proposer@.service 1 proposer-1
	wait_for 5 readies 4
	run -1 grep -vx 'READY=1' "$NOTIFY_LOG"	# nothing else
	run -0 submit -n 'put k v'
	assert_output 1
	stop_unit proposer-1
	assert_equal "$STATUS" 0
	for n in 1 2 3; do
		UNIT_PID=$(cat "$PIDDIR/acceptor-$n.pgid")
		stop_unit acceptor-$n
		assert_equal "$STATUS" 0
	done
	run -0 cat "$BATS_TEST_TMPDIR/acceptor-1.err"
	assert_line --regexp '^paxos-acceptor: acceptor 1 ready on 127\.0\.0\.1:[0-9]+$'
}

@test "learner unit: READY=1 from its child, resumes from CONSUMER_POSITION" {
	install_here
	start_acceptors
	start_daemon paxos-proposer 1
	run -0 submit 'put a 1' 'put b 2' 'get a'
	# The learner saves position 3, as if those lines had been lost in
	# the pipe when a consumer died: the consumer's position wins.
	run -0 learn 3 -i 1
	notify_listen
	learner_env
	run_unit paxos-learner@.service 1 first "${ENV[@]}"
	wait_for 5 has_ready
	wait_lines "$BATS_TEST_TMPDIR/first.out" 3
	run -0 cat "$BATS_TEST_TMPDIR/first.out"
	assert_output $'1\tok\n2\tok\n3\t1'
	# kv-apply saves its position just after its output, once idle:
	# stopped before that, it would rightly start over from 1.
	wait_for 5 consumer_at 3
	stop_unit first
	# Killed by SIGTERM: a clean stop for systemd.
	assert_equal "$STATUS" 143

	run -0 submit 'put c 3' 'get c'
	run_unit paxos-learner@.service 1 second "${ENV[@]}"
	wait_lines "$BATS_TEST_TMPDIR/second.out" 2
	run -0 cat "$BATS_TEST_TMPDIR/second.out"
	assert_output $'4\tok\n5\t3'
	run -0 kv-apply -s "$BATS_TEST_TMPDIR/kv-1.state" --position
	assert_output 5
}

@test "learner unit: a failing consumer's status wins over the learner's 74" {
	install_here
	start_acceptors
	start_daemon paxos-proposer 1
	run -0 submit 'put a 1'
	echo 'not a state file' > "$BATS_TEST_TMPDIR/kv-1.state"
	# Without CONSUMER_POSITION the consumer itself finds the damage.
	learner_env CONSUMER_POSITION=
	run_unit paxos-learner@.service 1 learner "${ENV[@]}"
	wait_status "$UNIT_PID"
	assert_equal "$STATUS" 65
	run -0 cat "$BATS_TEST_TMPDIR/learner.err"
	assert_line --partial 'paxos-learner: fatal: learner 1 stdout closed'
	# With it, the position command fails first, with the same status.
	learner_env
	run_unit paxos-learner@.service 1 learner "${ENV[@]}"
	wait_status "$UNIT_PID"
	assert_equal "$STATUS" 65
}

@test "learner unit: a learner's 78 is not hidden by the consumer's 0" {
	install_here
	chmod 640 "$T/etc/paxos/paxos.key"
	learner_env
	run_unit paxos-learner@.service 1 learner "${ENV[@]}"
	wait_status "$UNIT_PID"
	assert_equal "$STATUS" 78
	run -0 cat "$BATS_TEST_TMPDIR/learner.err"
	assert_output --regexp '^paxos-learner: fatal: .*mode 640, want 600'
}

@test "learner unit: no CONSUMER exits 78, a bad CONSUMER_POSITION 65" {
	install_here
	run_unit paxos-learner@.service 1 learner
	wait_status "$UNIT_PID"
	assert_equal "$STATUS" 78
	run -0 cat "$BATS_TEST_TMPDIR/learner.err"
	assert_output "paxos-learner@1: CONSUMER is not set in $T/etc/paxos/learner-1.env"

	run_unit paxos-learner@.service 1 learner CONSUMER=cat \
	    CONSUMER_POSITION='echo twelve'
	wait_status "$UNIT_PID"
	assert_equal "$STATUS" 65
	run -0 cat "$BATS_TEST_TMPDIR/learner.err"
	assert_output "paxos-learner@1: CONSUMER_POSITION printed twelve, not a position"
}
