/*
 * test_classify_domain - derived fields of members, orgs, projects and
 * demands on hand-made records (expected values worked out by hand in the
 * comments), the overdue rules with `as_of` and `overdue_hours`, byte
 * copies (input fields untouched, in order), pass-through of other kinds,
 * bad values to the dead letters with field and reason, option errors,
 * and a whole synthetic district checked against sqlite3's julianday().
 */
#include "synth_helpers.h"

#define AS_OF "as_of: '2025-07-01'\n"

/* Push one JSON record; expect one output, return its index. */
static size_t one(gf_harness *h, const char *json)
{
    size_t before = gf_harness_count(h), rej = gf_harness_rejects(h);
    assert_int_equal(gf_harness_push_json(h, json), 0);
    if (gf_harness_rejects(h) != rej)
        fprintf(stderr, "rejected: %s\n", gf_harness_reject(h, rej));
    assert_int_equal(gf_harness_count(h), before + 1);
    return before;
}

/* Push one JSON record; expect it rejected with a reason naming `field`. */
static void rejected(gf_harness *h, const char *json, const char *field)
{
    size_t before = gf_harness_count(h), rej = gf_harness_rejects(h);
    assert_int_equal(gf_harness_push_json(h, json), 0);
    assert_int_equal(gf_harness_count(h), before);
    assert_int_equal(gf_harness_rejects(h), rej + 1);
    const char *why = gf_harness_reject(h, rej);
    char want[64];
    snprintf(want, sizeof want, "%s: ", field);
    if (!strstr(why, want))
        fprintf(stderr, "dead letter '%s' does not name '%s'\n", why, field);
    assert_non_null(strstr(why, want));
}

static const char *text(gf_harness *h, size_t i, const char *key)
{
    static char buf[128];
    return th_text(h, i, key, buf, sizeof buf);
}

static bool has(gf_harness *h, size_t i, const char *key)
{
    gf_value v;
    return th_get(h, i, key, &v);
}

static void test_members(void **state)
{
    (void)state;
    gf_harness *h = th_new("classify_domain", AS_OF);
    size_t i = one(
        h, "{\"kind\":\"member\",\"id\":\"a\",\"platform\":\"美团\","
           "\"party\":true,\"rel\":\"mobile\",\"age\":35,\"org_id\":\"O1\"}");
    assert_string_equal(text(h, i, "form"), "food_delivery");
    assert_string_equal(text(h, i, "membership"), "mobile_party");
    assert_string_equal(text(h, i, "cohort"), "youth"); /* 35 <= 35 */
    assert_string_equal(text(h, i, "attached"), "1");

    /* form given: kept; 36 is adult; no org_id: not attached */
    i = one(h, "{\"kind\":\"member\",\"id\":\"b\",\"platform\":\"sf\","
               "\"form\":\"ride_hailing\",\"party\":false,\"age\":36}");
    assert_string_equal(text(h, i, "form"), "ride_hailing");
    assert_string_equal(text(h, i, "membership"), "non_party");
    assert_string_equal(text(h, i, "cohort"), "adult");
    assert_string_equal(text(h, i, "attached"), "0");

    /* office words: 党员 is a party member, rel absent reads local;
       an empty org_id is no org; no age, no cohort; unknown platform */
    i = one(h, "{\"kind\":\"member\",\"id\":\"c\",\"platform\":\"unknown\","
               "\"party\":\"党员\",\"org_id\":\"\"}");
    assert_string_equal(text(h, i, "membership"), "local_party");
    assert_false(has(h, i, "cohort"));
    assert_false(has(h, i, "form"));
    assert_string_equal(text(h, i, "attached"), "0");

    /* 流动 is the label of mobile; party absent reads as non-party */
    i = one(h,
            "{\"kind\":\"member\",\"id\":\"d\",\"party\":1,\"rel\":\"流动\"}");
    assert_string_equal(text(h, i, "membership"), "mobile_party");
    i = one(h, "{\"kind\":\"member\",\"id\":\"e\",\"age\":\"29\"}");
    assert_string_equal(text(h, i, "membership"), "non_party");
    assert_string_equal(text(h, i, "cohort"), "youth");

    rejected(h, "{\"kind\":\"member\",\"id\":\"x\",\"age\":\"old\"}", "age");
    rejected(h, "{\"kind\":\"member\",\"id\":\"x\",\"age\":-3}", "age");
    rejected(h, "{\"kind\":\"member\",\"id\":\"x\",\"party\":\"maybe\"}",
             "party");
    rejected(h,
             "{\"kind\":\"member\",\"id\":\"x\",\"party\":true,"
             "\"rel\":\"elsewhere\"}",
             "rel");
    /* the run goes on after a rejected record */
    i = one(h, "{\"kind\":\"member\",\"id\":\"f\",\"age\":60}");
    assert_string_equal(text(h, i, "cohort"), "adult");
    gf_harness_destroy(&h);

    h = th_new("classify_domain", "youth_max_age: 30");
    i = one(h, "{\"kind\":\"member\",\"id\":\"g\",\"age\":31}");
    assert_string_equal(text(h, i, "cohort"), "adult");
    i = one(h, "{\"kind\":\"member\",\"id\":\"g\",\"age\":30}");
    assert_string_equal(text(h, i, "cohort"), "youth");
    gf_harness_destroy(&h);
}

