# paxos-status: options, exit codes, and the table and JSON it prints
# about a running cluster.

setup() {
	load test_helper
	D=$BATS_TEST_TMPDIR
	make_cluster "$D"
	USAGE="usage: paxos-status [-hVv] [-c file] [--json]"
	HEADER="NODE ROLE     ADDRESS                STATE    BALLOT       ACCEPTED   COMMIT  WRITTEN  FORGED MALFORM  REPLAY UNKNOWN"
}

teardown() {
	stop_all
}

# json_check PROGRAM: run the python PROGRAM on paxos-status --json
# output (in $output), with rows in r, indexed by (role, node) in by
json_check() {
	python3 -I -S -c '
import json, sys
r = json.loads(sys.stdin.read())
by = {(x["role"], x["node"]): x for x in r}
'"$1" <<<"$output"
}

@test "-h prints usage to stdout and exits 0" {
	run -0 --separate-stderr paxos-status -h
	assert_output "$USAGE"
	[ -z "$stderr" ]
}

@test "the usage line lists the options getopt takes" {
	local src=$BATS_TEST_DIRNAME/../cmd/paxos-status.c
	grep -qF 'getopt_long(argc, argv, "c:hVv", longopts' "$src"
	grep -qE '\{ "json", no_argument,' "$src"
	[ "$(grep -cE '^\s+\{ "[a-z-]+", ' "$src")" = 1 ]
}

@test "-V prints the version" {
	run -0 --separate-stderr paxos-status -V
	assert_output "paxos-status 0.1.0"
}

@test "an unknown option exits 64 with usage on stderr" {
	run -64 --separate-stderr paxos-status -x
	assert_output ""
	[ "${stderr_lines[-1]}" = "$USAGE" ]
}

@test "an unknown long option exits 64 with usage on stderr" {
	run -64 --separate-stderr paxos-status --yaml
	assert_output ""
	[ "${stderr_lines[-1]}" = "$USAGE" ]
}

@test "an operand exits 64 with usage on stderr" {
	run -64 --separate-stderr paxos-status -c "$CONF" acceptor
	assert_output ""
	[ "$stderr" = "$USAGE" ]
}

@test "-c without a file exits 64" {
	run -64 --separate-stderr paxos-status -c
	[ "${stderr_lines[-1]}" = "$USAGE" ]
}

@test "a missing configuration file exits 78" {
	run -78 --separate-stderr paxos-status -c "$D/none.conf"
	[ "$stderr" = "paxos-status: fatal: $D/none.conf: No such file or directory" ]
	assert_output ""
}

@test "an unknown key exits 78 naming file, line and key" {
	bad_conf '[cluster]' 'secret_file = k' 'colour = red'
	run -78 --separate-stderr paxos-status -c "$D/bad.conf"
	[ "$stderr" = "paxos-status: fatal: $D/bad.conf:3: unknown key [cluster] colour" ]
}

@test "a group-readable secret exits 78" {
	chmod 640 "$D/paxos.key"
	run -78 --separate-stderr paxos-status -c "$CONF"
	[ "$stderr" = "paxos-status: fatal: $D/paxos.key: mode 640, want 600 (the secret must not be readable by group or others)" ]
}

@test "\$PAXOS_CONF is the default configuration file" {
	chmod 640 "$D/paxos.key"
	PAXOS_CONF=$CONF run -78 --separate-stderr paxos-status
	[ "$stderr" = "paxos-status: fatal: $D/paxos.key: mode 640, want 600 (the secret must not be readable by group or others)" ]
}

@test "a host that does not resolve exits 68" {
	sed 's/^host = 127.0.0.1$/host = no-such-host.invalid/' "$CONF" > "$D/nohost.conf"
	run -68 --separate-stderr paxos-status -c "$D/nohost.conf"
	assert_output ""
	[[ $stderr == "paxos-status: fatal: "*no-such-host.invalid* ]]
}

