# kv-apply: commands, output format, state file and exit codes.

setup() {
	load test_helper
	STATE=$BATS_TEST_TMPDIR/state
}

@test "the MyPaxos session prints ok ok Mike ok null" {
	run -0 bash -c "printf 'put name Mike\nput age 22\nget name\ndelete name\nget name\n' | kv-apply"
	assert_output "$(printf 'ok\nok\nMike\nok\nnull')"
}

@test "the MyPaxos session in JSON form prints the same" {
	cat > "$BATS_TEST_TMPDIR/in" <<-'EOF'
	{"type":"put","key":"name","value":"Mike"}
	{"type":"put","key":"age","value":"22"}
	{"type":"get","key":"name"}
	{"type":"delete","key":"name"}
	{"type":"get","key":"name"}
	EOF
	run -0 kv-apply < "$BATS_TEST_TMPDIR/in"
	assert_output "$(printf 'ok\nok\nMike\nok\nnull')"
}

@test "text and JSON commands share one map" {
	cat > "$BATS_TEST_TMPDIR/in" <<-'EOF'
	put a 1
	{"type":"get","key":"a"}
	{"type":"put","key":"b","value":"x\ty \u00e9\\"}
	get b
	{"type":"delete","key":"a"}
	get a
	EOF
	run -0 kv-apply < "$BATS_TEST_TMPDIR/in"
	assert_output "$(printf 'ok\n1\nok\nx\ty \303\251\\\nok\nnull')"
}

@test "POS<TAB> prefixes are carried to the output" {
	run -0 bash -c "printf '1\tput k v\n3\tget k\nget k\n12\tget nope\n' | kv-apply"
	assert_output "$(printf '1\tok\n3\tv\nv\n12\tnull')"
}

@test "bad commands print error lines and it carries on" {
	run -0 bash -c "printf 'frob x\nget\nput k\n\nget a b\ndelete\n{bad\n{\"type\":\"put\",\"key\":\"k\"}\n{\"type\":\"fly\",\"key\":\"k\"}\n7\tnope\n0\tget k\nget k\n' | kv-apply"
	assert_line -n 0 "error: unknown command"
	assert_line -n 1 "error: usage: get KEY"
	assert_line -n 2 "error: usage: put KEY VALUE"
	assert_line -n 3 "error: empty command"
	assert_line -n 4 "error: usage: get KEY"
	assert_line -n 5 "error: usage: delete KEY"
	assert_line -n 6 --regexp '^error: bad JSON: .+$'
	assert_line -n 7 'error: JSON put needs a string "value"'
	assert_line -n 8 "error: unknown command"
	assert_line -n 9 "$(printf '7\terror: unknown command')"
	assert_line -n 10 "$(printf '0\terror: bad position')"
	assert_line -n 11 "null"
	assert_equal "${#lines[@]}" 12
}

@test "values keep spaces, tabs, backslashes and non-UTF-8 bytes" {
	value=$'  a b\t\\n c\\ \xff\xfe\x80 end '
	printf 'put k %s\nget k\n' "$value" > "$BATS_TEST_TMPDIR/in"
	kv-apply < "$BATS_TEST_TMPDIR/in" > "$BATS_TEST_TMPDIR/out"
	printf 'ok\n%s\n' "$value" | cmp - "$BATS_TEST_TMPDIR/out"
}

@test "a 70 KiB value and a last line without newline round trip" {
	value=$(head -c 71680 /dev/zero | tr '\0' 'x')
	printf 'put k %s\nget k' "$value" > "$BATS_TEST_TMPDIR/in"
	kv-apply < "$BATS_TEST_TMPDIR/in" > "$BATS_TEST_TMPDIR/out"
	printf 'ok\n%s\n' "$value" | cmp - "$BATS_TEST_TMPDIR/out"
}

