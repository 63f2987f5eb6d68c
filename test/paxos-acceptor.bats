# paxos-acceptor: options, configuration errors, start and stop.

setup() {
	load test_helper
	D=$BATS_TEST_TMPDIR
	make_cluster "$D"
	NODE1=('' '[node 1]' 'host = 127.0.0.1' "port = $BASE")
	USAGE="usage: paxos-acceptor [-hnVv] [-c file] [-i id]"
}

teardown() {
	stop_all
}

@test "-h prints usage to stdout and exits 0" {
	run -0 --separate-stderr paxos-acceptor -h
	assert_output "$USAGE"
	[ -z "$stderr" ]
}

@test "the usage line lists the options getopt takes" {
	usage_matches_getopt paxos-acceptor
}

@test "-V prints the version" {
	run -0 --separate-stderr paxos-acceptor -V
	assert_output "paxos-acceptor 0.1.0"
}

@test "an unknown option exits 64 with usage on stderr" {
	run -64 --separate-stderr paxos-acceptor -x
	assert_output ""
	[ "${stderr_lines[-1]}" = "$USAGE" ]
}

@test "an operand exits 64 with usage on stderr" {
	run -64 --separate-stderr paxos-acceptor -c "$CONF" -i 1 extra
	assert_output ""
	[ "$stderr" = "$USAGE" ]
}

@test "an unknown key exits 78 naming file, line and key" {
	bad_conf '[cluster]' 'secret_file = k' 'colour = red'
	run -78 --separate-stderr paxos-acceptor -c "$D/bad.conf" -i 1
	[ "$stderr" = "paxos-acceptor: fatal: $D/bad.conf:3: unknown key [cluster] colour" ]
	assert_output ""
}

@test "an unknown key in a node section exits 78" {
	bad_conf '[cluster]' 'secret_file = paxos.key' "${NODE1[@]}" 'colour = red'
	run -78 --separate-stderr paxos-acceptor -c "$D/bad.conf" -i 1
	[ "$stderr" = "paxos-acceptor: fatal: $D/bad.conf:7: unknown key [node 1] colour" ]
}

@test "an unknown section exits 78" {
	bad_conf '[cluster]' 'secret_file = paxos.key' '' '[nodes]' 'host = x'
	run -78 --separate-stderr paxos-acceptor -c "$D/bad.conf" -i 1
	[ "$stderr" = "paxos-acceptor: fatal: $D/bad.conf:4: unknown section [nodes]" ]
}

@test "a duplicate key exits 78" {
	bad_conf '[cluster]' 'secret_file = paxos.key' 'timeout = 5' 'timeout = 6' "${NODE1[@]}"
	run -78 --separate-stderr paxos-acceptor -c "$D/bad.conf" -i 1
	[ "$stderr" = "paxos-acceptor: fatal: $D/bad.conf:4: timeout: duplicate key" ]
}

@test "a duplicate node id exits 78" {
	bad_conf '[cluster]' 'secret_file = paxos.key' "${NODE1[@]}" \
	    '[node 2]' 'host = 127.0.0.1' "port = $((BASE + 10))" \
	    '[node 1]' 'host = 127.0.0.1' "port = $((BASE + 20))"
	run -78 --separate-stderr paxos-acceptor -c "$D/bad.conf" -i 1
	[ "$stderr" = "paxos-acceptor: fatal: $D/bad.conf:10: duplicate section [node 1]" ]
}

@test "a bad timeout exits 78" {
	bad_conf '[cluster]' 'secret_file = paxos.key' 'timeout = fast' "${NODE1[@]}"
	run -78 --separate-stderr paxos-acceptor -c "$D/bad.conf" -i 1
	[ "$stderr" = "paxos-acceptor: fatal: $D/bad.conf:3: timeout: 'fast' is not a number of milliseconds from 1 to 3600000" ]
}

