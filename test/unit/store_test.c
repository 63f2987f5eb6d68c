/*
 * Unit tests for lib/store and lib/wal: what an acceptor committed
 * survives a crash (a child that _exits without closing), a torn last
 * record is dropped and nothing before it, checkpoints lose nothing, and
 * records of an older generation are never replayed; and the log itself,
 * written directly or through the page cache, replays every item of
 * records of any length, ending anywhere in a block.
 */
#define _GNU_SOURCE		/* memmem */
#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>

#include "store.h"
#include "tap.h"
#include "wal.h"

static char dir[] = "/tmp/store_test.XXXXXX";
static char sdir[64];
static uint8_t big[VALUE_MAX];

static struct entry
value(const char *s)
{
	return (struct entry){ ENTRY_VALUE, 7, 1, 0, (uint32_t)strlen(s),
	    (const uint8_t *)s };
}

/* A store directory that never existed. */
static void
reset(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", sdir);
	if (system(cmd) != 0)
		diag("%s failed", cmd);
}

static int
open_store(struct store *st, bool persist)
{
	char err[256];
	int r = store_open(st, sdir, persist, err, sizeof(err));

	if (r != 0)
		diag("store_open: %s", err);
	return r;
}

/* One committed batch: the state and the given slots of one value. */
static int
batch(struct store *st, struct acceptor *a, uint64_t first, unsigned n,
    struct ballot b, const struct entry *e)
{
	unsigned i;

	if (store_begin(st) == -1)
		return -1;
	a->promised = b;
	for (i = 0; i < n; i++) {
		if (store_put_entry(st, first + i, b, e) == -1)
			return -1;
		if (first + i > a->max_slot)
			a->max_slot = first + i;
	}
	if (store_put_state(st, a) == -1)
		return -1;
	return store_commit(st);
}

/* What slot holds now, read in a fresh read transaction. */
static bool
holds(struct store *st, uint64_t slot, const char *want, uint64_t round)
{
	struct slot_entry se;
	bool ok;

	if (store_read_begin(st) == -1)
		return false;
	ok = store_get(st, slot, &se) == 1 && se.ballot.round == round &&
	    se.e.len == strlen(want) && memcmp(se.e.val, want, se.e.len) == 0;
	store_read_end(st);
	return ok;
}

static bool
absent(struct store *st, uint64_t slot)
{
	struct slot_entry se;
	int r;

	if (store_read_begin(st) == -1)
		return false;
	r = store_get(st, slot, &se);
	store_read_end(st);
	return r == 0;
}

/* Run fn in a child that dies without closing anything: a crash. */
static bool
crash_after(void (*fn)(void))
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		fn();
		_exit(0);
	}
	return pid > 0 && waitpid(pid, &status, 0) == pid &&
	    WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void
child_three_batches(void)
{
	struct store st;
	struct acceptor a;
	struct entry x = value("x"), y = value("y");

	if (open_store(&st, true) != 0)
		_exit(1);
	acceptor_init(&a, 1);
	if (batch(&st, &a, 1, 1, (struct ballot){ 2, 1 }, &x) == -1 ||
	    batch(&st, &a, 2, 1, (struct ballot){ 2, 1 }, &x) == -1 ||
	    batch(&st, &a, 3, 1, (struct ballot){ 3, 1 }, &y) == -1)
		_exit(1);
}

static void
test_crash(void)
{
	struct store st;
	struct acceptor a;

	CHECK(crash_after(child_three_batches));
	if (!CHECK(open_store(&st, true) == 0))
		return;
	acceptor_init(&a, 1);
	CHECK(store_load(&st, &a) == 0);
	CHECK(a.promised.round == 3 && a.promised.node == 1);
	CHECK(a.max_slot == 3);
	CHECK(holds(&st, 1, "x", 2));
	CHECK(holds(&st, 2, "x", 2));
	CHECK(holds(&st, 3, "y", 3));
	store_close(&st);
}

