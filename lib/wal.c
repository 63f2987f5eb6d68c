/* The acceptor store's write-ahead log (see wal.h). */
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

int
wal_open(struct wal *w, const char *path)
{
	memset(w, 0, sizeof(*w));
	w->fd = -1;
	if ((w->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1)
		return -1;
	if (preallocate(w->fd, path) == -1) {
		wal_close(w);
		return -1;
	}
	w->cap = 1 << 20;
	if ((w->buf = malloc(w->cap)) == NULL) {
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
	free(w->buf);
	w->fd = -1;
	w->buf = NULL;
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
	w->off = off;
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
    const void *b, size_t blen)
{
	size_t need = ITEM_HDR + alen + blen, cap;
	uint8_t *p;

	if (w->cap - w->len < need) {
		for (cap = w->cap; cap - w->len < need; cap *= 2)
			;
		if ((p = realloc(w->buf, cap)) == NULL)
			return -1;
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

int
wal_sync(struct wal *w)
{
	size_t len = w->len - HDR_LEN;

	if (len == 0)
		return 0;
	if (w->off + w->len > WAL_SIZE) {
		/* Cannot happen below WAL_CHECKPOINT; refuse, never wrap. */
		errno = ENOSPC;
		return -1;
	}
	put32(w->buf, WAL_MAGIC);
	put32(w->buf + 4, (uint32_t)len);
	put64(w->buf + 8, w->gen);
	record_hash(w->buf, w->buf + HDR_LEN, len, w->buf + 16);
	if (pwrite(w->fd, w->buf, w->len, (off_t)w->off) != (ssize_t)w->len)
		return -1;
	if (fdatasync(w->fd) == -1)
		return -1;
	w->off += w->len;
	w->len = HDR_LEN;
	return 0;
}

bool
wal_needs_checkpoint(const struct wal *w)
{
	return w->off >= WAL_CHECKPOINT;
}
