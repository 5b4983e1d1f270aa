/* mtest_reserve.c - MDB_RESERVE on overflow pages: what LMDB copies,
 * zeroes and writes */
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

/* With MDB_RESERVE, LMDB returns where the value will live and the
 * caller fills it. This test counts the bytes LMDB itself copies and
 * zeroes during each such put, on every path that puts a value on
 * overflow pages, and the bytes it writes to the data file. It builds
 * the library into itself, with memcpy, memmove, memset, pwrite,
 * writev and pwritev routed through counters, so mdb.c needs no hook.
 *
 * It also checks what reaches the disk (the rest of an overflow run
 * after a value is zero), and runs a randomized model check of puts,
 * reserved puts, MDB_CURRENT, deletes, nested txns and spills against
 * an in-memory model, verifying every value and the page accounting
 * after every commit.
 *
 * Build the spill cases with a small MDB_IDL_LOGN (e.g. 10), where a
 * txn spills after 2047 dirty pages. Environment: MTEST_ONLY=<case>
 * runs one case, MTEST_VERBOSE=1 prints the counts, MTEST_SEEDS and
 * MTEST_TXNS scale the model check (default 4 seeds of 40 txns).
 *
 * Usage: mtest_reserve [dir] (default testdb-reserve, created if needed)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

/* Counters of what LMDB does while `counting' is set */
static int counting;
static size_t n_copied, n_zeroed, n_written;

static void *
count_memcpy(void *dst, const void *src, size_t n)
{
	if (counting)
		n_copied += n;
	return memcpy(dst, src, n);
}

static void *
count_memmove(void *dst, const void *src, size_t n)
{
	if (counting)
		n_copied += n;
	return memmove(dst, src, n);
}

static void *
count_memset(void *dst, int c, size_t n)
{
	if (counting)
		n_zeroed += n;
	return memset(dst, c, n);
}

static ssize_t
count_pwrite(int fd, const void *buf, size_t n, off_t off)
{
	ssize_t rc = pwrite(fd, buf, n, off);
	if (rc > 0)
		n_written += rc;
	return rc;
}

static ssize_t
count_writev(int fd, const struct iovec *iov, int cnt)
{
	ssize_t rc = writev(fd, iov, cnt);
	if (rc > 0)
		n_written += rc;
	return rc;
}

#ifdef MDB_USE_PWRITEV
static ssize_t
count_pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	ssize_t rc = pwritev(fd, iov, cnt, off);
	if (rc > 0)
		n_written += rc;
	return rc;
}
#define pwritev	count_pwritev
#endif

#undef memcpy
#undef memmove
#undef memset
#define memcpy	count_memcpy
#define memmove	count_memmove
#define memset	count_memset
#define pwrite	count_pwrite
#define writev	count_writev
#include "mdb.c"
#include "midl.c"
#undef memcpy
#undef memmove
#undef memset
#undef pwrite
#undef writev
#undef pwritev

/* LMDB's own per-put bookkeeping (node headers, keys, moving the
 * nodes of a leaf) stays well below this. */
#define SLACK	512

static const char *dir = "testdb-reserve";
static const char *test_name;
static int case_no, verbose, missed;
static char env_path[256];
static size_t psize;

#define FAIL(fmt, ...) do { \
	fprintf(stderr, "%s:%d: %s: " fmt "\n", __FILE__, __LINE__, \
		test_name, __VA_ARGS__); \
	return 1; } while (0)
/* A failed bound: reported, and the case goes on measuring */
#define MISS(fmt, ...) do { \
	fprintf(stderr, "%s:%d: %s: " fmt "\n", __FILE__, __LINE__, \
		test_name, __VA_ARGS__); \
	missed = 1; } while (0)
