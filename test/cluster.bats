# Multi-node scenarios: each test runs its own three-node cluster on
# 127.0.0.1, on fresh ports, in $BATS_TEST_TMPDIR.

setup() {
	load test_helper
	D=$BATS_TEST_TMPDIR
	make_cluster "$D" yes
}

teardown() {
	stop_all
}

# cluster_up: acceptors 1-3 and proposer 1
cluster_up() {
	start_acceptors && start_daemon paxos-proposer 1
}

# start_learner NAME ARG...: a learner in the background, stdout to
# $D/NAME.out, stderr to $D/NAME.log
start_learner() {
	local name=$1
	shift
	start_bg "$name" "exec paxos-learner -c '$CONF' $* > '$D/$name.out' 2> '$D/$name.log'"
	wait_for 5 grep -qw ready "$D/$name.log"
}

# settle: give a running learner time to write anything it should not
settle() {
	sleep 0.6
}

@test "the MyPaxos session through a learner piped into kv-apply prints ok ok Mike ok null" {
	cluster_up
	start_bg session "paxos-learner -c '$CONF' -i 1 2> '$D/learner.log' | kv-apply > '$D/kv.out'"
	run -0 submit -t 10000 < <(printf '%s\n' 'put name Mike' 'put age 22' \
	    'get name' 'delete name' 'get name')
	assert_output ""
	wait_lines "$D/kv.out" 5
	settle
	run -0 cat "$D/kv.out"
	assert_output "$(printf 'ok\nok\nMike\nok\nnull')"
}

@test "paxos-submit -n prints positions 1 to 5 and paxos-learner -n writes POS<TAB>value" {
	cluster_up
	printf '%s\n' one two three four five > "$D/in"
	run -0 --separate-stderr submit -n -t 10000 < "$D/in"
	assert_output "$(printf '1\n2\n3\n4\n5')"
	run -0 --separate-stderr learn 5 -n -i 1
	assert_output "$(printf '1\tone\n2\ttwo\n3\tthree\n4\tfour\n5\tfive')"
}

@test "paxos-submit -n prints each position as soon as it is committed" {
	cluster_up
	mkfifo "$D/fifo"
	paxos-submit -c "$CONF" -n -t 10000 < "$D/fifo" > "$D/pos" 2> "$D/submit.log" 3>&- &
	echo $! > "$PIDDIR/submit.pid"
	exec 4> "$D/fifo"
	echo first >&4
	wait_lines "$D/pos" 1 5
	echo second >&4
	wait_lines "$D/pos" 2 5
	exec 4>&-
	wait_status "$(cat "$PIDDIR/submit.pid")"
	assert_equal "$STATUS" 0
	run -0 cat "$D/pos"
	assert_output "$(printf '1\n2')"
}

@test "a learner started after 50 values were committed writes all 50 in order" {
	cluster_up
	seq 1 50 | sed 's/^/value /' > "$D/in"
	run -0 submit -w 8 -t 10000 < "$D/in"
	learn 50 -i 2 > "$D/out"
	cmp "$D/in" "$D/out"
}

@test "a running learner writes values as they are committed" {
	cluster_up
	start_learner live -i 1
	submit -t 10000 a b
	wait_lines "$D/live.out" 2 5
	submit -t 10000 c
	wait_lines "$D/live.out" 3 5
	settle
	run -0 cat "$D/live.out"
	assert_output "$(printf 'a\nb\nc')"
}

@test "after kill -9 of all three acceptors a fresh learner writes what was committed" {
	cluster_up
	seq 1 20 | sed 's/^/durable /' > "$D/in"
	run -0 submit -w 4 -t 10000 < "$D/in"
	for n in 1 2 3; do kill_daemon paxos-acceptor "$n" KILL; done
	kill_daemon paxos-proposer 1 KILL
	cluster_up
	learn 20 -i 3 --from 1 > "$D/out"
	cmp "$D/in" "$D/out"
	# and the cluster goes on from there
	run -0 submit -t 10000 -n after
	assert_output --regexp '^[0-9]+$'
	((output > 20))
	pos=$output
	run -0 --separate-stderr learn 1 -i 3 -n --from 21
	assert_output "$(printf '%s\tafter' "$pos")"
}