@test "with no daemon running it lists every node and role unanswered and exits 69" {
	run -69 --separate-stderr paxos-status -c "$CONF"
	assert_line --index 0 "$HEADER"
	[ "${#lines[@]}" = 10 ]
	assert_line --index 1 --regexp '^1 +acceptor +127\.0\.0\.1:[0-9]+ +no answer$'
	assert_line --index 2 --regexp '^1 +proposer +127\.0\.0\.1:[0-9]+ +no answer$'
	assert_line --index 3 --regexp '^1 +learner +127\.0\.0\.1:[0-9]+ +no answer$'
	assert_line --index 9 --regexp '^3 +learner +127\.0\.0\.1:[0-9]+ +no answer$'
	[ "$stderr" = "paxos-status: warning: 0 of 3 acceptors answer: no majority" ]
}

@test "one acceptor of three is no majority: exit 69" {
	start_daemon paxos-acceptor 2
	run -69 --separate-stderr paxos-status -c "$CONF"
	assert_line --regexp '^2 +acceptor +127\.0\.0\.1:[0-9]+ +up +0\.0 +0 +1 +- +0 +0 +0 +0$'
	[ "$stderr" = "paxos-status: warning: 1 of 3 acceptors answer: no majority" ]
}

@test "two acceptors of three are a majority: exit 0" {
	start_daemon paxos-acceptor 1
	start_daemon paxos-acceptor 3
	run -0 --separate-stderr paxos-status -c "$CONF"
	[ -z "$stderr" ]
	assert_line --regexp '^2 +acceptor +127\.0\.0\.1:[0-9]+ +no answer$'
}

@test "acceptors stopped after the cluster ran: exit 69" {
	start_acceptors
	start_daemon paxos-proposer 1
	run -0 submit -t 10000 one
	kill_daemon paxos-acceptor 1 TERM
	kill_daemon paxos-acceptor 2 TERM
	run -69 --separate-stderr paxos-status -c "$CONF"
	assert_line --regexp '^1 +proposer +127\.0\.0\.1:[0-9]+ +leader +1\.1 '
	[ "$stderr" = "paxos-status: warning: 1 of 3 acceptors answer: no majority" ]
}

# a running cluster: acceptors 1-3, proposers 1 and 2, learner 1, and the
# MyPaxos commands committed and written
running() {
	start_acceptors
	start_daemon paxos-proposer 1
	start_daemon paxos-proposer 2
	start_daemon paxos-learner 1 -n
	run -0 submit -t 10000 'put name Mike' 'put age 22' 'get name' \
	    'delete name' 'get name'
	wait_for 5 settled
}

# settled: the learner wrote 5 values and every acceptor knows 1-5 chosen
settled() {
	run paxos-status -c "$CONF" --json
	json_check '
ok = by[("learner", 1)].get("written") == 5 and all(
    by[("acceptor", n)].get("commit") == 6 for n in (1, 2, 3))
sys.exit(0 if ok else 1)'
}

@test "the table shows each daemon's state, ballot, positions and drop counters" {
	running
	run -0 --separate-stderr paxos-status -c "$CONF"
	[ -z "$stderr" ]
	[ "${#lines[@]}" = 10 ]
	assert_line --index 0 "$HEADER"
	assert_line --index 1 --regexp '^1 +acceptor +127\.0\.0\.1:[0-9]+ +up +1\.1 +5 +6 +- +0 +0 +0 +0$'
	assert_line --index 2 --regexp '^1 +proposer +127\.0\.0\.1:[0-9]+ +leader +1\.1 +5 +6 +5 +0 +0 +0 +0$'
	assert_line --index 3 --regexp '^1 +learner +127\.0\.0\.1:[0-9]+ +up +- +5 +6 +5 +0 +0 +0 +0$'
	assert_line --index 4 --regexp '^2 +acceptor +127\.0\.0\.1:[0-9]+ +up +1\.1 +5 +6 +- '
	assert_line --index 5 --regexp '^2 +proposer +127\.0\.0\.1:[0-9]+ +standby '
	assert_line --index 6 --regexp '^2 +learner +127\.0\.0\.1:[0-9]+ +no answer$'
	assert_line --index 7 --regexp '^3 +acceptor +127\.0\.0\.1:[0-9]+ +up +1\.1 +5 +6 +- '
	# the address column is the acceptor port of node 1: base port + 1
	assert_line --index 1 --regexp "^1 +acceptor +127\.0\.0\.1:$((BASE + 1)) "
}

