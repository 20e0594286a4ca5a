/*
 * test_export_postgres - export_postgres through the plugin harness against
 * the server that tests/integration/postgres_roundtrip.sh starts (skipped
 * without $GF_PG_DSN), read back with psql: typed tables per kind, COPY
 * escaping (tabs, newlines, backslashes, "\N", Chinese) round-tripped
 * through ingest_postgres, nothing visible before commit and nothing left
 * without it, type mismatches rejected with table and column named, a
 * value only the server refuses failing the run with table, column and
 * record, append and upsert, metric rows in one table per set, a backend
 * terminated mid-run (twice) with every row written exactly once, and
 * passwords kept out of messages. Expected rows are written out by hand.
 */
#define _GNU_SOURCE
#include "db_test_util.h"

static gf_harness *pg_open(const char *plugin, const char *more)
{
    char *o = db_pg_opts(more);
    gf_harness *h = io_open(plugin, o, NULL);
    free(o);
    return h;
}

static const char *const mixed[] = {
    "{\"kind\":\"org\",\"id\":\"o1\",\"name\":\"美团朝阳站支部\",\"members\":"
    "12,"
    "\"lat\":39.9,\"active\":true,\"tags\":[\"骑手\",1]}",
    "{\"kind\":\"member\",\"id\":\"m1\",\"age\":31,\"note\":null}",
    "{\"kind\":\"org\",\"id\":\"o2\",\"name\":\"顺丰\",\"members\":7,"
    "\"lat\":40,\"active\":false,\"extra\":\"new\"}",
    NULL,
};

static void test_types(void **state)
{
    (void)state;
    db_need_pg();
    db_expect_pg("DROP TABLE IF EXISTS org, member;", "");
    gf_harness *h = pg_open("export_postgres", NULL);
    db_push_all(h, mixed);
    assert_int_equal(gf_harness_flush(h), GF_OK);
    assert_int_equal(gf_harness_commit(h), GF_OK);
    assert_int_equal(gf_harness_rejects(h), 0);
    gf_harness_destroy(&h);
    db_expect_pg("SELECT column_name, data_type FROM "
                 "information_schema.columns WHERE table_name = 'org' "
                 "ORDER BY ordinal_position;",
                 "kind|text\nid|text\nname|text\nmembers|bigint\n"
                 "lat|double precision\nactive|boolean\ntags|jsonb\n"
                 "extra|text\n");
    db_expect_pg("SELECT id, name, members, lat, active, tags, "
                 "coalesce(extra, '-') FROM org ORDER BY id;",
                 "o1|美团朝阳站支部|12|39.9|t|[\"骑手\", 1]|-\n"
                 "o2|顺丰|7|40|f||new\n");
    db_expect_pg("SELECT id, age, note IS NULL, pg_typeof(note) FROM member;",
                 "m1|31|t|text\n");
}

static void test_escaping_round_trip(void **state)
{
    (void)state;
    db_need_pg();
    static const char *const recs[] = {
        "{\"kind\":\"esc\",\"id\":1,\"s\":\"tab\\there\\nline\\\\back\\rcr\","
        "\"f\":0.1,\"n\":[1,{\"a\":\"\\\\N\"}],\"b\":true}",
        "{\"kind\":\"esc\",\"id\":2,\"s\":\"\\\\N\",\"f\":1e-07,"
        "\"n\":{\"k\":\"引号\\\"q\\\"\"},\"b\":false}",
        "{\"kind\":\"esc\",\"id\":3,\"s\":\"饿了么 ' \\\" \\\\\\\\x41\","
        "\"f\":-2.5e+300}",
        NULL,
    };
    gf_harness *h = pg_open("export_postgres", "table: esc");
    db_push_all(h, recs);
    assert_int_equal(gf_harness_commit(h), GF_OK);
    gf_harness_destroy(&h);
    /* psql's view of the text, independent of the plugins */
    db_expect_pg("SELECT id, length(s), s = E'tab\\there\\nline\\\\back\\rcr'"
                 " FROM esc WHERE id = 1; SELECT s FROM esc WHERE id = 2;",
                 "1|21|t\n\\N\n");
    h = pg_open("ingest_postgres", "query: \"SELECT * FROM esc ORDER BY id\"");
    assert_int_equal(gf_harness_produce(h), GF_DONE);
    assert_int_equal(gf_harness_count(h), 3);
    for (size_t i = 0; recs[i]; i++)
        io_expect_json(h, i, recs[i]);
    gf_harness_destroy(&h);
}

