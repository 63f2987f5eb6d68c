# Hostile input against running daemons: datagrams that are random,
# damaged, cut short, sealed with another secret, replayed, from an
# unknown member, or sealed with the client key.  Each is dropped and
# counted under the right paxos-status column, changes no state and
# crashes nothing, while values committed meanwhile are written once and
# in order.  Also: a flood of garbage, the secret kept out of argv,
# logs and status, client keys, and the MyPaxos session under ASan and
# UBSan.  The datagrams come from test/tools/paxos-forge and
# test/tools/paxos-flood (make tools).

setup() {
	load test_helper
	D=$BATS_TEST_TMPDIR
	TOOLS=$BATS_TEST_DIRNAME/tools
	[ -x "$TOOLS/paxos-forge" ] && [ -x "$TOOLS/paxos-flood" ] ||
	    skip "make tools builds test/tools/paxos-forge and paxos-flood"
	make_cluster "$D" yes
	: > "$D/expected"
}

teardown() {
	stop_all
}

forge() {
	"$TOOLS/paxos-forge" -c "$CONF" "$@"
}

# status_of ROLE ID FIELD...: those fields of ROLE ID in paxos-status
# --json, space-separated (dropped.forged names a nested one); a field
# ";" prints as itself
status_of() {
	local role=$1 id=$2
	shift 2
	paxos-status -c "$CONF" --json 2>/dev/null | python3 -I -S -c '
import json, sys
role, id, fields = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
for row in json.load(sys.stdin):
    if row["role"] == role and row["node"] == id:
        out = []
        for f in fields:
            v = row
            for k in f.split(".") if f != ";" else []:
                v = v.get(k, "-") if isinstance(v, dict) else "-"
            out.append(";" if f == ";" else str(v).lower())
        print(" ".join(out))
' "$role" "$id" "$@"
}

# the fields that tell a daemon's protocol state, by role
STATE_acceptor="answering ballot accepted commit"
STATE_proposer="answering state ballot leader accepted commit written"
STATE_learner="answering accepted commit written"
DROPS="dropped.forged dropped.malformed dropped.replay dropped.unknown"

# snap ROLE ID: "STATE ; DROPS" of ROLE ID, from one paxos-status call;
# DROPS are its four counters: forged malformed replay unknown
snap() {
	local fields=STATE_$1
	status_of "$1" "$2" ${!fields} ";" $DROPS
}

# state_of ROLE ID: what paxos-status says of its protocol state
state_of() {
	local s
	s=$(snap "$1" "$2")
	echo "${s% ;*}"
}

# drops ROLE ID: its four drop counters
drops() {
	local s
	s=$(snap "$1" "$2")
	echo "${s#*; }"
}

# added BEFORE AFTER: the growth of each of the four counters
added() {
	local -a b=($1) a=($2)
	echo "forged=$((a[0] - b[0])) malformed=$((a[1] - b[1]))" \
	    "replay=$((a[2] - b[2])) unknown=$((a[3] - b[3]))"
}

# cluster_up: acceptors, proposer 1 leading, learner 1 writing to
# $D/learner.out; then five values committed and written
cluster_up() {
	start_acceptors
	start_daemon paxos-proposer 1
	start_bg learner "exec paxos-learner -c '$CONF' -i 1 > '$D/learner.out' 2> '$D/learner.log'"
	wait_for 5 grep -qw ready "$D/learner.log"
	commit_values first 5
}

# commit_values PREFIX N: paxos-submit PREFIX-1 .. PREFIX-N, then wait
# until learner 1 has written every value so far and every acceptor has
# heard the leader say so
commit_values() {
	local i
	for ((i = 1; i <= $2; i++)); do echo "$1-$i"; done > "$D/in"
	submit -w 8 -t 10000 < "$D/in"
	cat "$D/in" >> "$D/expected"
	wait_lines "$D/learner.out" "$(wc -l < "$D/expected")"
	wait_for 5 settled
}

