# paxos: a Multi-Paxos replicated log as a toolkit of small C programs.
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
SBINDIR    ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR    ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
EXAMPLEDIR ?= $(PREFIX)/share/doc/paxos/examples
PKG_CONFIG ?= pkg-config
BATS       ?= bats
VERSION    := 0.1.0

CFLAGS ?= -O2 -g
# Flags the build needs whatever the user passes in CFLAGS.
PAXOS_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
	-D_FILE_OFFSET_BITS=64 \
	-Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-MMD -MP -Ilib -DSYSCONFDIR='"$(SYSCONFDIR)"' \
	-DPAXOS_VERSION='"$(VERSION)"' \
	$(shell $(PKG_CONFIG) --cflags libsodium inih lmdb libxxhash jansson)
PAXOS_LIBS := $(shell $(PKG_CONFIG) --libs libsodium inih lmdb libxxhash)
JSON_LIBS  := $(shell $(PKG_CONFIG) --libs jansson)
ALL_CFLAGS  = $(PAXOS_CFLAGS) $(CPPFLAGS) $(CFLAGS)

# The protocol core: no sockets, clocks, files or allocation.
CORE_SRC := lib/msg.c lib/acceptor.c lib/proposer.c lib/learner.c lib/client.c \
	lib/session_index.c
SHELL_SRC := lib/log.c lib/conf.c lib/auth.c lib/net.c \
	lib/store.c lib/wal.c lib/node.c
LIB_SRC  := $(CORE_SRC) $(SHELL_SRC)
LIB_OBJ  := $(LIB_SRC:.c=.o)

SBIN_PROGS := paxos-acceptor paxos-proposer
BIN_PROGS  := paxos-learner paxos-submit kv-apply paxos-keygen paxos-status
PROGS      := $(SBIN_PROGS) $(BIN_PROGS)

