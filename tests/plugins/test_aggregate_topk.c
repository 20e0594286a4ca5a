/*
 * test_aggregate_topk - leaderboards: ties broken by id then by bytes
 * (worked out by hand), ascending order and float fields, no by-fields,
 * a synthetic district's points leaderboards checked against sqlite3's
 * row_number() over (partition by ... order by points desc, id), bad
 * records and option errors.
 */
#include "synth_helpers.h"

static void push(gf_harness *h, const char *json)
{
    assert_int_equal(gf_harness_push_json(h, json), 0);
}

/* "group|rank|id|value" lines. */
static char *rows(gf_harness *h, const char *group, const char *field)
{
    char *s = NULL, a[128], b[32], c[64], d[64];
    size_t len = 0;
    for (size_t i = 0; i < gf_harness_count(h); i++)
        th_cat(&s, &len, "%s|%s|%s|%s\n",
               group ? th_text(h, i, group, a, sizeof a) : "",
               th_text(h, i, "rank", b, sizeof b),
               th_text(h, i, "id", c, sizeof c),
               th_text(h, i, field, d, sizeof d));
    return s ? s : strdup("");
}

static void test_ties(void **state)
{
    (void)state;
    gf_harness *h = th_new("aggregate_topk", "by: [d]\nfield: points\nk: 3\n"
                                             "keep: [id, name]");
    push(h, "{\"kind\":\"member\",\"id\":\"m5\",\"d\":\"A\",\"points\":10}");
    push(h, "{\"kind\":\"member\",\"id\":\"m2\",\"d\":\"A\",\"points\":10}");
    push(h, "{\"kind\":\"member\",\"id\":\"m9\",\"d\":\"A\",\"points\":30}");
    push(h, "{\"kind\":\"member\",\"id\":\"m1\",\"d\":\"A\",\"points\":5}");
    push(h, "{\"kind\":\"member\",\"id\":\"m3\",\"d\":\"A\",\"points\":10}");
    /* same id and points: the encoded bytes decide ("a" < "b") */
    push(h, "{\"kind\":\"member\",\"id\":\"x\",\"d\":\"B\",\"points\":1,"
            "\"name\":\"b\"}");
    push(h, "{\"kind\":\"member\",\"id\":\"x\",\"d\":\"B\",\"points\":1,"
            "\"name\":\"a\"}");
    push(h, "{\"kind\":\"org\",\"id\":\"o\",\"d\":\"B\"}"); /* no points: passed
                                                               over */
    assert_int_equal(gf_harness_flush(h), 0);
    char *got = rows(h, "d", "points");
    /* A: 30 (m9), then the 10s by id: m2, m3 (m5 is fourth) */
    th_same("ties", got, "A|1|m9|30\nA|2|m2|10\nA|3|m3|10\nB|1|x|1\nB|2|x|1\n");
    free(got);
    char buf[16];
    assert_string_equal(th_text(h, 3, "name", buf, sizeof buf), "a");
    assert_string_equal(th_text(h, 4, "name", buf, sizeof buf), "b");
    assert_true(th_str_is(h, 0, "kind", "metric"));
    /* layout: kind, set, d, rank, id, name, points */
    const gf_host *host = gf_harness_host(h);
    static const char *const order[] = {"kind", "set",  "d",     "rank",
                                        "id",   "name", "points"};
    gf_iter it = {0};
    gf_str k;
    gf_value v;
    size_t n = 0;
    while (host->next(gf_harness_output(h, 0), &it, &k, &v)) {
        assert_true(n < 7);
        assert_true(gf_str_eq(k, order[n]));
        n++;
    }
    assert_int_equal(n, 7);
    /* a missing keep field is nil */
    assert_true(th_get(h, 0, "name", &v) && v.type == GF_T_NIL);
    gf_harness_destroy(&h);
}

/* The arrival order does not matter. */
static void test_order_independent(void **state)
{
    (void)state;
    static const char *const recs[] = {
        "{\"id\":\"a\",\"v\":3}",     "{\"id\":\"b\",\"v\":3.5}",
        "{\"id\":\"c\",\"v\":-1}",    "{\"id\":\"d\",\"v\":3}",
        "{\"id\":\"e\",\"v\":\"7\"}", "{\"id\":\"f\",\"v\":0.25}",
    };
    char *first = NULL;
    for (int perm = 0; perm < 6; perm++) {
        gf_harness *h =
            th_new("aggregate_topk", "field: v\nk: 4\norder: asc\nkeep: [id]");
        for (int i = 0; i < 6; i++)
            push(h, recs[(i * 5 + perm) % 6]);
        assert_int_equal(gf_harness_flush(h), 0);
        char *got = rows(h, NULL, "v");
        if (!first) {
            /* lowest first: -1, 0.25, 3 (a), 3 (d) */
            th_same("ascending", got,
                    "|1|c|-1\n|2|f|0.250000\n|3|a|3\n|4|d|3\n");
            first = got;
        } else {
            th_same("another arrival order", got, first);
            free(got);
        }
        gf_harness_destroy(&h);
    }
    free(first);
}

