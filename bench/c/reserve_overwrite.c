/* Instructions LMDB spends in mdb_put() on an overwrite pass over reserved
 * overflow values, part of them spilled: run under
 *   valgrind --tool=callgrind --toggle-collect=overwrite_put
 * so that only the puts of the second pass are counted (the caller's own
 * filling of the reserved space is outside). See bench/reserve_callgrind.sh.
 * Usage: reserve_overwrite DIR [COUNT] [SIZE]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "lmdb.h"

#define CHECK(call) do { int rc_ = (call); if (rc_) { \
	fprintf(stderr, "%s: %s\n", #call, mdb_strerror(rc_)); exit(1); } } while (0)

static long
file_size(const char *dir)
{
	char path[512];
	struct stat st;
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	return stat(path, &st) ? -1 : (long)st.st_size;
}

/* The only function callgrind counts */
__attribute__((noinline)) int
overwrite_put(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data)
{
	return mdb_put(txn, dbi, key, data, MDB_RESERVE);
}

int main(int argc, char *argv[])
{
	const char *dir = argc > 1 ? argv[1] : "bench-db";
	unsigned i, n = argc > 2 ? atoi(argv[2]) : 20000;
	size_t size = argc > 3 ? strtoul(argv[3], NULL, 10) : 12288;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val key, data;
	long before, spilled;

	mkdir(dir, 0755);
	CHECK(mdb_env_create(&env));
	CHECK(mdb_env_set_mapsize(env, (size_t)4 << 30));
	CHECK(mdb_env_open(env, dir, MDB_NOSYNC, 0644));
	CHECK(mdb_txn_begin(env, NULL, 0, &txn));
	CHECK(mdb_dbi_open(txn, NULL, 0, &dbi));
	before = file_size(dir);
	for (i = 0; i < n; i++) {
		key.mv_data = &i; key.mv_size = sizeof(i);
		data.mv_size = size;
		CHECK(mdb_put(txn, dbi, &key, &data, MDB_RESERVE));
		memset(data.mv_data, (int)i, size);
	}
	for (i = 0; i < n; i++) {
		key.mv_data = &i; key.mv_size = sizeof(i);
		data.mv_size = size;
		CHECK(overwrite_put(txn, dbi, &key, &data));
		memset(data.mv_data, (int)i + 1, size);
	}
	spilled = file_size(dir) - before;
	CHECK(mdb_txn_commit(txn));
	printf("%u values of %zu bytes; spilled before commit: %ld bytes (%.0f%% of the data)\n",
		n, size, spilled, 100.0 * spilled / ((double)n * ((size + 16 + 4095) / 4096 * 4096)));
	mdb_env_close(env);
	return 0;
}