UNIT := $(patsubst %.c,%,$(wildcard test/unit/*_test.c))
SIM  := test/sim/paxos_sim
SEEDS ?= 2000

# Test binaries run under AddressSanitizer and UBSan, stopping at the
# first report; they link a library built the same way under san/.
SAN_CFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
SAN_LIB_OBJ := $(LIB_SRC:%.c=san/%.o)

all: $(PROGS)

lib/libpaxos.a: $(LIB_OBJ)
	$(AR) rcs $@ $^

%.o: %.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

kv-apply: cmd/kv-apply.o lib/libpaxos.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(PAXOS_LIBS) $(JSON_LIBS)

paxos-%: cmd/paxos-%.o lib/libpaxos.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(PAXOS_LIBS)

san/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN_CFLAGS) -c -o $@ $<

san/libpaxos.a: $(SAN_LIB_OBJ)
	$(AR) rcs $@ $^

test/unit/%_test: san/test/unit/%_test.o san/libpaxos.a
	$(CC) $(ALL_CFLAGS) $(SAN_CFLAGS) $(LDFLAGS) -o $@ $^ $(PAXOS_LIBS)

test/sim/%: san/test/sim/%.o san/libpaxos.a
	$(CC) $(ALL_CFLAGS) $(SAN_CFLAGS) $(LDFLAGS) -o $@ $^ $(PAXOS_LIBS)

test/bench/bench_client: test/bench/bench_client.o lib/libpaxos.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(PAXOS_LIBS)

test/bench/host_probe: test/bench/host_probe.o
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^

bench: all test/bench/bench_client test/bench/host_probe
	@sh test/bench/bench.sh

# The protocol core must stay free of I/O, so the simulator can run it.
check-core:
	@! grep -En '<(sys/socket|time|unistd|stdlib|stdio|fcntl)\.h>|malloc' \
	    $(CORE_SRC) || { echo "core files must do no I/O"; exit 1; }

# The simulator's self-test: built with quorums that need not intersect,
# it must find a violation of SPEC 4.
test/sim/paxos_sim_broken: test/sim/paxos_sim.c $(LIB_SRC)
	$(CC) $(ALL_CFLAGS) -DPAXOS_BROKEN_QUORUM $(LDFLAGS) -o $@ \
	    test/sim/paxos_sim.c $(LIB_SRC) $(PAXOS_LIBS)

sim-teeth: test/sim/paxos_sim_broken
	@if ./test/sim/paxos_sim_broken -s 1 -n 500 >/dev/null \
	    2>test/sim/teeth.log; then \
	    echo "sim-teeth: a broken quorum rule went unnoticed"; exit 1; fi
	@grep -Eq 'agreement|validity|integrity|order' test/sim/teeth.log || \
	    { cat test/sim/teeth.log; exit 1; }
	@echo "sim-teeth: with a broken quorum rule: $$(tail -1 \
	    test/sim/teeth.log)"

check: all check-core $(UNIT) $(SIM) sim-teeth tools san-programs
	@for t in $(UNIT); do ./$$t > $$t.tap || { cat $$t.tap; exit 1; }; \
	    echo "$$t: $$(grep -c '^ok' $$t.tap) passed"; done
	./$(SIM) -s 1 -n $(SEEDS)
	$(MAKE) fuzz-check
	mandoc -Tlint -W warning man/*.[0-9]
	PATH="$(CURDIR):$$PATH" $(BATS) test

sim: $(SIM)
	./$(SIM) -s 1 -n $(SEEDS)

# The long runs: the fault test on real processes for MINUTES minutes
# (with 20% datagram loss in a network namespace when root and nft
# allow), then SOAK_SEEDS simulator seeds.
MINUTES ?= 10
SOAK_SEEDS ?= 100000
soak: all $(SIM)
	python3 test/fault/fault.py --bindir "$(CURDIR)" --minutes $(MINUTES)
	./$(SIM) -s 1000000 -n $(SOAK_SEEDS)

deps:
	@if [ "$$(id -u)" = 0 ]; then s=; else s=sudo; fi; \
	$$s apt-get update && $$s apt-get install -y build-essential \
	    pkg-config libsodium-dev libinih-dev liblmdb-dev libxxhash-dev \
	    libjansson-dev bats bats-support bats-assert mandoc python3 clang \
	    libclang-rt-14-dev systemd iproute2 nftables

demo: all
	@sh etc/demo.sh

install: all
	install -d "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(SBINDIR)" \
	    "$(DESTDIR)$(MANDIR)/man1" "$(DESTDIR)$(MANDIR)/man5" \
	    "$(DESTDIR)$(MANDIR)/man7" "$(DESTDIR)$(MANDIR)/man8" \
	    "$(DESTDIR)$(UNITDIR)" "$(DESTDIR)$(SYSUSERSDIR)" \
	    "$(DESTDIR)$(EXAMPLEDIR)" "$(DESTDIR)$(SYSCONFDIR)/paxos"
	install -m 755 $(SBIN_PROGS) "$(DESTDIR)$(SBINDIR)"
	install -m 755 $(BIN_PROGS) "$(DESTDIR)$(BINDIR)"
	install -m 644 man/*.1 "$(DESTDIR)$(MANDIR)/man1"
	install -m 644 man/*.5 "$(DESTDIR)$(MANDIR)/man5"
	install -m 644 man/*.7 "$(DESTDIR)$(MANDIR)/man7"
	install -m 644 man/*.8 "$(DESTDIR)$(MANDIR)/man8"
	for u in etc/systemd/*.service; do \
	    sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SBINDIR@|$(SBINDIR)|g' \
	        -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' "$$u" \
	        > "$(DESTDIR)$(UNITDIR)/$${u##*/}" && \
	    chmod 644 "$(DESTDIR)$(UNITDIR)/$${u##*/}" || exit 1; done
	install -m 644 etc/systemd/paxos.sysusers \
	    "$(DESTDIR)$(SYSUSERSDIR)/paxos.conf"
	install -m 644 etc/paxos/learner-1.env "$(DESTDIR)$(EXAMPLEDIR)"
	install -m 644 etc/paxos.conf.example "$(DESTDIR)$(SYSCONFDIR)/paxos"
	@# The configuration is the operator's: never overwrite it.
	@c="$(DESTDIR)$(SYSCONFDIR)/paxos/paxos.conf"; \
	if [ -e "$$c" ] || [ -L "$$c" ]; then echo "keeping $$c"; \
	else echo "install -m 644 etc/paxos.conf.example $$c"; \
	    install -m 644 etc/paxos.conf.example "$$c"; fi

# Removes what install added, except a paxos.conf that differs from the
# example it was installed from: that is the operator's now.
uninstall:
	rm -f $(addprefix "$(DESTDIR)$(SBINDIR)"/,$(SBIN_PROGS)) \
	    $(addprefix "$(DESTDIR)$(BINDIR)"/,$(BIN_PROGS))
	for f in man/*.[0-9]; do \
	    rm -f "$(DESTDIR)$(MANDIR)/man$${f##*.}/$${f#man/}"; done
	for u in etc/systemd/*.service; do \
	    rm -f "$(DESTDIR)$(UNITDIR)/$${u##*/}"; done
	rm -f "$(DESTDIR)$(SYSUSERSDIR)/paxos.conf" \
	    "$(DESTDIR)$(EXAMPLEDIR)/learner-1.env"
	@c="$(DESTDIR)$(SYSCONFDIR)/paxos/paxos.conf"; \
	if [ -e "$$c" ] && ! cmp -s "$$c" "$$c.example"; then \
	    echo "keeping $$c: it differs from $$c.example"; \
	elif [ -e "$$c" ]; then echo "rm -f $$c"; rm -f "$$c"; fi
	rm -f "$(DESTDIR)$(SYSCONFDIR)/paxos/paxos.conf.example"
	@d="$(DESTDIR)$(EXAMPLEDIR)"; rmdir "$$d" 2>/dev/null; \
	d=$${d%/*}; [ "$${d##*/}" != paxos ] || rmdir "$$d" 2>/dev/null; \
	rmdir "$(DESTDIR)$(SYSCONFDIR)/paxos" 2>/dev/null; true

clean:
	rm -rf $(PROGS) $(UNIT) $(SIM) test/sim/paxos_sim_broken \
	    test/bench/bench_client test/bench/host_probe \
	    test/tools/paxos-forge \
	    test/tools/paxos-flood test/fuzz/mkseeds \
	    test/sim/teeth.log lib/libpaxos.a */*.o */*.d test/*/*.o \
	    test/*/*.d test/unit/*.tap san

.PHONY: all bench check check-core sim sim-teeth soak deps demo install uninstall clean
.SECONDARY:
-include $(wildcard */*.d test/*/*.d san/*/*.d san/test/*/*.d)

# Hostile input.  libFuzzer targets (clang), the programs under ASan and
# UBSan, and the tools the hostile and flood tests send datagrams with.
# `make fuzz FUZZ_SECONDS=N` fuzzes each target N seconds from its seeds
# in test/fuzz/corpus/, keeping what it finds in san/fuzz/corpus/ and
# crashes in san/fuzz/; `make fuzz-check` replays the seeds and
# test/fuzz/regress/, then fuzzes each target FUZZ_RUNS runs.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_RUNS    ?= 2000
FUZZ_TARGETS := datagram conf kv
FUZZ_BIN     := $(FUZZ_TARGETS:%=san/fuzz/%_fuzz)
FUZZ_CFLAGS  := -g -O1 -fno-omit-frame-pointer -fno-sanitize-recover=all \
	-fsanitize=fuzzer-no-link,address,undefined
FUZZ_LDFLAGS := -fsanitize=fuzzer,address,undefined
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=san/fuzz/%.o)
SAN_PROGS    := $(PROGS:%=san/bin/%)
TOOLS        := test/tools/paxos-forge test/tools/paxos-flood

san/fuzz/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(ALL_CFLAGS) $(FUZZ_CFLAGS) -c -o $@ $<

san/fuzz/kv_fuzz: san/fuzz/test/fuzz/kv_fuzz.o san/fuzz/lib/log.o
	$(FUZZ_CC) $(FUZZ_LDFLAGS) $(LDFLAGS) -o $@ $^ $(JSON_LIBS)

san/fuzz/%_fuzz: san/fuzz/test/fuzz/%_fuzz.o $(FUZZ_LIB_OBJ)
	$(FUZZ_CC) $(FUZZ_LDFLAGS) $(LDFLAGS) -o $@ $^ $(PAXOS_LIBS)

fuzz: $(FUZZ_BIN)
	@rc=0; for t in $(FUZZ_TARGETS); do mkdir -p san/fuzz/corpus/$$t && \
	    ./san/fuzz/$${t}_fuzz -max_total_time=$(FUZZ_SECONDS) \
	    -print_final_stats=1 -artifact_prefix=san/fuzz/$$t- \
	    san/fuzz/corpus/$$t test/fuzz/corpus/$$t || rc=1; done; exit $$rc

fuzz-check: $(FUZZ_BIN)
	@for t in $(FUZZ_TARGETS); do \
	    ./san/fuzz/$${t}_fuzz -runs=0 -artifact_prefix=san/fuzz/$$t- \
	        test/fuzz/corpus/$$t \
	        $$(ls -d test/fuzz/regress/$$t 2>/dev/null) \
	        > san/fuzz/$$t.log 2>&1 && \
	    rm -rf san/fuzz/check-$$t && mkdir -p san/fuzz/check-$$t && \
	    ./san/fuzz/$${t}_fuzz -seed=1 -runs=$(FUZZ_RUNS) \
	        -artifact_prefix=san/fuzz/$$t- san/fuzz/check-$$t \
	        test/fuzz/corpus/$$t >> san/fuzz/$$t.log 2>&1 || \
	    { tail -40 san/fuzz/$$t.log; exit 1; }; \
	    echo "fuzz-check: $$t: $$(ls test/fuzz/corpus/$$t | wc -l) seeds," \
	        "$$(ls test/fuzz/regress/$$t 2>/dev/null | wc -l) regressions," \
	        "$(FUZZ_RUNS) runs"; done

# The seeds of test/fuzz/corpus/datagram: real encoded messages.
test/fuzz/mkseeds: test/fuzz/mkseeds.c lib/libpaxos.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(PAXOS_LIBS)

fuzz-seeds: test/fuzz/mkseeds
	./test/fuzz/mkseeds test/fuzz/corpus/datagram

# Every program built with ASan and UBSan, objects shared with the unit
# tests in san/; `make san-check` runs the MyPaxos session with them.
san-programs: $(SAN_PROGS)

san/bin/kv-apply: san/cmd/kv-apply.o san/libpaxos.a
	@mkdir -p san/bin
	$(CC) $(ALL_CFLAGS) $(SAN_CFLAGS) $(LDFLAGS) -o $@ $^ $(PAXOS_LIBS) \
	    $(JSON_LIBS)

san/bin/paxos-%: san/cmd/paxos-%.o san/libpaxos.a
	@mkdir -p san/bin
	$(CC) $(ALL_CFLAGS) $(SAN_CFLAGS) $(LDFLAGS) -o $@ $^ $(PAXOS_LIBS)

san-check: san-programs
	sh test/tools/san-session.sh san/bin

tools: $(TOOLS)

test/tools/paxos-%: test/tools/%.o lib/libpaxos.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(PAXOS_LIBS)

.PHONY: fuzz fuzz-check fuzz-seeds san-programs san-check tools
-include $(wildcard san/fuzz/*/*.d san/fuzz/test/*/*.d)