#define CHECK(expr)	do { if (!(expr)) FAIL("check failed: %s", #expr); } while (0)
#define RC(call, want)	do { int rc_ = (call); if (rc_ != (want)) \
	FAIL("%s returned %d (%s), expected %d (%s)", #call, rc_, \
		mdb_strerror(rc_), (want), mdb_strerror(want)); } while (0)
#define OK(call)	RC(call, MDB_SUCCESS)

/* Bytes LMDB copied and zeroed while running \b call */
#define COUNTED(call, rc)	do { n_copied = n_zeroed = 0; counting = 1; \
	rc = (call); counting = 0; } while (0)

/* The bytes of an overflow run after a value of \b size */
static size_t
tail(size_t size)
{
	return OVPAGES(size, psize) * psize - PAGEHDRSZ - size;
}

static MDB_env *
open_env(unsigned int flags)
{
	char path[256], file[300];
	MDB_env *env;
	int rc;
	sprintf(path, "%s/%d", dir, ++case_no);
	strcpy(env_path, path);
	mkdir(path, 0755);
	sprintf(file, "%s/data.mdb", path);
	unlink(file);
	sprintf(file, "%s/lock.mdb", path);
	unlink(file);
	if ((rc = mdb_env_create(&env)) ||
		(rc = mdb_env_set_mapsize(env, (size_t)1 << 30)) ||
		(rc = mdb_env_set_maxdbs(env, 4)) ||
		(rc = mdb_env_open(env, path, flags | MDB_NOSYNC, 0664))) {
		fprintf(stderr, "cannot open env %s: %s\n", path, mdb_strerror(rc));
		exit(2);
	}
	psize = env->me_psize;
	return env;
}

static void
mkkey(char *buf, unsigned k)
{
	sprintf(buf, "k%06u", k);
}

/* Value contents: a function of key, version and position */
static unsigned char
pattern(unsigned k, unsigned v, size_t j)
{
	return (unsigned char)(k * 31 + v * 7 + j * 13 + 1);
}

/* A reserved put of key k, version v, filled by the "caller" after LMDB
 * returned; with counts, what LMDB copied and zeroed meanwhile. */
static int
reserve_put(MDB_txn *txn, MDB_dbi dbi, unsigned k, unsigned v, size_t size,
	unsigned flags, size_t *copied, size_t *zeroed)
{
	char kbuf[16];
	MDB_val key, data;
	size_t j;
	int rc;
	mkkey(kbuf, k);
	key.mv_data = kbuf; key.mv_size = strlen(kbuf);
	data.mv_size = size; data.mv_data = NULL;
	COUNTED(mdb_put(txn, dbi, &key, &data, flags | MDB_RESERVE), rc);
	if (copied)
		*copied = n_copied;
	if (zeroed)
		*zeroed = n_zeroed;
	if (rc)
		return rc;
	for (j = 0; j < size; j++)
		((unsigned char *)data.mv_data)[j] = pattern(k, v, j);
	return 0;
}

static int
small_put(MDB_txn *txn, MDB_dbi dbi, unsigned k)
{
	char kbuf[16];
	MDB_val key, data;
	mkkey(kbuf, k);
	key.mv_data = kbuf; key.mv_size = strlen(kbuf);
	data.mv_data = "small"; data.mv_size = 5;
	return mdb_put(txn, dbi, &key, &data, 0);
}

/* 0 if key k holds version v of size bytes */
static int
check_value(MDB_txn *txn, MDB_dbi dbi, unsigned k, unsigned v, size_t size)
{
	char kbuf[16];
	MDB_val key, data;
	size_t j;
	int rc;
	mkkey(kbuf, k);
	key.mv_data = kbuf; key.mv_size = strlen(kbuf);
	if ((rc = mdb_get(txn, dbi, &key, &data)))
		return rc;
	if (data.mv_size != size)
		return MDB_PROBLEM;
	for (j = 0; j < size; j++)
		if (((unsigned char *)data.mv_data)[j] != pattern(k, v, j))
			return MDB_PROBLEM;
	return 0;
}

