/*
 * test_ingest_sqlite - ingest_sqlite through the plugin harness, on
 * databases made by the sqlite3 shell (an independent writer): every
 * storage class, NULL as an absent field, BOOLEAN and JSON columns, a query
 * with a WHERE, a table streamed in many produce() calls (count and sum
 * checked against the shell), bad queries and options; and the round trip
 * export_sqlite -> ingest_sqlite, compared field by field.
 */
#define _GNU_SOURCE
#include "db_test_util.h"

static char *make_db(const char *dir)
{
    char *db = io_fmt("%s/in.db", dir);
    db_expect(db,
              "CREATE TABLE m(id INTEGER, name TEXT, score REAL, note TEXT,"
              " data BLOB, flag BOOLEAN, meta JSON);"
              "INSERT INTO m VALUES(1, '张三', 2.5, NULL, x'00ff41', 1,"
              " '{\"a\":[1,2]}');"
              "INSERT INTO m VALUES(2, 'b\"q', -1e300, 'x', NULL, 0,"
              " 'not json');"
              "INSERT INTO m VALUES(3, NULL, NULL, NULL, NULL, 7, NULL);",
              "");
    return db;
}

static void test_table(void **state)
{
    (void)state;
    char *dir = io_tmpdir();
    char *db = make_db(dir);
    gf_harness *h = io_open("ingest_sqlite",
                            "{path: in.db, table: m, "
                            "kind: member}",
                            dir);
    assert_int_equal(gf_harness_produce(h), GF_DONE);
    assert_int_equal(gf_harness_count(h), 3);
    io_expect_json(h, 0,
                   "{\"kind\":\"member\",\"id\":1,\"name\":\"张三\","
                   "\"score\":2.5,\"data\":\"AP9B\",\"flag\":true,"
                   "\"meta\":{\"a\":[1,2]}}");
    io_expect_json(h, 1,
                   "{\"kind\":\"member\",\"id\":2,\"name\":\"b\\\"q\","
                   "\"score\":-1e+300,\"note\":\"x\",\"flag\":false,"
                   "\"meta\":\"not json\"}");
    /* 7 in a BOOLEAN column is not a bool: kept as the integer */
    io_expect_json(h, 2, "{\"kind\":\"member\",\"id\":3,\"flag\":7}");
    /* the blob is binary, not text */
    gf_value v;
    assert_true(gf_harness_host(h)->get(gf_harness_output(h, 0), "data", &v));
    assert_int_equal(v.type, GF_T_BIN);
    assert_int_equal(v.v.s.len, 3);
    assert_memory_equal(v.v.s.ptr, "\x00\xff\x41", 3);
    gf_harness_destroy(&h);
    free(db);
    io_rmdir(dir);
}

static void test_query(void **state)
{
    (void)state;
    char *dir = io_tmpdir();
    char *db = make_db(dir);
    gf_harness *h = io_open("ingest_sqlite",
                            "{path: in.db, query: \"SELECT "
                            "id * 10 AS ten, upper(note) AS kind FROM m "
                            "WHERE id >= 2 ORDER BY id DESC\"}",
                            dir);
    assert_int_equal(gf_harness_produce(h), GF_DONE);
    assert_int_equal(gf_harness_count(h), 2);
    io_expect_json(h, 0, "{\"ten\":30}");
    io_expect_json(h, 1, "{\"ten\":20,\"kind\":\"X\"}");
    gf_harness_destroy(&h);
    free(db);
    io_rmdir(dir);
}

static void test_streaming(void **state)
{
    (void)state;
    char *dir = io_tmpdir();
    char *db = io_fmt("%s/big.db", dir);
    db_expect(db,
              "CREATE TABLE t(n INTEGER, s TEXT);"
              "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c "
              "WHERE x < 10000) INSERT INTO t SELECT x, 'row ' || x FROM c;",
              "");
    char *want = db_sqlite(db, "SELECT count(*) || ' ' || sum(n) FROM t;");
    gf_harness *h = io_open("ingest_sqlite", "{path: big.db, table: t}", dir);
    assert_int_equal(gf_harness_produce(h), GF_DONE);
    const gf_host *host = gf_harness_host(h);
    long long sum = 0;
    size_t n = gf_harness_count(h);
    for (size_t i = 0; i < n; i++) {
        gf_value v;
        assert_true(host->get(gf_harness_output(h, i), "n", &v));
        assert_int_equal(v.type, GF_T_INT);
        sum += v.v.i;
    }
    char got[64];
    snprintf(got, sizeof got, "%zu %lld\n", n, sum);
    assert_string_equal(got, want);
    io_expect_json(h, 9999, "{\"n\":10000,\"s\":\"row 10000\"}");
    gf_harness_destroy(&h);
    free(want);
    free(db);
    io_rmdir(dir);
}