# settled: acceptors and learner 1 know the commit watermark of the leader
settled() {
	paxos-status -c "$CONF" --json 2>/dev/null | python3 -I -S -c '
import json, sys
by = {(r["role"], r["node"]): r for r in json.load(sys.stdin)}
c = by[("proposer", 1)].get("commit")
sys.exit(0 if c and all(by[k].get("commit") == c for k in
    [("acceptor", 1), ("acceptor", 2), ("acceptor", 3), ("learner", 1)])
    else 1)'
}

# learner_ok: learner 1 wrote exactly the values expected, in order
learner_ok() {
	sleep 0.3	# time to write anything it should not
	diff "$D/expected" "$D/learner.out"
}

# all_alive: every daemon started is still running
all_alive() {
	local f
	for f in "$PIDDIR"/*.pid "$PIDDIR"/*.pgid; do
		[ -e "$f" ] || continue
		if [[ $f == *.pgid ]]; then alive "-$(cat "$f")"; else alive "$(cat "$f")"; fi ||
		    { echo "${f##*/} is gone" >&2; return 1; }
	done
}

# dropped_as KIND ROLE ID FORGE-ARG...: send what paxos-forge makes of
# the arguments to ROLE ID; it must count exactly one datagram, under
# KIND (forged malformed replay unknown, or "forged|malformed" for
# either), and change nothing paxos-status shows of its state.
dropped_as() {
	local kind=$1 role=$2 id=$3 s0 s1 d0 d1 got i
	shift 3
	s0=$(snap "$role" "$id")
	d0=${s0#*; }
	[[ $s0 == true* ]] ||
	    { echo "$role $id does not answer paxos-status" >&2; return 1; }
	forge -t "$role:$id" "$@"
	# a daemon handles datagrams in order: a status that counts this one
	# shows all it did
	for ((i = 0; i < 50; i++)); do
		sleep 0.05
		s1=$(snap "$role" "$id")
		d1=${s1#*; }
		[ "$d1" = "$d0" ] || break
	done
	got=$(added "$d0" "$d1")
	case $kind in
	forged\|malformed)
		[[ $got == "forged=1 malformed=0 replay=0 unknown=0" ||
		    $got == "forged=0 malformed=1 replay=0 unknown=0" ]] ;;
	*)
		local want="forged=0 malformed=0 replay=0 unknown=0"
		[ "$got" = "${want/$kind=0/$kind=1}" ] ;;
	esac || { echo "$role $id: want one $kind, counted $got" >&2; return 1; }
	[ "${s0% ;*}" = "${s1% ;*}" ] ||
	    { echo "$role $id changed: ${s0% ;*} -> ${s1% ;*}" >&2; return 1; }
}

# a member's message for each daemon: what it would act on
AT_ACCEPTOR=(prepare 1000.2)
AT_PROPOSER=(commit 1000.2 50)
AT_LEARNER=(chosen 6 evil)

@test "random bytes are dropped as malformed or forged by every daemon" {
	cluster_up
	dropped_as "forged|malformed" acceptor 1 random 100
	dropped_as "forged|malformed" proposer 1 random 1
	dropped_as "forged|malformed" learner 1 random 1400
	all_alive
	commit_values after 5
	learner_ok
}

@test "a valid datagram with one bit flipped is dropped as forged" {
	cluster_up
	# bit 250 is in the ciphertext, 20 in the header, 500 in the tag
	dropped_as forged acceptor 1 -f 250 "${AT_ACCEPTOR[@]}"
	dropped_as forged acceptor 2 -f 20 "${AT_ACCEPTOR[@]}"
	dropped_as forged acceptor 3 -f 500 "${AT_ACCEPTOR[@]}"
	dropped_as forged proposer 1 -f 250 "${AT_PROPOSER[@]}"
	dropped_as forged proposer 1 -f 250 submit 77 1 evil
	dropped_as forged learner 1 -f 250 "${AT_LEARNER[@]}"
	all_alive
	commit_values after 5
	learner_ok
}

@test "the same datagrams unharmed are acted on: the flips above matter" {
	start_acceptors
	run -0 forge -t acceptor:1 -r "${AT_ACCEPTOR[@]}"
	assert_output "promise ballot=1000.2"
	[ "$(state_of acceptor 1)" = "true 1000.2 0 1" ]
}

