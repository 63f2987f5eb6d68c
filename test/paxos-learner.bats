# paxos-learner: options, configuration errors, start, stop and the
# exits that need no cluster.  Learning itself is in cluster.bats.

setup() {
	load test_helper
	D=$BATS_TEST_TMPDIR
	make_cluster "$D"
	NODE1=('' '[node 1]' 'host = 127.0.0.1' "port = $BASE")
	USAGE="usage: paxos-learner [-hnVv] [-c file] [-i id] [--from pos] [--count n]"
}

teardown() {
	stop_all
}

@test "-h prints usage to stdout and exits 0" {
	run -0 --separate-stderr paxos-learner -h
	assert_output "$USAGE"
	[ -z "$stderr" ]
}

@test "the usage line lists the options getopt takes" {
	usage_matches_getopt paxos-learner
}

@test "-V prints the version" {
	run -0 --separate-stderr paxos-learner -V
	assert_output "paxos-learner 0.1.0"
}

@test "an unknown option exits 64 with usage on stderr" {
	run -64 --separate-stderr paxos-learner -x
	assert_output ""
	[ "${stderr_lines[-1]}" = "$USAGE" ]
}

@test "an unknown long option exits 64 with usage on stderr" {
	run -64 --separate-stderr paxos-learner --frm 3
	assert_output ""
	[ "${stderr_lines[-1]}" = "$USAGE" ]
}

@test "an operand exits 64 with usage on stderr" {
	run -64 --separate-stderr paxos-learner -c "$CONF" -i 1 extra
	assert_output ""
	[ "$stderr" = "$USAGE" ]
}

@test "--from 0 exits 64" {
	run -64 --separate-stderr paxos-learner -c "$CONF" -i 1 --from 0
	[ "$stderr" = "paxos-learner: fatal: --from: positions start at 1" ]
}

@test "--from that is not a number exits 64" {
	run -64 --separate-stderr paxos-learner -c "$CONF" -i 1 --from two
	[ "$stderr" = "paxos-learner: fatal: --from two: not a number" ]
}

@test "a negative --count exits 64" {
	run -64 --separate-stderr paxos-learner -c "$CONF" -i 1 --count -1
	[ "$stderr" = "paxos-learner: fatal: --count -1: not a number" ]
}

@test "an unknown key exits 78 naming file, line and key" {
	bad_conf '[cluster]' 'secret_file = k' 'colour = red'
	run -78 --separate-stderr paxos-learner -c "$D/bad.conf" -i 1
	[ "$stderr" = "paxos-learner: fatal: $D/bad.conf:3: unknown key [cluster] colour" ]
	assert_output ""
}

@test "an unknown section exits 78" {
	bad_conf '[cluster]' 'secret_file = paxos.key' '' '[nodes]' 'host = x'
	run -78 --separate-stderr paxos-learner -c "$D/bad.conf" -i 1
	[ "$stderr" = "paxos-learner: fatal: $D/bad.conf:4: unknown section [nodes]" ]
}

@test "a duplicate key exits 78" {
	bad_conf '[cluster]' 'secret_file = paxos.key' 'timeout = 5' 'timeout = 6' "${NODE1[@]}"
	run -78 --separate-stderr paxos-learner -c "$D/bad.conf" -i 1
	[ "$stderr" = "paxos-learner: fatal: $D/bad.conf:4: timeout: duplicate key" ]
}

@test "a bad learning_interval exits 78" {
	bad_conf '[cluster]' 'secret_file = paxos.key' 'learning_interval = -5' "${NODE1[@]}"
	run -78 --separate-stderr paxos-learner -c "$D/bad.conf" -i 1
	[ "$stderr" = "paxos-learner: fatal: $D/bad.conf:3: learning_interval: '-5' is not a number of milliseconds from 1 to 3600000" ]
}

