/* recorder.c - a workload over LMDB whose data-file I/O is recorded,
 * for the power-loss simulation of tests/tests/crash_power.rs */
/*
 * Copyright 2026 The hedge authors.
 * All rights reserved.
 *
 * Redistribution and use in source and binary forms, with or without
 * modification, are permitted only as authorized by the OpenLDAP
 * Public License.
 *
 * A copy of this license is available in the file LICENSE in the
 * top-level directory of the distribution or, alternatively, at
 * <http://www.OpenLDAP.org/license.html>.
 */

/* The library is built into this program with pwrite, pwritev, writev,
 * write, fsync, fdatasync, msync and ftruncate routed through the
 * recorder below, so mdb.c needs no hook. The recorder logs what a
 * power loss could keep or lose of the data file (data.mdb): every
 * write with its offset and bytes, every sync barrier and the range it
 * makes durable, and every change of the file's size. A write through
 * a descriptor opened with O_DSYNC (LMDB's me_mfd, for meta pages) is
 * a write followed by a barrier over its own bytes.
 *
 * With MDB_WRITEMAP, LMDB writes through the map and the OS may write
 * any dirty page back at any time. The recorder keeps a shadow copy of
 * the map and, at every recording point (after each put, before and
 * after each commit, before each msync), logs each page whose bytes
 * changed since the last point as a write of that page: the versions a
 * write-back could have taken. msync(MS_SYNC) is a barrier over its
 * range; msync(MS_ASYNC) is none (Linux starts no write-back for it).
 *
 * The workload commits txns whose content follows from the txn number
 * alone (the Rust test computes the same), and marks in the log when a
 * commit starts, when mdb_txn_commit returned 0 (acknowledged) and
 * when an explicit mdb_env_sync(env, 1) returned.
 *
 * Log records, little-endian:
 *   'W' u64 offset, u32 length, bytes   a write of the data file
 *   'B' u64 start, u64 end              a barrier: [start, end) durable
 *   'S' u64 length                      the file's size set (ftruncate)
 *   'M' u8 kind, u64 txn                a mark: 1 commit starts,
 *                                       2 acknowledged, 3 synced
 *
 * Usage: recorder DIR MODE TXNS LOG, MODE one of durable, writemap,
 * no-meta-sync, writemap-no-meta-sync, no-sync, map-async. DIR must
 * exist and be empty. HEDGE_REC_NO_BARRIERS=1: no barrier is logged.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static FILE *rec_log;
/* HEDGE_REC_NO_BARRIERS set: log no barrier, as if the disk ignored
 * every flush (the test's negative control) */
static int rec_no_barriers;
/* The map of a WRITEMAP env and its shadow: the bytes last logged */
static char *rec_map, *rec_shadow;
static size_t rec_map_size, rec_page = 4096;

static void
rec_u64(uint64_t v)
{
	unsigned char b[8];
	int i;
	for (i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	fwrite(b, 1, 8, rec_log);
}

static void
rec_write(uint64_t off, const void *buf, size_t len)
{
	unsigned char b[4];
	int i;
	fputc('W', rec_log);
	rec_u64(off);
	for (i = 0; i < 4; i++)
		b[i] = (unsigned char)(len >> (8 * i));
	fwrite(b, 1, 4, rec_log);
	fwrite(buf, 1, len, rec_log);
}

static void
rec_barrier(uint64_t start, uint64_t end)
{
	if (rec_no_barriers)
		return;
	fputc('B', rec_log);
	rec_u64(start);
	rec_u64(end);
}

static void
rec_mark(int kind, uint64_t txn)
{
	fputc('M', rec_log);
	fputc(kind, rec_log);
	rec_u64(txn);
	fflush(rec_log);
}

/* Whether fd is the data file (by name: LMDB opens it twice, as me_fd
 * and me_mfd; the lock file is never recorded), and if so whether its
 * writes are synchronous */
static int
rec_data_fd(int fd, int *dsync)
{
	char link[64], path[4096];
	ssize_t n;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n < 0)
		return 0;
	path[n] = '\0';
	if (n < 9 || strcmp(path + n - 9, "/data.mdb"))
		return 0;
	if (dsync)
		*dsync = (fcntl(fd, F_GETFL) & (O_DSYNC | O_SYNC)) != 0;
	return rec_log != NULL;
}

