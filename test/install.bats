#!/usr/bin/env bats
# make install and make uninstall into a DESTDIR: where each file lands,
# its mode, the units' substituted paths, that the installed programs
# run a cluster, and that the operator's paxos.conf is never overwritten.

setup() {
	load test_helper
	TOP=$BATS_TEST_DIRNAME/..
	ROOT=$BATS_TEST_TMPDIR/root
	SBIN_PROGS="paxos-acceptor paxos-proposer"
	BIN_PROGS="paxos-learner paxos-submit kv-apply paxos-keygen"
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

# install [VAR=value...]: make install into $ROOT, as a package would
install() {
	top_make install DESTDIR="$ROOT" "$@"
}

uninstall() {
	top_make uninstall DESTDIR="$ROOT" "$@"
}

# mode FILE: its permission bits in octal
mode() {
	stat -c %a "$1"
}

@test "install with PREFIX=/usr puts every file where it belongs, with its mode" {
	local p f u
	run -0 install PREFIX=/usr SYSCONFDIR=/etc
	for p in $SBIN_PROGS; do
		assert_equal "$(mode "$ROOT/usr/sbin/$p")" 755
	done
	for p in $BIN_PROGS; do
		assert_equal "$(mode "$ROOT/usr/bin/$p")" 755
	done
	for f in "$TOP"/man/*.[0-9]; do
		f=${f##*/}
		assert_equal "$(mode "$ROOT/usr/share/man/man${f##*.}/$f")" 644
	done
	for u in $UNITS; do
		assert_equal "$(mode "$ROOT/usr/lib/systemd/system/$u")" 644
	done
	assert_equal "$(mode "$ROOT/usr/lib/sysusers.d/paxos.conf")" 644
	assert_equal "$(mode "$ROOT/usr/share/doc/paxos/examples/learner-1.env")" 644
	assert_equal "$(mode "$ROOT/etc/paxos")" 755
	assert_equal "$(mode "$ROOT/etc/paxos/paxos.conf")" 644
	assert_equal "$(mode "$ROOT/etc/paxos/paxos.conf.example")" 644
	cmp "$TOP/etc/paxos.conf.example" "$ROOT/etc/paxos/paxos.conf"
	cmp "$TOP/etc/paxos.conf.example" "$ROOT/etc/paxos/paxos.conf.example"
	# Nothing outside these folders, and no secret: that is the operator's.
	run -0 bash -c "cd '$ROOT' && find . -type f | cut -d/ -f2-3 | sort -u"
	assert_output "etc/paxos
usr/bin
usr/lib
usr/sbin
usr/share"
	[ ! -e "$ROOT/etc/paxos/paxos.key" ]
}

@test "installed units name the installed paths, with no @placeholder@ left" {
	local u
	install PREFIX=/usr SYSCONFDIR=/etc
	for u in $UNITS; do
		run -1 grep -n '@[A-Z]*@' "$ROOT/usr/lib/systemd/system/$u"
	done
	cd "$ROOT/usr/lib/systemd/system"
	run -0 grep -h '^ExecStart=/usr' paxos-acceptor@.service \
	    paxos-proposer@.service
	assert_output "ExecStart=/usr/sbin/paxos-acceptor -c /etc/paxos/paxos.conf -i %i
ExecStart=/usr/sbin/paxos-proposer -c /etc/paxos/paxos.conf -i %i"
	grep -qx 'EnvironmentFile=/etc/paxos/learner-%i.env' paxos-learner@.service
	grep -q '^    /usr/bin/paxos-learner -n -c /etc/paxos/paxos.conf -i %i ' \
	    paxos-learner@.service
	grep -qx 'Environment=PATH=/usr/bin:/usr/local/bin:/usr/bin:/bin' \
	    paxos-learner@.service
}

@test "the default PREFIX is /usr/local, and each directory variable is honoured" {
	install
	[ -x "$ROOT/usr/local/sbin/paxos-acceptor" ]
	[ -x "$ROOT/usr/local/bin/paxos-submit" ]
	[ -e "$ROOT/usr/local/share/man/man7/paxos.7" ]
	[ -e "$ROOT/etc/paxos/paxos.conf" ]
	grep -qx 'ExecStart=/usr/local/sbin/paxos-acceptor -c /etc/paxos/paxos.conf -i %i' \
	    "$ROOT/usr/local/lib/systemd/system/paxos-acceptor@.service"

	ROOT=$BATS_TEST_TMPDIR/root2
	install PREFIX=/opt/px BINDIR=/opt/b SBINDIR=/opt/s MANDIR=/opt/m \
	    SYSCONFDIR=/opt/etc UNITDIR=/opt/u SYSUSERSDIR=/opt/su \
	    EXAMPLEDIR=/opt/ex
	[ -x "$ROOT/opt/s/paxos-proposer" ]
	[ -x "$ROOT/opt/b/paxos-learner" ]
	[ -e "$ROOT/opt/m/man5/paxos.conf.5" ]
	[ -e "$ROOT/opt/etc/paxos/paxos.conf" ]
	[ -e "$ROOT/opt/su/paxos.conf" ]
	[ -e "$ROOT/opt/ex/learner-1.env" ]
	grep -qx 'ExecStart=/opt/s/paxos-proposer -c /opt/etc/paxos/paxos.conf -i %i' \
	    "$ROOT/opt/u/paxos-proposer@.service"
	grep -q '^    /opt/b/paxos-learner -n -c /opt/etc/paxos/paxos.conf' \
	    "$ROOT/opt/u/paxos-learner@.service"
	[ ! -e "$ROOT/opt/px" ]
}

@test "every installed program answers -V and -h" {
	local p n=0
	install PREFIX=/usr
	for p in "$ROOT"/usr/sbin/* "$ROOT"/usr/bin/*; do
		run -0 --separate-stderr "$p" -V
		assert_output "${p##*/} 0.1.0"
		run -0 --separate-stderr "$p" -h
		assert_output --regexp "^usage: ${p##*/} "
		n=$((n + 1))
	done
	((n >= 6))
}

