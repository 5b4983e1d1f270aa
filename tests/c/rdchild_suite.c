/* mtest_rdchild.c - read-only children of write transactions */
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

/* Every rule of read-only children of write transactions (see
 * mdb_txn_begin() in lmdb.h), with and without MDB_WRITEMAP, and a
 * case for each defect seen in earlier implementations of the idea.
 * Build the library with a small MDB_IDL_LOGN (e.g. 10) to make the
 * spill cases spill. Run it under ThreadSanitizer, AddressSanitizer
 * and valgrind: several defects only show there.
 *
 * Usage: mtest_rdchild [dir] (default testdb-rdchild, created if needed)
 * MTEST_ONLY=<case> in the environment runs one case.
 *
 * hedge's own suite for patch 0005 (the upstream patch carries the
 * small mtest_rdchild.c); built by tests/build.rs and .ci/ctests.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lmdb.h"

#define NKEYS	2000	/* keys in the base data set */
#define BIGLEN	6000	/* overflow value length (2 pages) */
#define NREADERS	8

static const char *dir = "testdb-rdchild";
static char env_path[256];	/* of the last env opened */
static const char *test_name;
static int test_writemap;	/* the case asked for MDB_WRITEMAP */
static int writemap;		/* and got it (MDB_VL32 builds ignore it) */
static int case_no;

#define FAIL(fmt, ...) do { \
	fprintf(stderr, "%s:%d: %s%s: " fmt "\n", __FILE__, __LINE__, \
		test_name, test_writemap ? " (writemap)" : "", __VA_ARGS__); \
	return 1; } while (0)
#define CHECK(expr)	do { if (!(expr)) FAIL("check failed: %s", #expr); } while (0)
#define RC(call, want)	do { int rc_ = (call); if (rc_ != (want)) \
	FAIL("%s returned %d (%s), expected %d (%s)", #call, rc_, \
		mdb_strerror(rc_), (want), mdb_strerror(want)); } while (0)
#define OK(call)	RC(call, MDB_SUCCESS)

/* Test data: key i has a value of version v; every tenth is an
 * overflow value, the others are small. */
static size_t
val_len(int i)
{
	return i % 10 ? 40 + i % 50 : BIGLEN;
}

static void
fill(char *buf, int i, int v)
{
	size_t j, n = val_len(i);
	for (j = 0; j < n; j++)
		buf[j] = (char)(i * 7 + v * 13 + j);
}

static void
mkkey(char *buf, int i)
{
	sprintf(buf, "k%05d", i);
}

static int
put_version(MDB_txn *txn, MDB_dbi dbi, int from, int to, int v)
{
	char kbuf[16], vbuf[BIGLEN];
	MDB_val key, data;
	int i, rc;
	for (i = from; i < to; i++) {
		mkkey(kbuf, i);
		fill(vbuf, i, v);
		key.mv_data = kbuf; key.mv_size = strlen(kbuf);
		data.mv_data = vbuf; data.mv_size = val_len(i);
		if ((rc = mdb_put(txn, dbi, &key, &data, 0)))
			return rc;
	}
	return 0;
}

/* Returns 0 if key i has version v in txn, else what went wrong. */
static int
check_version(MDB_txn *txn, MDB_dbi dbi, int i, int v)
{
	char kbuf[16], vbuf[BIGLEN];
	MDB_val key, data;
	int rc;
	mkkey(kbuf, i);
	key.mv_data = kbuf; key.mv_size = strlen(kbuf);
	if ((rc = mdb_get(txn, dbi, &key, &data)))
		return rc;
	fill(vbuf, i, v);
	if (data.mv_size != val_len(i) || memcmp(data.mv_data, vbuf, data.mv_size))
		return MDB_PROBLEM;
	return 0;
}

static int
check_range(MDB_txn *txn, MDB_dbi dbi, int from, int to, int v)
{
	int i, rc;
	for (i = from; i < to; i++)
		if ((rc = check_version(txn, dbi, i, v)))
			return rc;
	return 0;
}

static MDB_env *
open_env(unsigned int flags, size_t mapsize)
{
	char path[256], file[300];
	MDB_env *env;
	int rc;
	sprintf(path, "%s/%d%s", dir, ++case_no, flags & MDB_WRITEMAP ? "w" : "");
	strcpy(env_path, path);
	mkdir(path, 0755);
	sprintf(file, "%s/data.mdb", path);
	unlink(file);
	sprintf(file, "%s/lock.mdb", path);
	unlink(file);
	if ((rc = mdb_env_create(&env)) ||
		(rc = mdb_env_set_mapsize(env, mapsize)) ||
		(rc = mdb_env_set_maxdbs(env, 8)) ||
		(rc = mdb_env_open(env, path, flags | MDB_NOSYNC, 0664)) ||
		(rc = mdb_env_get_flags(env, &flags))) {
		fprintf(stderr, "cannot open env %s: %s\n", path, mdb_strerror(rc));
		exit(2);
	}
	writemap = (flags & MDB_WRITEMAP) != 0;
	return env;
}

