# paxos: a Multi-Paxos replicated log as a toolkit of small C programs.
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
SBINDIR    ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
PKG_CONFIG ?= pkg-config
BATS       ?= bats
VERSION    := 0.1.0

CFLAGS ?= -O2 -g
# Flags the build needs whatever the user passes in CFLAGS.
PAXOS_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
	-Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-MMD -MP -Ilib -DSYSCONFDIR='"$(SYSCONFDIR)"' \
	-DPAXOS_VERSION='"$(VERSION)"' \
	$(shell $(PKG_CONFIG) --cflags libsodium inih lmdb jansson)
PAXOS_LIBS := $(shell $(PKG_CONFIG) --libs libsodium inih lmdb)
JSON_LIBS  := $(shell $(PKG_CONFIG) --libs jansson)
ALL_CFLAGS  = $(PAXOS_CFLAGS) $(CPPFLAGS) $(CFLAGS)

# The protocol core: no sockets, clocks, files or allocation.
CORE_SRC := lib/msg.c lib/acceptor.c lib/proposer.c lib/learner.c lib/client.c
SHELL_SRC := lib/log.c lib/conf.c lib/auth.c lib/net.c \
	lib/store.c lib/node.c
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

check: all check-core $(UNIT) $(SIM) sim-teeth
	@for t in $(UNIT); do ./$$t > $$t.tap || { cat $$t.tap; exit 1; }; \
	    echo "$$t: $$(grep -c '^ok' $$t.tap) passed"; done
	./$(SIM) -s 1 -n $(SEEDS)
	mandoc -Tlint -W warning man/*.[0-9]
	PATH="$(CURDIR):$$PATH" $(BATS) test

sim: $(SIM)
	./$(SIM) -s 1 -n $(SEEDS)

deps:
	@if [ "$$(id -u)" = 0 ]; then s=; else s=sudo; fi; \
	$$s apt-get update && $$s apt-get install -y build-essential \
	    pkg-config libsodium-dev libinih-dev liblmdb-dev libjansson-dev \
	    bats bats-support bats-assert mandoc python3

demo: all
	@sh etc/demo.sh

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(MANDIR)/man8
	install -m 755 $(SBIN_PROGS) $(DESTDIR)$(SBINDIR)
	install -m 755 $(BIN_PROGS) $(DESTDIR)$(BINDIR)
	install -m 644 man/*.1 $(DESTDIR)$(MANDIR)/man1
	install -m 644 man/*.5 $(DESTDIR)$(MANDIR)/man5
	install -m 644 man/*.7 $(DESTDIR)$(MANDIR)/man7
	install -m 644 man/*.8 $(DESTDIR)$(MANDIR)/man8

uninstall:
	cd $(DESTDIR)$(SBINDIR) && rm -f $(SBIN_PROGS)
	cd $(DESTDIR)$(BINDIR) && rm -f $(BIN_PROGS)
	for f in man/*.[0-9]; do \
	    rm -f $(DESTDIR)$(MANDIR)/man$${f##*.}/$${f#man/}; done

clean:
	rm -rf $(PROGS) $(UNIT) $(SIM) test/sim/paxos_sim_broken \
	    test/sim/teeth.log lib/libpaxos.a */*.o */*.d test/*/*.o \
	    test/*/*.d test/unit/*.tap san

.PHONY: all check check-core sim sim-teeth deps demo install uninstall clean
.SECONDARY:
-include $(wildcard */*.d test/*/*.d san/*/*.d san/test/*/*.d)