/* Logs every map page that changed since the last point */
static void
rec_point(void)
{
	size_t off;
	if (!rec_map)
		return;
	for (off = 0; off < rec_map_size; off += rec_page) {
		if (memcmp(rec_map + off, rec_shadow + off, rec_page)) {
			memcpy(rec_shadow + off, rec_map + off, rec_page);
			rec_write(off, rec_shadow + off, rec_page);
		}
	}
}

static ssize_t
rec_pwrite(int fd, const void *buf, size_t n, off_t off)
{
	int dsync;
	ssize_t rc = pwrite(fd, buf, n, off);
	if (rc > 0 && rec_data_fd(fd, &dsync)) {
		rec_write(off, buf, rc);
		if (dsync)
			rec_barrier(off, off + rc);
	}
	return rc;
}

static void
rec_gathered(int fd, const struct iovec *iov, int cnt, off_t off, ssize_t rc)
{
	int i, dsync;
	off_t pos = off;
	if (rc <= 0 || !rec_data_fd(fd, &dsync))
		return;
	for (i = 0; i < cnt && pos < off + rc; i++) {
		size_t len = iov[i].iov_len;
		if (pos + (off_t)len > off + rc)
			len = off + rc - pos;
		rec_write(pos, iov[i].iov_base, len);
		pos += len;
	}
	if (dsync)
		rec_barrier(off, off + rc);
}

static ssize_t
rec_pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	ssize_t rc = pwritev(fd, iov, cnt, off);
	rec_gathered(fd, iov, cnt, off, rc);
	return rc;
}

static ssize_t
rec_writev(int fd, const struct iovec *iov, int cnt)
{
	off_t off = lseek(fd, 0, SEEK_CUR);
	ssize_t rc = writev(fd, iov, cnt);
	rec_gathered(fd, iov, cnt, off, rc);
	return rc;
}

static ssize_t
rec_write_at_pos(int fd, const void *buf, size_t n)
{
	struct iovec iov;
	iov.iov_base = (void *)buf;
	iov.iov_len = n;
	return rec_writev(fd, &iov, 1);
}

/* fsync and fdatasync: a barrier over the whole file when they succeed */
static int
rec_synced(int fd, int rc)
{
	if (!rc && rec_data_fd(fd, NULL))
		rec_barrier(0, UINT64_MAX);
	return rc;
}

static int
rec_fsync(int fd)
{
	return rec_synced(fd, fsync(fd));
}

static int
rec_fdatasync(int fd)
{
	return rec_synced(fd, fdatasync(fd));
}

static int
rec_msync(void *addr, size_t len, int flags)
{
	int rc;
	char *p = addr;
	int ours = rec_map && p >= rec_map && p < rec_map + rec_map_size;
	if (ours)
		rec_point();
	rc = msync(addr, len, flags);
	if (!rc && ours && (flags & MS_SYNC))
		rec_barrier(p - rec_map, p - rec_map + len);
	return rc;
}

static int
rec_ftruncate(int fd, off_t len)
{
	int rc = ftruncate(fd, len);
	if (!rc && rec_data_fd(fd, NULL)) {
		fputc('S', rec_log);
		rec_u64(len);
	}
	return rc;
}

#define pwrite	rec_pwrite
#define pwritev	rec_pwritev
#define writev	rec_writev
#define write	rec_write_at_pos
#define fsync	rec_fsync
#define fdatasync	rec_fdatasync
#undef msync
#define msync	rec_msync
#define ftruncate	rec_ftruncate
#include "mdb.c"
#include "midl.c"
#undef pwrite
#undef pwritev
#undef writev
#undef write
#undef fsync
#undef fdatasync
#undef msync
#undef ftruncate

/* The workload; tests/tests/crash_power.rs computes the same. Txn t
 * puts PER_TXN entries, every fourth one on overflow pages, deletes
 * those of txn t - 3, puts and deletes an overflow value "scratch"
 * and sets "last" to t, so that after txn t the database holds
 * exactly the entries of txns t - 2 to t. Every SYNC_EVERY txns,
 * mdb_env_sync(env, 1). */
#define PER_TXN	12
#define MAP_SIZE	(512 * 1024)
#define SYNC_EVERY	4
#define SCRATCH_LEN	8000

static size_t
value_len(uint64_t t, unsigned i)
{
	return i % 4 == 0 ? 4500 + (t * 131 + i * 17) % 900 : 40 + (t + i) % 60;
}

static void
fill_value(uint64_t t, unsigned i, unsigned char *v, size_t len)
{
	size_t j;
	for (j = 0; j < len; j++)
		v[j] = (unsigned char)(t * 29 + i * 7 + j * 13 + (j >> 8));
}