@test "a truncated datagram is malformed when shorter than header and tag, else forged" {
	cluster_up
	dropped_as malformed acceptor 1 -T 37 "${AT_ACCEPTOR[@]}"
	dropped_as malformed acceptor 1 -T 1 "${AT_ACCEPTOR[@]}"
	dropped_as forged acceptor 1 -T 38 "${AT_ACCEPTOR[@]}"
	dropped_as forged acceptor 1 -T 63 "${AT_ACCEPTOR[@]}"
	dropped_as malformed proposer 1 -T 21 "${AT_PROPOSER[@]}"
	dropped_as forged learner 1 -T 50 "${AT_LEARNER[@]}"
	all_alive
	commit_values after 5
	learner_ok
}

@test "a datagram sealed with another cluster's secret is dropped as forged" {
	cluster_up
	make_key "$D/other.key"
	dropped_as forged acceptor 1 -k "$D/other.key" "${AT_ACCEPTOR[@]}"
	dropped_as forged proposer 1 -k "$D/other.key" "${AT_PROPOSER[@]}"
	dropped_as forged proposer 1 -k "$D/other.key" submit 77 1 evil
	dropped_as forged learner 1 -k "$D/other.key" "${AT_LEARNER[@]}"
	all_alive
	commit_values after 5
	learner_ok
}

@test "an authentic datagram that does not decode is dropped as malformed" {
	cluster_up
	dropped_as malformed acceptor 1 undecodable 40
	dropped_as malformed proposer 1 -s client:77 undecodable 1
	dropped_as malformed learner 1 undecodable 3000
	all_alive
	commit_values after 5
	learner_ok
}

@test "a datagram from a member id not in the configuration is dropped as unknown" {
	cluster_up
	dropped_as unknown acceptor 1 -s proposer:9 prepare 1000.9
	dropped_as unknown acceptor 1 -s learner:4 learn 1
	dropped_as unknown proposer 1 -s proposer:4 commit 1000.4 50
	dropped_as unknown learner 1 -s proposer:9 "${AT_LEARNER[@]}"
	all_alive
	commit_values after 5
	learner_ok
}

@test "a client-key datagram claiming a member role is dropped as forged" {
	cluster_up
	paxos-keygen --client < "$D/paxos.key" > "$D/client.key"
	chmod 600 "$D/client.key"
	dropped_as forged acceptor 1 -k "$D/client.key" -s proposer:1 "${AT_ACCEPTOR[@]}"
	dropped_as forged proposer 1 -k "$D/client.key" -s proposer:2 "${AT_PROPOSER[@]}"
	dropped_as forged learner 1 -k "$D/client.key" -s proposer:1 "${AT_LEARNER[@]}"
	dropped_as forged learner 1 -k "$D/client.key" -s acceptor:2 learn 1
	all_alive
	commit_values after 5
	learner_ok
}

@test "protocol datagrams sealed with the client key are refused by acceptors and learners" {
	cluster_up
	paxos-keygen --client < "$D/paxos.key" > "$D/client.key"
	chmod 600 "$D/client.key"
	for key in "$D/client.key" "$D/paxos.key"; do
		dropped_as malformed acceptor 1 -k "$key" -s client:5 prepare 1000.1
		dropped_as malformed acceptor 2 -k "$key" -s client:5 accept 1000.1 6 evil
		dropped_as malformed acceptor 3 -k "$key" -s client:5 commit 1000.1 50
		dropped_as malformed acceptor 1 -k "$key" -s client:5 learn 1
		dropped_as malformed learner 1 -k "$key" -s client:5 chosen 6 evil
		dropped_as malformed proposer 1 -k "$key" -s client:5 "${AT_PROPOSER[@]}"
	done
	all_alive
	commit_values after 5
	learner_ok
}