/* An env with the base data set (version 0) committed in named DB "d"
 * (returned in dbi), and a little of it in "a"; "b" exists in the file
 * but its handle is not open. */
static MDB_env *
base_env(MDB_dbi *dbi)
{
	MDB_env *env = open_env(test_writemap ? MDB_WRITEMAP : 0, 256 << 20);
	MDB_txn *txn;
	MDB_dbi a, b;
	if (mdb_txn_begin(env, NULL, 0, &txn) ||
		mdb_dbi_open(txn, "d", MDB_CREATE, dbi) ||
		mdb_dbi_open(txn, "a", MDB_CREATE, &a) ||
		mdb_dbi_open(txn, "b", MDB_CREATE, &b) ||
		put_version(txn, *dbi, 0, NKEYS, 0) ||
		put_version(txn, a, 0, 10, 0) ||
		put_version(txn, b, 0, 10, 0) ||
		mdb_txn_commit(txn)) {
		fprintf(stderr, "cannot write the base data set\n");
		exit(2);
	}
	mdb_dbi_close(env, b);
	return env;
}

/* ---------------------------------------------------------------- */
/* The rules table of mdb_txn_begin() */

/* Children see the parent's uncommitted changes, including new and
 * deleted keys and overflow values; the parent is usable again after. */
static int
t_reads_uncommitted(void)
{
	MDB_dbi dbi;
	MDB_env *env = base_env(&dbi);
	MDB_txn *parent, *r1, *r2;
	char kbuf[16];
	MDB_val key, data;

	OK(mdb_txn_begin(env, NULL, 0, &parent));
	OK(put_version(parent, dbi, 0, NKEYS / 2, 1));
	mkkey(kbuf, 3);
	key.mv_data = kbuf; key.mv_size = strlen(kbuf);
	OK(mdb_del(parent, dbi, &key, NULL));
	OK(mdb_txn_begin(env, parent, MDB_RDONLY, &r1));
	OK(mdb_txn_begin(env, parent, MDB_RDONLY, &r2));
	OK(check_range(r1, dbi, 4, NKEYS / 2, 1));
	OK(check_range(r2, dbi, NKEYS / 2, NKEYS, 0));
	RC(mdb_get(r1, dbi, &key, &data), MDB_NOTFOUND);
	RC(mdb_put(r1, dbi, &key, &key, 0), EACCES);
	RC(mdb_del(r2, dbi, &key, NULL), EACCES);
	CHECK(mdb_txn_id(r1) == mdb_txn_id(parent));
	mdb_txn_abort(r1);
	OK(mdb_txn_commit(r2));		/* ends it, like abort */
	/* the parent again */
	OK(put_version(parent, dbi, 0, 10, 2));
	OK(check_range(parent, dbi, 0, 3, 2));
	OK(mdb_txn_commit(parent));
	OK(mdb_txn_begin(env, NULL, MDB_RDONLY, &r1));
	OK(check_range(r1, dbi, 4, 10, 2));
	OK(check_range(r1, dbi, 10, NKEYS / 2, 1));
	mdb_txn_abort(r1);
	mdb_env_close(env);
	return 0;
}

/* A read-only parent: EINVAL (defect 2: accepted, then the child read
 * the reader slot as a dirty list). */
static int
t_parent_rdonly(void)
{
	MDB_dbi dbi;
	MDB_env *env = base_env(&dbi);
	MDB_txn *rd, *w, *r, *c;

	OK(mdb_txn_begin(env, NULL, MDB_RDONLY, &rd));
	RC(mdb_txn_begin(env, rd, MDB_RDONLY, &c), EINVAL);
	RC(mdb_txn_begin(env, rd, 0, &c), EINVAL);
	OK(check_range(rd, dbi, 0, 10, 0));
	mdb_txn_abort(rd);
	/* nor a read-only child as parent */
	OK(mdb_txn_begin(env, NULL, 0, &w));
	OK(mdb_txn_begin(env, w, MDB_RDONLY, &r));
	RC(mdb_txn_begin(env, r, MDB_RDONLY, &c), EINVAL);
	RC(mdb_txn_begin(env, r, 0, &c), EINVAL);
	mdb_txn_abort(r);
	mdb_txn_abort(w);
	mdb_env_close(env);
	return 0;
}