static int
key_of(uint64_t t, unsigned i, char *buf)
{
	return sprintf(buf, "t%06llu-%02u", (unsigned long long)t, i);
}

#define CHECK(call)	do { int rc_ = (call); if (rc_) { \
	fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call, \
		mdb_strerror(rc_)); exit(1); } } while (0)

int
main(int argc, char *argv[])
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val key, data;
	MDB_envinfo info;
	static unsigned char value[8192];
	char kbuf[32];
	unsigned flags, i;
	uint64_t t, txns;
	const char *mode;

	if (argc != 5) {
		fprintf(stderr, "usage: %s DIR MODE TXNS LOG\n", argv[0]);
		return 2;
	}
	mode = argv[2];
	txns = strtoull(argv[3], NULL, 10);
	if (!strcmp(mode, "durable"))
		flags = 0;
	else if (!strcmp(mode, "writemap"))
		flags = MDB_WRITEMAP;
	else if (!strcmp(mode, "no-meta-sync"))
		flags = MDB_NOMETASYNC;
	else if (!strcmp(mode, "no-sync"))
		flags = MDB_NOSYNC;
	else if (!strcmp(mode, "writemap-no-meta-sync"))
		flags = MDB_WRITEMAP | MDB_NOMETASYNC;
	else if (!strcmp(mode, "map-async"))
		flags = MDB_WRITEMAP | MDB_MAPASYNC;
	else {
		fprintf(stderr, "unknown mode %s\n", mode);
		return 2;
	}
	if (!(rec_log = fopen(argv[4], "wb"))) {
		perror(argv[4]);
		return 1;
	}
	rec_no_barriers = getenv("HEDGE_REC_NO_BARRIERS") != NULL;

	CHECK(mdb_env_create(&env));
	CHECK(mdb_env_set_mapsize(env, MAP_SIZE));
	CHECK(mdb_env_set_maxdbs(env, 2));
	CHECK(mdb_env_open(env, argv[1], flags | MDB_NOTLS, 0600));
	if (flags & MDB_WRITEMAP) {
		/* From here on, the map holds what the recorded writes made
		 * of the file */
		CHECK(mdb_env_info(env, &info));
		rec_map = env->me_map;	/* me_mapaddr is only set for MDB_FIXEDMAP */
		rec_map_size = info.me_mapsize;
		rec_shadow = malloc(rec_map_size);
		memcpy(rec_shadow, rec_map, rec_map_size);
	}

	for (t = 1; t <= txns; t++) {
		unsigned char last[8];
		CHECK(mdb_txn_begin(env, NULL, 0, &txn));
		CHECK(mdb_dbi_open(txn, "power", MDB_CREATE, &dbi));
		for (i = 0; i < PER_TXN; i++) {
			key.mv_size = key_of(t, i, kbuf);
			key.mv_data = kbuf;
			data.mv_size = value_len(t, i);
			fill_value(t, i, value, data.mv_size);
			data.mv_data = value;
			CHECK(mdb_put(txn, dbi, &key, &data, 0));
			rec_point();
		}
		if (t > 3) {
			for (i = 0; i < PER_TXN; i++) {
				key.mv_size = key_of(t - 3, i, kbuf);
				key.mv_data = kbuf;
				CHECK(mdb_del(txn, dbi, &key, NULL));
			}
			rec_point();
		}
		/* An overflow value put and deleted in the same txn: its
		 * pages are freed while dirty (patch 0001 leaves them
		 * unwritten) */
		key.mv_size = 7;
		key.mv_data = "scratch";
		data.mv_size = SCRATCH_LEN;
		fill_value(t, 99, value, data.mv_size);
		data.mv_data = value;
		CHECK(mdb_put(txn, dbi, &key, &data, 0));
		rec_point();
		CHECK(mdb_del(txn, dbi, &key, NULL));
		for (i = 0; i < 8; i++)
			last[i] = (unsigned char)(t >> (8 * (7 - i)));
		key.mv_size = 4;
		key.mv_data = "last";
		data.mv_size = 8;
		data.mv_data = last;
		CHECK(mdb_put(txn, dbi, &key, &data, 0));
		rec_point();
		rec_mark(1, t);
		CHECK(mdb_txn_commit(txn));
		rec_point();
		rec_mark(2, t);
		if (t % SYNC_EVERY == 0) {
			CHECK(mdb_env_sync(env, 1));
			rec_point();
			rec_mark(3, t);
		}
	}
	mdb_env_close(env);
	fclose(rec_log);
	return 0;
}