static void expect_open_error(const char *dir, const char *yaml,
                              const char *part)
{
    char *err = io_open_fails("ingest_sqlite", yaml, dir);
    if (!strstr(err, part))
        fail_msg("options %s\n  got  %s\n  want \"%s\"", yaml, err, part);
    free(err);
}

static void test_bad_input(void **state)
{
    (void)state;
    char *dir = io_tmpdir();
    char *db = make_db(dir);
    expect_open_error(dir, "{path: in.db, query: \"SELEC id FROM m\"}",
                      "the query does not prepare: near \"SELEC\": syntax "
                      "error");
    expect_open_error(dir, "{path: in.db, query: \"SELECT nope FROM m\"}",
                      "no such column: nope");
    expect_open_error(dir, "{path: in.db, table: nosuch}",
                      "cannot read table nosuch: no such table: nosuch");
    expect_open_error(dir, "{path: in.db, query: \"DELETE FROM m\"}",
                      "must be a SELECT");
    expect_open_error(dir, "{path: in.db, query: \"SELECT 1; SELECT 2\"}",
                      "one statement only");
    expect_open_error(dir, "{path: in.db, table: m, query: \"SELECT 1\"}",
                      "exactly one of `query` and `table`");
    expect_open_error(dir, "path: in.db", "exactly one of");
    expect_open_error(dir, "{path: in.db, table: m, kind: rider}",
                      "\"rider\" is not a record kind: org, member, project "
                      "or demand");
    expect_open_error(dir, "{path: missing.db, table: m}",
                      "missing.db: cannot open the database");
    char *junk = io_fmt("%s/junk.db", dir);
    io_write(junk, "SQLite format 3\0garbage garbage garbage garbage", 48);
    expect_open_error(dir, "{path: junk.db, table: m}", "junk.db");
    /* a failed open never creates the file */
    assert_int_equal(access(db, F_OK), 0);
    char *missing = io_fmt("%s/missing.db", dir);
    assert_int_equal(access(missing, F_OK), -1);
    free(missing);
    free(junk);
    free(db);
    io_rmdir(dir);
}

static void test_round_trip(void **state)
{
    (void)state;
    static const char *const recs[] = {
        "{\"kind\":\"member\",\"id\":\"m1\",\"age\":31,\"points\":8.25,"
        "\"party\":true,\"tags\":[\"骑手\",1,null],\"addr\":{\"city\":\"北京\","
        "\"zip\":100020},\"joined\":\"2023-05-01\"}",
        "{\"kind\":\"member\",\"id\":\"m2\",\"age\":-5,\"points\":0.1,"
        "\"party\":false,\"tags\":[],\"addr\":{},\"joined\":\"2024-01-31\"}",
        "{\"kind\":\"member\",\"id\":\"m3\",\"age\":9007199254740993,"
        "\"points\":1e-07,\"party\":true}",
        NULL,
    };
    char *dir = io_tmpdir();
    gf_harness *h = io_open("export_sqlite", "path: rt.db", dir);
    db_push_all(h, recs);
    assert_int_equal(gf_harness_commit(h), GF_OK);
    gf_harness_destroy(&h);
    h = io_open("ingest_sqlite", "{path: rt.db, table: member}", dir);
    assert_int_equal(gf_harness_produce(h), GF_DONE);
    assert_int_equal(gf_harness_count(h), 3);
    for (size_t i = 0; recs[i]; i++)
        io_expect_json(h, i, recs[i]); /* same fields, order, types */
    gf_harness_destroy(&h);
    io_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),      cmocka_unit_test(test_query),
        cmocka_unit_test(test_streaming),  cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