static void test_atomic(void **state)
{
    (void)state;
    db_need_pg();
    db_expect_pg("DROP TABLE IF EXISTS org, member;", "");
    gf_harness *h = pg_open("export_postgres", NULL);
    db_push_all(h, mixed);
    assert_int_equal(gf_harness_flush(h), GF_OK);
    db_expect_pg("SELECT to_regclass('org') IS NULL;", "t\n");
    gf_harness_destroy(&h);
    db_expect_pg("SELECT to_regclass('org') IS NULL;", "t\n");

    /* every column there already: no ALTER TABLE, whose lock would keep
       readers waiting until the end of the run */
    db_expect_pg("CREATE TABLE member (kind text, id text, age bigint, "
                 "note text); INSERT INTO member (id, age) VALUES ('m0', 50);",
                 "");
    h = pg_open("export_postgres", "mode: append");
    db_push_all(h, mixed);
    assert_int_equal(gf_harness_flush(h), GF_OK);
    db_expect_pg("SELECT count(*) FROM member;", "1\n");
    gf_harness_destroy(&h); /* no commit */
    db_expect_pg("SELECT count(*) FROM member;", "1\n");
    h = pg_open("export_postgres", "mode: append");
    db_push_all(h, mixed);
    assert_int_equal(gf_harness_commit(h), GF_OK);
    gf_harness_destroy(&h);
    db_expect_pg("SELECT id, age FROM member ORDER BY id;", "m0|50\nm1|31\n");
}

static void test_type_mismatch(void **state)
{
    (void)state;
    db_need_pg();
    static const char *const recs[] = {
        "{\"kind\":\"member\",\"id\":\"m1\",\"age\":31}",
        "{\"kind\":\"member\",\"id\":\"m2\",\"age\":\"thirty\"}",
        "{\"kind\":\"member\",\"id\":\"m3\",\"age\":40.0}",
        "{\"kind\":\"member\",\"id\":\"m4\",\"age\":40.5}",
        "{\"kind\":\"member\",\"id\":\"m5\",\"age\":33,\"tags\":[1]}",
        "{\"kind\":\"member\",\"id\":\"m6\",\"age\":34,\"tags\":\"x\"}",
        "{\"kind\":\"member\",\"id\":\"m7\",\"a_field_name_that_is_far_"
        "too_long_for_a_postgresql_column_name_really\":1}",
        NULL,
    };
    gf_harness *h = pg_open("export_postgres", NULL);
    db_push_all(h, recs);
    assert_int_equal(gf_harness_commit(h), GF_OK);
    assert_int_equal(gf_harness_rejects(h), 3);
    db_expect_reject(
        h, 2,
        "record 7: the field name 'a_field_name_that_is_"
        "far_too_long_for_a_postgresql_column_name_really' cannot be a "
        "column");
    db_expect_reject(h, 0,
                     "record 2: table public.member, column age: a "
                     "text value does not fit the bigint column");
    db_expect_reject(h, 1,
                     "record 4: table public.member, column age: a "
                     "number does not fit the bigint column");
    gf_harness_destroy(&h);
    /* a string in a jsonb column is a JSON string */
    db_expect_pg("SELECT id, age, coalesce(tags::text, '-') FROM member "
                 "ORDER BY id;",
                 "m1|31|-\nm3|40|-\nm5|33|[1]\nm6|34|\"x\"\n");

    /* ranges of smaller integer columns */
    db_expect_pg("DROP TABLE IF EXISTS small; CREATE TABLE small "
                 "(n smallint, flag boolean);",
                 "");
    h = pg_open("export_postgres", "table: small, mode: append");
    assert_int_equal(gf_harness_push_json(h, "{\"n\":40000}"), GF_OK);
    assert_int_equal(gf_harness_push_json(h, "{}"), GF_OK);
    assert_int_equal(gf_harness_push_json(h, "{\"n\":1,\"flag\":1}"), GF_OK);
    assert_int_equal(gf_harness_push_json(h, "{\"flag\":\"yes\"}"), GF_OK);
    assert_int_equal(gf_harness_commit(h), GF_OK);
    assert_int_equal(gf_harness_rejects(h), 3);
    db_expect_reject(h, 0,
                     "column n: an integer is out of range for the "
                     "smallint column");
    db_expect_reject(h, 1, "record 2: the record has no fields to write");
    db_expect_reject(h, 2,
                     "column flag: a text value does not fit the "
                     "boolean column");
    gf_harness_destroy(&h);
    db_expect_pg("SELECT n, flag FROM small;", "1|t\n");
}