/* Bytes of the overflow run holding key k's value after the value
 * that are not zero, as the data file holds them (read through the
 * map, which shows the file). */
static size_t
nonzero_tail(MDB_txn *txn, MDB_dbi dbi, unsigned k)
{
	char kbuf[16];
	MDB_val key, data;
	unsigned char *p, *end;
	size_t n = 0;
	mkkey(kbuf, k);
	key.mv_data = kbuf; key.mv_size = strlen(kbuf);
	if (mdb_get(txn, dbi, &key, &data))
		return (size_t)-1;
	p = (unsigned char *)data.mv_data + data.mv_size;
	end = (unsigned char *)data.mv_data - PAGEHDRSZ +
		OVPAGES(data.mv_size, psize) * psize;
	for (; p < end; p++)
		n += *p != 0;
	return n;
}

/* The leaf page holding key k (this test sees LMDB's internals) */
static pgno_t
leaf_of(MDB_txn *txn, MDB_dbi dbi, unsigned k)
{
	MDB_cursor *cur;
	MDB_val key, data;
	char kbuf[16];
	pgno_t pg = P_INVALID;
	mkkey(kbuf, k);
	key.mv_data = kbuf; key.mv_size = strlen(kbuf);
	if (!mdb_cursor_open(txn, dbi, &cur)) {
		if (!mdb_cursor_get(cur, &key, &data, MDB_SET))
			pg = cur->mc_pg[cur->mc_top]->mp_pgno;
		mdb_cursor_close(cur);
	}
	return pg;
}

static const size_t sizes[] = { 3072, 6144, 12288 };
#define NSIZES	(sizeof(sizes) / sizeof(sizes[0]))

/* ---------------------------------------------------------------- */

/* A fresh overflow run: nothing copied, only the tail zeroed (pristine
 * zeroes the whole last page, 4080 or 4096 bytes). */
static int
t_insert_zeroing(void)
{
	unsigned i;
	for (i = 0; i < NSIZES; i++) {
		MDB_env *env = open_env(0);
		MDB_txn *txn;
		MDB_dbi dbi;
		size_t copied, zeroed;
		OK(mdb_txn_begin(env, NULL, 0, &txn));
		OK(mdb_dbi_open(txn, NULL, 0, &dbi));
		OK(small_put(txn, dbi, 0));	/* the leaf page exists */
		OK(reserve_put(txn, dbi, 1, 1, sizes[i], 0, &copied, &zeroed));
		if (verbose)
			printf("  insert %5zu: copied %5zu zeroed %5zu (tail %zu)\n",
				sizes[i], copied, zeroed, tail(sizes[i]));
		if (copied > SLACK || zeroed > tail(sizes[i]) + SLACK)
			MISS("insert of %zu bytes copied %zu and zeroed %zu bytes; the tail is %zu",
				sizes[i], copied, zeroed, tail(sizes[i]));
		OK(mdb_txn_commit(txn));
		mdb_env_close(env);
	}
	return 0;
}

/* Overwrite of a value that is dirty in the parent txn: header and
 * tail copied, nothing zeroed (pristine copies the whole old run with
 * MDB_RESERVE and zeroes a page). Plain puts as well. */