@test "a replayed PREPARE is counted as a replay and gets no answer" {
	start_acceptors
	run -0 forge -t acceptor:1 -r -o "$D/prepare" prepare 7.2
	assert_output "promise ballot=7.2"
	[ "$(state_of acceptor 1)" = "true 7.2 0 1" ]
	run -0 forge -t acceptor:1 -r raw "$D/prepare"
	assert_output "no reply"
	dropped_as replay acceptor 1 raw "$D/prepare"
	# a higher ballot, then the old one again: still a replay, not a NACK
	run -0 forge -t acceptor:1 -r prepare 8.2
	assert_output "promise ballot=8.2"
	run -0 forge -t acceptor:1 -r raw "$D/prepare"
	assert_output "no reply"
	dropped_as replay acceptor 1 raw "$D/prepare"
	[ "$(state_of acceptor 1)" = "true 8.2 0 1" ]
	all_alive
}

@test "a replayed ACCEPT is counted as a replay and gets no answer" {
	start_acceptors
	run -0 forge -t acceptor:2 -r -o "$D/accept" accept 7.2 1 captured
	assert_output "accepted ballot=7.2"
	[ "$(state_of acceptor 2)" = "true 7.2 1 1" ]
	run -0 forge -t acceptor:2 -r raw "$D/accept"
	assert_output "no reply"
	dropped_as replay acceptor 2 raw "$D/accept"
	all_alive
}

@test "a replayed SUBMIT is counted as a replay and its value is written once" {
	cluster_up
	paxos-keygen --client < "$D/paxos.key" > "$D/client.key"
	chmod 600 "$D/client.key"
	forge -t proposer:1 -k "$D/client.key" -s client:99 -o "$D/submit" \
	    submit 4242 1 captured
	echo captured >> "$D/expected"
	wait_lines "$D/learner.out" 6
	dropped_as replay proposer 1 raw "$D/submit"
	dropped_as replay proposer 1 raw "$D/submit"
	all_alive
	commit_values after 5
	learner_ok
}

@test "a datagram from an older epoch of a sender is a replay" {
	start_acceptors
	run -0 forge -t acceptor:3 -r -e 2000000 prepare 7.2
	assert_output "promise ballot=7.2"
	dropped_as replay acceptor 3 -e 1999999 prepare 9.2
	dropped_as replay acceptor 3 -e 2000000 -n 1 prepare 9.2
	[ "$(state_of acceptor 3)" = "true 7.2 0 1" ]
}

@test "values committed while hostile datagrams arrive are written once, in order" {
	cluster_up
	paxos-keygen --client < "$D/paxos.key" > "$D/client.key"
	chmod 600 "$D/client.key"
	make_key "$D/other.key"
	seq 1 300 | sed 's/^/during-/' > "$D/in"
	local forger t r d0
	d0=$(drops acceptor 1)
	(
		for r in 1 2 3 4 5; do
			for t in acceptor:1 acceptor:2 acceptor:3 proposer:1 learner:1; do
				forge -t "$t" -x 20 random 200
				forge -t "$t" -x 20 -f 250 "${AT_ACCEPTOR[@]}"
				forge -t "$t" -x 20 -k "$D/other.key" "${AT_PROPOSER[@]}"
				forge -t "$t" -x 20 -k "$D/client.key" -s proposer:1 "${AT_LEARNER[@]}"
				forge -t "$t" -x 20 -k "$D/client.key" -s client:8 "${AT_ACCEPTOR[@]}"
				forge -t "$t" -x 20 -s proposer:9 "${AT_ACCEPTOR[@]}"
				forge -t "$t" -x 20 -T 30 "${AT_LEARNER[@]}"
			done
		done
	) 3>&- &
	forger=$!
	# one value at a time, so that most are committed amid the garbage
	submit -w 1 -t 20000 < "$D/in"
	wait "$forger"
	cat "$D/in" >> "$D/expected"
	echo "# acceptor 1 dropped meanwhile: $(added "$d0" "$(drops acceptor 1)")" >&3
	wait_lines "$D/learner.out" 305
	all_alive
	learner_ok
	[ "$(status_of acceptor 1 answering)" = true ]
}

