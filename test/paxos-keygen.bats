# paxos-keygen: options and the secret it prints.

setup() {
	load test_helper
	USAGE="usage: paxos-keygen [-hV] [--client]"
}

@test "-h prints usage to stdout and exits 0" {
	run -0 --separate-stderr paxos-keygen -h
	assert_output "$USAGE"
	[ -z "$stderr" ]
}

@test "the usage line lists the options getopt takes" {
	usage_matches_getopt paxos-keygen
}

@test "-V prints the version" {
	run -0 --separate-stderr paxos-keygen -V
	assert_output "paxos-keygen 0.1.0"
}

@test "an unknown option exits 64 with usage on stderr" {
	run -64 --separate-stderr paxos-keygen -x
	assert_output ""
	[ "${stderr_lines[-1]}" = "$USAGE" ]
}

@test "an operand exits 64 with usage on stderr" {
	run -64 --separate-stderr paxos-keygen 32
	assert_output ""
	[ "$stderr" = "$USAGE" ]
}

@test "it prints one line of base64 holding 32 bytes" {
	run -0 --separate-stderr paxos-keygen
	[ -z "$stderr" ]
	[ "${#lines[@]}" = 1 ]
	assert_output --regexp '^[A-Za-z0-9+/]{43}=$'
	run -0 bash -c "paxos-keygen | base64 -d | wc -c"
	assert_output "32"
}

@test "two runs print different secrets" {
	a=$(paxos-keygen)
	b=$(paxos-keygen)
	[ -n "$a" ]
	[ "$a" != "$b" ]
}

@test "its secret is accepted by the programs" {
	make_cluster "$BATS_TEST_TMPDIR"
	run -0 paxos-acceptor -n -c "$CONF"
	start_daemon paxos-acceptor 1
	stop_all
}

@test "a full stdout exits 74" {
	[ -w /dev/full ] || skip "no /dev/full"
	run -74 --separate-stderr bash -c 'paxos-keygen > /dev/full'
	[ "$stderr" = "paxos-keygen: fatal: stdout: No space left on device" ]
}
