/* Patch C, measured: mdb_put() of PUTS values of SIZE bytes in one txn,
 * into an env whose free list holds F single, non-adjacent pages (2F
 * one-page values written, every other one deleted, two txns to let the
 * freed pages age). Callgrind counts only calls through measured_put().
 *
 * Usage: alloc_fragmented DIR F SIZE PUTS
 * Prints the last page before and after the measured txn.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lmdb.h"

#define E(expr) do { int rc_ = (expr); if (rc_) { fprintf(stderr, "%s:%d: %s: %s\n", \
	__FILE__, __LINE__, #expr, mdb_strerror(rc_)); exit(1); } } while (0)

static char small[3000];

__attribute__((noinline)) int
measured_put(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data)
{
	return mdb_put(txn, dbi, key, data, MDB_RESERVE);
}

static size_t
last_pgno(MDB_env *env)
{
	MDB_envinfo info;

	E(mdb_env_info(env, &info));
	return info.me_last_pgno;
}

int main(int argc, char *argv[])
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val key, data;
	char kbuf[16];
	int F, puts, i;
	size_t size, before;

	if (argc != 5) {
		fprintf(stderr, "usage: %s DIR F SIZE PUTS\n", argv[0]);
		return 2;
	}
	F = atoi(argv[2]);
	size = atol(argv[3]);
	puts = atoi(argv[4]);
	E(mdb_env_create(&env));
	E(mdb_env_set_mapsize(env, (size_t)1 << 33));
	E(mdb_env_open(env, argv[1], MDB_NOSYNC|MDB_NOSUBDIR, 0644));

	E(mdb_txn_begin(env, NULL, 0, &txn));
	E(mdb_dbi_open(txn, NULL, 0, &dbi));
	for (i = 0; i < 2 * F; i++) {
		sprintf(kbuf, "k%08d", i);
		key.mv_data = kbuf;
		key.mv_size = 9;
		data.mv_data = small;
		data.mv_size = sizeof(small);
		E(mdb_put(txn, dbi, &key, &data, 0));
	}
	E(mdb_txn_commit(txn));
	E(mdb_txn_begin(env, NULL, 0, &txn));
	for (i = 1; i < 2 * F; i += 2) {
		sprintf(kbuf, "k%08d", i);
		key.mv_data = kbuf;
		key.mv_size = 9;
		E(mdb_del(txn, dbi, &key, NULL));
	}
	E(mdb_txn_commit(txn));
	for (i = 0; i < 2; i++) {	/* pages freed by txn N are reusable from N+2 */
		E(mdb_txn_begin(env, NULL, 0, &txn));
		key.mv_data = "a";
		key.mv_size = 1;
		data.mv_data = "a";
		data.mv_size = 1;
		E(mdb_put(txn, dbi, &key, &data, 0));
		E(mdb_txn_commit(txn));
	}

	before = last_pgno(env);
	E(mdb_txn_begin(env, NULL, 0, &txn));
	for (i = 0; i < puts; i++) {
		sprintf(kbuf, "m%08d", i);
		key.mv_data = kbuf;
		key.mv_size = 9;
		data.mv_size = size;
		data.mv_data = NULL;
		E(measured_put(txn, dbi, &key, &data));
		memset(data.mv_data, i, size);
	}
	E(mdb_txn_commit(txn));
	printf("last page %zu -> %zu\n", before, last_pgno(env));
	mdb_env_close(env);
	return 0;
}