/* Damage the last record: it was never answered, so it is dropped. */
static void
test_torn(void)
{
	char path[128];
	struct store st;
	struct acceptor a;
	uint8_t b[4096];
	ssize_t n;
	int fd;

	reset();
	CHECK(crash_after(child_three_batches));
	snprintf(path, sizeof(path), "%s/wal", sdir);
	fd = open(path, O_RDWR);
	n = pread(fd, b, sizeof(b), 0);
	/* Flip the last record's last nonzero byte, as a torn write. */
	while (n > 0 && b[n - 1] == 0)
		n--;
	CHECK(n > 0);
	b[n - 1] ^= 0xff;
	CHECK(pwrite(fd, b + n - 1, 1, n - 1) == 1);
	close(fd);
	if (!CHECK(open_store(&st, true) == 0))
		return;
	acceptor_init(&a, 1);
	CHECK(store_load(&st, &a) == 0);
	CHECK(a.promised.round == 2);
	CHECK(a.max_slot == 2);
	CHECK(holds(&st, 2, "x", 2));
	CHECK(absent(&st, 3));
	store_close(&st);
}

#define MANY	600	/* 600 x 32 KiB: the log fills twice over */

static void
child_many(void)
{
	struct store st;
	struct acceptor a;
	struct entry e = { ENTRY_VALUE, 7, 1, 0, sizeof(big), big };
	unsigned i;

	if (open_store(&st, true) != 0)
		_exit(1);
	acceptor_init(&a, 1);
	for (i = 1; i <= MANY; i++) {
		big[0] = (uint8_t)i;
		if (batch(&st, &a, i, 1, (struct ballot){ 1, 1 }, &e) == -1)
			_exit(1);
	}
}

static void
test_checkpoints(void)
{
	struct store st;
	struct acceptor a;
	struct slot_entry se;
	unsigned i, good = 0;

	reset();
	CHECK(crash_after(child_many));
	if (!CHECK(open_store(&st, true) == 0))
		return;
	acceptor_init(&a, 1);
	CHECK(store_load(&st, &a) == 0);
	if (!CHECK(a.max_slot == MANY))
		diag("max_slot %" PRIu64, a.max_slot);
	if (store_read_begin(&st) == 0) {
		for (i = 1; i <= MANY; i++)
			if (store_get(&st, i, &se) == 1 &&
			    se.e.len == VALUE_MAX && se.e.val[0] == (uint8_t)i)
				good++;
		store_read_end(&st);
	}
	CHECK(good == MANY);
	store_close(&st);
}

/*
 * After a clean restart a record of the next generation overwrites the
 * first one of the log, and is exactly as long: the older record right
 * after it must still not be replayed over it.
 */
static void
child_overwrite(void)
{
	struct store st;
	struct acceptor a;
	struct entry e = value("new");

	if (open_store(&st, true) != 0)
		_exit(1);
	acceptor_init(&a, 1);
	if (store_load(&st, &a) != 0 ||
	    batch(&st, &a, 1, 1, (struct ballot){ 9, 2 }, &e) == -1)
		_exit(1);
}

static void
test_generations(void)
{
	struct store st;
	struct acceptor a;
	struct entry old = value("old"), mid = value("mid");

	reset();
	if (!CHECK(open_store(&st, true) == 0))
		return;
	acceptor_init(&a, 1);
	CHECK(batch(&st, &a, 1, 1, (struct ballot){ 5, 1 }, &old) == 0);
	CHECK(batch(&st, &a, 1, 1, (struct ballot){ 6, 1 }, &mid) == 0);
	store_close(&st);		/* a checkpoint */
	CHECK(crash_after(child_overwrite));
	if (!CHECK(open_store(&st, true) == 0))
		return;
	acceptor_init(&a, 1);
	CHECK(store_load(&st, &a) == 0);
	CHECK(a.promised.round == 9 && a.promised.node == 2);
	CHECK(holds(&st, 1, "new", 9));
	store_close(&st);
	/* And again: a clean restart keeps it. */
	if (!CHECK(open_store(&st, true) == 0))
		return;
	acceptor_init(&a, 1);
	CHECK(store_load(&st, &a) == 0);
	CHECK(a.promised.round == 9);
	CHECK(holds(&st, 1, "new", 9));
	store_close(&st);
}