@test "an acceptor killed with kill -9 and restarted keeps what it accepted" {
	# Only acceptors 1 and 2 run, so both accept every value.
	start_daemon paxos-acceptor 1
	start_daemon paxos-acceptor 2
	start_daemon paxos-proposer 1
	run -0 submit -t 10000 a1 a2 a3 a4 a5
	kill_daemon paxos-acceptor 1 KILL
	start_daemon paxos-acceptor 1
	# Acceptor 2 goes; acceptor 3 knows nothing: only acceptor 1 can
	# say what a1-a5 were.
	kill_daemon paxos-acceptor 2 KILL
	start_daemon paxos-acceptor 3
	run -0 submit -t 10000 b1 b2
	run -0 --separate-stderr learn 7 -i 1
	assert_output "$(printf 'a1\na2\na3\na4\na5\nb1\nb2')"
}

@test "values committed while an acceptor was down reach a learner after it restarts" {
	cluster_up
	run -0 submit -t 10000 a1 a2
	kill_daemon paxos-acceptor 1 KILL
	run -0 submit -t 10000 b1 b2 b3
	start_daemon paxos-acceptor 1
	run -0 submit -t 10000 c1
	# From now on acceptor 1 is needed for every majority.
	kill_daemon paxos-acceptor 3 KILL
	run -0 submit -t 10000 d1
	run -0 --separate-stderr learn 7 -i 2
	assert_output "$(printf 'a1\na2\nb1\nb2\nb3\nc1\nd1')"
}

@test "values sealed with another cluster's secret are not acted on" {
	cluster_up
	start_learner watch -i 1
	make_key "$D/other.key"
	write_conf "$D/other.conf" "$BASE" yes other.key
	run -75 --separate-stderr timeout 10 paxos-submit -c "$D/other.conf" -t 1000 intruder
	[ "$stderr" = "paxos-submit: fatal: no commit within 1000 ms for line 1; 0 values committed before it" ]
	settle
	[ ! -s "$D/watch.out" ]
	# The cluster still works, and the intruder's value is nowhere.
	run -0 submit -t 10000 -n genuine
	wait_lines "$D/watch.out" 1 5
	settle
	run -0 cat "$D/watch.out"
	assert_output "genuine"
}

@test "with a majority of acceptors down -t 500 exits 75 saying how many were committed" {
	cluster_up
	mkfifo "$D/fifo"
	paxos-submit -c "$CONF" -n -t 500 < "$D/fifo" > "$D/pos" 2> "$D/submit.log" 3>&- &
	echo $! > "$PIDDIR/submit.pid"
	exec 4> "$D/fifo"
	printf 'x1\nx2\n' >&4
	wait_lines "$D/pos" 2 10
	kill_daemon paxos-acceptor 2 KILL
	kill_daemon paxos-acceptor 3 KILL
	echo x3 >&4
	exec 4>&-
	wait_status "$(cat "$PIDDIR/submit.pid")"
	assert_equal "$STATUS" 75
	run -0 cat "$D/submit.log"
	assert_output "paxos-submit: fatal: no commit within 500 ms for line 3; 2 values committed before it"
	# Back to a majority: new values commit.
	start_daemon paxos-acceptor 2
	start_daemon paxos-acceptor 3
	run -0 submit -t 10000 y1
	run -0 --separate-stderr learn 3 -i 1
	# x3 may have been chosen after all; it was submitted.
	assert_line -n 0 x1
	assert_line -n 1 x2
	assert_line -n 2 --regexp '^(x3|y1)$'
}

@test "with a majority of acceptors down from the start paxos-submit exits 75" {
	start_daemon paxos-acceptor 1
	start_daemon paxos-proposer 1
	run -75 --separate-stderr timeout 10 paxos-submit -c "$CONF" -t 500 v
	[ "$stderr" = "paxos-submit: fatal: no commit within 500 ms for line 1; 0 values committed before it" ]
	start_daemon paxos-acceptor 2
	run -0 submit -t 10000 w
	run -0 --separate-stderr learn 1 -i 1 -n
	assert_output --regexp $'^[0-9]+\t(v|w)$'
}