static void test_server_error(void **state)
{
    (void)state;
    db_need_pg();
    db_expect_pg("DROP TABLE IF EXISTS evt; CREATE TABLE evt "
                 "(id int, day date);",
                 "");
    gf_harness *h = pg_open("export_postgres", "table: evt, mode: append");
    assert_int_equal(gf_harness_push_json(h, "{\"id\":1,\"day\":"
                                             "\"2024-01-31\"}"),
                     GF_OK);
    assert_int_equal(gf_harness_push_json(h, "{\"id\":2,\"day\":"
                                             "\"2024-02-30\"}"),
                     GF_OK);
    int rc = gf_harness_flush(h);
    if (rc == GF_OK)
        rc = gf_harness_commit(h);
    assert_true(rc < 0);
    const char *e = gf_harness_error(h);
    if (!strstr(e, "table public.evt, column day") ||
        !strstr(e, "2024-02-30") || !strstr(e, "record 2 of the run"))
        fail_msg("unexpected: %s", e);
    gf_harness_destroy(&h);
    db_expect_pg("SELECT count(*) FROM evt;", "0\n");
}

static void test_append_upsert(void **state)
{
    (void)state;
    db_need_pg();
    db_expect_pg("DROP TABLE IF EXISTS proj;", "");
    gf_harness *h = pg_open("export_postgres", "table: proj");
    assert_int_equal(gf_harness_push_json(h, "{\"id\":\"p1\",\"budget\":100,"
                                             "\"status\":\"open\"}"),
                     GF_OK);
    assert_int_equal(gf_harness_push_json(h, "{\"id\":\"p2\",\"budget\":200,"
                                             "\"status\":\"open\"}"),
                     GF_OK);
    assert_int_equal(gf_harness_commit(h), GF_OK);
    gf_harness_destroy(&h);
    h = pg_open("export_postgres", "table: proj, mode: upsert, key: [id]");
    static const char *const up[] = {
        "{\"id\":\"p2\",\"status\":\"closed\"}",
        "{\"id\":\"p4\",\"budget\":400,\"status\":\"new\"}",
        "{\"id\":\"p4\",\"budget\":450,\"status\":\"new\"}",
        "{\"budget\":1}",
        "{\"id\":\"p1\",\"budget\":150,\"status\":\"open\"}",
        NULL,
    };
    db_push_all(h, up);
    assert_int_equal(gf_harness_commit(h), GF_OK);
    assert_int_equal(gf_harness_rejects(h), 1);
    db_expect_reject(h, 0, "the key field id is missing");
    gf_harness_destroy(&h);
    db_expect_pg("SELECT id, budget, status FROM proj ORDER BY id;",
                 "p1|150|open\np2|200|closed\np4|450|new\n");
    h = pg_open("export_postgres", "table: proj, mode: append");
    assert_int_equal(gf_harness_push_json(h, "{\"id\":\"p5\",\"budget\":5}"),
                     GF_OK);
    assert_int_equal(gf_harness_commit(h), GF_OK);
    gf_harness_destroy(&h);
    db_expect_pg("SELECT count(*), sum(budget) FROM proj;", "4|805\n");
}

/* Metric rows go to one table per `set` (as export_sqlite names them);
   one without a text set goes to table metric. */
static void test_metric_sets(void **state)
{
    (void)state;
    db_need_pg();
    db_expect_pg("DROP TABLE IF EXISTS metric, by_platform, \"按站点\";", "");
    static const char *const rows[] = {
        "{\"kind\":\"metric\",\"set\":\"by_platform\","
        "\"platform\":\"meituan\",\"n\":3}",
        "{\"kind\":\"metric\",\"set\":\"按站点\",\"station\":\"S1\","
        "\"n\":2,\"share\":0.5}",
        "{\"kind\":\"metric\",\"set\":\"by_platform\","
        "\"platform\":\"sf\",\"n\":1}",
        "{\"kind\":\"metric\",\"n\":7}",
        "{\"kind\":\"metric\",\"set\":\"\",\"n\":8}",
        "{\"kind\":\"metric\",\"set\":5,\"n\":9}",
        NULL,
    };
    gf_harness *h = pg_open("export_postgres", NULL);
    db_push_all(h, rows);
    assert_int_equal(gf_harness_commit(h), GF_OK);
    assert_int_equal(gf_harness_rejects(h), 0);
    gf_harness_destroy(&h);
    db_expect_pg("SELECT platform, n FROM by_platform ORDER BY platform;",
                 "meituan|3\nsf|1\n");
    db_expect_pg("SELECT \"set\", station, n, share FROM \"按站点\";",
                 "按站点|S1|2|0.5\n");
    db_expect_pg("SELECT n, coalesce(\"set\"::text, '-') FROM metric "
                 "ORDER BY n;",
                 "7|-\n8|\n9|5\n");
}

/* Terminate the plugin's backend from a second connection (psql). */
static void terminate_backend(void)
{
    db_expect_pg("SELECT count(*) FROM (SELECT pg_terminate_backend(pid) "
                 "FROM pg_stat_activity WHERE application_name LIKE "
                 "'gigflow:%') t;",
                 "1\n");
}