@test "a zero timeout exits 78" {
	bad_conf '[cluster]' 'secret_file = paxos.key' 'timeout = 0' "${NODE1[@]}"
	run -78 --separate-stderr paxos-acceptor -c "$D/bad.conf" -i 1
	[ "$stderr" = "paxos-acceptor: fatal: $D/bad.conf:3: timeout: '0' is not a number of milliseconds from 1 to 3600000" ]
}

@test "a bad persist value exits 78" {
	bad_conf '[cluster]' 'secret_file = paxos.key' 'persist = maybe' "${NODE1[@]}"
	run -78 --separate-stderr paxos-acceptor -c "$D/bad.conf" -i 1
	[ "$stderr" = "paxos-acceptor: fatal: $D/bad.conf:3: persist: 'maybe' is not yes or no" ]
}

@test "a bad port exits 78" {
	bad_conf '[cluster]' 'secret_file = paxos.key' '' '[node 1]' 'host = 127.0.0.1' 'port = 99999'
	run -78 --separate-stderr paxos-acceptor -c "$D/bad.conf" -i 1
	[ "$stderr" = "paxos-acceptor: fatal: $D/bad.conf:6: port: '99999' is not a port from 1 to 65532" ]
}

@test "a line that is not INI exits 78" {
	bad_conf '[cluster]' 'secret_file = paxos.key' 'just words' "${NODE1[@]}"
	run -78 --separate-stderr paxos-acceptor -c "$D/bad.conf" -i 1
	[ "$stderr" = "paxos-acceptor: fatal: $D/bad.conf:3: syntax error" ]
}

@test "a missing secret_file exits 78" {
	bad_conf '[cluster]' 'timeout = 100' "${NODE1[@]}"
	run -78 --separate-stderr paxos-acceptor -c "$D/bad.conf" -i 1
	[ "$stderr" = "paxos-acceptor: fatal: $D/bad.conf: [cluster] secret_file is required" ]
}

@test "a missing configuration file exits 78" {
	run -78 --separate-stderr paxos-acceptor -c "$D/none.conf" -i 1
	[ "$stderr" = "paxos-acceptor: fatal: $D/none.conf: No such file or directory" ]
}

@test "an id that is not in the file exits 78" {
	run -78 --separate-stderr paxos-acceptor -c "$CONF" -i 9
	[ "$stderr" = "paxos-acceptor: fatal: $CONF: node 9 is not in the configuration" ]
}

@test "an id that is not a number exits 78" {
	run -78 --separate-stderr paxos-acceptor -c "$CONF" -i one
	[ "$stderr" = "paxos-acceptor: fatal: -i one: not a node id" ]
}

@test "a node without the acceptor role exits 78" {
	bad_conf '[cluster]' 'secret_file = paxos.key' "${NODE1[@]}" \
	    '[node 2]' 'host = 127.0.0.1' "port = $((BASE + 10))" 'roles = proposer learner'
	run -78 --separate-stderr paxos-acceptor -c "$D/bad.conf" -i 2
	[ "$stderr" = "paxos-acceptor: fatal: $D/bad.conf:7: node 2 has no acceptor role" ]
}

@test "no -i and no myid exits 64" {
	run -64 --separate-stderr paxos-acceptor -c "$CONF"
	[ "$stderr" = "paxos-acceptor: fatal: no node id: give -i or set myid in $CONF" ]
}

@test "myid stands in for -i" {
	sed 's/^persist = yes$/&\nmyid = 2/' "$CONF" > "$D/myid.conf"
	CONF=$D/myid.conf start_daemon paxos-acceptor 2
	grep -qx "paxos-acceptor: acceptor 2 ready on 127.0.0.1:$((BASE + 11))" \
	    "$(daemon_log paxos-acceptor 2)"
}

@test "a group-readable secret exits 78" {
	chmod 640 "$D/paxos.key"
	run -78 --separate-stderr paxos-acceptor -c "$CONF" -i 1
	[ "$stderr" = "paxos-acceptor: fatal: $D/paxos.key: mode 640, want 600 (the secret must not be readable by group or others)" ]
}