@test "-s keeps the map across runs, odd bytes and all" {
	value=$'a b\t\\ \xff'
	printf '1\tput k %s\n2\t{"type":"put","key":"sp ace","value":""}\n' \
	    "$value" | kv-apply -s "$STATE" > /dev/null
	printf '3\tget k\n4\t{"type":"get","key":"sp ace"}\n' |
	    kv-apply -s "$STATE" > "$BATS_TEST_TMPDIR/out"
	printf '3\t%s\n4\t\n' "$value" | cmp - "$BATS_TEST_TMPDIR/out"
	[ ! -e "$STATE.tmp" ]
}

@test "-s skips positions already applied and prints nothing for them" {
	printf '1\tput a 1\n2\tput a 2\n' | kv-apply -s "$STATE"
	run -0 bash -c "printf '1\tput a x\n2\tget a\n3\tget a\n' | kv-apply -s '$STATE'"
	assert_output "$(printf '3\t2')"
}

@test "-s applies lines without a position but does not advance it" {
	printf '5\tput a 1\nput b 2\n' | kv-apply -s "$STATE"
	run -0 kv-apply -s "$STATE" --position
	assert_output "5"
	run -0 bash -c "echo 'get b' | kv-apply -s '$STATE'"
	assert_output "2"
}

@test "--position prints 0 for a missing state file" {
	run -0 kv-apply -s "$STATE" --position
	assert_output "0"
	[ ! -e "$STATE" ]
}

@test "--position prints the last applied position" {
	printf '1\tput a 1\n4\tget a\n9\tdelete a\n' | kv-apply -s "$STATE"
	run -0 kv-apply --position -s "$STATE"
	assert_output "9"
}

@test "--position without -s is a usage error" {
	run -64 kv-apply --position
	assert_line -n 0 "kv-apply: warning: --position needs -s"
	assert_line -n 1 "usage: kv-apply [-hVv] [-s statefile] [--position]"
}

@test "the resume pipeline of SPEC 6 applies each position once" {
	# A stand-in for "paxos-learner -n --from POS": positions >= POS,
	# with the gaps a learner may leave.
	printf '%s\n' $'1\tput name Mike' $'2\tput age 22' $'4\tget name' \
	    $'5\tdelete name' $'7\tget name' $'8\tget age' > "$BATS_TEST_TMPDIR/log"
	learner() { awk -F '\t' -v from="$1" '$1 >= from' "$BATS_TEST_TMPDIR/log"; }

	learner 1 | head -3 | kv-apply -s "$STATE" > "$BATS_TEST_TMPDIR/out"
	from=$(( $(kv-apply -s "$STATE" --position) + 1 ))
	assert_equal "$from" 5
	learner "$from" | kv-apply -s "$STATE" >> "$BATS_TEST_TMPDIR/out"
	# After a kill -9 the learner may repeat lines: they are skipped.
	learner 2 | kv-apply -s "$STATE" >> "$BATS_TEST_TMPDIR/out"
	run -0 cat "$BATS_TEST_TMPDIR/out"
	assert_output "$(printf '1\tok\n2\tok\n4\tMike\n5\tok\n7\tnull\n8\t22')"
	run -0 kv-apply -s "$STATE" --position
	assert_output "8"
}

@test "a corrupt state file exits 65 naming the file" {
	echo garbage > "$STATE"
	run -65 kv-apply -s "$STATE"
	assert_output "kv-apply: fatal: $STATE: corrupt state file at byte 0"
}

@test "a truncated state file exits 65" {
	printf '1\tput key value\n2\tput other thing\n' | kv-apply -s "$STATE"
	head -c -3 "$STATE" > "$BATS_TEST_TMPDIR/cut"
	mv "$BATS_TEST_TMPDIR/cut" "$STATE"
	run -65 kv-apply -s "$STATE" --position
	assert_output --regexp "^kv-apply: fatal: $STATE: corrupt state file at byte [0-9]+\$"
}

