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
/* Direct writes go in whole blocks of this size, from such offsets. */
#define BLOCK		4096u

static size_t
block_up(size_t n)
{
	return (n + BLOCK - 1) / BLOCK * BLOCK;
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

/* Zero-fill to WAL_SIZE and make the file and its name durable. */
static int
preallocate(int fd, const char *path)
{
	static const uint8_t zero[1 << 16];
	char dir[4096];
	struct stat sb;
	off_t at;
	char *slash;
	int dfd;

	if (fstat(fd, &sb) == -1)
		return -1;
	if ((uint64_t)sb.st_size >= WAL_SIZE)
		return 0;
	for (at = sb.st_size; (uint64_t)at < WAL_SIZE; at += sizeof(zero))
		if (pwrite(fd, zero, sizeof(zero), at) != (ssize_t)sizeof(zero))
			return -1;
	if (fsync(fd) == -1)
		return -1;
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

/* A buffer of cap bytes that direct writes can start from. */
static uint8_t *
block_alloc(size_t cap)
{
	void *p;

	return posix_memalign(&p, BLOCK, cap) == 0 ? p : NULL;
}

/*
 * Writes bypass the page cache where the file system allows it: a record
 * then goes from our buffer to the disk with no copy into the kernel,
 * and O_DSYNC makes the one write durable with no separate flush.
 * Reads (replay) keep the ordinary descriptor, whose buffers need no
 * alignment.
 */
static void
open_direct(struct wal *w, const char *path)
{
	w->dfd = open(path, O_RDWR | O_DIRECT | O_DSYNC | O_CLOEXEC);
}

int
wal_open(struct wal *w, const char *path, bool direct)
{
	memset(w, 0, sizeof(*w));
	w->fd = w->dfd = -1;
	if ((w->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1)
		return -1;
	if (preallocate(w->fd, path) == -1) {
		wal_close(w);
		return -1;
	}
	if (direct)
		open_direct(w, path);	/* else buffered, and fdatasync */
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
	if (w->fd != -1)
		close(w->fd);
	if (w->dfd != -1)
		close(w->dfd);
	free(w->buf);
	w->fd = w->dfd = -1;
	w->buf = NULL;
}

/*
 * The next record goes at off.  Whole blocks are written, so the buffer
 * starts with what the file holds of off's block before off, and each
 * write rewrites that much of the block with the same bytes.
 */
static int
wal_seek(struct wal *w, uint64_t off)
{
	ssize_t n;

	w->off = off;
	w->head = off % BLOCK;
	w->len = w->head + HDR_LEN;
	if (w->head == 0)
		return 0;
	n = pread(w->fd, w->buf, w->head, (off_t)(off - w->head));
	if (n == (ssize_t)w->head)
		return 0;
	if (n >= 0)
		errno = EIO;
	return -1;
}

int
wal_replay(struct wal *w, uint64_t gen,
    int (*fn)(void *, uint8_t, const uint8_t *, size_t), void *arg)
{
	uint8_t hdr[HDR_LEN], hash[HASH_LEN], *payload = NULL, *p;
	uint64_t off = 0;
	size_t len, at, ilen, cap = 0;
	int r = 0;

	while (off + HDR_LEN <= WAL_SIZE) {
		if (pread(w->fd, hdr, HDR_LEN, (off_t)off) != HDR_LEN) {
			r = -1;
			break;
		}
		len = get32(hdr + 4);
		if (get32(hdr) != WAL_MAGIC || get64(hdr + 8) != gen ||
		    len > WAL_SIZE - off - HDR_LEN)
			break;
		if (len > cap) {
			if ((p = realloc(payload, len)) == NULL) {
				r = -1;
				break;
			}
			payload = p;
			cap = len;
		}
		if (pread(w->fd, payload, len, (off_t)(off + HDR_LEN)) !=
		    (ssize_t)len) {
			r = -1;
			break;
		}
		record_hash(hdr, payload, len, hash);
		if (memcmp(hash, hdr + 16, HASH_LEN) != 0)
			break;		/* torn: the batch never answered */
		for (at = 0; at < len && r == 0; at += ITEM_HDR + ilen) {
			if (len - at < ITEM_HDR ||
			    (ilen = get32(payload + at + 1)) >
			    len - at - ITEM_HDR) {
				errno = EIO;	/* hashed, yet malformed */
				r = -1;
				break;
			}
			r = fn(arg, payload[at], payload + at + ITEM_HDR,
			    ilen);
		}
		if (r != 0)
			break;
		off += HDR_LEN + len;
	}
	free(payload);
	w->gen = gen;
	if (r == 0)
		r = wal_seek(w, off);
	return r;
}

void
wal_restart(struct wal *w, uint64_t gen)
{
	w->gen = gen;
	w->off = 0;
	w->head = 0;
	w->len = HDR_LEN;
}

int
wal_add(struct wal *w, uint8_t type, const void *a, size_t alen,
    const void *b, size_t blen)
{
	size_t need = ITEM_HDR + alen + blen, cap;
	uint8_t *p;

	if (w->cap - w->len < need) {
		for (cap = w->cap; cap - w->len < need; cap *= 2)
			;
		if ((p = block_alloc(cap)) == NULL)
			return -1;
		memcpy(p, w->buf, w->len);
		free(w->buf);
		w->buf = p;
		w->cap = cap;
	}
	p = w->buf + w->len;
	p[0] = type;
	put32(p + 1, (uint32_t)(alen + blen));
	memcpy(p + ITEM_HDR, a, alen);
	if (blen > 0)
		memcpy(p + ITEM_HDR + alen, b, blen);
	w->len += need;
	return 0;
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
wal_sync(struct wal *w)
{
	uint8_t *rec = w->buf + w->head;
	size_t len = w->len - w->head - HDR_LEN, end, tail;
	uint64_t start = w->off - w->head;
	ssize_t n;

	if (len == 0)
		return 0;
	/* Never wraps: below WAL_CHECKPOINT a batch always fits. */
	end = block_up(w->len);
	if (start + end > WAL_SIZE) {
		errno = ENOSPC;
		return -1;
	}
	put32(rec, WAL_MAGIC);
	put32(rec + 4, (uint32_t)len);
	put64(rec + 8, w->gen);
	record_hash(rec, rec + HDR_LEN, len, rec + 16);
	/* Zeros after the record: replay stops there, as at a torn one. */
	memset(w->buf + w->len, 0, end - w->len);
	if (w->dfd != -1 &&
	    (n = pwrite(w->dfd, w->buf, end, (off_t)start)) != (ssize_t)end) {
		if (n != -1 || errno != EINVAL)
			return short_write(n);
		/* Opened, yet our blocks are not the device's: buffered. */
		close(w->dfd);
		w->dfd = -1;
	}
	if (w->dfd == -1) {
		if ((n = pwrite(w->fd, w->buf, end, (off_t)start)) !=
		    (ssize_t)end)
			return short_write(n);
		if (fdatasync(w->fd) == -1)
			return -1;
	}
	/* The record's last, partial block heads the next write. */
	w->off += HDR_LEN + len;
	tail = w->off % BLOCK;
	memmove(w->buf, w->buf + (w->len - tail), tail);
	w->head = tail;
	w->len = tail + HDR_LEN;
	return 0;
}

bool
wal_needs_checkpoint(const struct wal *w)
{
	return w->off >= WAL_CHECKPOINT;
}
