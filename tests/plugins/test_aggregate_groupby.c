/*
 * test_aggregate_groupby - the aggregate_groupby plugin through the harness.
 * Every metric is checked against answers computed by hand and against
 * sqlite3 (the same records written as CSV, grouped by SQL); then missing
 * by-fields, non-numeric values (dead letters), bad metric expressions and
 * 100,000 groups. Set GF_BENCH=1 to also time a million records and measure
 * the bytes per group at a million groups.
 */
#include <malloc.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <gigflow/harness.h>

#include "mpbuild.h"

static gf_harness *open_gb(const char *opts)
{
    char *err = NULL;
    gf_harness *h = gf_harness_new("aggregate_groupby", opts, NULL, &err);
    if (!h)
        fail_msg("harness: %s", err ? err : "(no message)");
    free(err);
    return h;
}

static gf_value field(gf_harness *h, size_t i, const char *key)
{
    gf_value v;
    assert_true(i < gf_harness_count(h));
    if (!gf_harness_host(h)->get(gf_harness_output(h, i), key, &v))
        fail_msg("output %zu has no field '%s'", i, key);
    return v;
}

static void expect_int(gf_harness *h, size_t i, const char *key, int64_t want)
{
    gf_value v = field(h, i, key);
    if (v.type != GF_T_INT || v.v.i != want)
        fail_msg("output %zu %s: want int %lld, got type %d (%lld / %g)", i,
                 key, (long long)want, v.type, (long long)v.v.i, v.v.f);
}

static void expect_float(gf_harness *h, size_t i, const char *key, double want)
{
    gf_value v = field(h, i, key);
    if (v.type != GF_T_FLOAT || fabs(v.v.f - want) > 1e-9 * fabs(want))
        fail_msg("output %zu %s: want float %.17g, got type %d (%.17g)", i, key,
                 want, v.type, v.v.f);
}

static void expect_nil(gf_harness *h, size_t i, const char *key)
{
    assert_int_equal(field(h, i, key).type, GF_T_NIL);
}

static void expect_str(gf_harness *h, size_t i, const char *key,
                       const char *want)
{
    gf_value v = field(h, i, key);
    assert_int_equal(v.type, GF_T_STR);
    assert_int_equal(v.v.s.len, strlen(want));
    assert_memory_equal(v.v.s.ptr, want, strlen(want));
}

static void push(gf_harness *h, const char *json)
{
    assert_int_equal(gf_harness_push_json(h, json), 0);
}

static const char *const all_metrics = "by: [g]\n"
                                       "metrics:\n"
                                       "  n: count()\n"
                                       "  t: count_if(t)\n"
                                       "  sum: sum(v)\n"
                                       "  mn: min(v)\n"
                                       "  mx: max(v)\n"
                                       "  avg: avg(v)\n"
                                       "  d: distinct(s)\n"
                                       "  med: median(v)\n";