static void
test_no_persist(void)
{
	struct store st;
	struct acceptor a;
	struct entry x = value("x");

	reset();
	if (!CHECK(open_store(&st, false) == 0))
		return;
	acceptor_init(&a, 1);
	CHECK(batch(&st, &a, 1, 1, (struct ballot){ 2, 1 }, &x) == 0);
	CHECK(holds(&st, 1, "x", 2));
	store_close(&st);
	if (!CHECK(open_store(&st, false) == 0))
		return;
	CHECK(absent(&st, 1));
	store_close(&st);
}

/* New highest slots are appended; lower ones still go in their place. */
static void
test_order(void)
{
	struct store st;
	struct acceptor a;
	struct entry x = value("x");
	static struct msg out;
	static const uint64_t order[] = { 5, 3, 9, 4, 10 };
	uint64_t want[] = { 3, 4, 5, 9, 10 };
	unsigned i;
	bool ok = true;

	reset();
	if (!CHECK(open_store(&st, true) == 0))
		return;
	acceptor_init(&a, 1);
	for (i = 0; i < 5; i++)
		CHECK(batch(&st, &a, order[i], 1, (struct ballot){ 1, 1 },
		    &x) == 0);
	store_close(&st);
	if (!CHECK(open_store(&st, true) == 0))
		return;
	CHECK(st.last_slot == 10);
	CHECK(store_read_begin(&st) == 0);
	msg_init(&out, MSG_PROMISE);
	CHECK(store_scan(&st, 1, SLOT_NONE, 1, &out) == 0);
	store_read_end(&st);
	CHECK(out.n == 5);
	for (i = 0; i < out.n && i < 5; i++)
		ok = ok && out.e[i].slot == want[i];
	CHECK(ok);
	acceptor_init(&a, 1);
	CHECK(store_load(&st, &a) == 0);
	CHECK(batch(&st, &a, 11, 1, (struct ballot){ 1, 1 }, &x) == 0);
	CHECK(batch(&st, &a, 1, 1, (struct ballot){ 1, 1 }, &x) == 0);
	CHECK(holds(&st, 11, "x", 1) && holds(&st, 1, "x", 1));
	store_close(&st);
}

/*
 * Puts scattered over old slots copy a page each: between two
 * checkpoints the transaction may grow far beyond its log, and must not
 * run out of map (it would stop the acceptor, and its restart too).
 */
static void
test_scattered(void)
{
	struct store st;
	struct acceptor a;
	struct entry e = value("sixteen bytes!!!");
	unsigned i, n = 600000, batch_n = 4096, good = 0;
	uint64_t s;

	reset();
	if (!CHECK(open_store(&st, true) == 0))
		return;
	acceptor_init(&a, 1);
	for (s = 1; s <= n; s += batch_n)
		if (batch(&st, &a, s, batch_n, (struct ballot){ 1, 1 }, &e) ==
		    -1)
			break;
	CHECK(s > n);
	/* Every 64th slot again, a later ballot: one leaf page each. */
	if (store_begin(&st) == 0) {
		for (s = 1; s <= n; s += 64)
			if (store_put_entry(&st, s, (struct ballot){ 2, 1 },
			    &e) == 0)
				good++;
		CHECK(good == (n + 63) / 64);
		CHECK(store_commit(&st) == 0);
	}
	store_close(&st);
	if (!CHECK(open_store(&st, true) == 0))
		return;
	for (i = 0, good = 0; i < 3; i++)
		good += holds(&st, 1 + 64 * (uint64_t)i * 1000,
		    "sixteen bytes!!!", 2);
	CHECK(good == 3);
	CHECK(holds(&st, 2, "sixteen bytes!!!", 1));
	store_close(&st);
}

#define LOGGED	40	/* values of LOGGED_LEN bytes: one message's worth */
#define LOGGED_LEN 1000

static struct entry
logged_value(uint8_t *buf, unsigned i)
{
	memset(buf, 'a' + i % 26, LOGGED_LEN);
	buf[0] = (uint8_t)i;
	return (struct entry){ ENTRY_VALUE, 7, i, 0, LOGGED_LEN, buf };
}