static int
t_nested_overwrite(void)
{
	unsigned i, plain;
	for (plain = 0; plain < 2; plain++) {
		for (i = 0; i < NSIZES; i++) {
			MDB_env *env = open_env(0);
			MDB_txn *top, *txn;
			MDB_dbi dbi;
			size_t copied, zeroed, bound = PAGEHDRSZ + tail(sizes[i]) + SLACK;
			OK(mdb_txn_begin(env, NULL, 0, &top));
			OK(mdb_dbi_open(top, NULL, 0, &dbi));
			OK(small_put(top, dbi, 0));
			OK(reserve_put(top, dbi, 1, 1, sizes[i], 0, NULL, NULL));
			OK(mdb_txn_begin(env, top, 0, &txn));
			OK(small_put(txn, dbi, 0));	/* touch the leaf in the child */
			if (plain) {
				char kbuf[16], vbuf[12288];
				MDB_val key, data;
				size_t j;
				int rc;
				for (j = 0; j < sizes[i]; j++)
					vbuf[j] = pattern(1, 2, j);
				mkkey(kbuf, 1);
				key.mv_data = kbuf; key.mv_size = strlen(kbuf);
				data.mv_data = vbuf; data.mv_size = sizes[i];
				COUNTED(mdb_put(txn, dbi, &key, &data, 0), rc);
				OK(rc);
				/* the put copies the value itself */
				copied = n_copied - sizes[i];
				zeroed = n_zeroed;
			} else {
				OK(reserve_put(txn, dbi, 1, 2, sizes[i], 0, &copied, &zeroed));
			}
			if (verbose)
				printf("  nested %s %5zu: copied %5zu zeroed %5zu (header+tail %zu)\n",
					plain ? "put    " : "reserve", sizes[i], copied, zeroed,
					PAGEHDRSZ + tail(sizes[i]));
			if (copied > bound)
				MISS("nested %s of %zu bytes copied %zu bytes, more than header and tail (%zu)",
					plain ? "put" : "reserved put", sizes[i], copied,
					PAGEHDRSZ + tail(sizes[i]));
			if (zeroed > SLACK)
				MISS("nested %s of %zu bytes zeroed %zu bytes",
					plain ? "put" : "reserved put", sizes[i], zeroed);
			OK(check_value(txn, dbi, 1, 2, sizes[i]));
			OK(mdb_txn_commit(txn));
			OK(check_value(top, dbi, 1, 2, sizes[i]));
			OK(mdb_txn_commit(top));
			mdb_env_close(env);
		}
	}
	return 0;
}

/* Overwrite of spilled values: header and tail copied back, never the
 * region about to be overwritten (pristine copies the whole run, and
 * single-page runs through the copier for branch and leaf pages).
 * Key 2k+1 holds a value, key 2k a small neighbour, written first so
 * that the path to their leaf is already unspilled; where a leaf
 * boundary separates the two, the leaf of 2k+1 is unspilled by the
 * measured put, and that put is not held to the bound. */
static int
t_spilled_overwrite(void)
{
	unsigned i, k, n = 6000, unspilled, measured;
	for (i = 0; i < NSIZES; i++) {
		MDB_env *env = open_env(0);
		MDB_txn *txn;
		MDB_dbi dbi;
		size_t copied, zeroed, max_copied = 0, max_zeroed = 0, spilled;
		size_t bound = PAGEHDRSZ + tail(sizes[i]) + SLACK;
		OK(mdb_txn_begin(env, NULL, 0, &txn));
		OK(mdb_dbi_open(txn, NULL, 0, &dbi));
		n_written = 0;
		for (k = 0; k < n; k++) {
			OK(small_put(txn, dbi, 2 * k));
			OK(reserve_put(txn, dbi, 2 * k + 1, 1, sizes[i], 0, NULL, NULL));
		}
		spilled = n_written;
		if (!spilled) {
			if (verbose)
				printf("  spilled %5zu: no spill at this MDB_IDL_LOGN, skipped\n", sizes[i]);
			mdb_txn_abort(txn);
			mdb_env_close(env);
			continue;
		}
		unspilled = measured = 0;
		for (k = 0; k < n; k++) {
			int same_leaf;
			OK(small_put(txn, dbi, 2 * k));
			same_leaf = leaf_of(txn, dbi, 2 * k) == leaf_of(txn, dbi, 2 * k + 1);
			OK(reserve_put(txn, dbi, 2 * k + 1, 2, sizes[i], 0, &copied, &zeroed));
			if (!same_leaf)
				continue;
			measured++;
			if (copied >= PAGEHDRSZ + tail(sizes[i]))
				unspilled++;
			if (copied > max_copied)
				max_copied = copied;
			if (zeroed > max_zeroed)
				max_zeroed = zeroed;
		}
		if (verbose)
			printf("  spilled %5zu: max copied %5zu zeroed %5zu (header+tail %zu), "
				"%u of %u measured runs unspilled, %zu bytes spilled\n", sizes[i],
				max_copied, max_zeroed, PAGEHDRSZ + tail(sizes[i]), unspilled, measured,
				spilled);
		if (max_copied > bound)
			MISS("overwrite of a spilled %zu-byte value copied %zu bytes, more than header and tail (%zu)",
				sizes[i], max_copied, PAGEHDRSZ + tail(sizes[i]));
		if (max_zeroed > SLACK)
			MISS("overwrite of a spilled %zu-byte value zeroed %zu bytes", sizes[i], max_zeroed);
		CHECK(unspilled > 0);
		for (k = 0; k < n; k++)
			OK(check_value(txn, dbi, 2 * k + 1, 2, sizes[i]));
		OK(mdb_txn_commit(txn));
		mdb_env_close(env);
	}
	return 0;
}