@test "a value of 32768 bytes commits and comes out byte for byte" {
	cluster_up
	head -c 24576 /dev/urandom | base64 -w 0 > "$D/in"
	echo >> "$D/in"
	[ "$(wc -c < "$D/in")" = 32769 ]
	run -0 submit -t 10000 < "$D/in"
	learn 1 -i 1 > "$D/out"
	cmp "$D/in" "$D/out"
}

@test "a second line of 32769 bytes is refused with exit 65 naming line 2" {
	cluster_up
	{
		echo small
		head -c 32769 /dev/zero | tr '\0' y
		echo
		echo never
	} > "$D/in"
	run -65 --separate-stderr submit -t 10000 < "$D/in"
	[ "$stderr" = "paxos-submit: warning: line 2: value too large (32769 bytes, the limit is 32768)" ]
	run -0 --separate-stderr learn 1 -i 1
	assert_output "small"
	start_learner rest -i 1
	settle
	[ ! -s "$D/rest.out" ]
}

@test "a line with a NUL byte is refused with exit 65 naming its line" {
	cluster_up
	printf 'fine\nbad\0byte\n' > "$D/in"
	run -65 --separate-stderr submit -t 10000 < "$D/in"
	[ "$stderr" = "paxos-submit: warning: line 2: value contains a NUL byte" ]
	run -0 --separate-stderr learn 1 -i 1
	assert_output "fine"
}

@test "spaces, tabs, backslashes and non-UTF-8 bytes come out byte for byte" {
	cluster_up
	printf '%s\n' '  leading and trailing  ' $'tab\there\t' 'back\slash\\n\t' \
	    $'\xff\xfe\x80 not utf-8 \xc3\x28' $'carriage\rreturn' $'\x01\x1b[0m' \
	    '%s%n%d' "quote ' and \" " > "$D/in"
	run -0 submit -t 10000 < "$D/in"
	learn 8 -i 1 > "$D/out"
	cmp "$D/in" "$D/out"
}

@test "values given as arguments come out byte for byte" {
	cluster_up
	run -0 submit -t 10000 'a b' $'c\td' 'e\f' $'\xff'
	learn 4 -i 1 > "$D/out"
	printf '%s\n' 'a b' $'c\td' 'e\f' $'\xff' | cmp - "$D/out"
}

@test "an empty line is an empty value" {
	cluster_up
	printf 'before\n\nafter\n' > "$D/in"
	run -0 submit -t 10000 < "$D/in"
	learn 3 -i 1 > "$D/out"
	cmp "$D/in" "$D/out"
}

@test "a last line without a newline is submitted" {
	cluster_up
	printf 'one\ntwo' | submit -t 10000
	run -0 --separate-stderr learn 2 -i 1
	assert_output "$(printf 'one\ntwo')"
}

@test "a learner resumes after the last value it wrote" {
	cluster_up
	run -0 submit -t 10000 v1 v2 v3
	run -0 --separate-stderr learn 3 -i 1
	assert_output "$(printf 'v1\nv2\nv3')"
	run -0 submit -t 10000 v4 v5
	run -0 --separate-stderr learn 2 -i 1
	assert_output "$(printf 'v4\nv5')"
}

@test "--from 2 starts at position 2, and the learner goes on from there" {
	cluster_up
	run -0 submit -t 10000 -n v1 v2 v3 v4
	assert_output "$(printf '1\n2\n3\n4')"
	run -0 --separate-stderr learn 2 -i 1 -n --from 2
	assert_output "$(printf '2\tv2\n3\tv3')"
	run -0 --separate-stderr learn 1 -i 1 -n
	assert_output "$(printf '4\tv4')"
}

@test "--from 2 starts at position 2 when values were submitted one at a time" {
	cluster_up
	run -0 submit -t 10000 -w 1 -n v1 v2 v3 v4
	assert_output "$(printf '1\n2\n3\n4')"
	run -0 --separate-stderr learn 2 -i 1 -n --from 2
	assert_output "$(printf '2\tv2\n3\tv3')"
	# and it goes on after what it wrote
	run -0 --separate-stderr learn 1 -i 1 -n
	assert_output "$(printf '4\tv4')"
}