static void test_orgs(void **state)
{
    (void)state;
    static const struct {
        const char *type;
        const char *level;
    } cases[] = {
        {"industry_committee", "5"},
        {"mobile_committee", "5"},
        {"行业综合党委", "5"},
        {"enterprise", "4"},
        {"union", "4"},
        {"youth_center", "4"},
        {"women_org", "4"},
        {"branch", "3"},
        {"joint_branch", "3"},
        {"联合党支部", "3"},
    };
    gf_harness *h = th_new("classify_domain", NULL);
    char json[160];
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        snprintf(json, sizeof json,
                 "{\"kind\":\"org\",\"id\":\"O\","
                 "\"type\":\"%s\"}",
                 cases[c].type);
        size_t i = one(h, json);
        assert_string_equal(text(h, i, "level"), cases[c].level);
    }
    rejected(h, "{\"kind\":\"org\",\"id\":\"O\",\"type\":\"club\"}", "type");
    rejected(h, "{\"kind\":\"org\",\"id\":\"O\"}", "type");
    gf_harness_destroy(&h);
}

static void test_projects(void **state)
{
    (void)state;
    gf_harness *h = th_new("classify_domain", NULL);
    /* 10000 / 40 = 250 */
    size_t i =
        one(h, "{\"kind\":\"project\",\"id\":\"P\",\"category\":\"法律援助\","
               "\"budget\":10000,\"beneficiaries\":40}");
    assert_string_equal(text(h, i, "category"), "legal_aid");
    assert_string_equal(text(h, i, "per_capita"), "250.000000");
    /* 1000 / 3 = 333.333... */
    i = one(h, "{\"kind\":\"project\",\"id\":\"P\",\"category\":\"skills\","
               "\"budget\":\"1,000\",\"beneficiaries\":3}");
    assert_string_equal(text(h, i, "per_capita"), "333.333333");
    i = one(h, "{\"kind\":\"project\",\"id\":\"P\",\"category\":\"体检\","
               "\"budget\":5000,\"beneficiaries\":0}");
    assert_string_equal(text(h, i, "category"), "health");
    assert_false(has(h, i, "per_capita"));
    rejected(h, "{\"kind\":\"project\",\"id\":\"P\",\"category\":\"parties\"}",
             "category");
    rejected(h,
             "{\"kind\":\"project\",\"id\":\"P\",\"category\":\"health\","
             "\"budget\":\"lots\",\"beneficiaries\":3}",
             "budget");
    rejected(h,
             "{\"kind\":\"project\",\"id\":\"P\",\"category\":\"health\","
             "\"budget\":10,\"beneficiaries\":-3}",
             "beneficiaries");
    gf_harness_destroy(&h);
}

