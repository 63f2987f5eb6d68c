#!/usr/bin/env bats
# Golden files for the configuration check, as OpenBSD diffs bgpd -nv
# against bgpd.conf.N.ok.  For each test/conf/NAME.conf (and the shipped
# etc/paxos.conf.example and etc/demo.conf), paxos-acceptor -nv and
# paxos-proposer -nv print test/conf/NAME.ok on stdout and exit 0; for
# each NAME.bad.conf they print NAME.bad.ok on stderr and exit 78.
# Before comparing, the folder the file was copied into becomes @DIR@
# and the program's name @PROG@.
#
# After an intended change of output: PAXOS_REGEN=1 bats test/conf.bats
# rewrites the .ok files; read the diff before you commit it.

setup() {
	load test_helper
	CONFDIR=$BATS_TEST_DIRNAME/conf
	ETCDIR=$BATS_TEST_DIRNAME/../etc
	# The secrets the configurations name, beside them.
	DIR=$BATS_TEST_TMPDIR/etc
	mkdir -p "$DIR"
	make_key "$DIR/paxos.key"
	make_key "$DIR/loose.key"
	chmod 640 "$DIR/loose.key"
	(umask 077 && echo 'not a secret' > "$DIR/junk.key")
}

# normalise PROG: stdin with $DIR as @DIR@ and "PROG:" as "@PROG@:"
normalise() {
	sed -e "s|$DIR|@DIR@|g" -e "s|^$1:|@PROG@:|"
}

# golden SRC NAME STATUS: copy SRC into $DIR; both daemons' -nv print
# NAME.ok (stdout for status 0, stderr otherwise) and exit STATUS, and
# -n prints the same on stderr and nothing on stdout.
golden() {
	local src=$1 ok=$CONFDIR/$2.ok status=$3 conf prog got
	conf=$DIR/${src##*/}
	cp "$src" "$conf"
	for prog in paxos-acceptor paxos-proposer; do
		run "-$status" --separate-stderr "$prog" -nv -c "$conf"
		if ((status == 0)); then
			assert_equal "$stderr" ""
			got=$(normalise "$prog" <<<"$output")
		else
			assert_equal "$output" ""
			got=$(normalise "$prog" <<<"$stderr")
		fi
		if [ "${PAXOS_REGEN:-}" = 1 ] && [ "$prog" = paxos-acceptor ]; then
			printf '%s\n' "$got" > "$ok"
		fi
		[ -e "$ok" ] || fail "$ok is missing (PAXOS_REGEN=1 writes it)"
		diff -u "$ok" - <<<"$got" ||
		    fail "$prog -nv -c ${conf##*/}: output differs from ${ok##*/}"

		run "-$status" --separate-stderr "$prog" -n -c "$conf"
		assert_equal "$output" ""
		if ((status == 0)); then
			assert_equal "$stderr" ""
		else
			diff -u "$ok" - <<<"$(normalise "$prog" <<<"$stderr")" ||
			    fail "$prog -n -c ${conf##*/}: message differs"
		fi
	done
}

good() {
	golden "$CONFDIR/$1.conf" "$1" 0
}

bad() {
	golden "$CONFDIR/$1.bad.conf" "$1.bad" 78
}

@test "every test/conf file has its pair and a test" {
	local f name
	for f in "$CONFDIR"/*.conf; do
		name=${f##*/}
		name=${name%.conf}
		[ -e "$CONFDIR/$name.ok" ] || fail "$name.conf has no $name.ok"
		if [[ $name == *.bad ]]; then
			grep -qx "	bad ${name%.bad}" "$BATS_TEST_FILENAME" ||
			    fail "no test runs $name.conf"
		else
			grep -qx "	good $name" "$BATS_TEST_FILENAME" ||
			    fail "no test runs $name.conf"
		fi
	done
	for f in "$CONFDIR"/*.ok; do
		name=${f##*/}
		name=${name%.ok}
		[ -e "$CONFDIR/$name.conf" ] || [ -e "$ETCDIR/$name" ] ||
		    fail "${f##*/} belongs to no configuration"
	done
}

# The configurations the project ships.

@test "etc/paxos.conf.example: the shipped example, data_dir /var/lib/paxos" {
	golden "$ETCDIR/paxos.conf.example" paxos.conf.example 0
	grep -qx 'data_dir = /var/lib/paxos' "$CONFDIR/paxos.conf.example.ok"
}

@test "etc/demo.conf: the demo cluster" {
	golden "$ETCDIR/demo.conf" demo.conf 0
}

# Good configurations.

@test "defaults.conf: only the required keys, every default filled in" {
	good defaults
}

@test "roles.conf: roles, explicit ports, standby proposer, learner-only node" {
	good roles
}

@test "ipv6.conf: IPv6 addresses and host names, persist = no" {
	good ipv6
}

@test "settings.conf: every [cluster] key, extreme values, other spellings" {
	good settings
}

# Bad configurations: exit 78 naming the file, the line and the fault.

@test "unknown-key.bad.conf: an unknown key" {
	bad unknown-key
}

@test "unknown-section.bad.conf: an unknown section" {
	bad unknown-section
}

@test "node-zero.bad.conf: node id 0" {
	bad node-zero
}

@test "no-section.bad.conf: a key before any section" {
	bad no-section
}

@test "no-secret.bad.conf: no secret_file" {
	bad no-secret
}

@test "duplicate-node.bad.conf: two sections for one node" {
	bad duplicate-node
}

@test "duplicate-key.bad.conf: a key twice in a section" {
	bad duplicate-key
}

@test "indented.bad.conf: an indented key continues the previous value" {
	bad indented
}

@test "long-line.bad.conf: a line inih would cut" {
	bad long-line
}

@test "port-range.bad.conf: a base port without room for three" {
	bad port-range
}

@test "timeout.bad.conf: a timeout that is not milliseconds" {
	bad timeout
}

@test "persist.bad.conf: persist neither yes nor no" {
	bad persist
}

@test "roles.bad.conf: an unknown role" {
	bad roles
}

@test "no-acceptor.bad.conf: nobody votes" {
	bad no-acceptor
}

@test "no-host.bad.conf: a node without host" {
	bad no-host
}

@test "no-port.bad.conf: a role without a port" {
	bad no-port
}

@test "same-address.bad.conf: two nodes on one address" {
	bad same-address
}

@test "myid.bad.conf: myid names no node" {
	bad myid
}

@test "secret-missing.bad.conf: the secret file does not exist" {
	bad secret-missing
}

@test "secret-mode.bad.conf: the secret is readable by the group" {
	bad secret-mode
}

@test "secret-junk.bad.conf: the secret is not a base64 32-byte key" {
	bad secret-junk
}
