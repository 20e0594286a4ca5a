/*
 * test_ingest_postgres - ingest_postgres through the plugin harness against
 * the server that tests/integration/postgres_roundtrip.sh starts (skipped
 * without $GF_PG_DSN), on tables made with psql (an independent writer):
 * every mapped column type, NULL as an absent field, a result read in many
 * small FETCHes (count and sum checked against psql), `table` with a
 * schema, and queries the server refuses. Expected records are written out
 * by hand.
 */
#define _GNU_SOURCE
#include "db_test_util.h"

static gf_harness *pg_open(const char *more)
{
    char *o = db_pg_opts(more);
    gf_harness *h = io_open("ingest_postgres", o, NULL);
    free(o);
    return h;
}

static void test_types(void **state)
{
    (void)state;
    db_need_pg();
    db_expect_pg("DROP TABLE IF EXISTS typed; CREATE TABLE typed (a smallint,"
                 " b int, c bigint, d real, e double precision, f numeric,"
                 " g boolean, h text, i varchar(10), j date, k timestamp,"
                 " l json, m jsonb, n bytea, o uuid);"
                 "INSERT INTO typed VALUES (-3, 2147483647, "
                 "9007199254740993, 1.5, 0.1, 12.25, true, '党支部', 'v',"
                 " '2024-02-29', '2024-02-29 08:30:05', '{\"a\": [1, 2]}',"
                 " '{\"b\": {\"c\": null}}', '\\x00ff41',"
                 " 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');"
                 "INSERT INTO typed (a, g) VALUES (1, false);",
                 "");
    gf_harness *h = pg_open("table: public.typed, kind: org");
    assert_int_equal(gf_harness_produce(h), GF_DONE);
    assert_int_equal(gf_harness_count(h), 2);
    io_expect_json(h, 0,
                   "{\"kind\":\"org\",\"a\":-3,\"b\":2147483647,"
                   "\"c\":9007199254740993,\"d\":1.5,\"e\":0.1,\"f\":12.25,"
                   "\"g\":true,\"h\":\"党支部\",\"i\":\"v\","
                   "\"j\":\"2024-02-29\",\"k\":\"2024-02-29 08:30:05\","
                   "\"l\":{\"a\":[1,2]},\"m\":{\"b\":{\"c\":null}},"
                   "\"n\":\"AP9B\","
                   "\"o\":\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"}");
    io_expect_json(h, 1, "{\"kind\":\"org\",\"a\":1,\"g\":false}");
    gf_value v;
    assert_true(gf_harness_host(h)->get(gf_harness_output(h, 0), "n", &v));
    assert_int_equal(v.type, GF_T_BIN);
    assert_memory_equal(v.v.s.ptr, "\x00\xff\x41", 3);
    gf_harness_destroy(&h);
}

static void test_small_fetches(void **state)
{
    (void)state;
    db_need_pg();
    db_expect_pg("DROP TABLE IF EXISTS many; CREATE TABLE many AS SELECT g "
                 "AS n, 'row ' || g AS s FROM generate_series(1, 2500) g;",
                 "");
    char *want = db_psql("SELECT count(*) || ' ' || sum(n) FROM many "
                         "WHERE n % 3 <> 0;");
    gf_harness *h = pg_open("query: \"SELECT n, s FROM many WHERE n % 3 "
                            "<> 0 ORDER BY n\", fetch: 7");
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
    io_expect_json(h, n - 1, "{\"n\":2500,\"s\":\"row 2500\"}");
    gf_harness_destroy(&h);
    free(want);
}

static void expect_refused(const char *more, const char *part)
{
    char *o = db_pg_opts(more);
    char *err = io_open_fails("ingest_postgres", o, NULL);
    if (!strstr(err, part))
        fail_msg("options %s\n  got  %s\n  want \"%s\"", o, err, part);
    free(err);
    free(o);
}

static void test_refused(void **state)
{
    (void)state;
    db_need_pg();
    expect_refused("query: \"SELECT * FROM nope\"",
                   "PostgreSQL refused the query: ERROR:  relation \"nope\" "
                   "does not exist");
    expect_refused("query: \"SELEC 1\"", "syntax error at or near \"SELEC\"");
    expect_refused("table: nope", "relation \"nope\" does not exist");
    expect_refused("table: many, fetch: 0", "must be at least 1");
    expect_refused("table: many, kind: rider",
                   "\"rider\" is not a record kind");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_small_fetches),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
