/*
 * test_aggregate_coverage - coverage, density and attachment per group: a
 * small case worked out by hand, synthetic districts checked against the
 * same figures computed by sqlite3 from the JSON of the records (by
 * district, by district and platform, and with no by-fields), the metric
 * row layout, and bad records (to the dead letters, the run goes on).
 */
#include "synth_helpers.h"

/* One line per output row: the by-values then every metric. */
static char *rows(gf_harness *h, const char *const *by, size_t nby)
{
    static const char *const metrics[] = {
        "stations", "stations_covered", "coverage",
        "workers",  "party_members",    "mobile_party_members",
        "density",  "attached",         "attached_share",
    };
    char *s = NULL, buf[128];
    size_t len = 0;
    for (size_t i = 0; i < gf_harness_count(h); i++) {
        for (size_t b = 0; b < nby; b++)
            th_cat(&s, &len, "%s|", th_text(h, i, by[b], buf, sizeof buf));
        for (size_t m = 0; m < sizeof metrics / sizeof metrics[0]; m++)
            th_cat(&s, &len, "%s%s", m ? "|" : "",
                   th_text(h, i, metrics[m], buf, sizeof buf));
        th_cat(&s, &len, "\n");
    }
    return s ? s : strdup("");
}

static void push(gf_harness *h, const char *json)
{
    assert_int_equal(gf_harness_push_json(h, json), 0);
}

/*
 * District A: members at S1 (an org of A there) and S2 (none); an org of
 * A names S3, where a member of B works; an org of B names S4.
 *   A: stations {S1, S2, S3}, covered {S1, S3}: 2/3; workers 4, party 2
 *      (1 mobile: m3's rel does not count without party), density 500,
 *      attached 2 (m3's empty org_id is none): 0.5
 *   B: stations {S3, S4}, both covered: 1.0; workers 1, party 0,
 *      attached 0
 */
static void test_by_hand(void **state)
{
    (void)state;
    gf_harness *h = th_new("aggregate_coverage", NULL);
    push(h, "{\"kind\":\"org\",\"id\":\"O1\",\"district\":\"A\",\"station\":"
            "\"S1\"}");
    push(h, "{\"kind\":\"org\",\"id\":\"O0\",\"district\":\"A\"}");
    push(h, "{\"kind\":\"member\",\"id\":\"m1\",\"district\":\"A\",\"station\":"
            "\"S1\","
            "\"party\":true,\"rel\":\"mobile\",\"org_id\":\"O1\"}");
    push(h, "{\"kind\":\"member\",\"id\":\"m2\",\"district\":\"A\",\"station\":"
            "\"S1\","
            "\"party\":true,\"rel\":\"local\",\"org_id\":\"O1\"}");
    push(h, "{\"kind\":\"member\",\"id\":\"m3\",\"district\":\"A\",\"station\":"
            "\"S2\","
            "\"party\":false,\"rel\":\"mobile\",\"org_id\":\"\"}");
    push(h, "{\"kind\":\"member\",\"id\":\"m4\",\"district\":\"A\"}");
    push(h, "{\"kind\":\"member\",\"id\":\"m5\",\"district\":\"B\",\"station\":"
            "\"S3\"}");
    push(h, "{\"kind\":\"org\",\"id\":\"O3\",\"district\":\"A\",\"station\":"
            "\"S3\"}");
    push(h, "{\"kind\":\"org\",\"id\":\"O4\",\"district\":\"B\",\"station\":"
            "\"S4\"}");
    push(h, "{\"kind\":\"project\",\"id\":\"P\",\"district\":\"C\"}");
    assert_int_equal(gf_harness_count(h), 0); /* nothing before flush */
    assert_int_equal(gf_harness_flush(h), 0);
    static const char *const by[] = {"district"};
    char *got = rows(h, by, 1);
    /* A also holds S3 (named by O3 of district A) */
    th_same("by hand", got,
            "A|3|2|0.666667|4|2|1|500.000000|2|0.500000\n"
            "B|2|2|1.000000|1|0|0|0.000000|0|0.000000\n");
    free(got);
    /* layout: kind, set, district, then the metrics in order */
    const gf_host *host = gf_harness_host(h);
    gf_iter it = {0};
    gf_str k;
    gf_value v;
    static const char *const order[] = {"kind",
                                        "set",
                                        "district",
                                        "stations",
                                        "stations_covered",
                                        "coverage",
                                        "workers",
                                        "party_members",
                                        "mobile_party_members",
                                        "density",
                                        "attached",
                                        "attached_share"};
    size_t n = 0;
    while (host->next(gf_harness_output(h, 0), &it, &k, &v)) {
        assert_true(n < 12);
        assert_true(gf_str_eq(k, order[n]));
        n++;
    }
    assert_int_equal(n, 12);
    assert_true(th_str_is(h, 0, "kind", "metric"));
    gf_harness_destroy(&h);
}

