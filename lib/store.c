/* Acceptor storage over LMDB, and the learner's position file. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>
#include <xxhash.h>

#include "store.h"

/*
 * The map starts small and doubles whenever less than the room below is
 * left above the highest page in use, checked before every write
 * transaction, so that no transaction runs out of map half-way even if
 * every item it puts copies a page of its own: with persist = no one
 * transaction is a batch (64 datagrams of at most 256 entries: 64 MiB
 * of pages at worst); with persist = yes it lasts from checkpoint to
 * checkpoint (WAL_CHECKPOINT bytes of items of at least 51 bytes: 640
 * MiB at worst).  A write map (persist = no) is a sparse file that size.
 */
#define STORE_MAP_INITIAL	((size_t)64 << 20)
#define STORE_MAP_ROOM_MEMORY	((size_t)256 << 20)
#define STORE_MAP_ROOM_LOGGED	((size_t)1 << 30)
#define STATE_MAGIC	0x50584131u		/* "PXA1" */
#define STATE_LEN	(4 + 8 + 4 + 8 + 8)
#define WAL_STATE	1			/* log items: the state */
#define WAL_ENTRY	2			/* a slot's key and record */
#define REC_HDR		(8 + 4 + 1 + 1 + 8 + 8 + 8)
/*
 * A record's byte 12 says where its value is: 0, after the header (as
 * persist = no writes it); REC_LOGGED, in the values file, the header
 * then followed by the value's offset there, its length and its hash.
 */
#define REC_LOGGED	1
#define REC_REF		(REC_HDR + 8 + 4 + 8)
#define SCAN_BUF	((size_t)MSG_MAX + VALUE_MAX)
/*
 * The layout of a persist = yes store, kept beside the log generation
 * (meta "walgen": generation, then format).  A binary that predates the
 * values file reads "walgen" of 8 bytes only, and so refuses a store
 * whose records it would misread.
 */
#define STORE_FORMAT	2

static void
be64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint64_t
rd64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static void
wr64(uint8_t *p, uint64_t v)
{
	be64(p, v);
}

static void
wr32(uint8_t *p, uint32_t v)
{
	int i;

	for (i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static int
unlink_store(const char *dir, char *err, size_t errlen)
{
	static const char *const names[] = { "data.mdb", "lock.mdb", "wal",
	    "values" };
	char path[4096 + 16];
	unsigned i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (unlink(path) == -1 && errno != ENOENT) {
			snprintf(err, errlen, "unlink %s: %s", path,
			    strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* persist = yes keeps its write transaction open from commit to commit. */
static bool
logged_txn_open(const struct store *s)
{
	return s->persist && s->txn != NULL && s->writing;
}

/* Room for the next write transaction (see STORE_MAP_INITIAL). */
static int
grow_map(struct store *s)
{
	size_t room = s->persist ? STORE_MAP_ROOM_LOGGED :
	    STORE_MAP_ROOM_MEMORY;
	MDB_envinfo info;
	MDB_stat st;
	size_t used, size;

	if (mdb_env_info(s->env, &info) != 0 || mdb_env_stat(s->env, &st) != 0)
		return -1;
	used = ((size_t)info.me_last_pgno + 1) * st.ms_psize;
	if (info.me_mapsize - used >= room)
		return 0;
	for (size = info.me_mapsize; size - used < room; size *= 2)
		;
	return mdb_env_set_mapsize(s->env, size) == 0 ? 0 : -1;
}

/* A slot's record header: the ballot and the entry but its bytes. */
static void
fill_hdr(uint8_t *p, struct ballot b, const struct entry *e)
{
	wr64(p, b.round);
	wr32(p + 8, b.node);
	p[12] = 0;			/* the value follows */
	p[13] = e->kind;
	wr64(p + 14, e->client);
	wr64(p + 22, e->seq);
	wr64(p + 30, e->acked);
}

/* Put a record with its value after the header (persist = no). */
static int
put_inline(struct store *s, const uint8_t *key, const uint8_t *hdr,
    const struct entry *e, unsigned flags)
{
	MDB_val k = { 8, (void *)key }, v = { REC_HDR + e->len, NULL };

	if (mdb_put(s->txn, s->dbi_slots, &k, &v, MDB_RESERVE | flags) != 0)
		return -1;
	memcpy(v.mv_data, hdr, REC_HDR);
	if (e->len > 0)
		memcpy((uint8_t *)v.mv_data + REC_HDR, e->val, e->len);
	return 0;
}

/* Put a record whose value is at `at` in the values file. */
static int
put_ref(struct store *s, const uint8_t *key, const uint8_t *hdr,
    const uint8_t *val, size_t len, uint64_t at, unsigned flags)
{
	MDB_val k = { 8, (void *)key }, v = { REC_REF, NULL };
	uint8_t *p;

	if (mdb_put(s->txn, s->dbi_slots, &k, &v, MDB_RESERVE | flags) != 0)
		return -1;
	p = v.mv_data;
	memcpy(p, hdr, REC_HDR);
	p[12] = REC_LOGGED;
	wr64(p + REC_HDR, at);
	wr32(p + REC_HDR + 8, (uint32_t)len);
	wr64(p + REC_HDR + 12, XXH3_64bits(val, len));
	return 0;
}

/*
 * Put one logged item into the open transaction.  An entry's item is its
 * key, header and value: the value stays where it is in the generation,
 * which goes to the values file at values_end.
 */
static int
replay_item(void *arg, uint8_t type, const uint8_t *p, size_t len,
    uint64_t at)
{
	struct store *s = arg;
	MDB_val k = { 5, "state" }, v = { len, (void *)p };

	if (type == WAL_STATE && len == STATE_LEN)
		return mdb_put(s->txn, s->dbi_meta, &k, &v, 0) == 0 ? 0 : -1;
	if (type == WAL_ENTRY && len >= 8 + REC_HDR &&
	    len - 8 - REC_HDR <= VALUE_MAX)
		return put_ref(s, p, p + 8, p + 8 + REC_HDR,
		    len - 8 - REC_HDR, s->values_end + at + 8 + REC_HDR, 0);
	return -2;
}

/*
 * Append the log's generation to the values file, then commit the open
 * transaction, synced, with the generation it has applied and where the
 * values file now ends; the log then starts over with the next
 * generation.  A crash before the commit replays the generation again,
 * and writes it again at the same place.  0, or an LMDB or errno code.
 */
static int
checkpoint(struct store *s)
{
	uint8_t gen[16], end[8];
	MDB_val kg = { 6, "walgen" }, vg = { 16, gen };
	MDB_val ke = { 6, "values" }, ve = { 8, end };
	const uint8_t *bytes;
	size_t len;
	int rc;

	bytes = wal_generation(&s->wal, &len);
	if (len > 0 && wal_file_write(&s->values, bytes, len,
	    s->values_end) == -1) {
		rc = errno == ENOSPC ? ENOSPC : EIO;
		goto fail;
	}
	be64(gen, s->wal.gen);
	be64(gen + 8, STORE_FORMAT);
	be64(end, s->values_end + len);
	if ((rc = mdb_put(s->txn, s->dbi_meta, &kg, &vg, 0)) != 0 ||
	    (rc = mdb_put(s->txn, s->dbi_meta, &ke, &ve, 0)) != 0)
		goto fail;
	rc = mdb_txn_commit(s->txn);
	s->txn = NULL;
	s->writing = false;
	if (rc != 0) {
		s->failed = true;
		return rc;
	}
	s->values_end += len;
	wal_restart(&s->wal, s->wal.gen + 1);
	return 0;
fail:
	/*
	 * The log still holds acknowledged records that LMDB now lacks: a
	 * later checkpoint would lose them.  Only a restart (replay) may
	 * go on from here.
	 */
	s->failed = true;
	store_abort(s);
	return rc;
}

/* The highest slot stored, read in the open transaction. */
static int
find_last_slot(struct store *s)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	if ((rc = mdb_cursor_open(s->txn, s->dbi_slots, &cur)) != 0)
		return rc;
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	if (rc == 0 && k.mv_size == 8)
		s->last_slot = rd64(k.mv_data);
	else if (rc == MDB_NOTFOUND)
		rc = 0;
	mdb_cursor_close(cur);
	return rc;
}

/* The meta table's name: 0 with *v, MDB_NOTFOUND, or an error. */
static int
meta_get(struct store *s, const char *name, MDB_val *v)
{
	MDB_val k = { strlen(name), (void *)name };

	return mdb_get(s->txn, s->dbi_meta, &k, v);
}

/* A number kept in the meta table: 0 (also when absent) or an error. */
static int
meta_u64(struct store *s, const char *name, uint64_t *out)
{
	MDB_val v;
	int rc;

	*out = 0;
	if ((rc = meta_get(s, name, &v)) != 0)
		return rc == MDB_NOTFOUND ? 0 : rc;
	if (v.mv_size != 8)
		return MDB_CORRUPTED;
	*out = rd64(v.mv_data);
	return 0;
}

/*
 * The log generation LMDB holds: 0 (also when none yet), or an error.
 * 8 bytes: written before the values file, whose layout reads the same.
 */
static int
applied_gen(struct store *s, uint64_t *gen)
{
	MDB_val v;
	int rc;

	*gen = 0;
	if ((rc = meta_get(s, "walgen", &v)) != 0)
		return rc == MDB_NOTFOUND ? 0 : rc;
	if (v.mv_size != 8 && (v.mv_size != 16 ||
	    rd64((const uint8_t *)v.mv_data + 8) != STORE_FORMAT))
		return MDB_CORRUPTED;
	*gen = rd64(v.mv_data);
	return 0;
}

/* Open the log and the values file as path/name; 0, or -1 with errno. */
static int
open_logs(struct store *s, char *path, size_t pathlen)
{
	snprintf(path, pathlen, "%s/values", s->path);
	if (wal_file_open(&s->values, path, true) == -1)
		return -1;
	snprintf(path, pathlen, "%s/wal", s->path);
	if (wal_open(&s->wal, path, true) == -1) {
		wal_file_close(&s->values);
		return -1;
	}
	if ((s->scan_buf = malloc(SCAN_BUF)) == NULL ||
	    (s->get_buf = malloc(VALUE_MAX)) == NULL)
		return -1;
	return 0;
}

static void
close_logs(struct store *s)
{
	wal_close(&s->wal);
	wal_file_close(&s->values);
	free(s->scan_buf);
	free(s->get_buf);
	s->scan_buf = s->get_buf = NULL;
}

/* Replay the log's records not yet in LMDB, and checkpoint them. */
static int
recover(struct store *s, char *err, size_t errlen)
{
	char path[4096 + 8];
	uint64_t applied;
	MDB_txn *txn;
	int rc;

	if (open_logs(s, path, sizeof(path)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (grow_map(s) == -1) {
		rc = MDB_MAP_FULL;
		goto fail;
	}
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
		goto fail;
	s->txn = txn;
	s->writing = true;
	if ((rc = applied_gen(s, &applied)) != 0 ||
	    (rc = meta_u64(s, "values", &s->values_end)) != 0)
		goto fail;
	s->wal.gen = applied + 1;
	if ((rc = wal_replay(&s->wal, s->wal.gen, replay_item, s)) != 0) {
		snprintf(err, errlen, "%s: %s", path, rc == -2 ?
		    "a sound record holds an unknown item" : strerror(errno));
		store_abort(s);
		return rc == -2 ? -2 : -1;
	}
	/* Puts above the highest slot append without a search. */
	if ((rc = find_last_slot(s)) != 0 || (rc = checkpoint(s)) != 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", s->path, mdb_strerror(rc));
	store_abort(s);
	return rc == MDB_CORRUPTED ? -2 : -1;
}

int
store_open(struct store *s, const char *dir, bool persist, char *err,
    size_t errlen)
{
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_dbi meta, slots;
	unsigned flags = MDB_NOTLS;
	int rc, r;

	memset(s, 0, sizeof(*s));
	s->wal.f.fd = s->wal.f.dfd = s->values.fd = s->values.dfd = -1;
	snprintf(s->path, sizeof(s->path), "%s", dir);
	s->persist = persist;
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "mkdir %s: %s", dir, strerror(errno));
		return -1;
	}
	/*
	 * persist = no keeps nothing across restarts, so the map is written
	 * in place and never synced: a commit is a few stores to memory
	 * instead of a write(2) per page.  A fresh file each start, because
	 * a write map sizes the file to the map.
	 */
	if (!persist) {
		flags |= MDB_NOSYNC | MDB_NOMETASYNC | MDB_WRITEMAP |
		    MDB_MAPASYNC;
		if (unlink_store(dir, err, errlen) == -1)
			return -1;
	}
	if ((rc = mdb_env_create(&env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(env, 4)) != 0 ||
	    (rc = mdb_env_set_mapsize(env, STORE_MAP_INITIAL)) != 0 ||
	    (rc = mdb_env_open(env, dir, flags, 0600)) != 0)
		goto fail;
	if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0 ||
	    (rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &meta)) != 0 ||
	    (rc = mdb_dbi_open(txn, "slots", MDB_CREATE, &slots)) != 0)
		goto fail;
	if ((rc = mdb_txn_commit(txn)) != 0) {
		txn = NULL;
		goto fail;
	}
	s->env = env;
	s->dbi_meta = meta;
	s->dbi_slots = slots;
	if (persist && (r = recover(s, err, errlen)) != 0) {
		close_logs(s);
		mdb_env_close(env);
		s->env = NULL;
		return r;
	}
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", dir, mdb_strerror(rc));
	if (txn != NULL)
		mdb_txn_abort(txn);
	if (env != NULL)
		mdb_env_close(env);
	return rc == MDB_INVALID || rc == MDB_CORRUPTED ||
	    rc == MDB_VERSION_MISMATCH || rc == MDB_PAGE_NOTFOUND ? -2 : -1;
}

void
store_close(struct store *s)
{
	/* What the log holds is durable already; this only saves replay. */
	if (logged_txn_open(s))
		(void)checkpoint(s);
	store_abort(s);
	if (s->env != NULL)
		mdb_env_close(s->env);
	s->env = NULL;
	if (s->persist)
		close_logs(s);
}

int
store_load(struct store *s, struct acceptor *a)
{
	MDB_val k = { 5, "state" }, v;
	const uint8_t *p;
	int rc, r = 0;

	if (store_read_begin(s) == -1)
		return -1;
	rc = mdb_get(s->txn, s->dbi_meta, &k, &v);
	if (rc == MDB_NOTFOUND)
		goto done;
	if (rc != 0) {
		r = -1;
		goto done;
	}
	p = v.mv_data;
	if (v.mv_size != STATE_LEN || rd32(p) != STATE_MAGIC) {
		r = -2;
		goto done;
	}
	memcpy(s->state, p, STATE_LEN);
	a->promised.round = rd64(p + 4);
	a->promised.node = rd32(p + 12);
	a->commit = rd64(p + 16);
	a->max_slot = rd64(p + 24);
	if (a->commit == 0)
		r = -2;
done:
	store_read_end(s);
	return r;
}

int
store_begin(struct store *s)
{
	MDB_txn *txn;
	int rc;

	if (s->failed) {
		errno = EIO;
		return -1;
	}
	if (logged_txn_open(s))
		return 0;		/* still open since the last commit */
	if (grow_map(s) == -1 ||
	    (rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0) {
		errno = EIO;
		return -1;
	}
	s->txn = txn;
	s->writing = true;
	return 0;
}

int
store_put_state(struct store *s, const struct acceptor *a)
{
	uint8_t buf[STATE_LEN];
	MDB_val k = { 5, "state" }, v = { sizeof(buf), buf };

	wr32(buf, STATE_MAGIC);
	wr64(buf + 4, a->promised.round);
	wr32(buf + 12, a->promised.node);
	wr64(buf + 16, a->commit);
	wr64(buf + 24, a->max_slot);
	if (memcmp(buf, s->state, STATE_LEN) == 0)
		return 0;
	if (mdb_put(s->txn, s->dbi_meta, &k, &v, 0) != 0 ||
	    (s->persist && wal_add(&s->wal, WAL_STATE, buf, STATE_LEN, NULL,
	    0, NULL) == -1)) {
		errno = EIO;
		return -1;
	}
	memcpy(s->state, buf, STATE_LEN);
	return 0;
}

int
store_put_entry(struct store *s, uint64_t slot, struct ballot b,
    const struct entry *e)
{
	uint8_t item[8 + REC_HDR];	/* key, header; the value follows */
	/* Keys are big-endian, so a new highest slot is an append. */
	unsigned flags = slot > s->last_slot ? MDB_APPEND : 0;
	uint64_t at;
	int r;

	be64(item, slot);
	fill_hdr(item + 8, b, e);
	if (s->persist) {
		if (wal_add(&s->wal, WAL_ENTRY, item, sizeof(item), e->val,
		    e->len, &at) == -1) {
			errno = ENOMEM;
			return -1;
		}
		r = put_ref(s, item, item + 8, e->val, e->len,
		    s->values_end + at, flags);
	} else
		r = put_inline(s, item, item + 8, e, flags);
	if (r == -1) {
		errno = EIO;
		return -1;
	}
	if (slot > s->last_slot)
		s->last_slot = slot;
	return 0;
}

int
store_commit(struct store *s)
{
	int rc;

	if (s->failed) {
		errno = EIO;
		return -1;
	}
	if (s->persist) {
		/* Durable once logged; LMDB catches up at a checkpoint. */
		if (wal_sync(&s->wal) == -1)
			return -1;
		if (!wal_needs_checkpoint(&s->wal))
			return 0;
		if ((rc = checkpoint(s)) != 0) {
			errno = rc == ENOSPC ? ENOSPC : EIO;
			return -1;
		}
		return 0;
	}
	rc = mdb_txn_commit(s->txn);
	s->txn = NULL;
	s->writing = false;
	if (rc != 0) {
		errno = rc == ENOSPC ? ENOSPC : EIO;
		return -1;
	}
	return 0;
}

void
store_abort(struct store *s)
{
	if (s->txn != NULL)
		mdb_txn_abort(s->txn);
	s->txn = NULL;
	s->writing = false;
}

/*
 * Decode a slot's record; a value kept in the values file is read into
 * dst, which has room bytes, or with dst NULL not read (e.val NULL).
 * 0, 1 (no room), or -1 (unsound).
 */
static int
decode_rec(struct store *s, const MDB_val *k, const MDB_val *v,
    struct slot_entry *se, uint8_t *dst, size_t room)
{
	const uint8_t *p = v->mv_data, *src;
	uint64_t at;
	uint32_t len;

	if (k->mv_size != 8 || v->mv_size < REC_HDR || p[13] > ENTRY_VALUE)
		return -1;
	se->slot = rd64(k->mv_data);
	se->ballot.round = rd64(p);
	se->ballot.node = rd32(p + 8);
	se->chosen = false;
	se->e.kind = p[13];
	se->e.client = rd64(p + 14);
	se->e.seq = rd64(p + 22);
	se->e.acked = rd64(p + 30);
	if (p[12] == 0) {
		if (v->mv_size - REC_HDR > VALUE_MAX)
			return -1;
		se->e.len = (uint32_t)(v->mv_size - REC_HDR);
		se->e.val = p + REC_HDR;
		return 0;
	}
	if (p[12] != REC_LOGGED || v->mv_size != REC_REF ||
	    (len = rd32(p + REC_HDR + 8)) > VALUE_MAX || !s->persist)
		return -1;
	se->e.len = len;
	se->e.val = NULL;
	if (dst == NULL)
		return 0;
	if (len > room)
		return 1;
	at = rd64(p + REC_HDR);
	if (at >= s->values_end) {
		/* This generation's: still in the log's buffer. */
		if ((src = wal_bytes(&s->wal, at - s->values_end, len)) ==
		    NULL)
			return -1;
		memcpy(dst, src, len);
	} else if (pread(s->values.fd, dst, len, (off_t)at) != (ssize_t)len)
		return -1;
	if (XXH3_64bits(dst, len) != rd64(p + REC_HDR + 12))
		return -1;
	se->e.val = dst;
	return 0;
}

/* One slot's record, its value read into dst as decode_rec does. */
static int
get_rec(struct store *s, uint64_t slot, struct slot_entry *se, uint8_t *dst,
    size_t room)
{
	uint8_t key[8];
	MDB_val k = { 8, key }, v;
	int rc;

	be64(key, slot);
	rc = mdb_get(s->txn, s->dbi_slots, &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0 || decode_rec(s, &k, &v, se, dst, room) != 0) {
		errno = EIO;
		return -1;
	}
	return 1;
}

int
store_get(struct store *s, uint64_t slot, struct slot_entry *se)
{
	return get_rec(s, slot, se, s->get_buf, VALUE_MAX);
}

int
store_get_ballot(struct store *s, uint64_t slot, struct ballot *b)
{
	struct slot_entry se;
	int r;

	if ((r = get_rec(s, slot, &se, NULL, 0)) == 1)
		*b = se.ballot;
	return r;
}

int
store_read_begin(struct store *s)
{
	MDB_txn *txn;

	/* A read outside the open write transaction: checkpoint it first. */
	if (s->failed || (logged_txn_open(s) && checkpoint(s) != 0)) {
		errno = EIO;
		return -1;
	}

	if (mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn) != 0) {
		errno = EIO;
		return -1;
	}
	s->txn = txn;
	s->writing = false;
	return 0;
}

void
store_read_end(struct store *s)
{
	store_abort(s);
}

int
store_scan(struct store *s, uint64_t from, uint64_t end, uint64_t commit,
    struct msg *out)
{
	MDB_cursor *cur;
	uint8_t key[8];
	MDB_val k = { 8, key }, v;
	struct slot_entry se;
	size_t used = 0, held = 0;	/* message bytes, value bytes */
	uint8_t *dst;
	int rc, r;

	out->next = SLOT_NONE;
	if (mdb_cursor_open(s->txn, s->dbi_slots, &cur) != 0) {
		errno = EIO;
		return -1;
	}
	be64(key, from);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size == 8 && rd64(k.mv_data) >= end) {
			out->next = end;
			break;
		}
		/* persist = no: no buffer, every value is in its record */
		dst = s->scan_buf == NULL ? NULL : s->scan_buf + held;
		if ((r = decode_rec(s, &k, &v, &se, dst, SCAN_BUF - held)) ==
		    -1) {
			mdb_cursor_close(cur);
			errno = EIO;
			return -1;
		}
		se.chosen = se.slot < commit;
		if (r == 1 || !acceptor_fill(out, &used, &se)) {
			out->next = se.slot;
			break;
		}
		if (dst != NULL && se.e.val == dst)
			held += se.e.len;
	}
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND) {
		errno = EIO;
		return -1;
	}
	return 0;
}

int
store_save_counter(const char *path, uint64_t v)
{
	char tmp[4096 + 8], buf[32];
	int fd, n;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%" PRIu64 "\n", v);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1)
		return -1;
	if (write(fd, buf, (size_t)n) != n || fsync(fd) == -1) {
		close(fd);
		return -1;
	}
	if (close(fd) == -1 || rename(tmp, path) == -1)
		return -1;
	return 0;
}

int
store_load_counter(const char *path, uint64_t *v)
{
	char buf[32], *end;
	ssize_t n;
	int fd;

	*v = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	errno = 0;
	*v = strtoull(buf, &end, 10);
	if (errno != 0 || end == buf || *end != '\n')
		return -2;
	return 0;
}

int
store_save_learner(const char *path, const struct learner *l)
{
	char tmp[4096 + 8];
	const struct lsession *ls;
	FILE *f;
	unsigned i;
	int fd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1)
		return -1;
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		return -1;
	}
	fprintf(f, "paxos-learner 1\nposition %" PRIu64 "\n", l->next - 1);
	for (i = 0; i < LEARNER_SESSIONS; i++) {
		ls = &l->sessions[i];
		if (ls->client != 0)
			fprintf(f, "session %" PRIu64 " %" PRIu64 " %" PRIu64
			    "\n", ls->client, ls->last, ls->used);
	}
	if (fflush(f) == EOF || fsync(fd) == -1) {
		fclose(f);
		return -1;
	}
	if (fclose(f) == EOF || rename(tmp, path) == -1)
		return -1;
	return 0;
}

int
store_load_learner(const char *path, uint64_t *pos, struct learner *l,
    bool restore)
{
	char line[128];
	uint64_t client, last, used;
	FILE *f;
	int r = -2;

	*pos = 0;
	if ((f = fopen(path, "re")) == NULL)
		return errno == ENOENT ? 0 : -1;
	if (fgets(line, sizeof(line), f) == NULL ||
	    strcmp(line, "paxos-learner 1\n") != 0 ||
	    fgets(line, sizeof(line), f) == NULL ||
	    sscanf(line, "position %" SCNu64, pos) != 1)
		goto done;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "session %" SCNu64 " %" SCNu64 " %" SCNu64,
		    &client, &last, &used) != 3 || client == 0)
			goto done;
		if (restore)
			learner_restore_session(l, client, last, used);
	}
	r = ferror(f) ? -1 : 0;
done:
	fclose(f);
	return r;
}