/* Defect 1: the "blocked" test must fire for every combination. */
static int
t_blocked_combinations(void)
{
	MDB_dbi dbi;
	MDB_env *env = base_env(&dbi);
	MDB_txn *parent, *w1, *w2, *r;

	OK(mdb_txn_begin(env, NULL, 0, &parent));
	if (!writemap) {
		/* a second write child */
		OK(mdb_txn_begin(env, parent, 0, &w1));
		RC(mdb_txn_begin(env, parent, 0, &w2), MDB_BAD_TXN);
		/* a reader while a write child lives */
		RC(mdb_txn_begin(env, parent, MDB_RDONLY, &r), MDB_BAD_TXN);
		mdb_txn_abort(w1);
	} else {
		/* nested write txns stay unsupported with WRITEMAP */
		RC(mdb_txn_begin(env, parent, 0, &w1), MDB_BAD_TXN);
	}
	/* a write child while a reader lives */
	OK(mdb_txn_begin(env, parent, MDB_RDONLY, &r));
	RC(mdb_txn_begin(env, parent, 0, &w1), MDB_BAD_TXN);
	mdb_txn_abort(r);
	if (!writemap) {
		OK(mdb_txn_begin(env, parent, 0, &w1));
		OK(mdb_txn_commit(w1));
	}
	OK(mdb_txn_commit(parent));
	mdb_env_close(env);
	return 0;
}

/* A parent that failed cannot have children. */
static int
t_parent_errored(void)
{
	MDB_env *env = open_env(test_writemap ? MDB_WRITEMAP : 0, 64 * 4096);
	MDB_txn *parent, *r;
	MDB_dbi dbi;
	int rc = 0, i;
	char big[BIGLEN];
	MDB_val key, data;

	memset(big, 'x', sizeof(big));
	OK(mdb_txn_begin(env, NULL, 0, &parent));
	OK(mdb_dbi_open(parent, NULL, 0, &dbi));
	for (i = 0; i < 1000 && !rc; i++) {
		key.mv_data = &i; key.mv_size = sizeof(i);
		data.mv_data = big; data.mv_size = sizeof(big);
		rc = mdb_put(parent, dbi, &key, &data, 0);
	}
	RC(rc, MDB_MAP_FULL);
	RC(mdb_txn_begin(env, parent, MDB_RDONLY, &r), MDB_BAD_TXN);
	mdb_txn_abort(parent);
	mdb_env_close(env);
	return 0;
}

/* Every operation on a blocked parent fails with MDB_BAD_TXN and
 * changes nothing; the parent works again once the children end. */
static int
t_parent_blocked_ops(void)
{
	MDB_dbi dbi, a, c;
	MDB_env *env = base_env(&dbi);
	MDB_txn *parent, *r1, *r2;
	MDB_cursor *pc, *pc2, *dupc;
	MDB_stat st;
	MDB_val key, data;
	mdb_size_t count;
	char kbuf[16];

	OK(mdb_txn_begin(env, NULL, 0, &parent));
	OK(mdb_dbi_open(parent, "a", 0, &a));
	OK(mdb_dbi_open(parent, "c", MDB_CREATE|MDB_DUPSORT, &c));
	mkkey(kbuf, 5);
	key.mv_data = kbuf; key.mv_size = strlen(kbuf);
	data.mv_data = "d1"; data.mv_size = 2;
	OK(mdb_put(parent, c, &key, &data, 0));
	data.mv_data = "d2";
	OK(mdb_put(parent, c, &key, &data, 0));
	OK(mdb_cursor_open(parent, dbi, &pc));
	OK(mdb_cursor_open(parent, c, &dupc));
	OK(mdb_cursor_get(pc, &key, &data, MDB_SET));
	OK(mdb_cursor_get(dupc, &key, &data, MDB_SET));
	OK(mdb_txn_begin(env, parent, MDB_RDONLY, &r1));
	OK(mdb_txn_begin(env, parent, MDB_RDONLY, &r2));

	RC(mdb_get(parent, dbi, &key, &data), MDB_BAD_TXN);
	data.mv_data = "zz"; data.mv_size = 2;
	RC(mdb_put(parent, dbi, &key, &data, 0), MDB_BAD_TXN);
	RC(mdb_del(parent, dbi, &key, NULL), MDB_BAD_TXN);
	RC(mdb_cursor_open(parent, dbi, &pc2), MDB_BAD_TXN);
	RC(mdb_cursor_get(pc, &key, &data, MDB_NEXT), MDB_BAD_TXN);
	RC(mdb_cursor_put(pc, &key, &data, 0), MDB_BAD_TXN);
	RC(mdb_cursor_del(pc, 0), MDB_BAD_TXN);
	RC(mdb_cursor_count(dupc, &count), MDB_BAD_TXN);
	RC(mdb_dbi_open(parent, "a", 0, &a), MDB_BAD_TXN);
	RC(mdb_dbi_open(parent, "d", MDB_CREATE, &a), MDB_BAD_TXN);
	RC(mdb_stat(parent, dbi, &st), MDB_BAD_TXN);
	RC(mdb_drop(parent, a, 0), MDB_BAD_TXN);
	RC(mdb_txn_commit(parent), EBUSY);
	/* nothing changed, and the children still read */
	OK(check_range(r1, dbi, 0, NKEYS, 0));
	OK(check_range(r2, a, 0, 10, 0));
	mdb_txn_abort(r1);
	/* still one child */
	RC(mdb_get(parent, dbi, &key, &data), MDB_BAD_TXN);
	RC(mdb_txn_commit(parent), EBUSY);
	mdb_txn_abort(r2);

	/* usable again, cursors included */
	OK(mdb_cursor_get(pc, &key, &data, MDB_GET_CURRENT));
	CHECK(key.mv_size == 6 && !memcmp(key.mv_data, "k00005", 6));
	OK(mdb_cursor_get(pc, &key, &data, MDB_NEXT));
	CHECK(!memcmp(key.mv_data, "k00006", 6));
	OK(mdb_cursor_count(dupc, &count));
	CHECK(count == 2);
	OK(mdb_stat(parent, dbi, &st));
	CHECK(st.ms_entries == NKEYS);
	OK(check_range(parent, dbi, 0, NKEYS, 0));
	OK(put_version(parent, dbi, 0, 10, 3));
	mdb_cursor_close(pc);
	mdb_cursor_close(dupc);
	OK(mdb_txn_commit(parent));
	OK(mdb_txn_begin(env, NULL, MDB_RDONLY, &r1));
	OK(check_range(r1, dbi, 0, 10, 3));
	OK(mdb_stat(r1, dbi, &st));
	CHECK(st.ms_entries == NKEYS);
	mdb_txn_abort(r1);
	mdb_env_close(env);
	return 0;
}