/* A group without workers: density and shares are nil; no by-fields: one
   group. */
static void test_empty_groups(void **state)
{
    (void)state;
    gf_harness *h = th_new("aggregate_coverage", "by: [platform]");
    push(h, "{\"kind\":\"org\",\"id\":\"O1\",\"platform\":\"sf\",\"station\":"
            "\"S1\"}");
    push(h, "{\"kind\":\"member\",\"id\":\"m\",\"platform\":\"meituan\"}");
    assert_int_equal(gf_harness_flush(h), 0);
    assert_int_equal(gf_harness_count(h), 2);
    gf_value v;
    /* meituan < sf bytewise; sf has no workers */
    assert_true(th_str_is(h, 0, "platform", "meituan"));
    assert_true(th_get(h, 0, "coverage", &v) && v.type == GF_T_NIL);
    assert_true(th_str_is(h, 1, "platform", "sf"));
    assert_true(th_get(h, 1, "density", &v) && v.type == GF_T_NIL);
    assert_true(th_get(h, 1, "coverage", &v) && v.type == GF_T_FLOAT &&
                v.v.f == 1.0);
    gf_harness_destroy(&h);

    h = th_new("aggregate_coverage", "by: []");
    push(
        h,
        "{\"kind\":\"member\",\"id\":\"m\",\"district\":\"A\",\"party\":true}");
    push(h, "{\"kind\":\"member\",\"id\":\"n\",\"district\":\"B\"}");
    assert_int_equal(gf_harness_flush(h), 0);
    assert_int_equal(gf_harness_count(h), 1);
    char buf[32];
    assert_string_equal(th_text(h, 0, "workers", buf, sizeof buf), "2");
    assert_string_equal(th_text(h, 0, "density", buf, sizeof buf),
                        "500.000000");
    gf_harness_destroy(&h);
}

static void test_bad_records(void **state)
{
    (void)state;
    gf_harness *h = th_new("aggregate_coverage", NULL);
    push(h, "{\"kind\":\"member\",\"id\":\"m\",\"district\":\"A\",\"party\":"
            "\"perhaps\"}");
    push(h, "{\"id\":\"nokind\",\"district\":\"A\"}");
    push(h, "{\"kind\":\"member\",\"id\":\"m2\",\"district\":\"A\",\"party\":"
            "\"是\"}");
    assert_int_equal(gf_harness_rejects(h), 2);
    assert_non_null(strstr(gf_harness_reject(h, 0), "party: "));
    assert_non_null(strstr(gf_harness_reject(h, 1), "kind: "));
    assert_int_equal(gf_harness_flush(h), 0);
    char buf[32];
    assert_int_equal(gf_harness_count(h), 1);
    assert_string_equal(th_text(h, 0, "workers", buf, sizeof buf), "1");
    assert_string_equal(th_text(h, 0, "party_members", buf, sizeof buf), "1");
    gf_harness_destroy(&h);
}

/* The same figures from sqlite3, grouped by the SQL columns `cols`
   (`key` joins them into one value to match groups on). */
static char *expected(const char *dir, const char *cols, const char *key)
{
    char sql[4096];
    snprintf(
        sql, sizeof sql,
        "create table r as select value j from "
        "json_each(readfile('all.json'));\n"
        "create table m0 as select json_extract(j,'$.district') district,"
        " json_extract(j,'$.platform') platform, json_extract(j,'$.station') "
        "st,"
        " json_extract(j,'$.party') party, json_extract(j,'$.rel') rel,"
        " json_extract(j,'$.org_id') org from r where "
        "json_extract(j,'$.kind')='member';\n"
        "create table o0 as select json_extract(j,'$.district') district,"
        " json_extract(j,'$.platform') platform, json_extract(j,'$.station') st"
        " from r where json_extract(j,'$.kind')='org' and "
        "json_extract(j,'$.station') is not null;\n"
        "create table m as select %s k, * from m0;\n"
        "create table o as select %s k, * from o0;\n"
        "create table cov as select distinct st from o;\n"
        "create table gs as select k, st from m where st is not null"
        " union select k, st from o;\n"
        "create table g as select k, %s from m union select k, %s from o;\n"
        "create table n as select g.k,"
        " (select count(*) from gs where gs.k = g.k) stations,"
        " (select count(*) from gs where gs.k = g.k and st in (select st from "
        "cov)) covered,"
        " (select count(*) from m where m.k = g.k) workers,"
        " (select count(*) from m where m.k = g.k and party) party,"
        " (select count(*) from m where m.k = g.k and party and rel = "
        "'mobile') mobile,"
        " (select count(*) from m where m.k = g.k and org is not null and org "
        "<> '') att"
        " from g;\n"
        "select %s, stations, covered, printf('%%.6f', 1.0 * covered / "
        "stations),"
        " workers, party, mobile, printf('%%.6f', 1000.0 * party / workers), "
        "att,"
        " printf('%%.6f', 1.0 * att / workers) from g join n using(k) order by "
        "%s;\n",
        key, key, cols, cols, cols, cols);
    return th_sql(dir, sql);
}