@test "the installed programs run a cluster: submit, learn, apply" {
	install PREFIX=/usr
	PATH=$ROOT/usr/sbin:$ROOT/usr/bin:$PATH
	assert_equal "$(command -v paxos-acceptor)" "$ROOT/usr/sbin/paxos-acceptor"
	assert_equal "$(command -v paxos-submit)" "$ROOT/usr/bin/paxos-submit"
	make_cluster "$BATS_TEST_TMPDIR/c"
	paxos-acceptor -n -c "$CONF"
	start_acceptors
	start_daemon paxos-proposer 1
	run -0 submit -n 'put name Mike' 'put age 22' 'get name'
	assert_output $'1\n2\n3'
	run -0 bash -c "timeout 15 paxos-learner -c '$CONF' -i 1 -n --count 3 \
	    2>/dev/null | kv-apply"
	assert_output $'1\tok\n2\tok\n3\tMike'
}

@test "a second install keeps an edited paxos.conf and refreshes the example" {
	install PREFIX=/usr
	printf '; edited by the operator\n' >> "$ROOT/etc/paxos/paxos.conf"
	cp "$ROOT/etc/paxos/paxos.conf" "$BATS_TEST_TMPDIR/edited"
	echo stale > "$ROOT/etc/paxos/paxos.conf.example"
	run -0 install PREFIX=/usr
	assert_output "keeping $ROOT/etc/paxos/paxos.conf"
	cmp "$BATS_TEST_TMPDIR/edited" "$ROOT/etc/paxos/paxos.conf"
	cmp "$TOP/etc/paxos.conf.example" "$ROOT/etc/paxos/paxos.conf.example"
}

@test "install keeps a paxos.conf that is a symbolic link" {
	mkdir -p "$ROOT/etc/paxos"
	echo mine > "$BATS_TEST_TMPDIR/mine.conf"
	ln -s "$BATS_TEST_TMPDIR/mine.conf" "$ROOT/etc/paxos/paxos.conf"
	install PREFIX=/usr
	[ -L "$ROOT/etc/paxos/paxos.conf" ]
	assert_equal "$(cat "$BATS_TEST_TMPDIR/mine.conf")" mine
}

@test "uninstall removes everything install added, and can run twice" {
	install PREFIX=/usr
	run -0 uninstall PREFIX=/usr
	run -0 find "$ROOT" -type f
	assert_output ""
	[ ! -e "$ROOT/etc/paxos" ]
	[ ! -e "$ROOT/usr/share/doc/paxos" ]
	run -0 uninstall PREFIX=/usr
}

@test "uninstall keeps an edited paxos.conf and the secret beside it" {
	local c
	install PREFIX=/usr
	printf '; edited by the operator\n' >> "$ROOT/etc/paxos/paxos.conf"
	(umask 077 && echo secret > "$ROOT/etc/paxos/paxos.key")
	run -0 uninstall PREFIX=/usr
	c=$ROOT/etc/paxos/paxos.conf
	assert_line "keeping $c: it differs from $c.example"
	run -0 bash -c "cd '$ROOT' && find . -type f | sort"
	assert_output "./etc/paxos/paxos.conf
./etc/paxos/paxos.key"
	tail -1 "$ROOT/etc/paxos/paxos.conf" | grep -qx '; edited by the operator'
}