/* Defect 5: committing the parent while children live must neither
 * succeed nor free what they read; neither may committing an ancestor. */
static int
t_commit_refused(void)
{
	MDB_dbi dbi;
	MDB_env *env = base_env(&dbi);
	MDB_txn *top, *mid, *r;

	OK(mdb_txn_begin(env, NULL, 0, &top));
	OK(put_version(top, dbi, 0, NKEYS, 1));
	OK(mdb_txn_begin(env, top, MDB_RDONLY, &r));
	RC(mdb_txn_commit(top), EBUSY);
	OK(check_range(r, dbi, 0, NKEYS, 1));
	mdb_txn_abort(r);
	if (!writemap) {
		/* children of a nested write txn block its ancestors' commit */
		OK(mdb_txn_begin(env, top, 0, &mid));
		OK(put_version(mid, dbi, 0, 100, 2));
		OK(mdb_txn_begin(env, mid, MDB_RDONLY, &r));
		RC(mdb_txn_commit(top), EBUSY);
		RC(mdb_txn_commit(mid), EBUSY);
		OK(check_range(r, dbi, 0, 100, 2));
		OK(check_range(r, dbi, 100, NKEYS, 1));
		mdb_txn_abort(r);
		OK(mdb_txn_commit(mid));
	}
	OK(mdb_txn_commit(top));
	OK(mdb_txn_begin(env, NULL, MDB_RDONLY, &r));
	OK(check_range(r, dbi, 100, NKEYS, 1));
	if (!writemap)
		OK(check_range(r, dbi, 0, 100, 2));
	mdb_txn_abort(r);
	mdb_env_close(env);
	return 0;
}

static int assert_called;
static void
note_assert(MDB_env *env, const char *msg)
{
	assert_called = 1;
	fprintf(stderr, "(expected) assert callback: %s\n", msg);
}

/* Defect 6: aborting a parent whose children live must not go on to
 * free their pages. It cannot return an error, so the library asserts
 * (an assertion: the library must be built without NDEBUG, as here).
 * Checked in a forked process. */