static void test_demands(void **state)
{
    (void)state;
    gf_harness *h = th_new("classify_domain", AS_OF);
    /* 06-01 08:00 -> 06-03 20:00 = 60 h > 48 (level 2) */
    size_t i = one(h, "{\"kind\":\"demand\",\"id\":\"D1\",\"level\":2,"
                      "\"raised\":\"2025-06-01 08:00\","
                      "\"resolved\":\"2025-06-03 20:00:00\"}");
    assert_string_equal(text(h, i, "resolution_hours"), "60.000000");
    assert_string_equal(text(h, i, "overdue"), "1");
    assert_string_equal(text(h, i, "next_level"), "3");
    /* open since 06-20 00:00, now 07-01 00:00 = 264 h > 168 (level 5) */
    i = one(h, "{\"kind\":\"demand\",\"id\":\"D2\",\"level\":5,"
               "\"raised\":\"2025-06-20\"}");
    assert_false(has(h, i, "resolution_hours"));
    assert_string_equal(text(h, i, "overdue"), "1");
    assert_false(has(h, i, "next_level"));
    /* open for 12 h < 24 (level 1) */
    i = one(h, "{\"kind\":\"demand\",\"id\":\"D3\",\"level\":\"1\","
               "\"raised\":\"2025/6/30 12:00\"}");
    assert_string_equal(text(h, i, "overdue"), "0");
    assert_string_equal(text(h, i, "next_level"), "2");
    /* 30 min; the level as its label 支部 = 3 */
    i = one(
        h,
        "{\"kind\":\"demand\",\"id\":\"D4\",\"level\":\"支部\","
        "\"raised\":\"2025-06-01 08:00\",\"resolved\":\"2025-06-01 08:30\"}");
    assert_string_equal(text(h, i, "resolution_hours"), "0.500000");
    assert_string_equal(text(h, i, "overdue"), "0");
    assert_string_equal(text(h, i, "next_level"), "4");

    rejected(h,
             "{\"kind\":\"demand\",\"id\":\"X\",\"level\":7,"
             "\"raised\":\"2025-06-01\"}",
             "level");
    rejected(h,
             "{\"kind\":\"demand\",\"id\":\"X\",\"level\":0,"
             "\"raised\":\"2025-06-01\"}",
             "level");
    rejected(h,
             "{\"kind\":\"demand\",\"id\":\"X\",\"level\":\"high\","
             "\"raised\":\"2025-06-01\"}",
             "level");
    rejected(h, "{\"kind\":\"demand\",\"id\":\"X\",\"raised\":\"2025-06-01\"}",
             "level");
    rejected(h,
             "{\"kind\":\"demand\",\"id\":\"X\",\"level\":2,"
             "\"raised\":\"2025-13-01\"}",
             "raised");
    rejected(h, "{\"kind\":\"demand\",\"id\":\"X\",\"level\":2}", "raised");
    rejected(h,
             "{\"kind\":\"demand\",\"id\":\"X\",\"level\":2,"
             "\"raised\":\"2025-06-02\",\"resolved\":\"yesterday\"}",
             "resolved");
    rejected(h,
             "{\"kind\":\"demand\",\"id\":\"X\",\"level\":2,"
             "\"raised\":\"2025-06-02\",\"resolved\":\"2025-06-01\"}",
             "resolved");
    rejected(h, "{\"id\":\"X\"}", "kind");
    gf_harness_destroy(&h);

    /* level 2 limit raised to 72 h: 60 h is in time */
    h = th_new("classify_domain", AS_OF "overdue_hours: {2: 72}");
    i = one(
        h,
        "{\"kind\":\"demand\",\"id\":\"D1\",\"level\":2,"
        "\"raised\":\"2025-06-01 08:00\",\"resolved\":\"2025-06-03 20:00\"}");
    assert_string_equal(text(h, i, "overdue"), "0");
    gf_harness_destroy(&h);

    /* without as_of, now is the run's start: long after 2000 */
    h = th_new("classify_domain", NULL);
    i = one(h, "{\"kind\":\"demand\",\"id\":\"D5\",\"level\":5,"
               "\"raised\":\"2000-01-01\"}");
    assert_string_equal(text(h, i, "overdue"), "1");
    gf_harness_destroy(&h);
}