/* Answers worked out by hand (see each group's comment). */
static void test_metrics_by_hand(void **state)
{
    (void)state;
    gf_harness *h = open_gb(all_metrics);
    push(h, "{\"g\":\"a\",\"v\":1,\"s\":\"x\",\"t\":true}");
    push(h, "{\"g\":\"a\",\"v\":2.5,\"s\":\"x\",\"t\":0}");
    push(h, "{\"g\":\"a\",\"v\":4,\"s\":\"y\",\"t\":\"yes\"}");
    push(h, "{\"g\":\"a\",\"v\":null,\"s\":null,\"t\":\"\"}");
    push(h, "{\"g\":\"a\"}");
    push(h, "{\"g\":\"b\",\"v\":9223372036854775807,\"s\":2}");
    push(h, "{\"g\":\"b\",\"v\":1,\"s\":2.0,\"t\":0.5}");
    push(h, "{\"v\":3}");
    push(h, "{\"g\":null,\"v\":5}");
    push(h, "{\"g\":\"\",\"v\":7}");
    push(h, "{\"g\":\"c\",\"v\":3}");
    push(h, "{\"g\":\"c\",\"v\":0.5}");
    assert_int_equal(gf_harness_count(h), 0); /* nothing before flush */
    assert_int_equal(gf_harness_flush(h), 0);
    assert_int_equal(gf_harness_count(h), 5);
    assert_int_equal(gf_harness_rejects(h), 0);

    /* fields in order: kind, set, by, metrics as written */
    static const char *const order[] = {"kind", "set", "g",   "n", "t",  "sum",
                                        "mn",   "mx",  "avg", "d", "med"};
    gf_iter it = {0};
    gf_str k;
    gf_value v;
    size_t nf = 0;
    while (gf_harness_host(h)->next(gf_harness_output(h, 0), &it, &k, &v)) {
        assert_true(nf < 11);
        assert_true(gf_str_eq(k, order[nf]));
        nf++;
    }
    assert_int_equal(nf, 11);
    for (size_t i = 0; i < 5; i++) {
        expect_str(h, i, "kind", "metric");
        assert_int_equal(field(h, i, "set").type, GF_T_STR);
        assert_true(field(h, i, "set").v.s.len > 0);
    }

    /* nil group (missing g and g: null): v 3, 5 */
    expect_nil(h, 0, "g");
    expect_int(h, 0, "n", 2);
    expect_int(h, 0, "t", 0);
    expect_int(h, 0, "sum", 8);
    expect_int(h, 0, "mn", 3);
    expect_int(h, 0, "mx", 5);
    expect_float(h, 0, "avg", 4.0);
    expect_int(h, 0, "d", 0);
    expect_float(h, 0, "med", 4.0);
    /* "": v 7 */
    expect_str(h, 1, "g", "");
    expect_int(h, 1, "n", 1);
    expect_int(h, 1, "sum", 7);
    expect_float(h, 1, "med", 7.0);
    /* a: v 1, 2.5, 4 (nil and absent skipped); t true, "yes"; s x, y */
    expect_str(h, 2, "g", "a");
    expect_int(h, 2, "n", 5);
    expect_int(h, 2, "t", 2);
    expect_float(h, 2, "sum", 7.5);
    expect_int(h, 2, "mn", 1); /* min keeps the int it picked */
    expect_int(h, 2, "mx", 4);
    expect_float(h, 2, "avg", 2.5);
    expect_int(h, 2, "d", 2);
    expect_float(h, 2, "med", 2.5);
    /* b: INT64_MAX + 1 overflows into a float; s 2 and 2.0 are one value */
    expect_str(h, 3, "g", "b");
    expect_int(h, 3, "n", 2);
    expect_int(h, 3, "t", 1);
    expect_float(h, 3, "sum", 9223372036854775808.0);
    expect_int(h, 3, "mn", 1);
    expect_int(h, 3, "mx", INT64_MAX);
    expect_float(h, 3, "avg", 4611686018427387904.0);
    expect_int(h, 3, "d", 1);
    expect_float(h, 3, "med", (1.0 + 9223372036854775807.0) / 2);
    /* c: v 3, 0.5: the float is the min; even count: mean of the two */
    expect_str(h, 4, "g", "c");
    expect_float(h, 4, "mn", 0.5);
    expect_int(h, 4, "mx", 3);
    expect_float(h, 4, "sum", 3.5);
    expect_float(h, 4, "med", 1.75);
    expect_int(h, 4, "d", 0);
    gf_harness_destroy(&h);
}

/* The records of test_metrics_by_hand. */
static const char *const hand_records[] = {
    "{\"g\":\"a\",\"v\":1,\"s\":\"x\",\"t\":true}",
    "{\"g\":\"a\",\"v\":2.5,\"s\":\"x\",\"t\":0}",
    "{\"g\":\"a\",\"v\":4,\"s\":\"y\",\"t\":\"yes\"}",
    "{\"g\":\"a\",\"v\":null,\"s\":null,\"t\":\"\"}",
    "{\"g\":\"a\"}",
    "{\"g\":\"b\",\"v\":9223372036854775807,\"s\":2}",
    "{\"g\":\"b\",\"v\":1,\"s\":2.0,\"t\":0.5}",
    "{\"v\":3}",
    "{\"g\":null,\"v\":5}",
    "{\"g\":\"\",\"v\":7}",
    "{\"g\":\"c\",\"v\":3}",
    "{\"g\":\"c\",\"v\":0.5}",
};
#define NHAND (sizeof hand_records / sizeof *hand_records)

/*
 * Several workers: the records spread over `n` instances (record i to
 * instance (i + shift) % n), instances 1..n-1 write partial(), instance 0
 * merge()s them and flushes. Returns instance 0 (the others destroyed).
 */