@test "a missing secret_file exits 78" {
	bad_conf '[cluster]' 'timeout = 100' "${NODE1[@]}"
	run -78 --separate-stderr paxos-learner -c "$D/bad.conf" -i 1
	[ "$stderr" = "paxos-learner: fatal: $D/bad.conf: [cluster] secret_file is required" ]
}

@test "a missing configuration file exits 78" {
	run -78 --separate-stderr paxos-learner -c "$D/none.conf" -i 1
	[ "$stderr" = "paxos-learner: fatal: $D/none.conf: No such file or directory" ]
}

@test "an id that is not in the file exits 78" {
	run -78 --separate-stderr paxos-learner -c "$CONF" -i 9
	[ "$stderr" = "paxos-learner: fatal: $CONF: node 9 is not in the configuration" ]
}

@test "a node without the learner role exits 78" {
	bad_conf '[cluster]' 'secret_file = paxos.key' "${NODE1[@]}" \
	    '[node 2]' 'host = 127.0.0.1' "port = $((BASE + 10))" 'roles = acceptor proposer'
	run -78 --separate-stderr paxos-learner -c "$D/bad.conf" -i 2
	[ "$stderr" = "paxos-learner: fatal: $D/bad.conf:7: node 2 has no learner role" ]
}

@test "a group-readable secret exits 78" {
	chmod 640 "$D/paxos.key"
	run -78 --separate-stderr paxos-learner -c "$CONF" -i 1
	[ "$stderr" = "paxos-learner: fatal: $D/paxos.key: mode 640, want 600 (the secret must not be readable by group or others)" ]
}

@test "a malformed secret exits 78" {
	echo 'not base64 at all' > "$D/paxos.key"
	run -78 --separate-stderr paxos-learner -c "$CONF" -i 1
	[ "$stderr" = "paxos-learner: fatal: $D/paxos.key: not a base64 32-byte secret (make one with paxos-keygen)" ]
}

@test "it says ready with its address and exits 0 on SIGTERM" {
	start_daemon paxos-learner 1
	run -0 cat "$(daemon_log paxos-learner 1)"
	assert_output "paxos-learner: learner 1 ready on 127.0.0.1:$((BASE + 3))"
	pid=$(daemon_pid paxos-learner 1)
	kill -TERM "$pid"
	wait_status "$pid"
	assert_equal "$STATUS" 0
}

@test "without -i or myid it exits 64" {
	run -64 --separate-stderr paxos-learner -c "$CONF"
	[ "$stderr" = "paxos-learner: fatal: no node id: give -i or set myid in $CONF" ]
}

@test "--count 0 exits 0 at once and writes nothing" {
	run -0 --separate-stderr timeout 5 paxos-learner -c "$CONF" -i 1 --count 0
	assert_output ""
}

@test "with no acceptor answering it writes nothing and waits" {
	run -124 --separate-stderr timeout 1 paxos-learner -c "$CONF" -i 1 --count 1
	assert_output ""
}

@test "a closed stdout exits 74 even with nothing to write" {
	run -0 bash -c "timeout 5 paxos-learner -c '$CONF' -i 1 2>'$D/l.log' | true; echo \${PIPESTATUS[0]}"
	assert_output "74"
	run -0 cat "$D/l.log"
	assert_line "paxos-learner: fatal: learner 1 stdout closed; delivered up to position 0"
}

@test "a corrupt state file in data_dir exits 65" {
	mkdir -p "$D/data"
	echo garbage > "$D/data/learner-1.pos"
	run -65 --separate-stderr paxos-learner -c "$CONF" -i 1
	assert_output ""
	[[ "$stderr" == "paxos-learner: fatal: learner 1 $D/data/learner-1.pos: "* ]]
}

@test "a port in use exits 71" {
	start_daemon paxos-learner 1
	run -71 --separate-stderr paxos-learner -c "$CONF" -i 1
	[ "$stderr" = "paxos-learner: fatal: bind 127.0.0.1:$((BASE + 3)): Address already in use" ]
}