/* Growing a value in a fresh DB (no freelist loaded): the old run is
 * freed and must not be written at commit (pristine writes it). */
static int
t_growth_dead_run(void)
{
	MDB_env *env = open_env(0);
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_stat main, fdb;
	size_t written, live;

	OK(mdb_txn_begin(env, NULL, 0, &txn));
	OK(mdb_dbi_open(txn, NULL, 0, &dbi));
	OK(small_put(txn, dbi, 0));
	OK(reserve_put(txn, dbi, 1, 1, 12288, 0, NULL, NULL));
	OK(reserve_put(txn, dbi, 1, 2, 20000, 0, NULL, NULL));	/* 4 -> 5 pages */
	OK(reserve_put(txn, dbi, 2, 1, 6144, 0, NULL, NULL));
	OK(reserve_put(txn, dbi, 2, 2, 12288, 0, NULL, NULL));	/* 2 -> 4 pages */
	n_written = 0;
	OK(mdb_txn_commit(txn));
	written = n_written;
	OK(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn));
	OK(mdb_stat(txn, dbi, &main));
	OK(mdb_stat(txn, FREE_DBI, &fdb));
	OK(check_value(txn, dbi, 1, 2, 20000));
	OK(check_value(txn, dbi, 2, 2, 12288));
	mdb_txn_abort(txn);
	live = main.ms_branch_pages + main.ms_leaf_pages + main.ms_overflow_pages +
		fdb.ms_branch_pages + fdb.ms_leaf_pages + fdb.ms_overflow_pages;
	if (verbose)
		printf("  growth: commit wrote %zu bytes, %zu live pages (%zu bytes) + meta\n",
			written, live, live * psize);
	/* pages of the trees, plus one meta page at most */
	if (written > (live + 1) * psize)
		MISS("commit wrote %zu bytes for %zu live pages: freed runs were written",
			written, live);
	mdb_env_close(env);
	return 0;
}

/* What reaches the disk after a value on overflow pages is zero, also
 * when the memory (reused heap pages) held other data before. With
 * MDB_WRITEMAP, pages in the map are not initialized (as upstream: they
 * hold the file's own earlier contents, no heap memory), so that mode
 * is not checked. */