/* Input fields come out first, byte for byte and in order; other kinds
   come out unchanged. */
static void test_byte_copy(void **state)
{
    (void)state;
    gf_harness *h = th_new("classify_domain", AS_OF);
    const gf_host *host = gf_harness_host(h);
    const char *in =
        "{\"kind\":\"member\",\"id\":\"a\",\"name\":\"张伟\","
        "\"roles\":[\"volunteer\",\"liaison\"],\"extra\":{\"x\":1},"
        "\"platform\":\"eleme\",\"age\":22}";
    gf_harness *ref = th_new("classify_domain", AS_OF);
    assert_int_equal(gf_harness_push_json(ref,
                                          "{\"kind\":\"metric\",\"set\":\"s\","
                                          "\"v\":1.5}"),
                     0);
    assert_int_equal(gf_harness_count(ref), 1);
    const gf_record *metric = gf_harness_output(ref, 0);
    assert_int_equal(gf_harness_push(h, metric->data, metric->len), 0);
    assert_int_equal(gf_harness_count(h), 1);
    assert_int_equal(gf_harness_output(h, 0)->len, metric->len);
    assert_memory_equal(gf_harness_output(h, 0)->data, metric->data,
                        metric->len);

    /* the input as a record: push it through a pass-through kind first */
    char *as_metric = strdup(in);
    memcpy(strstr(as_metric, "member"), "zzzzzz", 6);
    assert_int_equal(gf_harness_push_json(ref, as_metric), 0);
    const gf_record *orig = gf_harness_output(ref, 1);
    size_t i = one(h, in);
    const gf_record *outr = gf_harness_output(h, i);
    gf_iter a = {0}, b = {0};
    gf_str ka, kb;
    gf_value va, vb;
    size_t n = 0;
    while (host->next(orig, &a, &ka, &va)) {
        assert_true(host->next(outr, &b, &kb, &vb));
        assert_int_equal(ka.len, kb.len);
        assert_memory_equal(ka.ptr, kb.ptr, ka.len);
        if (n > 0) { /* kind differs on purpose */
            assert_int_equal(va.raw_len, vb.raw_len);
            assert_memory_equal(va.raw, vb.raw, va.raw_len);
        }
        n++;
    }
    assert_int_equal(n, 7);
    /* then the added fields */
    assert_true(host->next(outr, &b, &kb, &vb));
    assert_true(gf_str_eq(kb, "form"));
    free(as_metric);
    gf_harness_destroy(&ref);
    gf_harness_destroy(&h);
}

static void refused(const char *yaml, const char *needle)
{
    char *err = th_refused("classify_domain", yaml);
    if (!strstr(err, needle))
        fprintf(stderr, "error '%s' does not mention '%s'\n", err, needle);
    assert_non_null(strstr(err, needle));
    free(err);
}

static void test_bad_options(void **state)
{
    (void)state;
    refused("as_of: 'next tuesday'", "as_of");
    refused("overdue_hours: {6: 10}", "overdue_hours");
    refused("overdue_hours: {2: -1}", "overdue_hours");
    refused("overdue_hours: {2: soon}", "overdue_hours");
    refused("youth_max_age: -1", "youth_max_age");
}

/* A synthetic district's demands against sqlite3: overdue counts and the
   total resolution time per level. */
