/*
 * db_test_util.h - helpers for the database plugin tests (export_sqlite,
 * ingest_sqlite, export_postgres, ingest_postgres): run SQL through the
 * sqlite3 command-line shell, an independent reader of what the plugins
 * wrote, and push lists of JSON records. Builds on io_test_util.h.
 */
#ifndef DB_TEST_UTIL_H
#define DB_TEST_UTIL_H

#include "io_test_util.h"

/*
 * Run `sql` with the sqlite3 shell on database `db` (rows as a|b|c lines)
 * and return its output, stderr included (malloc'd).
 */
static inline char *db_sqlite(const char *db, const char *sql)
{
    char *qf = io_fmt("%s.q.sql", db);
    io_write(qf, sql, strlen(sql));
    char *cmd = io_fmt("sqlite3 -batch -bail '%s' < '%s' 2>&1", db, qf);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 4096, n = 0, got;
    char *b = malloc(cap);
    assert_non_null(b);
    while ((got = fread(b + n, 1, cap - n - 1, p)) > 0) {
        n += got;
        if (cap - n - 1 == 0) {
            cap *= 2;
            b = realloc(b, cap);
            assert_non_null(b);
        }
    }
    b[n] = '\0';
    pclose(p);
    unlink(qf);
    free(qf);
    free(cmd);
    return b;
}

/* db_sqlite's output equals want. */
static inline void db_expect(const char *db, const char *sql,
                             const char *want)
{
    char *got = db_sqlite(db, sql);
    if (strcmp(got, want) != 0)
        fail_msg("%s\n  got  [%s]\n  want [%s]", sql, got, want);
    free(got);
}

/* Push every JSON record of a NULL-terminated list; each must succeed. */
static inline void db_push_all(gf_harness *h, const char *const *recs)
{
    for (size_t i = 0; recs[i]; i++)
        if (gf_harness_push_json(h, recs[i]) != GF_OK)
            fail_msg("push of record %zu failed: %s", i, gf_harness_error(h));
}

/* Dead letter i mentions `part`. */
static inline void db_expect_reject(const gf_harness *h, size_t i,
                                    const char *part)
{
    const char *r = gf_harness_reject(h, i);
    if (!r || !strstr(r, part))
        fail_msg("dead letter %zu: %s\n  want \"%s\"", i, r ? r : "(none)",
                 part);
}

#endif