@test "a world-readable secret exits 78" {
	chmod 604 "$D/paxos.key"
	run -78 --separate-stderr paxos-acceptor -c "$CONF" -i 1
	[ "$stderr" = "paxos-acceptor: fatal: $D/paxos.key: mode 604, want 600 (the secret must not be readable by group or others)" ]
}

@test "a malformed secret exits 78" {
	echo 'not base64 at all' > "$D/paxos.key"
	run -78 --separate-stderr paxos-acceptor -c "$CONF" -i 1
	[ "$stderr" = "paxos-acceptor: fatal: $D/paxos.key: not a base64 32-byte secret (make one with paxos-keygen)" ]
}

@test "a secret of the wrong length exits 78" {
	head -c 16 /dev/urandom | base64 > "$D/paxos.key"
	run -78 --separate-stderr paxos-acceptor -c "$CONF" -i 1
	[ "$stderr" = "paxos-acceptor: fatal: $D/paxos.key: not a base64 32-byte secret (make one with paxos-keygen)" ]
}

@test "a missing secret file exits 78" {
	rm "$D/paxos.key"
	run -78 --separate-stderr paxos-acceptor -c "$CONF" -i 1
	[ "$stderr" = "paxos-acceptor: fatal: $D/paxos.key: No such file or directory" ]
}

@test "-n on a good configuration exits 0 and prints nothing" {
	run -0 --separate-stderr paxos-acceptor -n -c "$CONF"
	assert_output ""
	[ -z "$stderr" ]
}

@test "-n on a bad configuration exits 78" {
	bad_conf '[cluster]' 'secret_file = k' 'colour = red'
	run -78 --separate-stderr paxos-acceptor -n -c "$D/bad.conf"
	[ "$stderr" = "paxos-acceptor: fatal: $D/bad.conf:3: unknown key [cluster] colour" ]
}

@test "-nv prints the canonical configuration" {
	run -0 --separate-stderr paxos-acceptor -nv -c "$CONF"
	assert_output "$(cat <<-EOF
	[cluster]
	secret_file = $D/paxos.key
	timeout = 200
	learning_interval = 200
	data_dir = $D/data
	persist = yes

	[node 1]
	host = 127.0.0.1
	acceptor_port = $((BASE + 1))
	proposer_port = $((BASE + 2))
	learner_port = $((BASE + 3))
	roles = acceptor proposer learner

	[node 2]
	host = 127.0.0.1
	acceptor_port = $((BASE + 11))
	proposer_port = $((BASE + 12))
	learner_port = $((BASE + 13))
	roles = acceptor proposer learner

	[node 3]
	host = 127.0.0.1
	acceptor_port = $((BASE + 21))
	proposer_port = $((BASE + 22))
	learner_port = $((BASE + 23))
	roles = acceptor proposer learner
	EOF
	)"
}

@test "-nv output is itself a configuration that prints the same" {
	paxos-acceptor -nv -c "$CONF" > "$D/canon.conf"
	run -0 paxos-acceptor -nv -c "$D/canon.conf"
	assert_output "$(cat "$D/canon.conf")"
}

@test "\$PAXOS_CONF is the default configuration file" {
	PAXOS_CONF=$CONF run -0 paxos-acceptor -nv
	assert_line "secret_file = $D/paxos.key"
}

@test "it says ready with its address and exits 0 on SIGTERM" {
	start_daemon paxos-acceptor 1
	run -0 cat "$(daemon_log paxos-acceptor 1)"
	assert_output "paxos-acceptor: acceptor 1 ready on 127.0.0.1:$((BASE + 1))"
	pid=$(daemon_pid paxos-acceptor 1)
	kill -TERM "$pid"
	wait_status "$pid"
	assert_equal "$STATUS" 0
	[ -d "$D/data/acceptor-1" ]
}

@test "it exits 0 on SIGINT" {
	start_daemon paxos-acceptor 2
	pid=$(daemon_pid paxos-acceptor 2)
	kill -INT "$pid"
	wait_status "$pid"
	assert_equal "$STATUS" 0
}