@test "a learner stopped with SIGTERM and started again writes nothing twice" {
	cluster_up
	start_learner first -i 1
	run -0 submit -t 10000 a b c
	wait_lines "$D/first.out" 3 5
	pid=$(cat "$PIDDIR/first.pgid")
	kill -TERM "$pid"
	wait_status "$pid"
	assert_equal "$STATUS" 0
	run -0 submit -t 10000 d e
	run -0 --separate-stderr learn 2 -i 1
	assert_output "$(printf 'd\ne')"
	run -0 cat "$D/first.out"
	assert_output "$(printf 'a\nb\nc')"
}

@test "learners with different ids keep positions of their own" {
	cluster_up
	run -0 submit -t 10000 a b
	run -0 --separate-stderr learn 1 -i 1
	assert_output "a"
	run -0 --separate-stderr learn 2 -i 2
	assert_output "$(printf 'a\nb')"
	run -0 --separate-stderr learn 1 -i 1
	assert_output "b"
}

@test "a learner whose stdout is closed exits 74" {
	cluster_up
	run -0 submit -t 10000 v1 v2 v3 v4 v5
	run -0 bash -c "timeout 10 paxos-learner -c '$CONF' -i 1 2> '$D/l.log' | head -1; echo \${PIPESTATUS[0]}"
	assert_output "$(printf 'v1\n74')"
	run -0 grep fatal "$D/l.log"
	assert_output --regexp '^paxos-learner: fatal: learner 1 stdout closed; delivered up to position [0-9]+$'
}

@test "a learner exits 74 when its consumer goes away while it waits" {
	cluster_up
	run -0 submit -t 10000 v1
	start_bg pipe "paxos-learner -c '$CONF' -i 1 2> '$D/l.log' | { head -1 > '$D/out'; sleep 0.5; }; echo \${PIPESTATUS[0]} > '$D/status'"
	wait_for 10 test -s "$D/status"
	run -0 cat "$D/status"
	assert_output 74
	run -0 cat "$D/out"
	assert_output v1
	# v1 was written, so it is not written again.
	run -0 submit -t 10000 v2
	run -0 --separate-stderr learn 1 -i 1
	assert_output v2
}

@test "when the leading proposer is killed the other one takes over" {
	cluster_up
	start_daemon paxos-proposer 2
	run -0 submit -t 10000 before
	wait_for 5 grep -q leading "$(daemon_log paxos-proposer 1)"
	kill_daemon paxos-proposer 1 KILL
	run -0 submit -t 10000 after
	run -0 grep leading "$(daemon_log paxos-proposer 2)"
	assert_output --regexp '^paxos-proposer: proposer 2 leading ballot=[0-9]+\.2 from slot=[0-9]+$'
	run -0 --separate-stderr learn 2 -i 1
	assert_output "$(printf 'before\nafter')"
}

@test "a proposer restarted after kill -9 leads again without losing values" {
	cluster_up
	run -0 submit -t 10000 a b
	kill_daemon paxos-proposer 1 KILL
	start_daemon paxos-proposer 1
	run -0 submit -t 10000 c
	run -0 --separate-stderr learn 3 -i 1
	assert_output "$(printf 'a\nb\nc')"
}

@test "paxos-submit -w 8 with 200 values: the learner writes exactly them in input order" {
	cluster_up
	seq 1 200 | sed 's/^/item /' > "$D/in"
	run -0 --separate-stderr submit -w 8 -n -t 10000 < "$D/in"
	[ "${#lines[@]}" = 200 ]
	# positions strictly increase
	printf '%s\n' "${lines[@]}" | sort -n -c -u
	run -0 submit -t 10000 end
	learn 201 -i 1 > "$D/out"
	{ cat "$D/in"; echo end; } | cmp - "$D/out"
}