static gf_harness *split_run(const char *opts, size_t n, size_t shift)
{
    gf_harness *h[4];
    assert_true(n >= 1 && n <= 4);
    for (size_t k = 0; k < n; k++)
        h[k] = open_gb(opts);
    for (size_t i = 0; i < NHAND; i++)
        push(h[(i + shift) % n], hand_records[i]);
    for (size_t k = 1; k < n; k++) {
        assert_int_equal(gf_harness_partial(h[k]), 0);
        for (size_t r = 0; r < gf_harness_count(h[k]); r++)
            assert_int_equal(gf_harness_merge(h[0], gf_harness_output(h[k], r)),
                             0);
        gf_harness_destroy(&h[k]);
    }
    assert_int_equal(gf_harness_count(h[0]), 0); /* merge emits nothing */
    assert_int_equal(gf_harness_flush(h[0]), 0);
    return h[0];
}

/* partial() + merge() over 2, 3 and 4 instances, every split: the same
   records as one instance, byte for byte; a few figures by hand. */
static void test_partial_merge(void **state)
{
    (void)state;
    gf_harness *one = split_run(all_metrics, 1, 0);
    assert_int_equal(gf_harness_count(one), 5);
    for (size_t n = 2; n <= 4; n++) {
        for (size_t shift = 0; shift < n; shift++) {
            gf_harness *h = split_run(all_metrics, n, shift);
            assert_int_equal(gf_harness_count(h), 5);
            for (size_t i = 0; i < 5; i++) {
                char *a = gf_harness_output_json(one, i);
                char *b = gf_harness_output_json(h, i);
                assert_non_null(a);
                assert_non_null(b);
                assert_string_equal(a, b);
                free(a);
                free(b);
            }
            /* by hand (see test_metrics_by_hand): a's distinct x, y and
               median of 1, 2.5, 4; b's INT64_MAX + 1 becomes a float
               whichever instance saw which; c's float min */
            expect_str(h, 2, "g", "a");
            expect_int(h, 2, "n", 5);
            expect_int(h, 2, "t", 2);
            expect_int(h, 2, "d", 2);
            expect_float(h, 2, "med", 2.5);
            expect_int(h, 2, "mn", 1);
            expect_float(h, 3, "sum", 9223372036854775808.0);
            expect_int(h, 3, "mx", INT64_MAX);
            expect_int(h, 3, "d", 1);
            expect_float(h, 4, "mn", 0.5);
            expect_nil(h, 0, "g");
            expect_float(h, 0, "avg", 4.0);
            gf_harness_destroy(&h);
        }
    }
    gf_harness_destroy(&one);

    /* no by: an instance that saw nothing still merges to the same */
    const char *nob = "metrics: {n: count(), s: sum(v), d: distinct(s), "
                      "m: median(v), lo: min(v)}";
    gf_harness *h0 = open_gb(nob), *h1 = open_gb(nob), *h2 = open_gb(nob);
    push(h1, "{\"v\":2,\"s\":\"q\"}");
    push(h1, "{\"v\":-5,\"s\":\"q\"}");
    assert_int_equal(gf_harness_partial(h1), 0);
    assert_int_equal(gf_harness_partial(h2), 0);
    assert_int_equal(gf_harness_count(h1), 1); /* one group each */
    assert_int_equal(gf_harness_count(h2), 1);
    assert_int_equal(gf_harness_merge(h0, gf_harness_output(h1, 0)), 0);
    assert_int_equal(gf_harness_merge(h0, gf_harness_output(h2, 0)), 0);
    assert_int_equal(gf_harness_flush(h0), 0);
    assert_int_equal(gf_harness_count(h0), 1);
    expect_int(h0, 0, "n", 2);
    expect_int(h0, 0, "s", -3);
    expect_int(h0, 0, "d", 1);
    expect_float(h0, 0, "m", -1.5);
    expect_int(h0, 0, "lo", -5);
    gf_harness_destroy(&h0);
    gf_harness_destroy(&h1);
    gf_harness_destroy(&h2);
}

/* merge() of something that is not this stage's partial state: an error
   with a message, never a crash. */
