# paxos-submit: options, configuration errors, refused values and
# timeouts that need no running cluster.  Commits are in cluster.bats.

setup() {
	load test_helper
	D=$BATS_TEST_TMPDIR
	make_cluster "$D"
	USAGE="usage: paxos-submit [-hnVv] [-c file] [-t ms] [-w n] [value ...]"
}

teardown() {
	stop_all
}

@test "-h prints usage to stdout and exits 0" {
	run -0 --separate-stderr paxos-submit -h
	assert_output "$USAGE"
	[ -z "$stderr" ]
}

@test "the usage line lists the options getopt takes" {
	usage_matches_getopt paxos-submit
}

@test "-V prints the version" {
	run -0 --separate-stderr paxos-submit -V
	assert_output "paxos-submit 0.1.0"
}

@test "an unknown option exits 64 with usage on stderr" {
	run -64 --separate-stderr paxos-submit -x
	assert_output ""
	[ "${stderr_lines[-1]}" = "$USAGE" ]
}

@test "-t 0 exits 64" {
	run -64 --separate-stderr paxos-submit -c "$CONF" -t 0 v
	[ "$stderr" = "paxos-submit: fatal: -t 0: want a number from 1 to 86400000" ]
}

@test "-t that is not a number exits 64" {
	run -64 --separate-stderr paxos-submit -c "$CONF" -t 1s v
	[ "$stderr" = "paxos-submit: fatal: -t 1s: want a number from 1 to 86400000" ]
}

@test "-w 0 exits 64" {
	run -64 --separate-stderr paxos-submit -c "$CONF" -w 0 v
	[[ "$stderr" =~ ^"paxos-submit: fatal: -w 0: want a number from 1 to "[0-9]+$ ]]
}

@test "-w 1000000 exits 64" {
	run -64 --separate-stderr paxos-submit -c "$CONF" -w 1000000 v
	[[ "$stderr" =~ ^"paxos-submit: fatal: -w 1000000: want a number from 1 to "[0-9]+$ ]]
}

@test "an unknown key exits 78 naming file, line and key" {
	bad_conf '[cluster]' 'secret_file = k' 'colour = red'
	run -78 --separate-stderr paxos-submit -c "$D/bad.conf" v
	[ "$stderr" = "paxos-submit: fatal: $D/bad.conf:3: unknown key [cluster] colour" ]
	assert_output ""
}

@test "a missing configuration file exits 78" {
	run -78 --separate-stderr paxos-submit -c "$D/none.conf" v
	[ "$stderr" = "paxos-submit: fatal: $D/none.conf: No such file or directory" ]
}

@test "a group-readable secret exits 78" {
	chmod 640 "$D/paxos.key"
	run -78 --separate-stderr paxos-submit -c "$CONF" v
	[ "$stderr" = "paxos-submit: fatal: $D/paxos.key: mode 640, want 600 (the secret must not be readable by group or others)" ]
}

@test "\$PAXOS_CONF is the default configuration file" {
	chmod 640 "$D/paxos.key"
	PAXOS_CONF=$CONF run -78 --separate-stderr paxos-submit v
	[ "$stderr" = "paxos-submit: fatal: $D/paxos.key: mode 640, want 600 (the secret must not be readable by group or others)" ]
}

@test "empty input exits 0 at once" {
	run -0 --separate-stderr timeout 5 paxos-submit -c "$CONF" -n < /dev/null
	assert_output ""
	[ -z "$stderr" ]
}

@test "with no proposer, -t 300 exits 75 saying none were committed" {
	start=$SECONDS
	run -75 --separate-stderr timeout 10 paxos-submit -c "$CONF" -t 300 a b
	assert_output ""
	[ "$stderr" = "paxos-submit: fatal: no commit within 300 ms for line 1; 0 values committed before it" ]
	((SECONDS - start < 5))
}

@test "a value over 32768 bytes on the command line exits 65" {
	run -65 --separate-stderr timeout 5 paxos-submit -c "$CONF" "$(head -c 32769 /dev/zero | tr '\0' x)"
	[ "$stderr" = "paxos-submit: warning: line 1: value too large (32769 bytes, the limit is 32768)" ]
}

@test "a first line over 32768 bytes exits 65 naming line 1" {
	head -c 32769 /dev/zero | tr '\0' x > "$D/in"
	echo >> "$D/in"
	run -65 --separate-stderr timeout 5 paxos-submit -c "$CONF" < "$D/in"
	[ "$stderr" = "paxos-submit: warning: line 1: value too large (32769 bytes, the limit is 32768)" ]
}

@test "a line of 100000 bytes exits 65 naming line 1" {
	head -c 100000 /dev/zero | tr '\0' x > "$D/in"
	run -65 --separate-stderr timeout 5 paxos-submit -c "$CONF" < "$D/in"
	[ "$stderr" = "paxos-submit: warning: line 1: value too large (over 32768 bytes)" ]
}

@test "a line with a NUL byte exits 65 naming its line" {
	printf 'a\0b\n' > "$D/in"
	run -65 --separate-stderr timeout 5 paxos-submit -c "$CONF" < "$D/in"
	[ "$stderr" = "paxos-submit: warning: line 1: value contains a NUL byte" ]
}

@test "a value with a newline on the command line exits 65" {
	run -65 --separate-stderr timeout 5 paxos-submit -c "$CONF" -t 500 $'two\nlines'
	[[ "$stderr" == "paxos-submit: warning: line 1: "* ]]
}