@test "with busy_poll = 200 the daemons commit 200 values and the learner writes them in order" {
	sed -i 's/^persist = yes$/persist = yes\nbusy_poll = 200/' "$CONF"
	run -0 paxos-acceptor -c "$CONF" -i 1 -n -v
	assert_line "busy_poll = 200"
	cluster_up
	seq 1 200 | sed 's/^/spin /' > "$D/in"
	run -0 submit -w 8 -t 10000 < "$D/in"
	learn 200 -i 1 > "$D/out"
	cmp "$D/in" "$D/out"
}

@test "two paxos-submit runs at once each keep their input order" {
	cluster_up
	seq 1 100 | sed 's/^/a/' > "$D/a"
	seq 1 100 | sed 's/^/b/' > "$D/b"
	submit -w 8 -t 10000 < "$D/a" &
	pa=$!
	submit -w 8 -t 10000 < "$D/b" &
	pb=$!
	wait "$pa"
	wait "$pb"
	learn 200 -i 1 > "$D/out"
	grep '^a' "$D/out" | cmp - "$D/a"
	grep '^b' "$D/out" | cmp - "$D/b"
}

@test "killing the leader in the middle of a run writes each value once, in order" {
	cluster_up
	start_daemon paxos-proposer 2
	seq 1 300 | sed 's/^/m/' > "$D/in"
	paxos-submit -c "$CONF" -w 8 -n -t 10000 < "$D/in" > "$D/pos" 2> "$D/submit.log" 3>&- &
	echo $! > "$PIDDIR/submit.pid"
	wait_lines "$D/pos" 30 10
	kill_daemon paxos-proposer 1 KILL
	wait_status "$(cat "$PIDDIR/submit.pid")"
	assert_equal "$STATUS" 0
	[ "$(wc -l < "$D/pos")" = 300 ]
	sort -n -c -u "$D/pos"
	run -0 submit -t 10000 end
	learn 301 -i 1 > "$D/out"
	{ cat "$D/in"; echo end; } | cmp - "$D/out"
}

@test "a leader paused with SIGSTOP is replaced, and when it resumes nothing is written twice" {
	cluster_up
	start_daemon paxos-proposer 2
	run -0 submit -t 10000 a1 a2
	p1=$(daemon_pid paxos-proposer 1)
	kill -STOP "$p1"
	run -0 submit -t 10000 b1 b2
	kill -CONT "$p1"
	run -0 submit -t 10000 c1 c2
	run -0 submit -t 10000 d1 d2
	run -0 --separate-stderr learn 8 -i 1
	assert_output "$(printf 'a1\na2\nb1\nb2\nc1\nc2\nd1\nd2')"
	start_learner rest -i 1
	settle
	[ ! -s "$D/rest.out" ]
}

@test "two learners write the same positions and values" {
	cluster_up
	start_learner one -i 1 -n
	start_learner two -i 2 -n
	seq 1 40 | sed 's/^/s/' | submit -w 8 -t 10000
	wait_lines "$D/one.out" 40
	wait_lines "$D/two.out" 40
	cmp "$D/one.out" "$D/two.out"
}

@test "a learner killed with kill -9 once idle writes nothing again when restarted" {
	cluster_up
	start_learner first -i 1
	seq 1 10 | submit -t 10000
	wait_lines "$D/first.out" 10
	sleep 0.6	# past its periodic save
	kill -KILL -- "-$(cat "$PIDDIR/first.pgid")"
	seq 11 15 | submit -t 10000
	run -0 --separate-stderr learn 5 -i 1
	assert_output "$(seq 11 15)"
}

@test "a learner more than 256 positions behind catches up by itself" {
	cluster_up
	seq 1 600 | sed 's/^/late /' > "$D/in"
	run -0 submit -w 32 -t 10000 < "$D/in"
	learn 600 -i 2 > "$D/out"
	cmp "$D/in" "$D/out"
}

@test "a learner with another cluster's secret learns nothing" {
	cluster_up
	run -0 submit -t 10000 secret
	make_key "$D/other.key"
	write_conf "$D/other.conf" "$BASE" yes other.key
	run -124 --separate-stderr timeout 1.5 paxos-learner -c "$D/other.conf" -i 2 --count 1
	assert_output ""
}

