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

/*
 * Run `sql` with psql on the server of $GF_PG_DSN (rows as a|b|c lines,
 * no headers) and return its output, stderr included (malloc'd).
 */
static inline char *db_psql(const char *sql)
{
    char *qf = strdup("/tmp/gf_psql_XXXXXX");
    assert_non_null(qf);
    int fd = mkstemp(qf);
    assert_true(fd >= 0);
    close(fd);
    io_write(qf, sql, strlen(sql));
    char *cmd = io_fmt("PGOPTIONS='-c client_min_messages=warning' psql -X -q "
                       "-A -t -F '|' -v ON_ERROR_STOP=1 "
                       "-d \"$GF_PG_DSN\" -f '%s' 2>&1",
                       qf);
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

/* db_psql's output equals want. */
static inline void db_expect_pg(const char *sql, const char *want)
{
    char *got = db_psql(sql);
    if (strcmp(got, want) != 0)
        fail_msg("%s\n  got  [%s]\n  want [%s]", sql, got, want);
    free(got);
}

/* Skip the test unless a server was set up (postgres_roundtrip.sh). */
static inline void db_need_pg(void)
{
    if (!getenv("GF_PG_DSN"))
        skip();
}

/* Options text "{dsn: \"$GF_PG_DSN\", MORE}" (malloc'd). */
static inline char *db_pg_opts(const char *more)
{
    return io_fmt("{dsn: \"%s\"%s%s}", getenv("GF_PG_DSN"),
                  more && more[0] ? ", " : "", more ? more : "");
}

/* db_sqlite's output equals want. */
static inline void db_expect(const char *db, const char *sql, const char *want)
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
