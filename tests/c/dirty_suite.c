/* dirty_suite.c - reading a write txn's dirty pages costs about what
 * reading committed pages costs (patch 0008) */
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

/* 100,000 keys with 64-byte values are committed; a write txn then
 * overwrites every tenth key, which dirties every leaf and branch page.
 * The suite counts the work of mdb_get() on the same keys through a
 * read txn on the committed data, through the write txn, and through a
 * read-only child of the write txn, in basic blocks executed, through
 * the compiler's -fsanitize-coverage=trace-pc callback: exact and the
 * same on every run, unlike time.
 *
 * Before patch 0008 every page a read visits in the write txn is looked
 * up in its dirty list by binary search; after it, through a hash index
 * of the list. The reads must also return the values last written.
 *
 * Usage: dirty_suite [dir] (default testdb-dirty, created if needed);
 * MTEST_VERBOSE=1 prints the counts.
 */
/* hedge-tests-cflags: -fsanitize-coverage=trace-pc */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "lmdb.h"
#include "blocks.h"

#define KEYS	100000
#define GETS	20000

static void
key_of(unsigned i, unsigned char k[4])
{
	k[0] = i >> 24;
	k[1] = i >> 16;
	k[2] = i >> 8;
	k[3] = i;
}

/* The value of key i: its first byte tells whether the write txn
 * overwrote it
 */
static unsigned char
expected(unsigned i, int dirty)
{
	return dirty && i % 10 == 0 ? 2 : 1;
}

/* Blocks per mdb_get() of GETS keys in a fixed pseudo-random order */
static unsigned long
gets(MDB_txn *txn, MDB_dbi dbi, int dirty, int *wrong)
{
	unsigned long x = 88172645463325252UL, before, total = 0;
	unsigned char k[4];
	MDB_val key, data;
	unsigned i;
	int n;

	for (n = 0; n < GETS; n++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		i = (unsigned)(x % KEYS);
		key_of(i, k);
		key.mv_size = 4;
		key.mv_data = k;
		before = blocks;
		E(mdb_get(txn, dbi, &key, &data));
		total += blocks - before;
		if (data.mv_size != 64 ||
			((unsigned char *)data.mv_data)[0] != expected(i, dirty))
			(*wrong)++;
	}
	return total / GETS;
}

int main(int argc, char *argv[])
{
	const char *dir = argc > 1 ? argv[1] : "testdb-dirty";
	MDB_env *env;
	MDB_txn *txn, *rtxn, *child;
	MDB_dbi dbi;
	MDB_val key, data;
	unsigned char k[4], v[64];
	unsigned long committed, through_txn, through_child = 0;
	int i, wrong = 0, verbose = getenv("MTEST_VERBOSE") != NULL;

	if (mkdir(dir, 0775) && errno != EEXIST) {
		perror(dir);
		return 1;
	}
	E(mdb_env_create(&env));
	E(mdb_env_set_mapsize(env, 256 << 20));
	E(mdb_env_open(env, dir, MDB_NOSYNC|MDB_NOTLS, 0664));
	E(mdb_txn_begin(env, NULL, 0, &txn));
	E(mdb_dbi_open(txn, NULL, 0, &dbi));
	memset(v, 1, sizeof(v));
	for (i = 0; i < KEYS; i++) {
		key_of(i, k);
		key.mv_size = 4;
		key.mv_data = k;
		data.mv_size = sizeof(v);
		data.mv_data = v;
		E(mdb_put(txn, dbi, &key, &data, MDB_APPEND));
	}
	E(mdb_txn_commit(txn));

	E(mdb_txn_begin(env, NULL, 0, &txn));
	memset(v, 2, sizeof(v));
	for (i = 0; i < KEYS; i += 10) {
		key_of(i, k);
		key.mv_size = 4;
		key.mv_data = k;
		data.mv_size = sizeof(v);
		data.mv_data = v;
		E(mdb_put(txn, dbi, &key, &data, 0));
	}
	E(mdb_txn_begin(env, NULL, MDB_RDONLY, &rtxn));
	committed = gets(rtxn, dbi, 0, &wrong);
	mdb_txn_abort(rtxn);
	through_txn = gets(txn, dbi, 1, &wrong);
	/* Read-only children of a write txn are another patch's: count
	 * them where they exist
	 */
	if (mdb_txn_begin(env, txn, MDB_RDONLY, &child) == MDB_SUCCESS) {
		through_child = gets(child, dbi, 1, &wrong);
		mdb_txn_abort(child);
	}
	mdb_txn_abort(txn);
	mdb_env_close(env);

	if (verbose || failed)
		printf("blocks per get: %lu committed, %lu through the write txn, "
			"%lu through a read-only child\n",
			committed, through_txn, through_child);
	check(committed > 0, "the coverage callback counts (built with "
		"-fsanitize-coverage=trace-pc)");
	check(!wrong, "every get returns the value last written");
	check(through_txn <= committed + committed / 10,
		"a get through the write txn costs at most 1.1 times a committed get");
	check(!through_child || through_child <= committed + committed / 10,
		"a get through a read-only child costs at most 1.1 times a "
		"committed get");
	printf("dirty_suite: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}