/* A scan from slot 1 sees values 1..n as logged_value made them. */
static bool
scan_sees(struct store *st, unsigned n)
{
	static struct msg out;
	uint8_t want[LOGGED_LEN];
	unsigned i;
	bool ok;

	msg_init(&out, MSG_PROMISE);
	if (store_scan(st, 1, SLOT_NONE, 1, &out) == -1)
		return false;
	ok = out.n == n && out.next == SLOT_NONE;
	for (i = 0; ok && i < n; i++) {
		logged_value(want, i + 1);
		ok = out.e[i].slot == i + 1 && out.e[i].e.len == LOGGED_LEN &&
		    memcmp(out.e[i].e.val, want, LOGGED_LEN) == 0;
	}
	if (!ok)
		diag("scan: %u entries, next %" PRIu64, out.n, out.next);
	return ok;
}

/* Flip a byte in the middle of the first copy of want[0..len) in path. */
static bool
flip_in_file(const char *path, const uint8_t *want, size_t len)
{
	static uint8_t file[1 << 20];
	uint8_t *at;
	ssize_t n;
	int fd;
	bool ok = false;

	if ((fd = open(path, O_RDWR)) == -1)
		return false;
	n = pread(fd, file, sizeof(file), 0);
	if (n > 0 && (at = memmem(file, (size_t)n, want, len)) != NULL) {
		at[len / 2] ^= 0x40;
		ok = pwrite(fd, at + len / 2, 1, at + len / 2 - file) == 1;
	}
	close(fd);
	return ok;
}

/*
 * With persist = yes values live in the log's buffer until a checkpoint,
 * then in the values file; a scan and a get read them from either, and a
 * value damaged there is an error, not a wrong answer.
 */
static void
test_values_file(void)
{
	char path[128];
	uint8_t buf[LOGGED_LEN];
	static const uint8_t junk[10000] = { 1, 2, 3 };
	struct store st;
	struct acceptor a;
	struct slot_entry se;
	struct ballot b;
	struct entry e;
	unsigned i;
	int fd;

	reset();
	if (!CHECK(open_store(&st, true) == 0))
		return;
	acceptor_init(&a, 1);
	for (i = 1; i <= LOGGED; i++) {
		e = logged_value(buf, i);
		CHECK(batch(&st, &a, i, 1, (struct ballot){ 1, 1 }, &e) == 0);
	}
	/* Before any checkpoint, inside the write transaction. */
	CHECK(store_begin(&st) == 0);
	CHECK(scan_sees(&st, LOGGED));
	CHECK(store_commit(&st) == 0);
	store_close(&st);

	/* Junk past the end of the values file is written over. */
	snprintf(path, sizeof(path), "%s/values", sdir);
	fd = open(path, O_WRONLY | O_APPEND);
	CHECK(fd != -1 && write(fd, junk, sizeof(junk)) ==
	    (ssize_t)sizeof(junk));
	close(fd);
	if (!CHECK(open_store(&st, true) == 0))
		return;
	CHECK(store_read_begin(&st) == 0);
	CHECK(scan_sees(&st, LOGGED));
	store_read_end(&st);
	CHECK(store_load(&st, &a) == 0);
	e = logged_value(buf, LOGGED + 1);
	CHECK(batch(&st, &a, LOGGED + 1, 1, (struct ballot){ 1, 1 }, &e) == 0);
	store_close(&st);
	if (!CHECK(open_store(&st, true) == 0))
		return;
	CHECK(store_read_begin(&st) == 0);
	CHECK(scan_sees(&st, LOGGED + 1));
	store_read_end(&st);
	store_close(&st);

	/* One byte of value 3 flipped on disk. */
	CHECK(flip_in_file(path, logged_value(buf, 3).val, LOGGED_LEN));
	if (!CHECK(open_store(&st, true) == 0))
		return;
	CHECK(store_read_begin(&st) == 0);
	CHECK(store_get(&st, 2, &se) == 1 && se.e.len == LOGGED_LEN);
	CHECK(store_get(&st, 3, &se) == -1);
	/* Its ballot is in LMDB: reading it reads no value. */
	CHECK(store_get_ballot(&st, 3, &b) == 1 && b.round == 1);
	CHECK(store_get_ballot(&st, LOGGED + 2, &b) == 0);
	store_read_end(&st);
	store_close(&st);
}