@test "a flood of garbage at every daemon for 10 s: no daemon dies, memory stays bounded, values commit" {
	cluster_up
	local pid hwm rss lines0 lines1 d0 d1 sub f v
	# acceptors 1-3, proposer 1, learner 1
	local ports="$((BASE + 1)) $((BASE + 11)) $((BASE + 21)) $((BASE + 2)) $((BASE + 3))"
	declare -A rss0
	for f in "$PIDDIR"/paxos-*.pid "$PIDDIR"/learner.pgid; do
		pid=$(cat "$f")	# the learner's group is its own PID: exec
		rss0[$pid]=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")
	done
	lines0=$(cat "$D"/*.log | wc -l)
	d0=$(drops acceptor 1)
	"$TOOLS/paxos-flood" -d 10 $ports > "$D/flood.out" 3>&- &
	local flood=$!
	seq 1 500 | sed 's/^/flood-/' > "$D/in"
	# 100 values over 8 s of the flood, then 400 at once
	{
		head -100 "$D/in" | while read -r v; do echo "$v"; sleep 0.08; done
		tail -n +101 "$D/in"
	} | submit -w 32 -t 20000 3>&- &
	sub=$!
	wait "$sub"
	cat "$D/in" >> "$D/expected"
	wait "$flood"
	echo "# paxos-flood: $(cat "$D/flood.out")" >&3
	all_alive
	for f in "$PIDDIR"/paxos-*.pid "$PIDDIR"/learner.pgid; do
		pid=$(cat "$f")
		rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")
		hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$pid/status")
		echo "# ${f##*/}: VmRSS ${rss0[$pid]} -> $rss kB, VmHWM $hwm kB" >&3
		# 16 MB of slack: buffers the daemons touch for the first time
		((rss < rss0[$pid] + 16384)) ||
		    { echo "${f##*/} grew from ${rss0[$pid]} to $rss kB" >&2; return 1; }
	done
	d1=$(drops acceptor 1)
	echo "# acceptor 1 dropped: $(added "$d0" "$d1")" >&3
	[ "$(added "$d0" "$d1" | awk -F'[= ]' '{ print $2 + $4 }')" -gt 1000 ]
	lines1=$(cat "$D"/*.log | wc -l)
	((lines1 - lines0 < 20)) ||
	    { echo "the daemons logged $((lines1 - lines0)) lines" >&2; return 1; }
	wait_lines "$D/learner.out" 505 20
	learner_ok
}

@test "the secret is in no daemon's argv, stderr (even with -vv) or paxos-status output" {
	local secret hex ck pid f
	start_daemon paxos-acceptor 1 -vv
	start_daemon paxos-acceptor 2 -vv
	start_daemon paxos-acceptor 3
	start_daemon paxos-proposer 1 -vv
	start_bg learner "exec paxos-learner -c '$CONF' -i 1 -vv > '$D/learner.out' 2> '$D/learner.log'"
	wait_for 5 grep -qw ready "$D/learner.log"
	commit_values first 5
	secret=$(cat "$D/paxos.key")
	hex=$(base64 -d < "$D/paxos.key" | od -An -tx1 | tr -d ' \n')
	ck=$(paxos-keygen --client < "$D/paxos.key")
	ck=${ck#client:}
	[ ${#secret} = 44 ] && [ ${#hex} = 64 ] && [ ${#ck} = 44 ]
	for f in "$PIDDIR"/*.pid; do
		pid=$(cat "$f")
		run -0 bash -c "tr '\0' ' ' < /proc/$pid/cmdline"
		assert_output --partial "paxos.conf -i"
		refute_output --partial "$secret"
		refute_output --partial "$ck"
	done
	run -0 ps -eo args
	refute_output --partial "$secret"
	run -0 paxos-status -c "$CONF"
	refute_output --partial "$secret"
	refute_output --partial "$hex"
	refute_output --partial "$ck"
	run -0 paxos-status -c "$CONF" --json
	refute_output --partial "$secret"
	refute_output --partial "$hex"
	refute_output --partial "$ck"
	stop_all
	for f in "$D"/*.log; do
		[ -s "$f" ] || continue
		! grep -qiF -e "$secret" -e "$hex" -e "$ck" "$f" ||
		    { echo "$f holds the secret" >&2; return 1; }
	done
	# -vv was in effect
	grep -q '^paxos-acceptor: debug: ' "$(daemon_log paxos-acceptor 1)"
}

@test "a group-readable key file is refused with 78 by every program that reads it" {
	local p
	chmod 640 "$D/paxos.key"
	for p in paxos-acceptor paxos-proposer paxos-learner; do
		run -78 --separate-stderr "$p" -c "$CONF" -i 1
		assert_equal "$stderr" "$p: fatal: $D/paxos.key: mode 640, want 600 (the secret must not be readable by group or others)"
	done
	run -78 --separate-stderr paxos-submit -c "$CONF" v
	assert_equal "$stderr" "paxos-submit: fatal: $D/paxos.key: mode 640, want 600 (the secret must not be readable by group or others)"
	run -78 --separate-stderr paxos-status -c "$CONF"
	assert_equal "$stderr" "paxos-status: fatal: $D/paxos.key: mode 640, want 600 (the secret must not be readable by group or others)"
	assert_output ""
}

@test "paxos-keygen --client prints a key the daemons refuse with 78 and paxos-submit and paxos-status take" {
	local p
	run -0 --separate-stderr bash -c "paxos-keygen --client < '$D/paxos.key'"
	assert_output --regexp '^client:[A-Za-z0-9+/]{43}=$'
	(umask 077 && echo "$output" > "$D/client.key")
	sed 's/^secret_file = .*/secret_file = client.key/' "$CONF" > "$D/client.conf"
	for p in paxos-acceptor paxos-proposer paxos-learner; do
		run -78 --separate-stderr "$p" -c "$D/client.conf" -i 1
		assert_equal "$stderr" "$p: fatal: $D/client.key: a client key; members need the cluster secret"
	done
	start_acceptors
	start_daemon paxos-proposer 1
	run -0 --separate-stderr timeout 15 paxos-submit -c "$D/client.conf" -n -t 10000 'put name Mike' 'get name'
	assert_output "$(printf '1\n2')"
	run -0 --separate-stderr paxos-status -c "$D/client.conf"
	assert_line --regexp '^1 +proposer +127\.0\.0\.1:[0-9]+ +leader '
	run -0 --separate-stderr learn 2 -i 1
	assert_output "$(printf 'put name Mike\nget name')"
}

@test "a client that was quiet while 2000 others talked can still commit" {
	start_acceptors
	start_daemon paxos-proposer 1
	paxos-keygen --client < "$D/paxos.key" > "$D/client.key"
	chmod 600 "$D/client.key"
	mkfifo "$D/fifo"
	paxos-submit -c "$CONF" -n -t 5000 < "$D/fifo" > "$D/pos" 2> "$D/submit.log" 3>&- &
	echo $! > "$PIDDIR/submit.pid"
	exec 4> "$D/fifo"
	echo first >&4
	wait_lines "$D/pos" 1 5
	forge -t proposer:1 -k "$D/client.key" -s client:1 -I -x 2100 status
	echo second >&4
	exec 4>&-
	wait_status "$(cat "$PIDDIR/submit.pid")"
	assert_equal "$STATUS" 0
}

@test "a client key holder cannot lock other clients out with a future epoch" {
	start_acceptors
	paxos-keygen --client < "$D/paxos.key" > "$D/client.key"
	chmod 600 "$D/client.key"
	local t hour_ahead=$(( $(date +%s%6N) + 3600000000 ))
	for t in acceptor:1 acceptor:2 acceptor:3; do
		forge -t "$t" -k "$D/client.key" -s client:1 -I -x 1100 -e "$hour_ahead" status
	done
	run -0 paxos-status -c "$CONF"
}

@test "the MyPaxos session under ASan and UBSan reports nothing" {
	local bin=$BATS_TEST_DIRNAME/../san/bin
	[ -x "$bin/paxos-acceptor" ] || skip "make san-programs builds san/bin"
	run -0 sh "$TOOLS/san-session.sh" "$bin"
	assert_output --regexp '^san-session: 7 programs, [0-9]+ logs, no report$'
}