static void test_district_demands(void **state)
{
    (void)state;
    char *dir = th_tmpdir();
    char *json = th_path(dir, "d.json");
    gf_harness *g =
        th_new("ingest_synth", "members: 2000\nstations: 100\n"
                               "demands: 3000\nkinds: demand\nseed: 21");
    th_produce(g);
    gf_harness *h = th_new("classify_domain", AS_OF);
    th_chain(g, h);
    assert_int_equal(gf_harness_count(h), 3000);
    assert_int_equal(gf_harness_rejects(h), 0);
    th_write_json(g, json);

    /* the plugin's figures */
    double hours[6] = {0};
    size_t overdue[6] = {0}, open[6] = {0};
    char buf[64];
    for (size_t i = 0; i < gf_harness_count(h); i++) {
        int lv = atoi(th_text(h, i, "level", buf, sizeof buf));
        assert_in_range(lv, 1, 5);
        overdue[lv] +=
            strcmp(th_text(h, i, "overdue", buf, sizeof buf), "1") == 0;
        if (*th_text(h, i, "resolution_hours", buf, sizeof buf))
            hours[lv] += atof(buf);
        else
            open[lv]++;
    }
    char *got = NULL;
    size_t len = 0;
    for (int lv = 1; lv <= 5; lv++)
        th_cat(&got, &len, "%d|%zu|%zu|%.1f\n", lv, overdue[lv], open[lv],
               hours[lv]);

    char *want = th_sql(
        dir,
        "create table q as select json_extract(value,'$.level') lv,"
        " json_extract(value,'$.raised') raised, "
        "json_extract(value,'$.resolved') res"
        " from json_each(readfile('d.json'));\n"
        "create table lim(lv, h); insert into lim values "
        "(1,24),(2,48),(3,72),(4,120),(5,168);\n"
        "select q.lv,"
        " sum(case when res is not null then "
        "(julianday(res)-julianday(raised))*24 > h"
        "     else (julianday('2025-07-01')-julianday(raised))*24 > h end),"
        " sum(res is null),"
        " printf('%.1f', coalesce(sum((julianday(res)-julianday(raised))*24), "
        "0))"
        " from q join lim using(lv) group by q.lv order by q.lv;\n");
    th_same("overdue and hours by level", got, want);
    free(got);
    free(want);
    free(json);
    gf_harness_destroy(&g);
    gf_harness_destroy(&h);
    th_rmdir(dir);
}

/* Every field a kind reads, given every JSON type: each record comes out
   or goes to the dead letters, one or the other, and nothing breaks. */
static void test_any_types(void **state)
{
    (void)state;
    static const char *const values[] = {
        "null",  "true",      "false",          "0",     "-7",
        "2.5",   "1e300",     "\"\"",           "\"x\"", "\"3\"",
        "[1,2]", "{\"a\":1}", "\"2025-06-01\"",
    };
    static const struct {
        const char *kind;
        const char *fields[6];
    } kinds[] = {
        {"member", {"party", "rel", "age", "form", "platform", "org_id"}},
        {"org", {"type"}},
        {"project", {"category", "budget", "beneficiaries"}},
        {"demand", {"level", "raised", "resolved"}},
    };
    gf_harness *h = th_new("classify_domain", AS_OF);
    char json[256];
    size_t pushed = 0;
    for (size_t k = 0; k < 4; k++)
        for (size_t f = 0; f < 6 && kinds[k].fields[f]; f++)
            for (size_t v = 0; v < sizeof values / sizeof values[0]; v++) {
                snprintf(
                    json, sizeof json,
                    "{\"kind\":\"%s\",\"party\":true,"
                    "\"type\":\"branch\",\"level\":2,\"raised\":\"2025-06-01\","
                    "\"%s\":%s}",
                    kinds[k].kind, kinds[k].fields[f], values[v]);
                assert_int_equal(gf_harness_push_json(h, json), 0);
                pushed++;
                assert_int_equal(gf_harness_count(h) + gf_harness_rejects(h),
                                 pushed);
            }
    /* a number where text belongs is refused, not ignored */
    rejected(h, "{\"kind\":\"org\",\"type\":5}", "type");
    rejected(h, "{\"kind\":\"project\",\"category\":5}", "category");
    rejected(h, "{\"kind\":\"member\",\"party\":true,\"rel\":5}", "rel");
    gf_harness_destroy(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_members),
        cmocka_unit_test(test_orgs),
        cmocka_unit_test(test_projects),
        cmocka_unit_test(test_demands),
        cmocka_unit_test(test_byte_copy),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_district_demands),
        cmocka_unit_test(test_any_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