static int
t_abort_with_children_asserts(void)
{
	int status, depth;
	pid_t pid;

	for (depth = 0; depth < (test_writemap ? 1 : 2); depth++) {
		fflush(stderr);
		pid = fork();
		CHECK(pid >= 0);
		if (pid == 0) {
			MDB_dbi dbi;
			MDB_env *env = base_env(&dbi);	/* not one inherited across fork() */
			MDB_txn *top, *parent, *r;
			mdb_env_set_assert(env, note_assert);
			if (mdb_txn_begin(env, NULL, 0, &top))
				_exit(3);
			parent = top;
			if (depth && mdb_txn_begin(env, top, 0, &parent))
				_exit(3);
			if (mdb_txn_begin(env, parent, MDB_RDONLY, &r))
				_exit(3);
			mdb_txn_abort(top);	/* must not return */
			_exit(assert_called ? 4 : 5);
		}
		CHECK(waitpid(pid, &status, 0) == pid);
		if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT)
			FAIL("abort with live children (depth %d): child exited with status %d, expected SIGABRT",
				depth, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		case_no++;	/* the child used the next env directory */
	}
	return 0;
}

/* Reset does nothing to a child, renew refuses it. */
static int
t_reset_renew(void)
{
	MDB_dbi dbi;
	MDB_env *env = base_env(&dbi);
	MDB_txn *parent, *r;
	MDB_val key, data;

	OK(mdb_txn_begin(env, NULL, 0, &parent));
	OK(put_version(parent, dbi, 0, 10, 1));
	OK(mdb_txn_begin(env, parent, MDB_RDONLY, &r));
	mdb_txn_reset(r);
	OK(check_range(r, dbi, 0, 10, 1));
	RC(mdb_txn_renew(r), EINVAL);
	OK(check_range(r, dbi, 0, 10, 1));
	key.mv_data = "k00001"; key.mv_size = 6;
	RC(mdb_get(parent, dbi, &key, &data), MDB_BAD_TXN);
	mdb_txn_abort(r);
	OK(mdb_get(parent, dbi, &key, &data));
	OK(mdb_txn_commit(parent));
	mdb_env_close(env);
	return 0;
}

/* Defect 8: children only find handles, never create them. */
static int
t_dbi_open(void)
{
	MDB_dbi dbi, a, a2, n, x;
	MDB_env *env = base_env(&dbi);
	MDB_txn *parent, *r;
	MDB_stat st;

	OK(mdb_txn_begin(env, NULL, 0, &parent));
	OK(mdb_dbi_open(parent, "a", 0, &a));
	OK(mdb_dbi_open(parent, "new", MDB_CREATE, &n));	/* uncommitted */
	OK(put_version(parent, n, 0, 5, 4));
	OK(mdb_txn_begin(env, parent, MDB_RDONLY, &r));
	OK(mdb_dbi_open(r, "a", 0, &a2));
	CHECK(a2 == a);
	OK(mdb_dbi_open(r, "new", 0, &x));
	CHECK(x == n);
	OK(check_range(r, n, 0, 5, 4));
	OK(mdb_dbi_open(r, "d", 0, &x));
	CHECK(x == dbi);
	OK(mdb_dbi_open(r, NULL, 0, &x));
	CHECK(x == 1);		/* MAIN_DBI */
	RC(mdb_dbi_open(r, "b", 0, &x), EINVAL);	/* in the file, not open */
	RC(mdb_dbi_open(r, "zz", 0, &x), MDB_NOTFOUND);
	RC(mdb_dbi_open(r, "zz", MDB_CREATE, &x), EACCES);
	OK(mdb_dbi_open(r, "a", MDB_CREATE, &x));
	OK(mdb_stat(r, n, &st));
	CHECK(st.ms_entries == 5);
	/* ending the child neither exports nor closes the parent's new handle */
	OK(mdb_txn_commit(r));
	OK(mdb_txn_begin(env, parent, MDB_RDONLY, &r));
	mdb_txn_abort(r);
	OK(check_range(parent, n, 0, 5, 4));
	OK(mdb_txn_commit(parent));
	OK(mdb_txn_begin(env, NULL, MDB_RDONLY, &r));
	OK(check_range(r, n, 0, 5, 4));
	mdb_txn_abort(r);
	mdb_env_close(env);
	return 0;
}

#ifdef MDB_VL32
/* MDB_VL32 cursors unref their pages through their txn when closed, for
 * every read-only txn (upstream, not only children): close them first. */
# define END_THEN_CLOSE(end, cur)	do { mdb_cursor_close(cur); end; } while (0)
#else
# define END_THEN_CLOSE(end, cur)	do { end; mdb_cursor_close(cur); } while (0)
#endif

/* Defects 3 and 4: nothing of an ended child may be reachable: the
 * parent must not keep a pointer to it, and its cursors are not
 * tracked, so they may be closed after it ended (as lmdb.h allows for
 * read-only txns). Use-after-free shows under ASan or valgrind. */