@test "persist = no says that promises are forgotten" {
	write_conf "$D/mem.conf" "$BASE" no
	CONF=$D/mem.conf start_daemon paxos-acceptor 1
	run -0 cat "$(daemon_log paxos-acceptor 1)"
	assert_line -n 0 "paxos-acceptor: warning: acceptor 1 persist = no: state is in memory only; promises made before this start are forgotten"
	assert_line -n 1 "paxos-acceptor: acceptor 1 ready on 127.0.0.1:$((BASE + 1))"
}

@test "a port in use exits 71" {
	start_daemon paxos-acceptor 1
	run -71 --separate-stderr paxos-acceptor -c "$CONF" -i 1
	[ "$stderr" = "paxos-acceptor: fatal: bind 127.0.0.1:$((BASE + 1)): Address already in use" ]
}

@test "-nv with a relative -c prints paths without ./ in them" {
	cd "$D"
	run -0 paxos-acceptor -nv -c paxos.conf
	assert_line "secret_file = $D/paxos.key"
	assert_line "data_dir = $D/data"
}

@test "a relative -c resolves secret_file and data_dir against the file's folder" {
	mkdir "$D/elsewhere"
	cd "$D/elsewhere"
	run -0 paxos-acceptor -nv -c ../paxos.conf
	assert_line --regexp "^secret_file = $D/elsewhere/\.\./paxos\.key\$|^secret_file = $D/paxos\.key\$"
	CONF=../paxos.conf start_daemon paxos-acceptor 1
	[ -d "$D/data/acceptor-1" ]
}

@test "a corrupt state store stops it before it says ready" {
	start_daemon paxos-acceptor 1
	kill_daemon paxos-acceptor 1 TERM
	echo garbage > "$D/data/acceptor-1/data.mdb"
	run --separate-stderr timeout 5 paxos-acceptor -c "$CONF" -i 1
	((status != 0 && status != 124))
	assert_output ""
	[[ "$stderr" =~ ^"paxos-acceptor: fatal: acceptor 1 $D/data/acceptor-1: ".+$ ]]
}

@test "stderr lines carry syslog priorities when JOURNAL_STREAM names stderr" {
	local log
	log=$(daemon_log paxos-acceptor 1)
	: > "$log"
	JOURNAL_STREAM=$(stat -c '%d:%i' "$log") start_daemon paxos-acceptor 1
	run -0 cat "$log"
	assert_line --regexp '^<6>paxos-acceptor: acceptor 1 ready on '
}

@test "stderr lines are plain when JOURNAL_STREAM names another stream" {
	local log
	log=$(daemon_log paxos-acceptor 1)
	: > "$log"
	JOURNAL_STREAM=1:1 start_daemon paxos-acceptor 1
	run -0 cat "$log"
	assert_line --regexp '^paxos-acceptor: acceptor 1 ready on '
}

@test "a value damaged in its values file stops it with 74 when it is read" {
	local pid
	start_acceptors
	start_daemon paxos-proposer 1
	run -0 submit -t 10000 damaged-value-marker-0123456789
	for n in 1 2 3; do kill_daemon paxos-acceptor "$n" TERM; done
	kill_daemon paxos-proposer 1 TERM
	# The checkpoint at exit appended the value to the values file.
	run -0 python3 - "$D/data/acceptor-1/values" <<-'PY'
		import sys
		with open(sys.argv[1], "r+b") as f:
		    data = f.read()
		    at = data.find(b"damaged-value-marker")
		    assert at >= 0, "the value is not in the values file"
		    f.seek(at + 3)
		    f.write(bytes([data[at + 3] ^ 0x20]))
	PY
	start_daemon paxos-acceptor 1
	pid=$(daemon_pid paxos-acceptor 1)
	# The learner can only ask acceptor 1, which finds the damage.
	start_bg learner "exec paxos-learner -c '$CONF' -i 1 > /dev/null 2> '$D/learner.log'"
	wait_status "$pid"
	assert_equal "$STATUS" 74
	run -0 cat "$(daemon_log paxos-acceptor 1)"
	assert_line --regexp "^paxos-acceptor: fatal: acceptor 1 read $D/data/acceptor-1: "
}
