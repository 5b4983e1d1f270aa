/* alloc_suite.c - finding a range of free pages on a fragmented free
 * list (patch 0007) */
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

/* Counts the work of writing values of four overflow pages when the
 * free list holds F single, non-adjacent pages and no range of four:
 * every allocation then looks for a range, finds none and extends the
 * file. The work is counted in basic blocks executed inside mdb_put(),
 * through the compiler's -fsanitize-coverage=trace-pc callback: exact
 * and the same on every run, unlike time.
 *
 * Before patch 0007 each of these allocations scans the whole free
 * list, so the count grows with F (about 16 times the empty-list count
 * at F = 10,000); after it, a search that found nothing is not
 * repeated. The file must grow the same either way.
 *
 * Usage: alloc_suite [dir] (default testdb-alloc, created if needed);
 * MTEST_VERBOSE=1 prints the counts.
 */
/* hedge-tests-cflags: -fsanitize-coverage=trace-pc */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lmdb.h"
#include "blocks.h"

static int verbose;

#define PUTS	300

typedef struct cost {
	/* Blocks in mdb_put() per value of 4 pages, without the txn's first
	 * put, which also merges the freeDB records into the txn's free list
	 */
	unsigned long per_put;
	/* The median put: a search resumes where the last one found a range,
	 * so the rest of the free list is scanned once after each range found
	 */
	unsigned long median;
	unsigned long first;	/* the first put */
	size_t grown;		/* pages the measured txn added to the file */
} cost;

static int
cmp_ulong(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

static size_t
last_pgno(MDB_env *env)
{
	MDB_envinfo info;

	E(mdb_env_info(env, &info));
	return info.me_last_pgno;
}

/* F free single pages, then PUTS values of four pages in one txn */
static cost
measure(const char *dir, int F)
{
	char path[1024], lock[1100], kbuf[16];
	static char small[3000];
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val key, data;
	MDB_stat st;
	unsigned long before, total = 0, each[PUTS];
	size_t last;
	cost c;
	int i;

	sprintf(path, "%s/free%d.mdb", dir, F);
	unlink(path);
	sprintf(lock, "%s-lock", path);
	unlink(lock);
	E(mdb_env_create(&env));
	E(mdb_env_set_mapsize(env, (size_t)1 << 30));
	E(mdb_env_open(env, path, MDB_NOSUBDIR|MDB_NOSYNC, 0664));
	E(mdb_env_stat(env, &st));

	/* 2F values of one page each; deleting every other one frees F
	 * pages with a used page between any two of them
	 */
	E(mdb_txn_begin(env, NULL, 0, &txn));
	E(mdb_dbi_open(txn, NULL, 0, &dbi));
	for (i = 0; i < 2*F; i++) {
		sprintf(kbuf, "s%08d", i);
		key.mv_size = strlen(kbuf);
		key.mv_data = kbuf;
		data.mv_size = sizeof(small);
		data.mv_data = small;
		E(mdb_put(txn, dbi, &key, &data, 0));
	}
	E(mdb_txn_commit(txn));
	E(mdb_txn_begin(env, NULL, 0, &txn));
	for (i = 1; i < 2*F; i += 2) {
		sprintf(kbuf, "s%08d", i);
		key.mv_size = strlen(kbuf);
		key.mv_data = kbuf;
		E(mdb_del(txn, dbi, &key, NULL));
	}
	E(mdb_txn_commit(txn));
	/* Pages freed by txn N can be used from txn N+2 on */
	for (i = 0; i < 2; i++) {
		E(mdb_txn_begin(env, NULL, 0, &txn));
		key.mv_size = 1;
		key.mv_data = "a";
		data.mv_size = 1;
		data.mv_data = "a";
		E(mdb_put(txn, dbi, &key, &data, 0));
		E(mdb_txn_commit(txn));
	}

	last = last_pgno(env);
	E(mdb_txn_begin(env, NULL, 0, &txn));
	for (i = 0; i < PUTS; i++) {
		sprintf(kbuf, "v%08d", i);
		key.mv_size = strlen(kbuf);
		key.mv_data = kbuf;
		data.mv_size = 3 * st.ms_psize + st.ms_psize / 2;
		before = blocks;
		E(mdb_put(txn, dbi, &key, &data, MDB_RESERVE));
		each[i] = blocks - before;
		if (i)
			total += each[i];
		memset(data.mv_data, i, data.mv_size);
	}
	E(mdb_txn_commit(txn));
	c.per_put = total / (PUTS - 1);
	c.first = each[0];
	qsort(each + 1, PUTS - 1, sizeof(each[0]), cmp_ulong);
	c.median = each[PUTS / 2];
	c.grown = last_pgno(env) - last;
	mdb_env_close(env);
	if (verbose)
		printf("F = %5d: %lu blocks per put (median %lu, the first %lu), "
			"file grew by %zu pages\n", F, c.per_put, c.median, c.first,
			c.grown);
	return c;
}

int main(int argc, char *argv[])
{
	const char *dir = argc > 1 ? argv[1] : "testdb-alloc";
	cost c0, c10, c20;

	verbose = getenv("MTEST_VERBOSE") != NULL;
	if (mkdir(dir, 0775) && errno != EEXIST) {
		perror(dir);
		return 1;
	}
	c0 = measure(dir, 0);
	c10 = measure(dir, 10000);
	c20 = measure(dir, 20000);

	check(c0.per_put > 0, "the coverage callback counts (built with "
		"-fsanitize-coverage=trace-pc)");
	check(c10.per_put <= 2 * c0.per_put,
		"a put with 10,000 free single pages costs at most twice a put "
		"with none");
	check(c20.median <= c10.median + c10.median / 4,
		"the cost does not grow with the free list (20,000 vs 10,000)");
	/* No range of four pages is free: each value extends the file */
	check(c10.grown >= 4 * PUTS && c20.grown >= 4 * PUTS,
		"the values of four pages are on new pages");
	if (failed || verbose)
		printf("blocks per put: %lu (F = 0), %lu (F = 10,000), %lu (F = 20,000)\n",
			c0.per_put, c10.per_put, c20.per_put);
	printf("alloc_suite: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}