@test "the resume pipeline of SPEC 6 applies each command once" {
	cluster_up
	S=$D/kv.state
	run -0 submit -t 10000 < <(printf '%s\n' 'put name Mike' 'put age 22' \
	    'get name' 'delete name' 'get name')
	from=$(($(kv-apply -s "$S" --position) + 1))
	learn 2 -i 1 -n --from "$from" | kv-apply -s "$S" > "$D/out"
	from=$(($(kv-apply -s "$S" --position) + 1))
	learn 3 -i 1 -n --from "$from" | kv-apply -s "$S" >> "$D/out"
	run -0 cut -f 2 "$D/out"
	assert_output "$(printf 'ok\nok\nMike\nok\nnull')"
}

@test "values a closed stdout kept from the consumer are written on the next run" {
	cluster_up
	for i in 1 2 3 4 5 6 7 8 9 10; do
		printf 'big%02d %s\n' "$i" "$(head -c 15000 /dev/urandom | base64 -w 0)"
	done > "$D/in"
	run -0 submit -t 10000 < "$D/in"
	run -0 bash -c "timeout 10 paxos-learner -c '$CONF' -i 1 2> '$D/l.log' | head -c 1000 > /dev/null; echo \${PIPESTATUS[0]}"
	assert_output 74
	run -0 submit -t 10000 end
	start_learner again -i 1
	wait_for 10 grep -qx end "$D/again.out"
	# What it writes now is the end of the log: nothing lost, and not
	# less than what the 64 KiB pipe could not have taken.
	k=$(($(wc -l < "$D/again.out") - 1))
	((k >= 6))
	{ tail -n "$k" "$D/in"; echo end; } | cmp - "$D/again.out"
}

@test "values retransmitted while a majority of acceptors is paused are written once" {
	cluster_up
	seq 1 20 | sed 's/^/r/' > "$D/in"
	kill -STOP "$(daemon_pid paxos-acceptor 2)" "$(daemon_pid paxos-acceptor 3)"
	paxos-submit -c "$CONF" -w 8 -t 10000 < "$D/in" 2> "$D/submit.log" 3>&- &
	echo $! > "$PIDDIR/submit.pid"
	sleep 1
	kill -CONT "$(daemon_pid paxos-acceptor 2)" "$(daemon_pid paxos-acceptor 3)"
	wait_status "$(cat "$PIDDIR/submit.pid")"
	assert_equal "$STATUS" 0
	run -0 submit -t 10000 end
	learn 21 -i 1 > "$D/out"
	{ cat "$D/in"; echo end; } | cmp - "$D/out"
}

@test "paxos-submit finds the proposer that runs when the first one is down" {
	start_acceptors
	start_daemon paxos-proposer 3
	run -0 submit -t 10000 -n x y
	run -0 --separate-stderr learn 2 -i 1
	assert_output "$(printf 'x\ny')"
}

@test "a cluster whose nodes have only some roles and explicit ports works" {
	P=$BASE
	cat > "$CONF" <<-EOF
	[cluster]
	secret_file = paxos.key
	timeout = 200
	learning_interval = 200

	[node 1]
	host = 127.0.0.1
	acceptor_port = $((P + 1))
	proposer_port = $((P + 12))
	roles = acceptor proposer

	[node 2]
	host = 127.0.0.1
	acceptor_port = $((P + 21))
	roles = acceptor

	[node 3]
	host = 127.0.0.1
	acceptor_port = $((P + 3))
	learner_port = $((P + 23))
	roles = acceptor learner
	EOF
	start_acceptors
	start_daemon paxos-proposer 1
	grep -qx "paxos-proposer: proposer 1 ready on 127.0.0.1:$((P + 12))" "$(daemon_log paxos-proposer 1)"
	run -0 submit -t 10000 r1 r2
	run -0 --separate-stderr learn 2 -i 3
	assert_output "$(printf 'r1\nr2')"
	run -78 --separate-stderr paxos-proposer -c "$CONF" -i 2
	[ "$stderr" = "paxos-proposer: fatal: $CONF:12: node 2 has no proposer role" ]
}