static int
t_zero_tail_on_disk(void)
{
	unsigned mode, k, n = 200, bad;
	for (mode = 0; mode < 1; mode++) {
		MDB_env *env = open_env(mode ? MDB_WRITEMAP : 0);
		MDB_txn *txn;
		MDB_dbi dbi;
		char kbuf[16];
		MDB_val key;
		/* 1: pages full of data, committed */
		OK(mdb_txn_begin(env, NULL, 0, &txn));
		OK(mdb_dbi_open(txn, NULL, 0, &dbi));
		for (k = 0; k < n; k++)
			OK(reserve_put(txn, dbi, k, 1, 4000, 0, NULL, NULL));
		OK(mdb_txn_commit(txn));
		/* 2: more, aborted (their heap pages are kept for reuse) */
		OK(mdb_txn_begin(env, NULL, 0, &txn));
		for (k = n; k < 2 * n; k++)
			OK(reserve_put(txn, dbi, k, 1, 4000, 0, NULL, NULL));
		mdb_txn_abort(txn);
		/* 3: free the committed ones */
		OK(mdb_txn_begin(env, NULL, 0, &txn));
		for (k = 0; k < n; k++) {
			mkkey(kbuf, k);
			key.mv_data = kbuf; key.mv_size = strlen(kbuf);
			OK(mdb_del(txn, dbi, &key, NULL));
		}
		OK(mdb_txn_commit(txn));
		/* 4: new single-page values where the old data was */
		OK(mdb_txn_begin(env, NULL, 0, &txn));
		for (k = 2 * n; k < 3 * n; k++)
			OK(reserve_put(txn, dbi, k, 2, 3072, 0, NULL, NULL));
		OK(mdb_txn_commit(txn));
		OK(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn));
		for (bad = 0, k = 2 * n; k < 3 * n; k++) {
			OK(check_value(txn, dbi, k, 2, 3072));
			bad += nonzero_tail(txn, dbi, k) != 0;
		}
		mdb_txn_abort(txn);
		if (bad)
			MISS("%u of %u runs%s have non-zero bytes after their value on disk",
				bad, n, mode ? " (writemap)" : "");
		mdb_env_close(env);
	}
	return 0;
}

/* ---------------------------------------------------------------- */
/* Randomized model check */

#define MKEYS	3000
#define MLEVELS	3

struct model {
	size_t size[MKEYS];	/* 0: absent */
	unsigned ver[MKEYS];
};

static unsigned long rng_state;
static int txn_full;		/* the current txn hit MDB_TXN_FULL */
static unsigned txn_fulls, nested_commits;

/* A model operation; MDB_TXN_FULL (nested txns cannot always spill)
 * ends the ops of this txn, which the caller then aborts. */
#define OP(call)	do { int rc_ = (call); \
	if (rc_ == MDB_TXN_FULL) { txn_full = 1; txn_fulls++; return 0; } \
	if (rc_) FAIL("%s returned %d (%s)", #call, rc_, mdb_strerror(rc_)); } while (0)
static unsigned
rng(unsigned n)
{
	rng_state = rng_state * 6364136223846793005UL + 1442695040888963407UL;
	return (unsigned)((rng_state >> 33) % n);
}

static size_t
random_size(void)
{
	static const size_t fixed[] = { 3072, 6144, 12288, 20000, 4080, 4081, 8176, 8177 };
	switch (rng(4)) {
	case 0: return 1 + rng(300);			/* inline */
	case 1: return 1900 + rng(300);			/* around the node limit */
	default: return fixed[rng(sizeof(fixed) / sizeof(fixed[0]))];
	}
}

/* Every value, and tree pages + free pages + metas == last page + 1 */
static int
model_verify(MDB_env *env, MDB_dbi dbi, const struct model *m, unsigned seed, unsigned t)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_stat st;
	MDB_envinfo info;
	MDB_val key, data;
	MDB_dbi dbs[3];
	size_t tree = 0, free_pages = 0;
	unsigned k, i;
	int rc;

	OK(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn));
	for (k = 0; k < MKEYS; k++) {
		if (m->size[k])
			rc = check_value(txn, dbi, k, m->ver[k], m->size[k]);
		else {
			char kbuf[16];
			mkkey(kbuf, k);
			key.mv_data = kbuf; key.mv_size = strlen(kbuf);
			rc = mdb_get(txn, dbi, &key, &data) == MDB_NOTFOUND ? 0 : MDB_PROBLEM;
		}
		if (rc)
			FAIL("seed %u txn %u: key %u differs from the model (%s)",
				seed, t, k, mdb_strerror(rc));
	}
	dbs[0] = FREE_DBI; dbs[1] = MAIN_DBI; dbs[2] = dbi;
	for (i = 0; i < 3; i++) {
		OK(mdb_stat(txn, dbs[i], &st));
		tree += st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages;
	}
	OK(mdb_cursor_open(txn, FREE_DBI, &cur));
	while ((rc = mdb_cursor_get(cur, &key, &data, MDB_NEXT)) == 0)
		free_pages += *(pgno_t *)data.mv_data;
	mdb_cursor_close(cur);
	RC(rc, MDB_NOTFOUND);
	OK(mdb_env_info(env, &info));
	mdb_txn_abort(txn);
	if (tree + free_pages + NUM_METAS != info.me_last_pgno + 1)
		FAIL("seed %u txn %u: %zu tree pages + %zu free pages + %d metas != last page %zu + 1",
			seed, t, tree, free_pages, NUM_METAS, (size_t)info.me_last_pgno);
	return 0;
}