/*
 * Rewrite the store's "walgen": 8 bytes (as before the values file), or
 * 16 with the given format.
 */
static bool
set_format(uint64_t format)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = { 6, "walgen" }, v;
	uint8_t buf[16];
	bool ok = false;

	if (mdb_env_create(&env) != 0)
		return false;
	if (mdb_env_set_maxdbs(env, 4) == 0 &&
	    mdb_env_open(env, sdir, 0, 0600) == 0 &&
	    mdb_txn_begin(env, NULL, 0, &txn) == 0) {
		if (mdb_dbi_open(txn, "meta", 0, &dbi) == 0 &&
		    mdb_get(txn, dbi, &k, &v) == 0 && v.mv_size >= 8) {
			memcpy(buf, v.mv_data, 8);
			memset(buf + 8, 0, 8);
			buf[15] = (uint8_t)format;
			v = (MDB_val){ format == 0 ? 8 : 16, buf };
			ok = mdb_put(txn, dbi, &k, &v, 0) == 0;
		}
		ok = mdb_txn_commit(txn) == 0 && ok;
	}
	mdb_env_close(env);
	return ok;
}

/*
 * A store says which layout it has: one from before the values file
 * opens, one of a later layout than this binary knows is refused.
 */
static void
test_format(void)
{
	struct store st;
	struct acceptor a;
	struct entry x = value("x");
	char err[256];

	reset();
	if (!CHECK(open_store(&st, true) == 0))
		return;
	acceptor_init(&a, 1);
	CHECK(batch(&st, &a, 1, 1, (struct ballot){ 1, 1 }, &x) == 0);
	store_close(&st);
	CHECK(set_format(0));
	if (CHECK(open_store(&st, true) == 0)) {
		CHECK(holds(&st, 1, "x", 1));
		store_close(&st);
	}
	CHECK(set_format(3));
	CHECK(store_open(&st, sdir, true, err, sizeof(err)) == -2);
}

/* A values file that cannot be opened stops the store, and only it. */
static void
test_values_unopenable(void)
{
	char path[128], err[256];
	struct store st;
	int stdin_flags = fcntl(0, F_GETFD);

	reset();
	snprintf(path, sizeof(path), "%s/values", sdir);
	if (!CHECK(mkdir(sdir, 0700) == 0 && mkdir(path, 0700) == 0))
		return;
	CHECK(store_open(&st, sdir, true, err, sizeof(err)) == -1);
	if (!CHECK(strstr(err, "/values") != NULL))
		diag("%s", err);
	CHECK(fcntl(0, F_GETFD) == stdin_flags);	/* not closed */
}

/* Item k of the log test: its type, length and bytes follow from k. */
static size_t
item_len(unsigned k)
{
	return k % 7 == 0 ? 0 : (k * 337u) % 9000;
}

static void
item_fill(uint8_t *p, unsigned k, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(k + i);
}

struct replayed {
	const struct wal *w;
	unsigned	n;		/* items seen */
	unsigned	bad;		/* of them, not as written or not at */
};

static int
check_item(void *arg, uint8_t type, const uint8_t *p, size_t len,
    uint64_t at)
{
	struct replayed *r = arg;
	uint8_t want[9000];

	item_fill(want, r->n, item_len(r->n));
	if (type != (uint8_t)r->n || len != item_len(r->n) ||
	    memcmp(p, want, len) != 0 || wal_bytes(r->w, at, len) != p)
		r->bad++;
	r->n++;
	return 0;
}

