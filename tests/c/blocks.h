/* blocks.h - counting work in basic blocks, for hedge's C suites */
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

/* A suite built with -fsanitize-coverage=trace-pc (its source says so on
 * a "hedge-tests-cflags:" line) gets a call of __sanitizer_cov_trace_pc()
 * at every basic block it executes, the library's included: `blocks`
 * counts them, exactly and the same on every run, unlike time. Also the
 * suites' shared reporting: E() aborts on an LMDB error, check() counts
 * and prints what passed and failed.
 */
#ifndef HEDGE_BLOCKS_H
#define HEDGE_BLOCKS_H

#include <stdio.h>
#include <stdlib.h>
#include "lmdb.h"

#if defined(__clang__)
#define NO_COVERAGE	__attribute__((no_sanitize("coverage")))
#else
#define NO_COVERAGE	__attribute__((no_sanitize_coverage))
#endif

static volatile unsigned long blocks;

NO_COVERAGE void
__sanitizer_cov_trace_pc(void)
{
	blocks++;
}

#define E(expr)	do { int rc_ = (expr); if (rc_) { \
	fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #expr, \
		mdb_strerror(rc_)); abort(); } } while (0)

static int passed, failed;

static void
check(int ok, const char *what)
{
	if (ok) {
		passed++;
	} else {
		failed++;
		printf("FAIL: %s\n", what);
	}
}

#endif /* HEDGE_BLOCKS_H */