static int
t_ended_child_unreachable(void)
{
	MDB_dbi dbi;
	MDB_env *env = base_env(&dbi);
	MDB_txn *parent, *r, *w;
	MDB_cursor *cur, *cur2;
	MDB_val key, data;
	int i;

	OK(mdb_txn_begin(env, NULL, 0, &parent));
	OK(mdb_txn_begin(env, parent, MDB_RDONLY, &r));
	OK(mdb_cursor_open(r, dbi, &cur));
	OK(mdb_cursor_get(cur, &key, &data, MDB_FIRST));
	END_THEN_CLOSE(mdb_txn_abort(r), cur);	/* after its txn ended */
	for (i = 0; i < 3; i++) {
		OK(mdb_txn_begin(env, parent, MDB_RDONLY, &r));
		OK(mdb_cursor_open(r, dbi, &cur));
		OK(mdb_txn_begin(env, parent, MDB_RDONLY, &w));
		OK(mdb_cursor_open(w, dbi, &cur2));
		OK(mdb_cursor_get(cur2, &key, &data, MDB_LAST));
		mdb_cursor_close(cur2);
		mdb_txn_abort(w);
		OK(mdb_cursor_get(cur, &key, &data, MDB_FIRST));
		END_THEN_CLOSE(OK(mdb_txn_commit(r)), cur);
		if (!writemap) {
			OK(mdb_txn_begin(env, parent, 0, &w));
			OK(put_version(w, dbi, i, i + 1, 5));
			OK(mdb_txn_commit(w));
		}
		OK(put_version(parent, dbi, 10 + i, 11 + i, 5));
	}
	/* a cursor of a child can be renewed into another child */
	OK(mdb_txn_begin(env, parent, MDB_RDONLY, &r));
	OK(mdb_cursor_open(r, dbi, &cur));
	mdb_txn_abort(r);
	OK(mdb_txn_begin(env, parent, MDB_RDONLY, &r));
	OK(mdb_cursor_renew(r, cur));
	OK(mdb_cursor_get(cur, &key, &data, MDB_FIRST));
	END_THEN_CLOSE(mdb_txn_abort(r), cur);
	OK(mdb_txn_commit(parent));
	mdb_env_close(env);
	return 0;
}

/* ---------------------------------------------------------------- */
/* Threads */

struct reader_job {
	MDB_txn *txn;
	MDB_dbi dbi;
	int from, to, version, nkeys, rc;
};

static void *
read_and_end(void *arg)
{
	struct reader_job *job = arg;
	MDB_cursor *cur;
	MDB_val key, data;
	int n = 0;
	job->rc = check_range(job->txn, job->dbi, job->from, job->to, job->version);
	if (!job->rc && !(job->rc = mdb_cursor_open(job->txn, job->dbi, &cur))) {
		while (!mdb_cursor_get(cur, &key, &data, n ? MDB_NEXT : MDB_FIRST))
			n++;
		if (n != job->nkeys)
			job->rc = MDB_PROBLEM;
		mdb_cursor_close(cur);
	}
	mdb_txn_abort(job->txn);	/* ended on this thread */
	return NULL;
}

/* 8 children begun on the owner thread, each moved to a thread of
 * its own, read concurrently and ended there. */
static int
t_readers_on_threads(void)
{
	MDB_dbi dbi;
	MDB_env *env = base_env(&dbi);
	MDB_txn *parent;
	pthread_t tid[NREADERS];
	struct reader_job job[NREADERS];
	int i;

	OK(mdb_txn_begin(env, NULL, 0, &parent));
	OK(put_version(parent, dbi, 0, NKEYS, 6));
	for (i = 0; i < NREADERS; i++) {
		job[i].dbi = dbi;
		job[i].from = i * NKEYS / NREADERS;
		job[i].to = (i + 1) * NKEYS / NREADERS;
		job[i].version = 6;
		job[i].nkeys = NKEYS;
		OK(mdb_txn_begin(env, parent, MDB_RDONLY, &job[i].txn));
	}
	for (i = 0; i < NREADERS; i++)
		CHECK(!pthread_create(&tid[i], NULL, read_and_end, &job[i]));
	for (i = 0; i < NREADERS; i++) {
		CHECK(!pthread_join(tid[i], NULL));
		OK(job[i].rc);
	}
	OK(put_version(parent, dbi, 0, 10, 7));
	OK(mdb_txn_commit(parent));
	mdb_env_close(env);
	return 0;
}

/* Size of the data file: it grows before commit only when dirty
 * pages are spilled (written out early) without WRITEMAP. */
static long
data_size(void)
{
	char file[300];
	struct stat sb;
	sprintf(file, "%s/data.mdb", env_path);
	return stat(file, &sb) ? -1 : (long)sb.st_size;
}