/* Random operations on txn at nesting level lvl, mirrored in m[lvl] */
static int
model_ops(MDB_env *env, MDB_txn *txn, MDB_dbi dbi, struct model *m, int lvl,
	int writemap, unsigned *version)
{
	/* Mostly small txns; one in six top-level ones dirties enough
	 * pages to spill (with a small MDB_IDL_LOGN); nested ones stay
	 * small, as upstream nested txns cannot always spill. */
	unsigned op, k, nops = lvl ? 1 + rng(40) : rng(6) ? 1 + rng(80) : 1500 + rng(1500);
	MDB_cursor *cur;
	MDB_val key, data;
	char kbuf[16], vbuf[20000];
	size_t size, j;
	int rc;

	for (op = 0; op < nops; op++) {
		k = rng(MKEYS);
		mkkey(kbuf, k);
		key.mv_data = kbuf; key.mv_size = strlen(kbuf);
		switch (rng(10)) {
		case 0: case 1: case 2:	/* reserved put */
			size = random_size();
			OP(reserve_put(txn, dbi, k, ++*version, size, 0, NULL, NULL));
			m[lvl].size[k] = size;
			m[lvl].ver[k] = *version;
			break;
		case 3: case 4:	/* plain put */
			size = random_size();
			++*version;
			for (j = 0; j < size; j++)
				vbuf[j] = pattern(k, *version, j);
			data.mv_data = vbuf; data.mv_size = size;
			OP(mdb_put(txn, dbi, &key, &data, 0));
			m[lvl].size[k] = size;
			m[lvl].ver[k] = *version;
			break;
		case 5: case 6:	/* MDB_CURRENT, reserved or not */
			if (!m[lvl].size[k])
				break;
			OK(mdb_cursor_open(txn, dbi, &cur));
			OK(mdb_cursor_get(cur, &key, &data, MDB_SET));
			size = random_size();
			++*version;
			if (rng(2)) {
				data.mv_size = size;
				OP(mdb_cursor_put(cur, &key, &data, MDB_CURRENT|MDB_RESERVE));
				for (j = 0; j < size; j++)
					((unsigned char *)data.mv_data)[j] = pattern(k, *version, j);
			} else {
				for (j = 0; j < size; j++)
					vbuf[j] = pattern(k, *version, j);
				data.mv_data = vbuf; data.mv_size = size;
				OP(mdb_cursor_put(cur, &key, &data, MDB_CURRENT));
			}
			mdb_cursor_close(cur);
			m[lvl].size[k] = size;
			m[lvl].ver[k] = *version;
			break;
		case 7: case 8:	/* delete */
			rc = mdb_del(txn, dbi, &key, NULL);
			if (rc != MDB_NOTFOUND || m[lvl].size[k])
				OP(rc);
			m[lvl].size[k] = 0;
			break;
		case 9:	/* a nested txn, committed or aborted */
			if (lvl + 1 < MLEVELS && !writemap) {
				MDB_txn *child;
				OK(mdb_txn_begin(env, txn, 0, &child));
				m[lvl + 1] = m[lvl];
				if (model_ops(env, child, dbi, m, lvl + 1, writemap, version))
					return 1;
				if (txn_full) {
					txn_full = 0;
					mdb_txn_abort(child);
				} else if (rng(2)) {
					OK(mdb_txn_commit(child));
					m[lvl] = m[lvl + 1];
					nested_commits++;
				} else {
					mdb_txn_abort(child);
				}
			}
			break;
		}
	}
	return 0;
}

