# Shared set-up for the bats tests: libraries, free ports, a three-node
# cluster on 127.0.0.1 written into $BATS_TEST_TMPDIR, daemons started
# and stopped by PID.
bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert
