/* The acceptor store's write-ahead log (see wal.h). */
#define _GNU_SOURCE		/* O_DIRECT */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xxhash.h>

#include "wal.h"

#define WAL_MAGIC	0x50585732u		/* "PXW2" */
#define HASH_LEN	16
#define HDR_LEN		(4 + 4 + 8 + HASH_LEN)	/* magic, length, gen, hash */
#define ITEM_HDR	(1 + 4)			/* type, length */

static size_t
block_up(size_t n)
{
	return (n + WAL_BLOCK - 1) / WAL_BLOCK * WAL_BLOCK;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/*
 * The check covers the header before it and the payload after it.  It
 * only has to catch torn and damaged writes, not forgeries (whoever can
 * write the file can write anything), so a fast non-cryptographic hash
 * will do: XXH3, 128 bits, seeded with the hash of the header; three to
 * four times as fast here as the Poly1305 it replaces.
 */
static void
record_hash(const uint8_t *hdr, const uint8_t *payload, size_t len,
    uint8_t out[HASH_LEN])
{
	XXH128_canonical_t c;

	XXH128_canonicalFromHash(&c, XXH3_128bits_withSeed(payload, len,
	    XXH3_64bits(hdr, 16)));
	memcpy(out, c.digest, HASH_LEN);
}

/* Zero-fill to WAL_SIZE and make that durable. */
static int
preallocate(int fd)
{
	static const uint8_t zero[1 << 16];
	struct stat sb;
	off_t at;

	if (fstat(fd, &sb) == -1)
		return -1;
	if ((uint64_t)sb.st_size >= WAL_SIZE)
		return 0;
	for (at = sb.st_size; (uint64_t)at < WAL_SIZE; at += sizeof(zero))
		if (pwrite(fd, zero, sizeof(zero), at) != (ssize_t)sizeof(zero))
			return -1;
	return fsync(fd);
}

/* A buffer of cap bytes that direct writes can start from. */
static uint8_t *
block_alloc(size_t cap)
{
	void *p;

	return posix_memalign(&p, WAL_BLOCK, cap) == 0 ? p : NULL;
}

/* Make the name of path durable in its directory. */
static int
sync_dir(const char *path)
{
	char dir[4096];
	char *slash;
	int dfd;

	if (strlen(path) >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(dir, path);
	if ((slash = strrchr(dir, '/')) == NULL)
		strcpy(dir, ".");
	else
		*slash = '\0';
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	if (fsync(dfd) == -1) {
		close(dfd);
		return -1;
	}
	return close(dfd);
}

int
wal_file_open(struct wal_file *f, const char *path, bool direct)
{
	struct stat sb;

	f->dfd = -1;
	if ((f->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1)
		return -1;
	/* Empty: perhaps just created, and its name not yet durable. */
	if (fstat(f->fd, &sb) == -1 ||
	    (sb.st_size == 0 && sync_dir(path) == -1)) {
		wal_file_close(f);
		return -1;
	}
	if (direct)
		f->dfd = open(path, O_RDWR | O_DIRECT | O_DSYNC | O_CLOEXEC);
	return 0;
}

void
wal_file_close(struct wal_file *f)
{
	if (f->fd != -1)
		close(f->fd);
	if (f->dfd != -1)
		close(f->dfd);
	f->fd = f->dfd = -1;
}

/* -1, with errno set even where a write(2) wrote less and set none. */
static int
short_write(ssize_t n)
{
	if (n >= 0)
		errno = EIO;
	return -1;
}

int
wal_file_write(struct wal_file *f, const void *buf, size_t len, uint64_t off)
{
	ssize_t n;

	if (f->dfd != -1 &&
	    (n = pwrite(f->dfd, buf, len, (off_t)off)) != (ssize_t)len) {
		if (n != -1 || errno != EINVAL)
			return short_write(n);
		/* Opened, yet our blocks are not the device's: buffered. */
		close(f->dfd);
		f->dfd = -1;
	}
	if (f->dfd == -1) {
		if ((n = pwrite(f->fd, buf, len, (off_t)off)) != (ssize_t)len)
			return short_write(n);
		if (fdatasync(f->fd) == -1)
			return -1;
	}
	return 0;
}

/*
 * Room in the buffer for need bytes from len on, then the padding to a
 * block and the next record's magic (see wal_sync).
 */
static int
reserve(struct wal *w, size_t need)
{
	size_t cap;
	uint8_t *p;

	if (w->cap - w->len >= need + 2 * WAL_BLOCK)
		return 0;
	for (cap = w->cap; cap - w->len < need + 2 * WAL_BLOCK; cap *= 2)
		;
	if ((p = block_alloc(cap)) == NULL)
		return -1;
	memcpy(p, w->buf, w->len);
	free(w->buf);
	w->buf = p;
	w->cap = cap;
	return 0;
}

int
wal_open(struct wal *w, const char *path, bool direct)
{
	memset(w, 0, sizeof(*w));
	if (wal_file_open(&w->f, path, direct) == -1)
		return -1;
	if (preallocate(w->f.fd) == -1) {
		wal_close(w);
		return -1;
	}
	w->cap = 1 << 20;
	if ((w->buf = block_alloc(w->cap)) == NULL) {
		wal_close(w);
		return -1;
	}
	w->len = HDR_LEN;
	return 0;
}

void
wal_close(struct wal *w)
{
	wal_file_close(&w->f);
	free(w->buf);
	w->buf = NULL;
}

int
wal_replay(struct wal *w, uint64_t gen,
    int (*fn)(void *, uint8_t, const uint8_t *, size_t, uint64_t), void *arg)
{
	uint8_t hash[HASH_LEN], hdr[HDR_LEN], *payload;
	uint64_t off = 0;
	size_t len, at, ilen;
	int r = 0;

	w->len = 0;			/* the sound records read, in buf */
	while (off + HDR_LEN <= WAL_SIZE) {
		if (pread(w->f.fd, hdr, HDR_LEN, (off_t)off) != HDR_LEN) {
			r = -1;
			break;
		}
		len = get32(hdr + 4);
		if (get32(hdr) != WAL_MAGIC || get64(hdr + 8) != gen ||
		    len > WAL_SIZE - off - HDR_LEN)
			break;
		if (reserve(w, HDR_LEN + len) == -1) {
			r = -1;
			break;
		}
		memcpy(w->buf + off, hdr, HDR_LEN);
		payload = w->buf + off + HDR_LEN;
		if (pread(w->f.fd, payload, len, (off_t)(off + HDR_LEN)) !=
		    (ssize_t)len) {
			r = -1;
			break;
		}
		record_hash(hdr, payload, len, hash);
		if (memcmp(hash, hdr + 16, HASH_LEN) != 0)
			break;		/* torn: the batch never answered */
		w->len = off + HDR_LEN + len;	/* sound: keep it */
		for (at = 0; at < len && r == 0; at += ITEM_HDR + ilen) {
			if (len - at < ITEM_HDR ||
			    (ilen = get32(payload + at + 1)) >
			    len - at - ITEM_HDR) {
				errno = EIO;	/* hashed, yet malformed */
				r = -1;
				break;
			}
			r = fn(arg, payload[at], payload + at + ITEM_HDR,
			    ilen, off + HDR_LEN + at + ITEM_HDR);
		}
		if (r != 0)
			break;
		off += HDR_LEN + len;
	}
	w->gen = gen;
	w->off = off;
	w->len = off + HDR_LEN;
	return r;
}

void
wal_restart(struct wal *w, uint64_t gen)
{
	w->gen = gen;
	w->off = 0;
	w->len = HDR_LEN;
}

int
wal_add(struct wal *w, uint8_t type, const void *a, size_t alen,
    const void *b, size_t blen, uint64_t *b_at)
{
	size_t need = ITEM_HDR + alen + blen;
	uint8_t *p;

	if (reserve(w, need) == -1)
		return -1;
	p = w->buf + w->len;
	p[0] = type;
	put32(p + 1, (uint32_t)(alen + blen));
	memcpy(p + ITEM_HDR, a, alen);
	if (blen > 0)
		memcpy(p + ITEM_HDR + alen, b, blen);
	if (b_at != NULL)
		*b_at = w->len + ITEM_HDR + alen;
	w->len += need;
	return 0;
}

int
wal_sync(struct wal *w)
{
	uint8_t *rec = w->buf + w->off;
	size_t len = w->len - w->off - HDR_LEN, from, end;

	if (len == 0)
		return 0;
	/*
	 * Zeros after the record, at least over the next record's magic:
	 * else a record ending on a block boundary would be followed by
	 * what an older generation left there, perhaps a client's bytes
	 * made to look like a record of this one.  Never wraps: below
	 * WAL_CHECKPOINT a batch always fits.
	 */
	end = block_up(w->len + 4);
	if (end > WAL_SIZE) {
		errno = ENOSPC;
		return -1;
	}
	put32(rec, WAL_MAGIC);
	put32(rec + 4, (uint32_t)len);
	put64(rec + 8, w->gen);
	record_hash(rec, rec + HDR_LEN, len, rec + 16);
	/*
	 * From the block the record starts in, rewriting what it holds
	 * before the record with the same bytes.
	 */
	memset(w->buf + w->len, 0, end - w->len);
	from = w->off / WAL_BLOCK * WAL_BLOCK;
	if (wal_file_write(&w->f, w->buf + from, end - from, from) == -1)
		return -1;
	w->off = w->len;
	w->len += HDR_LEN;
	return 0;
}

bool
wal_needs_checkpoint(const struct wal *w)
{
	return w->off >= WAL_CHECKPOINT;
}

const uint8_t *
wal_bytes(const struct wal *w, uint64_t at, size_t len)
{
	if (at > w->len || len > w->len - at)
		return NULL;
	return w->buf + at;
}

const uint8_t *
wal_generation(struct wal *w, size_t *len)
{
	size_t end = w->len;

	if (w->len == w->off + HDR_LEN)
		end = w->off;		/* no batch being built */
	else
		memset(w->buf + w->off, 0, HDR_LEN);	/* nor its header */
	*len = block_up(end);
	memset(w->buf + end, 0, *len - end);
	return w->buf;
}