/* Records of items next..next+count-1, `per` items each. */
static int
log_items(struct wal *w, unsigned next, unsigned count, unsigned per)
{
	uint8_t p[9000];
	const uint8_t *kept;
	size_t half;
	uint64_t at;
	unsigned k;

	for (k = next; k < next + count; k++) {
		item_fill(p, k, item_len(k));
		/* In two parts: the second is where b_at says. */
		half = item_len(k) / 2;
		if (wal_add(w, (uint8_t)k, p, half, p + half,
		    item_len(k) - half, &at) == -1)
			return -1;
		kept = wal_bytes(w, at, item_len(k) - half);
		if (kept == NULL || memcmp(kept, p + half,
		    item_len(k) - half) != 0)
			return -1;
		if ((k - next) % per == per - 1 && wal_sync(w) == -1)
			return -1;
	}
	return wal_sync(w);
}

/*
 * Reopen the log and replay generation 1: true if it holds want items,
 * one of which (the filler) is not as log_items wrote it.  The log then
 * stays open, positioned after them; else it is closed.
 */
static bool
reopen_holds(struct wal *w, const char *path, bool direct, unsigned want)
{
	struct replayed r = { w, 0, 0 };

	if (wal_open(w, path, direct) != 0)
		return false;
	if (wal_replay(w, 1, check_item, &r) == 0 && r.n == want &&
	    r.bad == 1)
		return true;
	diag("%u items, %u not as written", r.n, r.bad);
	wal_close(w);
	return false;
}

static void
test_wal(bool direct)
{
	char path[128];
	struct wal w;
	struct replayed r = { &w, 0, 0 };
	uint8_t p[4096];
	size_t len;

	snprintf(path, sizeof(path), "%s/wal.%d", dir, direct);
	if (!CHECK(wal_open(&w, path, direct) == 0))
		return;
	CHECK((w.f.dfd != -1) == direct);
	wal_restart(&w, 1);
	CHECK(log_items(&w, 0, 300, 3) == 0);
	/* One record that ends exactly where a block does: the filler. */
	len = 4096 - (w.off + 32 + 5) % 4096;
	memset(p, 0, sizeof(p));
	CHECK(wal_add(&w, 0, p, len, NULL, 0, NULL) == 0);
	CHECK(wal_sync(&w) == 0);
	CHECK(w.off % 4096 == 0);
	wal_close(&w);

	/* Reopened: all 300 items and the filler; then more after them. */
	if (!CHECK(reopen_holds(&w, path, direct, 301)))
		return;
	CHECK(log_items(&w, 301, 200, 1) == 0);
	wal_close(&w);
	if (!CHECK(reopen_holds(&w, path, direct, 501)))
		return;
	/* Continuing mid-block rewrote that block's start as it was. */
	CHECK(w.off % 4096 != 0);
	CHECK(log_items(&w, 501, 1, 1) == 0);
	wal_close(&w);
	if (!CHECK(reopen_holds(&w, path, direct, 502)))
		return;
	CHECK(wal_replay(&w, 2, check_item, &r) == 0);
	CHECK(r.n == 0);

	/*
	 * Generation 2 over generation 1's bytes: a record that ends on a
	 * block boundary is followed by zeros, not by what generation 1
	 * left there, which replay could take for a record.
	 */
	CHECK(pread(w.f.fd, p, 4, 4096) == 4 && (p[0] | p[1] | p[2] | p[3]));
	memset(p, 0xee, sizeof(p));
	CHECK(wal_add(&w, 0, p, 4096 - 32 - 5, NULL, 0, NULL) == 0);
	CHECK(wal_sync(&w) == 0);
	CHECK(w.off == 4096);
	CHECK(pread(w.f.fd, p, 4, 4096) == 4 &&
	    (p[0] | p[1] | p[2] | p[3]) == 0);
	wal_close(&w);
}

int
main(void)
{
	char cmd[128];

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(sdir, sizeof(sdir), "%s/s", dir);
	memset(big, 'b', sizeof(big));
	test_crash();
	test_torn();
	test_checkpoints();
	test_generations();
	test_order();
	test_scattered();
	test_no_persist();
	test_values_file();
	test_values_unopenable();
	test_format();
	test_wal(false);
	test_wal(true);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		diag("%s failed", cmd);
	return done_testing();
}