/* Children of a nested write txn find pages dirty or spilled at every
 * level: the top txn writes keys [0, N) at version 8, a nested one
 * adds [N, N + M) at version 9 and rewrites a few of the top's keys,
 * and children of the nested txn read everything. Built with MDB_IDL_LOGN 10 (a dirty list of 2047
 * pages) both levels spill, checked by the data file growing before
 * any commit; near that limit upstream's nested txns may instead fail
 * with MDB_TXN_FULL, which these sizes avoid.
 */
#ifndef SPILL_N
#define SPILL_N	20000
#endif
#ifndef SPILL_M
#define SPILL_M	8000
#endif
static int
t_nested_parent_spills(void)
{
	MDB_dbi dbi;
	MDB_env *env;
	MDB_txn *top, *mid, *r;
	pthread_t tid[NREADERS];
	struct reader_job job[NREADERS];
	int i, n = SPILL_N, m = SPILL_M, half = NREADERS / 2;
	long size0, size1, size2;

	env = base_env(&dbi);
	if (writemap) {
		mdb_env_close(env);
		return 0;	/* no nested write txns with WRITEMAP */
	}
	size0 = data_size();
	OK(mdb_txn_begin(env, NULL, 0, &top));
	OK(put_version(top, dbi, 0, n, 8));
	size1 = data_size();
	OK(mdb_txn_begin(env, top, 0, &mid));
	OK(put_version(mid, dbi, n, n + m, 9));
	OK(put_version(mid, dbi, 0, 100, 9));
	size2 = data_size();
#if defined(MDB_IDL_LOGN) && MDB_IDL_LOGN == 10
	if (!(size0 < size1 && size1 < size2))
		FAIL("expected spills at both levels: data file %ld, %ld, %ld bytes",
			size0, size1, size2);
#endif
	for (i = 0; i < NREADERS; i++) {
		int lo = i < half ? 100 : n, len = i < half ? n - 100 : m;
		int k = i % half;
		job[i].dbi = dbi;
		job[i].version = i < half ? 8 : 9;
		job[i].from = lo + k * len / half;
		job[i].to = lo + (k + 1) * len / half;
		job[i].nkeys = n + m;
		OK(mdb_txn_begin(env, mid, MDB_RDONLY, &job[i].txn));
	}
	for (i = 0; i < NREADERS; i++)
		CHECK(!pthread_create(&tid[i], NULL, read_and_end, &job[i]));
	for (i = 0; i < NREADERS; i++) {
		CHECK(!pthread_join(tid[i], NULL));
		OK(job[i].rc);
	}
	/* all values, from a child on this thread */
	OK(mdb_txn_begin(env, mid, MDB_RDONLY, &r));
	OK(check_range(r, dbi, 0, 100, 9));
	OK(check_range(r, dbi, 100, n, 8));
	OK(check_range(r, dbi, n, n + m, 9));
	mdb_txn_abort(r);
	OK(mdb_txn_commit(mid));
	OK(mdb_txn_begin(env, top, MDB_RDONLY, &r));
	OK(check_range(r, dbi, n, n + m, 9));
	mdb_txn_abort(r);
	OK(mdb_txn_commit(top));
	OK(mdb_txn_begin(env, NULL, MDB_RDONLY, &r));
	OK(check_range(r, dbi, 0, 100, 9));
	OK(check_range(r, dbi, 100, n, 8));
	OK(check_range(r, dbi, n, n + m, 9));
	mdb_txn_abort(r);
	mdb_env_close(env);
	return 0;
}

/* Defect 7 (and the counter's memory ordering): many threads begin-
 * read-end while the owner polls the parent for readiness without
 * joining, then writes a new version and starts the next round.
 * ThreadSanitizer must report nothing. */
struct stress {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	MDB_txn *queue[64];
	int head, tail, done, failed;
	MDB_dbi dbi;
};

static void *
stress_worker(void *arg)
{
	struct stress *st = arg;
	MDB_txn *txn;
	int i, k, v;
	unsigned seed = (unsigned)(size_t)&txn;

	for (;;) {
		pthread_mutex_lock(&st->lock);
		while (st->head == st->tail && !st->done)
			pthread_cond_wait(&st->cond, &st->lock);
		if (st->head == st->tail) {
			pthread_mutex_unlock(&st->lock);
			return NULL;
		}
		txn = st->queue[st->head++ % 64];
		pthread_mutex_unlock(&st->lock);
		/* every key of a round has that round's version */
		for (v = 0; v < 256; v++)
			if (!check_version(txn, st->dbi, 0, v))
				break;
		for (i = 0; i < 50 && v < 256; i++) {
			k = rand_r(&seed) % 200;
			if (check_version(txn, st->dbi, k, v))
				v = 256;
		}
		if (v == 256)
			st->failed = 1;	/* torn, or unreadable */
		mdb_txn_abort(txn);
	}
}