static void test_against_sqlite(void **state)
{
    (void)state;
    char *dir = th_tmpdir();
    char *json = th_path(dir, "all.json");
    gf_harness *g =
        th_new("ingest_synth",
               "members: 9000\nstations: 400\n"
               "districts: 3\ncoverage: 0.55\nkinds: [org, member]\nseed: 4");
    th_produce(g);
    th_write_json(g, json);

    /* every group has workers in this data, so no nil shares */
    gf_harness *h = th_new("aggregate_coverage", NULL);
    th_chain(g, h);
    assert_int_equal(gf_harness_flush(h), 0);
    static const char *const by1[] = {"district"};
    char *got = rows(h, by1, 1);
    /* with one by-field, the platform column of g is the same for all */
    char *want = expected(dir, "district", "district");
    th_same("coverage by district", got, want);
    assert_int_equal(gf_harness_count(h), 3);
    free(got);
    free(want);
    gf_harness_destroy(&h);

    h = th_new("aggregate_coverage", "by: [district, platform]");
    th_chain(g, h);
    assert_int_equal(gf_harness_flush(h), 0);
    static const char *const by2[] = {"district", "platform"};
    got = rows(h, by2, 2);
    /* groups of orgs without a platform (committees) have no station and
       add nothing; sqlite's g holds them only through o (station set) */
    want = expected(dir, "district, platform",
                    "district || '|' || coalesce(platform, '')");
    th_same("coverage by district and platform", got, want);
    assert_true(gf_harness_count(h) > 20);
    free(got);
    free(want);
    gf_harness_destroy(&h);
    gf_harness_destroy(&g);
    free(json);
    th_rmdir(dir);
}

/* Every field read, given every JSON type: accepted or rejected, and the
   flush still works. */
static void test_any_types(void **state)
{
    (void)state;
    static const char *const values[] = {
        "null", "true", "false", "0",     "-7",
        "2.5",  "\"\"", "\"x\"", "[1,2]", "{\"a\":1}",
    };
    static const char *const fields[] = {"party",   "rel",      "org_id",
                                         "station", "district", "kind"};
    gf_harness *h = th_new("aggregate_coverage", NULL);
    char json[256];
    for (size_t f = 0; f < 6; f++)
        for (size_t v = 0; v < sizeof values / sizeof values[0]; v++)
            for (int org = 0; org < 2; org++) {
                snprintf(json, sizeof json,
                         "{\"%s\":%s,\"kind\":\"%s\","
                         "\"party\":true,\"station\":\"S\"}",
                         fields[f], values[v], org ? "org" : "member");
                assert_int_equal(gf_harness_push_json(h, json), 0);
            }
    assert_int_equal(gf_harness_flush(h), 0);
    assert_true(gf_harness_count(h) > 3); /* district took several types */
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

static void test_bad_options(void **state)
{
    (void)state;
    static const char *const yaml[] = {"by: [district, workers]", "by: kind",
                                       "by: [district]\ncolour: red"};
    static const char *const needle[] = {"workers", "kind", "colour"};
    for (size_t i = 0; i < 3; i++) {
        char *err = th_refused("aggregate_coverage", yaml[i]);
        if (!strstr(err, needle[i]))
            fprintf(stderr, "error '%s' does not mention '%s'\n", err,
                    needle[i]);
        assert_non_null(strstr(err, needle[i]));
        free(err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_by_hand),
        cmocka_unit_test(test_empty_groups),
        cmocka_unit_test(test_bad_records),
        cmocka_unit_test(test_against_sqlite),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_any_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
