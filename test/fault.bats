# Fault injection on real processes: test/fault/fault.py runs a cluster
# under concurrent clients while it kills, pauses and restarts daemons,
# then checks the history against SPEC section 4.

setup() {
	load test_helper
}

@test "the history checker passes good histories and catches every kind of violation" {
	run python3 "$BATS_TEST_DIRNAME/fault/fault.py" --self-test
	assert_success
	assert_line PASS
}

@test "under kill -9, SIGSTOP and restarts of every daemon the log keeps SPEC 4's guarantees" {
	run python3 "$BATS_TEST_DIRNAME/fault/fault.py" \
	    --bindir "$BATS_TEST_DIRNAME/.." --seconds 20
	assert_success
	assert_line PASS
}

@test "with 20% of UDP datagrams dropped in a network namespace the log keeps SPEC 4's guarantees" {
	[ "$(id -u)" = 0 ] || skip "needs root to create a network namespace"
	command -v nft > /dev/null || skip "nft (nftables) is not installed"
	command -v ip > /dev/null || skip "ip (iproute2) is not installed"
	ip netns list > /dev/null 2>&1 || skip "ip netns does not work here"
	run python3 "$BATS_TEST_DIRNAME/fault/fault.py" \
	    --bindir "$BATS_TEST_DIRNAME/.." --seconds 15 --netns-loss 20
	if [ "$status" -eq 77 ]; then
		skip "${lines[-1]#skip: }"
	fi
	assert_success
	assert_line PASS
}