static void test_merge_bad(void **state)
{
    (void)state;
    gf_harness *h = open_gb(all_metrics);
    gf_harness *other = open_gb("by: [g]\nmetrics: {n: count()}");
    push(other, "{\"g\":1}");
    assert_int_equal(gf_harness_partial(other), 0);
    assert_int_equal(gf_harness_count(other), 1);
    /* one metric where eight are expected */
    assert_true(gf_harness_merge(h, gf_harness_output(other, 0)) < 0);
    assert_non_null(strstr(gf_harness_error(h), "8 metrics expected"));
    gf_harness_destroy(&other);

    mpb b = {0};
    /* no _key */
    mpb_map(&b, 1);
    mpb_str(&b, "g");
    mpb_int(&b, 1);
    gf_record rec = {.data = b.p, .len = b.len, .nfields = 1};
    assert_true(gf_harness_merge(h, &rec) < 0);
    assert_non_null(strstr(gf_harness_error(h), "not a partial state"));

    /* _key right, but a count that is a string */
    other = open_gb("by: [g]\nmetrics: {n: count()}");
    gf_harness *h1 = open_gb("by: [g]\nmetrics: {n: count()}");
    push(other, "{\"g\":1}");
    assert_int_equal(gf_harness_partial(other), 0);
    gf_value key;
    assert_true(
        gf_harness_host(other)->get(gf_harness_output(other, 0), "_key", &key));
    b.len = 0;
    mpb_map(&b, 2);
    mpb_str(&b, "_key");
    mpb_put(&b, key.raw, key.raw_len);
    mpb_str(&b, "_m");
    mpb_byte(&b, 0x91); /* array of 1 */
    mpb_str(&b, "seven");
    rec = (gf_record){.data = b.p, .len = b.len, .nfields = 2};
    assert_true(gf_harness_merge(h1, &rec) < 0);
    assert_non_null(strstr(gf_harness_error(h1), "metric n: malformed"));
    free(b.p);
    gf_harness_destroy(&other);
    gf_harness_destroy(&h1);
    gf_harness_destroy(&h);
}

/* Without `by`: one group, even over no input; empty metrics are nil. */
static void test_no_by(void **state)
{
    (void)state;
    gf_harness *h = open_gb("metrics: {n: count(), s: sum(v), d: "
                            "distinct(v), m: median(v)}");
    assert_int_equal(gf_harness_flush(h), 0);
    assert_int_equal(gf_harness_count(h), 1);
    expect_int(h, 0, "n", 0);
    expect_nil(h, 0, "s");
    expect_int(h, 0, "d", 0);
    expect_nil(h, 0, "m");
    gf_harness_destroy(&h);

    h = open_gb("metrics: {n: count(), s: sum(v)}");
    push(h, "{\"v\":2}");
    push(h, "{\"v\":-5}");
    assert_int_equal(gf_harness_flush(h), 0);
    assert_int_equal(gf_harness_count(h), 1);
    expect_int(h, 0, "n", 2);
    expect_int(h, 0, "s", -3);
    gf_harness_destroy(&h);
}

/* Several by fields, types kept, numbers sorted numerically. */
static void test_by_types_and_order(void **state)
{
    (void)state;
    gf_harness *h = open_gb("by: [a, b]\nmetrics: {n: count()}");
    push(h, "{\"a\":10,\"b\":\"x\"}");
    push(h, "{\"a\":9.5,\"b\":\"x\"}");
    push(h, "{\"a\":10,\"b\":\"x\"}");
    push(h, "{\"a\":true}");
    push(h, "{\"a\":-1,\"b\":\"z\"}");
    push(h, "{\"a\":10,\"b\":\"w\"}");
    push(h, "{\"a\":\"10\"}");
    push(h, "{\"b\":\"x\"}");
    push(h, "{\"a\":[1,\"二\"],\"b\":\"x\"}");
    push(h, "{\"a\":[1,\"二\"],\"b\":\"x\"}");
    assert_int_equal(gf_harness_flush(h), 0);
    assert_int_equal(gf_harness_count(h), 8);
    /* nil < bool < numbers < strings; then b */
    expect_nil(h, 0, "a");
    expect_str(h, 0, "b", "x");
    assert_int_equal(field(h, 1, "a").type, GF_T_BOOL);
    expect_nil(h, 1, "b");
    expect_int(h, 2, "a", -1);
    expect_float(h, 3, "a", 9.5);
    expect_int(h, 4, "a", 10);
    expect_str(h, 4, "b", "w");
    expect_int(h, 5, "a", 10);
    expect_str(h, 5, "b", "x");
    expect_int(h, 5, "n", 2);
    expect_str(h, 6, "a", "10");
    /* an array groups by its bytes, sorts after strings, comes out whole */
    gf_value arr = field(h, 7, "a"), el;
    assert_int_equal(arr.type, GF_T_ARRAY);
    assert_int_equal(arr.n, 2);
    gf_iter it = {0};
    assert_true(gf_harness_host(h)->elem(&arr, &it, &el));
    assert_int_equal(el.v.i, 1);
    expect_int(h, 7, "n", 2);
    gf_harness_destroy(&h);
}