@test "--json prints one object per node and role with the documented fields" {
	running
	run -0 --separate-stderr paxos-status -c "$CONF" --json
	[ -z "$stderr" ]
	json_check '
assert len(r) == 9, len(r)
assert [(x["node"], x["role"]) for x in r] == [(n, role) for n in (1, 2, 3)
    for role in ("acceptor", "proposer", "learner")]
drops = {"forged", "malformed", "replay", "unknown"}
common = {"node", "role", "address", "answering", "state", "accepted",
    "commit", "values", "uptime", "dropped"}
for x in r:
    if not x["answering"]:
        assert set(x) == {"node", "role", "address", "answering"}, x
        continue
    want = set(common)
    if x["role"] != "learner": want.add("ballot")
    if x["role"] == "proposer": want.add("leader")
    if x["role"] != "acceptor": want.add("written")
    assert set(x) == want, (x, want)
    assert set(x["dropped"]) == drops and all(
        type(v) is int and v == 0 for v in x["dropped"].values()), x
    assert type(x["uptime"]) is int and x["uptime"] >= 0
a, p, l = by[("acceptor", 1)], by[("proposer", 1)], by[("learner", 1)]
assert (a["state"], a["ballot"], a["accepted"], a["commit"]) == ("up", "1.1", 5, 6), a
assert a["values"] >= 5, a
assert (p["state"], p["ballot"], p["leader"], p["commit"], p["written"]) == (
    "leader", "1.1", 1, 6, 5), p
assert by[("proposer", 2)]["state"] == "standby"
assert by[("proposer", 2)]["leader"] == 1
assert (l["state"], l["written"], l["values"]) == ("up", 5, 5), l
assert by[("learner", 2)]["answering"] is False
assert a["address"].startswith("127.0.0.1:")
'
}

@test "the drop counters of the table and of --json count what a daemon dropped" {
	start_acceptors
	python3 -I -S -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(3):
    s.sendto(b"\xffgarbage", ("127.0.0.1", int(sys.argv[1])))
' $((BASE + 11))
	wait_for 5 eval 'paxos-status -c "$CONF" | grep -qE "^2 +acceptor .* 0 +3 +0 +0$"'
	run -0 paxos-status -c "$CONF" --json
	json_check '
assert by[("acceptor", 2)]["dropped"] == {"forged": 0, "malformed": 3,
    "replay": 0, "unknown": 0}, by[("acceptor", 2)]
assert by[("acceptor", 1)]["dropped"]["malformed"] == 0'
}

@test "--json with no daemon running prints every row unanswered and exits 69" {
	run -69 --separate-stderr paxos-status -c "$CONF" --json
	json_check '
assert len(r) == 9
assert all(x["answering"] is False for x in r)'
	[ "$stderr" = "paxos-status: warning: 0 of 3 acceptors answer: no majority" ]
}

@test "a client key from paxos-keygen --client is enough" {
	start_acceptors
	paxos-keygen --client < "$D/paxos.key" > "$D/client.key"
	chmod 600 "$D/client.key"
	sed 's/^secret_file = .*/secret_file = client.key/' "$CONF" > "$D/client.conf"
	run -0 --separate-stderr paxos-status -c "$D/client.conf"
	assert_line --index 1 --regexp '^1 +acceptor +127\.0\.0\.1:[0-9]+ +up '
}

@test "a cluster secret that is not the cluster's gets no answer: exit 69" {
	start_acceptors
	make_key "$D/other.key"
	sed 's/^secret_file = .*/secret_file = other.key/' "$CONF" > "$D/other.conf"
	run -69 --separate-stderr paxos-status -c "$D/other.conf"
	assert_line --index 1 --regexp '^1 +acceptor +127\.0\.0\.1:[0-9]+ +no answer$'
}

@test "a full stdout exits 74" {
	[ -w /dev/full ] || skip "no /dev/full"
	run -74 --separate-stderr bash -c "paxos-status -c '$CONF' > /dev/full"
	[ "$stderr" = "paxos-status: fatal: stdout: No space left on device" ]
}