static void test_against_sqlite(void **state)
{
    (void)state;
    char *dir = th_tmpdir();
    char *json = th_path(dir, "m.json");
    gf_harness *g =
        th_new("ingest_synth", "members: 8000\nstations: 300\n"
                               "districts: 4\nkinds: member\nseed: 99");
    th_produce(g);
    th_write_json(g, json);

    gf_harness *h =
        th_new("aggregate_topk", "by: [district]\nfield: points\n"
                                 "k: 7\nkeep: [id, name, platform]");
    th_chain(g, h);
    assert_int_equal(gf_harness_flush(h), 0);
    assert_int_equal(gf_harness_count(h), 28);
    char *got = rows(h, "district", "points");
    char *want = th_sql(
        dir, "create table m as select json_extract(value,'$.district') d,"
             " json_extract(value,'$.id') id, json_extract(value,'$.points') p"
             " from json_each(readfile('m.json'));\n"
             "select d, rn, id, p from (select d, id, p, row_number() over"
             " (partition by d order by p desc, id) rn from m) where rn <= 7"
             " order by d, rn;\n");
    th_same("points leaderboard by district", got, want);
    free(got);
    free(want);
    gf_harness_destroy(&h);

    /* the lowest ages overall, ties by id */
    h = th_new("aggregate_topk", "field: age\nk: 15\norder: asc\nkeep: id");
    th_chain(g, h);
    assert_int_equal(gf_harness_flush(h), 0);
    got = rows(h, NULL, "age");
    want = th_sql(
        dir,
        "create table m as select json_extract(value,'$.id') id,"
        " json_extract(value,'$.age') a from json_each(readfile('m.json'));\n"
        "select '', row_number() over (order by a, id), id, a from m"
        " order by a, id limit 15;\n");
    th_same("youngest overall", got, want);
    free(got);
    free(want);
    gf_harness_destroy(&h);
    gf_harness_destroy(&g);
    free(json);
    th_rmdir(dir);
}

static void test_bad_records(void **state)
{
    (void)state;
    gf_harness *h = th_new("aggregate_topk", "field: points\nk: 2");
    push(h, "{\"kind\":\"member\",\"id\":\"a\",\"points\":\"many\"}");
    push(h, "{\"kind\":\"member\",\"id\":\"b\",\"points\":true}");
    push(h, "{\"kind\":\"member\",\"id\":\"c\",\"points\":4}");
    assert_int_equal(gf_harness_rejects(h), 2);
    assert_non_null(strstr(gf_harness_reject(h, 0), "points: "));
    assert_int_equal(gf_harness_flush(h), 0);
    assert_int_equal(gf_harness_count(h), 1);
    gf_harness_destroy(&h);
}

/* The ranked field, the id and the group given every JSON type. */
static void test_any_types(void **state)
{
    (void)state;
    static const char *const values[] = {
        "null", "true",  "0",      "-7",    "2.5",       "1e300",
        "\"\"", "\"x\"", "\"12\"", "[1,2]", "{\"a\":1}",
    };
    static const char *const fields[] = {"points", "id", "d"};
    gf_harness *h =
        th_new("aggregate_topk", "by: d\nfield: points\nk: 3\nkeep: [id]");
    char json[256];
    for (size_t f = 0; f < 3; f++)
        for (size_t v = 0; v < sizeof values / sizeof values[0]; v++) {
            snprintf(json, sizeof json,
                     "{\"%s\":%s,\"points\":%zu,\"id\":\"i\","
                     "\"d\":\"A\"}",
                     fields[f], values[v], v);
            assert_int_equal(gf_harness_push_json(h, json), 0);
        }
    assert_int_equal(gf_harness_flush(h), 0);
    assert_true(gf_harness_count(h) >= 3);
    /* twice: flush leaves the state as it was */
    size_t n = gf_harness_count(h);
    assert_int_equal(gf_harness_flush(h), 0);
    assert_int_equal(gf_harness_count(h), 2 * n);
    for (size_t i = 0; i < n; i++) {
        const gf_record *a = gf_harness_output(h, i),
                        *b = gf_harness_output(h, n + i);
        assert_int_equal(a->len, b->len);
        assert_memory_equal(a->data, b->data, a->len);
    }
    gf_harness_destroy(&h);
}

static void refused(const char *yaml, const char *needle)
{
    char *err = th_refused("aggregate_topk", yaml);
    if (!strstr(err, needle))
        fprintf(stderr, "error '%s' does not mention '%s'\n", err, needle);
    assert_non_null(strstr(err, needle));
    free(err);
}

static void test_bad_options(void **state)
{
    (void)state;
    refused("k: 5", "field");
    refused("field: points\nk: 0", "k");
    refused("field: points\norder: upwards", "order");
    refused("field: points\nkeep: [id, rank]", "rank");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ties),
        cmocka_unit_test(test_order_independent),
        cmocka_unit_test(test_against_sqlite),
        cmocka_unit_test(test_bad_records),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_any_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