/* A non-number for sum/min/max/avg/median: dead letters, counted nowhere. */
static void test_not_a_number(void **state)
{
    (void)state;
    gf_harness *h = open_gb("by: [g]\nmetrics: {n: count(), s: sum(v), "
                            "d: distinct(w)}");
    push(h, "{\"g\":\"a\",\"v\":1,\"w\":\"abc\"}");
    push(h, "{\"g\":\"a\",\"v\":\"abc\"}");
    push(h, "{\"g\":\"a\",\"v\":true}");
    push(h, "{\"g\":\"b\",\"v\":\"12\"}");
    push(h, "{\"g\":\"a\",\"v\":[1]}");
    push(h, "{\"g\":\"a\",\"v\":2,\"w\":\"abd\"}");
    assert_int_equal(gf_harness_rejects(h), 4);
    assert_non_null(
        strstr(gf_harness_reject(h, 0), "field v: 'abc' is not a number"));
    assert_non_null(
        strstr(gf_harness_reject(h, 1), "field v: 'true' is not a number"));
    assert_non_null(
        strstr(gf_harness_reject(h, 2), "field v: '12' is not a number"));
    assert_non_null(strstr(gf_harness_reject(h, 3), "is not a number"));
    assert_int_equal(gf_harness_flush(h), 0);
    assert_int_equal(gf_harness_count(h), 1); /* no group b */
    expect_str(h, 0, "g", "a");
    expect_int(h, 0, "n", 2);
    expect_int(h, 0, "s", 3);
    expect_int(h, 0, "d", 2);
    gf_harness_destroy(&h);
}

static void expect_option_error(const char *opts, const char *what)
{
    char *err = NULL;
    gf_harness *h = gf_harness_new("aggregate_groupby", opts, NULL, &err);
    if (h)
        fail_msg("accepted: %s", opts);
    if (!err || !strstr(err, what))
        fail_msg("error for '%s' lacks '%s': %s", opts, what,
                 err ? err : "(none)");
    free(err);
}

static void test_bad_expressions(void **state)
{
    (void)state;
    expect_option_error("metrics: {m: \"sum(\"}", "metric 'm': 'sum(': "
                                                  "missing ')'");
    expect_option_error("metrics: {m: \"foo(x)\"}", "unknown function 'foo'");
    expect_option_error("metrics: {m: \"count(x)\"}", "count() takes no field");
    expect_option_error("metrics: {m: \"sum()\"}",
                        "sum() needs a field: sum(FIELD)");
    expect_option_error("metrics: {m: \"sum(a) + 1\"}",
                        "unexpected text after ')'");
    expect_option_error("metrics: {m: \"sum(a, b)\"}",
                        "sum() takes one field name");
    expect_option_error("metrics: {m: \"42\"}", "expected a function");
    expect_option_error("metrics: {m: \"median x\"}", "expected '('");
    expect_option_error("by: [n]\nmetrics: {n: count()}",
                        "metric 'n': the name is taken");
    expect_option_error("metrics: {set: count()}",
                        "metric 'set': the name is taken");
    expect_option_error("by: [kind]\nmetrics: {n: count()}",
                        "cannot group by 'kind'");
    expect_option_error("by: [a, a]\nmetrics: {n: count()}",
                        "field 'a' is listed twice");
    expect_option_error("metrics: {}", "at least one metric");
    /* every error at once */
    expect_option_error("metrics: {a: \"x(\", b: \"sum()\"}", "metric 'a'");
    expect_option_error("metrics: {a: \"x(\", b: \"sum()\"}", "metric 'b'");
}

/* --- against sqlite3 --------------------------------------------------- */

static uint64_t rng(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 33;
}

/* A field's JSON and CSV forms; empty CSV for absent or null. */
static void add(char *json, char *csv, const char *key, const char *jv,
                const char *cv)
{
    if (jv)
        sprintf(json + strlen(json), "%s\"%s\":%s", strlen(json) > 1 ? "," : "",
                key, jv);
    sprintf(csv + strlen(csv), ",%s", cv); /* the row drops its first ',' */
}