@test "an unreadable state file exits 66" {
	[ "$(id -u)" != 0 ] || skip "root can read a mode 000 file"
	printf '1\tput a 1\n' | kv-apply -s "$STATE"
	chmod 000 "$STATE"
	run -66 kv-apply -s "$STATE" --position
	assert_output "kv-apply: fatal: $STATE: Permission denied"
}

@test "a state file that cannot be created exits 73" {
	run -73 bash -c "echo 'put a 1' | kv-apply -s '$BATS_TEST_TMPDIR/none/state'"
	assert_line -n 0 "ok"
	assert_line -n 1 "kv-apply: fatal: $BATS_TEST_TMPDIR/none/state.tmp: No such file or directory"
}

@test "a state file that is a directory exits 74" {
	mkdir "$STATE"
	run -74 kv-apply -s "$STATE" --position
	assert_output "kv-apply: fatal: read $STATE: Is a directory"
}

@test "-h prints usage to stdout and exits 0" {
	run -0 --separate-stderr kv-apply -h
	assert_output "usage: kv-apply [-hVv] [-s statefile] [--position]"
	[ -z "$stderr" ]
}

@test "-V prints the version" {
	run -0 kv-apply -V
	assert_output --regexp '^kv-apply [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "-v logs to stderr and leaves stdout alone" {
	run -0 --separate-stderr bash -c "printf '1\tput a 1\n1\tget a\n' | kv-apply -v -s '$STATE'"
	assert_output "$(printf '1\tok')"
	[[ "$stderr" == *"kv-apply: debug: skip pos=1: applied"* ]]
}

@test "an unknown option exits 64 with usage on stderr" {
	run -64 --separate-stderr kv-apply -x
	assert_output ""
	[[ "$stderr" == *"usage: kv-apply [-hVv] [-s statefile] [--position]" ]]
}

@test "an operand exits 64" {
	run -64 --separate-stderr kv-apply extra
	assert_output ""
	[ "$stderr" = "usage: kv-apply [-hVv] [-s statefile] [--position]" ]
}

@test "an empty state file name exits 64" {
	run -64 --separate-stderr kv-apply -s ''
	[ "$stderr" = "usage: kv-apply [-hVv] [-s statefile] [--position]" ]
}

@test "a state file given by a relative name works in its directory" {
	cd "$BATS_TEST_TMPDIR"
	printf '1\tput a 1\n' | kv-apply -s rel
	run -0 kv-apply -s rel --position
	assert_output "1"
	[ -f "$BATS_TEST_TMPDIR/rel" ]
}

@test "a closed stdout exits 74" {
	run -74 bash -c "echo 'get a' | kv-apply 1>&-"
	assert_output "kv-apply: fatal: stdout: Bad file descriptor"
}

@test "a reader that goes away exits 74 (EPIPE)" {
	yes 'put k v' | head -n 200000 > "$BATS_TEST_TMPDIR/in"
	run -0 bash -c "kv-apply < '$BATS_TEST_TMPDIR/in' 2>'$BATS_TEST_TMPDIR/err' | head -n 1; echo \${PIPESTATUS[0]}"
	assert_output "$(printf 'ok\n74')"
	run -0 cat "$BATS_TEST_TMPDIR/err"
	assert_output "kv-apply: fatal: write stdout: Broken pipe"
}

@test "a reader that goes away with -s loses no position" {
	seq 1 200000 | sed 's/$/\tput k v/' > "$BATS_TEST_TMPDIR/in"
	run -0 bash -c "kv-apply -s '$STATE' < '$BATS_TEST_TMPDIR/in' 2>/dev/null | head -n 1; echo \${PIPESTATUS[0]}"
	assert_output "$(printf '1\tok\n74')"
	pos=$(kv-apply -s "$STATE" --position)
	[ "$pos" -lt 200000 ]
	# What was not saved is applied again, and nothing twice.
	run -0 bash -c "kv-apply -s '$STATE' < '$BATS_TEST_TMPDIR/in' | wc -l"
	assert_output "$(( 200000 - pos ))"
	run -0 kv-apply -s "$STATE" --position
	assert_output "200000"
}