static int
t_stress_poll(void)
{
	MDB_dbi dbi;
	MDB_env *env = base_env(&dbi);
	MDB_txn *parent, *r;
	MDB_val key, data;
	struct stress st;
	pthread_t tid[6];
	int round, i, rc, rounds = 150, polls = 0;

	memset(&st, 0, sizeof(st));
	pthread_mutex_init(&st.lock, NULL);
	pthread_cond_init(&st.cond, NULL);
	st.dbi = dbi;
	for (i = 0; i < 6; i++)
		CHECK(!pthread_create(&tid[i], NULL, stress_worker, &st));
	OK(mdb_txn_begin(env, NULL, 0, &parent));
	key.mv_data = "k00000"; key.mv_size = 6;
	for (round = 1; round <= rounds; round++) {
		/* wait, without joining anyone, until every child ended */
		while ((rc = mdb_get(parent, dbi, &key, &data)) == MDB_BAD_TXN) {
			polls++;
			sched_yield();
		}
		OK(rc);
		OK(put_version(parent, dbi, 0, 200, round % 256));
		for (i = 0; i < 12; i++) {
			OK(mdb_txn_begin(env, parent, MDB_RDONLY, &r));
			pthread_mutex_lock(&st.lock);
			st.queue[st.tail++ % 64] = r;
			pthread_cond_signal(&st.cond);
			pthread_mutex_unlock(&st.lock);
		}
	}
	pthread_mutex_lock(&st.lock);
	st.done = 1;
	pthread_cond_broadcast(&st.cond);
	pthread_mutex_unlock(&st.lock);
	for (i = 0; i < 6; i++)
		CHECK(!pthread_join(tid[i], NULL));
	CHECK(!st.failed);
	OK(mdb_txn_commit(parent));
	pthread_cond_destroy(&st.cond);
	pthread_mutex_destroy(&st.lock);
	mdb_env_close(env);
	if (polls == 0)
		fprintf(stderr, "note: the parent never had to wait in %d rounds\n", rounds);
	return 0;
}

/* Defect 9: nothing is leaked per write txn (valgrind's leak check
 * and LeakSanitizer count what is left at exit). */
static int
t_many_write_txns(void)
{
	MDB_dbi dbi;
	MDB_env *env = base_env(&dbi);
	MDB_txn *parent, *r;
	int i;

	for (i = 0; i < 300; i++) {
		OK(mdb_txn_begin(env, NULL, 0, &parent));
		OK(put_version(parent, dbi, i % 10, i % 10 + 1, i % 256));
		OK(mdb_txn_begin(env, parent, MDB_RDONLY, &r));
		OK(check_version(r, dbi, i % 10, i % 256));
		mdb_txn_abort(r);
		if (i % 2)
			OK(mdb_txn_commit(parent));
		else
			mdb_txn_abort(parent);
	}
	mdb_env_close(env);
	return 0;
}


/* ---------------------------------------------------------------- */

struct test {
	const char *name;
	int (*fn)(void);
};

static const struct test tests[] = {
	{ "reads_uncommitted", t_reads_uncommitted },
	{ "parent_rdonly", t_parent_rdonly },
	{ "blocked_combinations", t_blocked_combinations },
	{ "parent_errored", t_parent_errored },
	{ "parent_blocked_ops", t_parent_blocked_ops },
	{ "commit_refused", t_commit_refused },
	{ "abort_with_children_asserts", t_abort_with_children_asserts },
	{ "reset_renew", t_reset_renew },
	{ "dbi_open", t_dbi_open },
	{ "ended_child_unreachable", t_ended_child_unreachable },
	{ "readers_on_threads", t_readers_on_threads },
	{ "nested_parent_spills", t_nested_parent_spills },
	{ "stress_poll", t_stress_poll },
	{ "many_write_txns", t_many_write_txns },
};

int main(int argc, char *argv[])
{
	int passed = 0, failed = 0;
	unsigned i;
	const char *only = getenv("MTEST_ONLY");

	if (argc > 1)
		dir = argv[1];
	mkdir(dir, 0755);
	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		if (only && strcmp(only, tests[i].name))
			continue;
		for (test_writemap = 0; test_writemap < 2; test_writemap++) {
			test_name = tests[i].name;
			if (tests[i].fn()) {
				printf("FAIL %s%s\n", test_name, test_writemap ? " (writemap)" : "");
				failed++;
			} else {
				printf("ok   %s%s\n", test_name, test_writemap ? " (writemap)" : "");
				passed++;
			}
			fflush(stdout);
		}
	}
	printf("mtest_rdchild: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