static void test_against_sqlite(void **state)
{
    (void)state;
    if (system("command -v sqlite3 >/dev/null 2>&1") != 0)
        skip();
    char dir[] = "/tmp/gf_gb_XXXXXX", csvpath[64], sqlpath[64];
    assert_non_null(mkdtemp(dir));
    snprintf(csvpath, sizeof csvpath, "%s/in.csv", dir);
    snprintf(sqlpath, sizeof sqlpath, "%s/q.sql", dir);
    FILE *csv = fopen(csvpath, "w");
    assert_non_null(csv);
    gf_harness *h = open_gb("by: [platform, district]\n"
                            "metrics:\n"
                            "  n: count()\n"
                            "  members: count_if(party)\n"
                            "  age_sum: sum(age)\n"
                            "  pmin: min(points)\n"
                            "  pmax: max(points)\n"
                            "  age_avg: avg(age)\n"
                            "  stations: distinct(station)\n"
                            "  age_med: median(age)\n"
                            "  pts_sum: sum(points)\n");
    static const char *const platforms[] = {
        "\"美团\"", "\"饿了么\"", "\"盒马\"", "\"顺丰\"", NULL, "null"};
    static const char *const pcsv[] = {"美团", "饿了么", "盒马",
                                       "顺丰", "",       ""};
    uint64_t seed = 42;
    for (int i = 0; i < 2000; i++) {
        char json[512] = "{", line[256] = "", jv[64], cv[64];
        int p = (int)(rng(&seed) % 6);
        add(json, line, "platform", platforms[p], pcsv[p]);
        int d = (int)(rng(&seed) % 4);
        snprintf(jv, sizeof jv, "%d", d);
        add(json, line, "district", d ? jv : NULL, d ? jv : "");
        int a = (int)(rng(&seed) % 50);
        snprintf(jv, sizeof jv, "%d", 16 + a);
        add(json, line, "age", a < 3 ? (a ? "null" : NULL) : jv,
            a < 3 ? "" : jv);
        int pts = (int)(rng(&seed) % 400) - 100;
        if (pts % 3 == 0)
            snprintf(jv, sizeof jv, "%d", pts);
        else
            snprintf(jv, sizeof jv, "%.2f", pts * 0.25);
        add(json, line, "points", pts % 7 ? jv : NULL, pts % 7 ? jv : "");
        int party = (int)(rng(&seed) % 3);
        add(json, line, "party",
            party == 2 ? NULL
            : party    ? "true"
                       : "false",
            party == 2 ? ""
            : party    ? "1"
                       : "0");
        int st = (int)(rng(&seed) % 12);
        snprintf(jv, sizeof jv, "\"STN-%02d\"", st);
        snprintf(cv, sizeof cv, "STN-%02d", st);
        add(json, line, "station", st < 10 ? jv : NULL, st < 10 ? cv : "");
        strcat(json, "}");
        fprintf(csv, "%s\n", line + 1);
        push(h, json);
    }
    fclose(csv);
    assert_int_equal(gf_harness_flush(h), 0);

    FILE *sql = fopen(sqlpath, "w");
    assert_non_null(sql);
    fprintf(sql,
            "CREATE TABLE t(platform TEXT, district INTEGER, age INTEGER,"
            " points REAL, party INTEGER, station TEXT);\n"
            ".mode csv\n.import %s t\n"
            "UPDATE t SET platform=NULL WHERE platform='';\n"
            "UPDATE t SET district=NULL WHERE district='';\n"
            "UPDATE t SET age=NULL WHERE age='';\n"
            "UPDATE t SET points=NULL WHERE points='';\n"
            "UPDATE t SET party=NULL WHERE party='';\n"
            "UPDATE t SET station=NULL WHERE station='';\n"
            ".mode list\n.separator |\n.nullvalue NULL\n"
            "WITH med AS (SELECT platform p, district d, avg(age) m FROM"
            " (SELECT platform, district, age, row_number() OVER (PARTITION BY"
            " platform, district ORDER BY age) rn, count(*) OVER (PARTITION BY"
            " platform, district) c FROM t WHERE age IS NOT NULL)"
            " WHERE rn IN ((c+1)/2, (c+2)/2) GROUP BY platform, district),"
            " g AS (SELECT platform, district, count(*) n,"
            " count(CASE WHEN party=1 THEN 1 END) members, sum(age) age_sum,"
            " min(points) pmin, max(points) pmax, avg(age) age_avg,"
            " count(DISTINCT station) stations, sum(points) pts_sum"
            " FROM t GROUP BY platform, district)"
            " SELECT g.platform, g.district, n, members, age_sum, pmin, pmax,"
            " age_avg, stations, med.m, pts_sum FROM g LEFT JOIN med"
            " ON med.p IS g.platform AND med.d IS g.district"
            " ORDER BY g.platform, g.district;\n",
            csvpath);
    fclose(sql);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "sqlite3 :memory: < %s", sqlpath);
    FILE *out = popen(cmd, "r");
    assert_non_null(out);
    char line[1024];
    size_t row = 0;
    static const char *const cols[] = {
        "platform", "district", "n",        "members", "age_sum", "pmin",
        "pmax",     "age_avg",  "stations", "age_med", "pts_sum"};
    while (fgets(line, sizeof line, out)) {
        line[strcspn(line, "\n")] = '\0';
        char *save = NULL, *cell = strtok_r(line, "|", &save);
        for (size_t c = 0; c < 11; c++, cell = strtok_r(NULL, "|", &save)) {
            assert_non_null(cell);
            gf_value v = field(h, row, cols[c]);
            if (strcmp(cell, "NULL") == 0) {
                if (v.type != GF_T_NIL)
                    fail_msg("row %zu %s: want nil, type %d", row, cols[c],
                             v.type);
            } else if (c == 0) {
                expect_str(h, row, cols[c], cell);
            } else if (c == 5 || c == 6 || c == 10) {
                /* points mix ints and floats: compare as numbers */
                double x = v.type == GF_T_INT ? (double)v.v.i : v.v.f;
                assert_true(v.type == GF_T_INT || v.type == GF_T_FLOAT);
                if (fabs(x - strtod(cell, NULL)) > 1e-9)
                    fail_msg("row %zu %s: want %s, got %.17g", row, cols[c],
                             cell, x);
            } else if (c == 7 || c == 9) {
                expect_float(h, row, cols[c], strtod(cell, NULL));
            } else {
                expect_int(h, row, cols[c], strtoll(cell, NULL, 10));
            }
        }
        row++;
    }
    assert_int_equal(pclose(out), 0);
    assert_int_equal(row, 20); /* 5 platforms (with nil) x 4 districts */
    assert_int_equal(row, gf_harness_count(h));
    gf_harness_destroy(&h);
    if (!getenv("GF_KEEP"))
        unlink(csvpath), unlink(sqlpath);
    rmdir(dir);
}