static void test_dropped_connection(void **state)
{
    (void)state;
    db_need_pg();
    db_expect_pg("DROP TABLE IF EXISTS drops;", "");
    /* a small keep_memory sends most kept records to the spill file */
    gf_harness *h = pg_open("export_postgres", "table: drops, keep_memory: "
                                               "20000, retries: 8");
    char rec[160];
    for (int i = 1; i <= 9000; i++) {
        snprintf(rec, sizeof rec,
                 "{\"id\":%d,\"name\":\"骑手 %d\\tx\","
                 "\"v\":%d.5}",
                 i, i, i);
        if (gf_harness_push_json(h, rec) != GF_OK)
            fail_msg("record %d: %s", i, gf_harness_error(h));
        if (i == 3000) /* mid-COPY: noticed when data next goes out */
            terminate_backend();
        if (i == 6000) /* flush ends the COPY: the loss surfaces for sure */
            assert_int_equal(gf_harness_flush(h), GF_OK);
    }
    terminate_backend(); /* the connection regained at the flush */
    assert_int_equal(gf_harness_flush(h), GF_OK);
    terminate_backend(); /* and once more right before COMMIT */
    assert_int_equal(gf_harness_commit(h), GF_OK);
    gf_harness_destroy(&h);
    /* 9000 rows, each once: ids 1..9000 sum to 9000 * 9001 / 2 */
    db_expect_pg("SELECT count(*), count(DISTINCT id), sum(id), "
                 "sum(v) FROM drops;",
                 "9000|9000|40504500|40509000\n");
}

static void test_password_scrubbed(void **state)
{
    (void)state;
    db_need_pg();
    char *err = io_open_fails("export_postgres",
                              "{dsn: \"host=/nonexistent "
                              "port=1 user=x password=s3cr3t-XYZ dbname=y\", "
                              "table: t}",
                              NULL);
    if (strstr(err, "s3cr3t") || !strstr(err, "password=***") ||
        !strstr(err, "cannot connect to PostgreSQL"))
        fail_msg("unexpected: %s", err);
    free(err);
    err = io_open_fails("ingest_postgres",
                        "{dsn: \"postgresql://u:"
                        "s3cr3t-XYZ@/db?host=/nonexistent&port=1\", "
                        "table: t}",
                        NULL);
    if (strstr(err, "s3cr3t") || !strstr(err, "u:***@"))
        fail_msg("unexpected: %s", err);
    free(err);
    /* a wrong PGPASSWORD: the server says so, nobody repeats it */
    char *saved = strdup(getenv("PGPASSWORD") ? getenv("PGPASSWORD") : "");
    setenv("PGPASSWORD", "wrong-pw-4711", 1);
    char *o = db_pg_opts("table: t");
    err = io_open_fails("export_postgres", o, NULL);
    setenv("PGPASSWORD", saved, 1);
    if (strstr(err, "wrong-pw-4711") ||
        !strstr(err, "password authentication failed"))
        fail_msg("unexpected: %s", err);
    free(err);
    free(o);
    free(saved);
}

static void test_bad_options(void **state)
{
    (void)state;
    char *err = io_open_fails("export_postgres",
                              "{dsn: \"host=x\", mode: merge}", NULL);
    assert_non_null(strstr(err, "unknown mode 'merge'"));
    free(err);
    err = io_open_fails("export_postgres", "{dsn: \"host=x\", mode: upsert}",
                        NULL);
    assert_non_null(strstr(err, "mode upsert needs `key`"));
    free(err);
    err = io_open_fails("export_postgres", "{dsn: \"host=h pasword=p\"}", NULL);
    assert_non_null(strstr(err, "not a libpq connection string: invalid "
                                "connection option \"pasword\""));
    free(err);
    err = io_open_fails("ingest_postgres",
                        "{dsn: \"host=h password\", "
                        "table: t}",
                        NULL);
    assert_non_null(strstr(err, "not a libpq connection string"));
    free(err);
    err = io_open_fails("ingest_postgres", "{dsn: \"host=x\"}", NULL);
    assert_non_null(strstr(err, "exactly one of `query` and `table`"));
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_escaping_round_trip),
        cmocka_unit_test(test_atomic),
        cmocka_unit_test(test_type_mismatch),
        cmocka_unit_test(test_server_error),
        cmocka_unit_test(test_append_upsert),
        cmocka_unit_test(test_metric_sets),
        cmocka_unit_test(test_dropped_connection),
        cmocka_unit_test(test_password_scrubbed),
        cmocka_unit_test(test_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