static int
t_model(void)
{
	unsigned seeds = getenv("MTEST_SEEDS") ? atoi(getenv("MTEST_SEEDS")) : 4;
	unsigned txns = getenv("MTEST_TXNS") ? atoi(getenv("MTEST_TXNS")) : 40;
	unsigned seed, t, version = 0, commits = 0;
	size_t spilled = 0;
	static struct model m[MLEVELS];

	for (seed = 1; seed <= seeds; seed++) {
		int writemap = seed % 2 == 0;
		MDB_env *env = open_env(writemap ? MDB_WRITEMAP : 0);
		MDB_dbi dbi;
		MDB_txn *txn;
		rng_state = seed;
		memset(m, 0, sizeof(m));
		OK(mdb_txn_begin(env, NULL, 0, &txn));
		OK(mdb_dbi_open(txn, "m", MDB_CREATE, &dbi));
		OK(mdb_txn_commit(txn));
		for (t = 0; t < txns; t++) {
			struct model saved = m[0];
			OK(mdb_txn_begin(env, NULL, 0, &txn));
			n_written = 0;
			if (model_ops(env, txn, dbi, m, 0, writemap, &version))
				return 1;
			spilled += n_written;
			if (txn_full) {
				txn_full = 0;
				mdb_txn_abort(txn);
				m[0] = saved;
			} else if (rng(5)) {
				OK(mdb_txn_commit(txn));
				commits++;
			} else {
				mdb_txn_abort(txn);
				m[0] = saved;
			}
			if (model_verify(env, dbi, &m[0], seed, t))
				return 1;
		}
		mdb_env_close(env);
	}
	if (verbose)
		printf("  model: %u seeds x %u txns, %u commits verified, %u nested commits, "
			"%zu bytes spilled, %u txns aborted on MDB_TXN_FULL\n", seeds, txns, commits,
			nested_commits, spilled, txn_fulls);
	return 0;
}

/* ---------------------------------------------------------------- */

struct test {
	const char *name;
	int (*fn)(void);
};

static const struct test tests[] = {
	{ "insert_zeroing", t_insert_zeroing },
	{ "nested_overwrite", t_nested_overwrite },
	{ "spilled_overwrite", t_spilled_overwrite },
	{ "growth_dead_run", t_growth_dead_run },
	{ "zero_tail_on_disk", t_zero_tail_on_disk },
	{ "model", t_model },
};

int main(int argc, char *argv[])
{
	int passed = 0, failed = 0;
	unsigned i;
	const char *only = getenv("MTEST_ONLY");

	verbose = getenv("MTEST_VERBOSE") != NULL;
	if (argc > 1)
		dir = argv[1];
	mkdir(dir, 0755);
	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		if (only && strcmp(only, tests[i].name))
			continue;
		test_name = tests[i].name;
		missed = 0;
		if (tests[i].fn() || missed) {
			printf("FAIL %s\n", test_name);
			failed++;
		} else {
			printf("ok   %s\n", test_name);
			passed++;
		}
		fflush(stdout);
	}
	printf("mtest_reserve: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