/*
 * Fields are read in one walk over each record: in any order, absent ones
 * nil, and of a key written twice the first counts (as gf_host.get reads
 * it).
 */
static void test_field_order_and_duplicates(void **state)
{
    (void)state;
    gf_harness *h = open_gb("by: [k, j]\nmetrics: {n: count(), s: sum(v)}");
    mpb b = {0};
    mpb_map(&b, 5);
    mpb_str(&b, "v");
    mpb_int(&b, 5);
    mpb_str(&b, "k");
    mpb_int(&b, 1);
    mpb_str(&b, "kind");
    mpb_str(&b, "member");
    mpb_str(&b, "k");
    mpb_int(&b, 2);
    mpb_str(&b, "v");
    mpb_int(&b, 7);
    assert_int_equal(gf_harness_push(h, b.p, b.len), 0);
    push(h, "{\"j\":\"x\",\"k\":1,\"v\":10}");
    push(h, "{\"kind\":\"member\",\"v\":1}");
    assert_int_equal(gf_harness_flush(h), 0);
    assert_int_equal(gf_harness_count(h), 3);
    /* nil sorts first: (nil, nil), (1, nil), (1, "x") */
    expect_nil(h, 0, "k");
    expect_int(h, 0, "s", 1);
    expect_int(h, 1, "k", 1);
    expect_nil(h, 1, "j");
    expect_int(h, 1, "s", 5);
    expect_int(h, 1, "n", 1);
    expect_str(h, 2, "j", "x");
    expect_int(h, 2, "s", 10);
    free(b.p);
    gf_harness_destroy(&h);

    /* a field name longer than 63 bytes */
    char name[71], opts[160], rec[128];
    memset(name, 'x', 70);
    name[70] = '\0';
    snprintf(opts, sizeof opts, "by: [%s]\nmetrics: {n: count()}", name);
    h = open_gb(opts);
    snprintf(rec, sizeof rec, "{\"a\":1,\"%s\":7}", name);
    push(h, rec);
    push(h, rec);
    assert_int_equal(gf_harness_flush(h), 0);
    assert_int_equal(gf_harness_count(h), 1);
    expect_int(h, 0, name, 7);
    expect_int(h, 0, "n", 2);
    gf_harness_destroy(&h);
}

/* --- many groups ------------------------------------------------------ */

static void push_kv(gf_harness *h, mpb *b, int64_t k, int64_t v)
{
    b->len = 0;
    mpb_map(b, 3);
    mpb_str(b, "kind");
    mpb_str(b, "member");
    mpb_str(b, "k");
    mpb_int(b, k);
    mpb_str(b, "v");
    mpb_int(b, v);
    assert_int_equal(gf_harness_push(h, b->p, b->len), 0);
}

static void test_100k_groups(void **state)
{
    (void)state;
    gf_harness *h = open_gb("by: [k]\nmetrics: {n: count(), s: sum(v), "
                            "d: distinct(v)}");
    mpb b = {0};
    const int64_t groups = 100000;
    for (int64_t i = 0; i < 2 * groups; i++)
        push_kv(h, &b, (i * 7919) % groups, i); /* a scattered order */
    assert_int_equal(gf_harness_flush(h), 0);
    assert_int_equal(gf_harness_count(h), (size_t)groups);
    /* group k holds i with i*7919 = k (mod groups): i0 and i0 + groups */
    for (int64_t k = 0; k < groups; k++) {
        gf_value kv = field(h, (size_t)k, "k"), s = field(h, (size_t)k, "s");
        assert_int_equal(kv.v.i, k);
        int64_t i0 = s.v.i / 2 - groups / 2;
        assert_int_equal((i0 * 7919) % groups, k);
        expect_int(h, (size_t)k, "n", 2);
        expect_int(h, (size_t)k, "d", 2);
    }
    free(b.p);
    gf_harness_destroy(&h);
}

/* --- speed and memory -------------------------------------------------- */

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static size_t heap_bytes(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

static void test_bench(void **state)
{
    (void)state;
    if (!getenv("GF_BENCH"))
        skip();
    const size_t n = 1000000;
    gf_harness *h = open_gb("by: [platform, district]\nmetrics: {n: count(), "
                            "m: count_if(party), s: sum(age), a: avg(age), "
                            "lo: min(age), hi: max(age), "
                            "d: distinct(station)}");
    static const char *const platforms[] = {"美团", "饿了么", "顺丰", "盒马"};
    mpb *recs = calloc(1024, sizeof *recs);
    for (size_t i = 0; i < 1024; i++) {
        mpb *b = &recs[i];
        mpb_map(b, 6);
        mpb_str(b, "kind");
        mpb_str(b, "member");
        mpb_str(b, "platform");
        mpb_str(b, platforms[i % 4]);
        mpb_str(b, "district");
        mpb_int(b, (int64_t)(i % 250));
        mpb_str(b, "age");
        mpb_int(b, (int64_t)(16 + i % 45));
        mpb_str(b, "party");
        mpb_bool(b, i % 3 == 0);
        char st[16];
        snprintf(st, sizeof st, "STN-%03zu", i % 97);
        mpb_str(b, "station");
        mpb_str(b, st);
    }
    double t0 = seconds();
    for (size_t i = 0; i < n; i++)
        assert_int_equal(
            gf_harness_push(h, recs[i % 1024].p, recs[i % 1024].len), 0);
    assert_int_equal(gf_harness_flush(h), 0);
    double t = seconds() - t0;
    printf("aggregate_groupby: %zu records, %zu groups, 7 metrics: %.3f s, "
           "%.0f records/s\n",
           n, gf_harness_count(h), t, n / t);
    for (size_t i = 0; i < 1024; i++)
        free(recs[i].p);
    free(recs);
    gf_harness_destroy(&h);

    /* a million groups: count() and sum() */
    h = open_gb("by: [k]\nmetrics: {n: count(), s: sum(v)}");
    mpb b = {0};
    size_t before = heap_bytes();
    t0 = seconds();
    for (size_t i = 0; i < n; i++)
        push_kv(h, &b, (int64_t)i, (int64_t)i);
    double tp = seconds() - t0;
    size_t after = heap_bytes();
    assert_int_equal(gf_harness_flush(h), 0);
    t = seconds() - t0;
    assert_int_equal(gf_harness_count(h), n);
    printf("aggregate_groupby: %zu groups: %.0f bytes per group (heap "
           "%zu -> %zu), %.0f records/s pushing, %.3f s with flush\n",
           n, (double)(after - before) / n, before, after, n / tp, t);
    free(b.p);
    gf_harness_destroy(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics_by_hand),
        cmocka_unit_test(test_no_by),
        cmocka_unit_test(test_partial_merge),
        cmocka_unit_test(test_merge_bad),
        cmocka_unit_test(test_by_types_and_order),
        cmocka_unit_test(test_not_a_number),
        cmocka_unit_test(test_bad_expressions),
        cmocka_unit_test(test_against_sqlite),
        cmocka_unit_test(test_field_order_and_duplicates),
        cmocka_unit_test(test_100k_groups),
        cmocka_unit_test(test_bench),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
