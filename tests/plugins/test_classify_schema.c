/*
 * test_classify_schema - the schema checker through the plugin harness:
 * good records of every kind come out normalised (labels -> codes, text ->
 * numbers, bools, lists, canonical dates), bad ones go to the dead letters
 * with "field F: reason", one test per reason. ID numbers are built here
 * with this file's own GB 11643 computation (check_char below), besides
 * the published sample 11010519491231002X.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <gigflow/harness.h>

/* ---- helpers --------------------------------------------------------- */

/* GB 11643, written out independently of gf_domain.c. */
static char check_char(const char *d17)
{
    const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    int sum = 0;
    for (int i = 0; i < 17; i++)
        sum += (d17[i] - '0') * w[i];
    return "10X98765432"[sum % 11];
}

/* A valid ID from 17 digits, or one with a wrong check character. */
static void make_id(char out[19], const char *d17, bool valid)
{
    char c = check_char(d17);
    memcpy(out, d17, 17);
    out[17] = valid ? c : (c == '0' ? '1' : '0');
    out[18] = '\0';
}

static gf_harness *open_h(const char *opts)
{
    char *err = NULL;
    gf_harness *h = gf_harness_new("classify_schema", opts, NULL, &err);
    if (h == NULL)
        fail_msg("gf_harness_new: %s", err ? err : "?");
    free(err);
    return h;
}

static void push(gf_harness *h, const char *json)
{
    int rc = gf_harness_push_json(h, json);
    if (rc != 0)
        fail_msg("push returned %d for %s", rc, json);
}

static gf_value field(gf_harness *h, size_t i, const char *key)
{
    gf_value v;
    assert_true(i < gf_harness_count(h));
    gf_harness_host(h)->get(gf_harness_output(h, i), key, &v);
    return v;
}

static bool has_field(gf_harness *h, size_t i, const char *key)
{
    gf_value v;
    return gf_harness_host(h)->get(gf_harness_output(h, i), key, &v);
}

static void assert_str(gf_harness *h, size_t i, const char *key,
                       const char *want)
{
    gf_value v = field(h, i, key);
    if (v.type != GF_T_STR || v.v.s.len != strlen(want) ||
        memcmp(v.v.s.ptr, want, v.v.s.len) != 0)
        fail_msg("field %s: want \"%s\", got type %d \"%.*s\"", key, want,
                 (int)v.type, v.type == GF_T_STR ? (int)v.v.s.len : 0,
                 v.type == GF_T_STR ? v.v.s.ptr : "");
}

static void assert_int(gf_harness *h, size_t i, const char *key, int64_t want)
{
    gf_value v = field(h, i, key);
    assert_int_equal(v.type, GF_T_INT);
    assert_int_equal(v.v.i, want);
}

static void assert_bool(gf_harness *h, size_t i, const char *key, bool want)
{
    gf_value v = field(h, i, key);
    assert_int_equal(v.type, GF_T_BOOL);
    assert_int_equal(v.v.b, want);
}

/* The i-th dead letter mentions `what`. */
static void assert_reject(gf_harness *h, size_t i, const char *what)
{
    const char *line;
    assert_true(i < gf_harness_rejects(h));
    line = gf_harness_reject(h, i);
    if (strstr(line, what) == NULL)
        fail_msg("dead letter %zu lacks \"%s\": %s", i, what, line);
}

/* Push one bad record; it must be the only dead letter and not come out. */
static void bad(const char *opts, const char *json, const char *what)
{
    gf_harness *h = open_h(opts);
    push(h, json);
    assert_int_equal(gf_harness_count(h), 0);
    assert_int_equal(gf_harness_rejects(h), 1);
    assert_reject(h, 0, what);
    gf_harness_destroy(&h);
}

static size_t count_in(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

/* ---- good records ---------------------------------------------------- */

static void test_org_good(void **state)
{
    gf_harness *h = open_h(NULL);
    (void)state;
    push(h, "{\"kind\":\"org\",\"id\":\"O1\",\"name\":\"示例区行业综合党委\","
            "\"type\":\"行业综合党委\",\"district\":\"示例区\","
            "\"established\":\"2021/7/1\",\"note\":\"kept\"}");
    push(h, "{\"kind\":\"org\",\"id\":\"O2\",\"name\":\" 美团站点联合支部 \","
            "\"type\":\"联合支部\",\"parent_id\":\"O1\",\"platform\":\"美团\","
            "\"node\":\"站点\",\"station\":\"ST01\",\"established\":\"\"}");
    push(h, "{\"kind\":\"org\",\"id\":10,\"name\":\"快递工会\","
            "\"type\":\"union\",\"platform\":\"zto\",\"node\":\"网点\","
            "\"established\":\"2020-05-01 00:00:00\"}");
    assert_int_equal(gf_harness_rejects(h), 0);
    assert_int_equal(gf_harness_count(h), 3);
    assert_str(h, 0, "type", "industry_committee");
    assert_str(h, 0, "established", "2021-07-01");
    assert_str(h, 0, "note", "kept");
    assert_str(h, 1, "type", "joint_branch");
    assert_str(h, 1, "platform", "meituan");
    assert_str(h, 1, "node", "station");
    assert_str(h, 1, "name", "美团站点联合支部");
    assert_int_equal(field(h, 1, "established").type, GF_T_NIL);
    assert_str(h, 2, "id", "10");
    assert_str(h, 2, "type", "union");
    assert_str(h, 2, "node", "outlet");
    assert_str(h, 2, "established", "2020-05-01");
    gf_harness_destroy(&h);
}

static void test_member_good(void **state)
{
    char id[19], json[1024];
    gf_harness *h = open_h(NULL);
    gf_value roles, e;
    gf_iter it = {0};
    (void)state;

    make_id(id, "32010619900307456", true);
    snprintf(json, sizeof json,
             "{\"kind\":\"member\",\"id\":\"M1\",\"name\":\"测试甲\","
             "\"phone\":\"138 0000 0001\",\"id_number\":\"%s\","
             "\"platform\":\"饿了么\",\"district\":\"示例区\","
             "\"party\":\"是\",\"rel\":\"流动党员\",\"origin\":\"某县某镇党委\","
             "\"age\":\"35\",\"points\":\"1,200\",\"roles\":\"联络员;志愿者\","
             "\"active_days\":20,\"joined\":\"2015-07-01\"}",
             id);
    push(h, json);
    push(h, "{\"kind\":\"member\",\"id\":\"M2\",\"name\":\"测试乙\","
            "\"platform\":\"顺丰\",\"party\":\"否\",\"station\":\"\","
            "\"age\":41.0,\"roles\":[\"先锋岗\",\"volunteer\"]}");
    push(h, "{\"kind\":\"member\",\"id\":\"M3\",\"name\":\"测试丙\","
            "\"phone\":13800000003,\"id_number\":\"11010519491231002x\","
            "\"form\":\"网约车\",\"party\":true,\"rel\":\"本地\","
            "\"roles\":\"\"}");
    assert_int_equal(gf_harness_rejects(h), 0);
    assert_int_equal(gf_harness_count(h), 3);

    assert_str(h, 0, "phone", "13800000001");
    assert_str(h, 0, "id_number", id);
    assert_str(h, 0, "platform", "eleme");
    assert_str(h, 0, "form", "food_delivery"); /* derived */
    assert_bool(h, 0, "party", true);
    assert_str(h, 0, "rel", "mobile");
    assert_int(h, 0, "age", 35);
    assert_int(h, 0, "points", 1200);
    assert_int(h, 0, "active_days", 20);
    roles = field(h, 0, "roles");
    assert_int_equal(roles.type, GF_T_ARRAY);
    assert_int_equal(roles.n, 2);
    assert_true(gf_harness_host(h)->elem(&roles, &it, &e));
    assert_true(e.type == GF_T_STR && gf_str_eq(e.v.s, "liaison"));
    assert_true(gf_harness_host(h)->elem(&roles, &it, &e));
    assert_true(e.type == GF_T_STR && gf_str_eq(e.v.s, "volunteer"));
    assert_false(gf_harness_host(h)->elem(&roles, &it, &e));

    assert_str(h, 1, "platform", "sf");
    assert_str(h, 1, "form", "express");
    assert_bool(h, 1, "party", false);
    assert_int_equal(field(h, 1, "station").type, GF_T_NIL);
    assert_int(h, 1, "age", 41);
    memset(&it, 0, sizeof it);
    roles = field(h, 1, "roles");
    assert_int_equal(roles.n, 2);
    assert_true(gf_harness_host(h)->elem(&roles, &it, &e));
    assert_true(gf_str_eq(e.v.s, "pioneer_post"));

    assert_str(h, 2, "phone", "13800000003");
    assert_str(h, 2, "id_number", "11010519491231002X");
    assert_str(h, 2, "form", "ride_hailing");
    assert_false(has_field(h, 2, "platform"));
    assert_str(h, 2, "rel", "local");
    assert_int_equal(field(h, 2, "roles").type, GF_T_NIL);
    gf_harness_destroy(&h);
}

static void test_project_good(void **state)
{
    gf_harness *h = open_h(NULL);
    gf_value v;
    (void)state;
    push(h, "{\"kind\":\"project\",\"id\":\"P1\",\"name\":\"骑手法律服务\","
            "\"category\":\"法律援助\",\"org_id\":\"O1\",\"year\":\"2024\","
            "\"budget\":\"50,000.50\",\"beneficiaries\":\"120\","
            "\"status\":\"进行中\"}");
    push(h, "{\"kind\":\"project\",\"id\":\"P2\",\"name\":\"健康体检\","
            "\"category\":\"health\",\"org_id\":\"O2\",\"budget\":8000}");
    assert_int_equal(gf_harness_rejects(h), 0);
    assert_int_equal(gf_harness_count(h), 2);
    assert_str(h, 0, "category", "legal_aid");
    assert_int(h, 0, "year", 2024);
    v = field(h, 0, "budget");
    assert_int_equal(v.type, GF_T_FLOAT);
    assert_true(v.v.f == 50000.5);
    assert_int(h, 0, "beneficiaries", 120);
    assert_str(h, 0, "status", "active");
    v = field(h, 1, "budget");
    assert_int_equal(v.type, GF_T_FLOAT);
    assert_true(v.v.f == 8000.0);
    gf_harness_destroy(&h);
}

static void test_demand_good(void **state)
{
    gf_harness *h = open_h(NULL);
    (void)state;
    push(h, "{\"kind\":\"demand\",\"id\":\"D1\",\"member_id\":\"M1\","
            "\"category\":\"进小区难\",\"level\":\"支部\",\"org_id\":\"O2\","
            "\"raised\":\"2024-03-01 09:30\","
            "\"resolved\":\"2024/3/3 10:00:00\"}");
    push(h, "{\"kind\":\"demand\",\"id\":\"D2\",\"member_id\":\"M2\","
            "\"category\":\"social_insurance\",\"level\":\"4\","
            "\"raised\":\"2024-03-02\"}");
    push(h, "{\"kind\":\"demand\",\"id\":\"D3\",\"member_id\":\"M3\","
            "\"category\":\"薪酬\",\"level\":5,\"status\":\"处理中\","
            "\"raised\":\"2024-03-02 08:00:00\",\"resolved\":null}");
    assert_int_equal(gf_harness_rejects(h), 0);
    assert_int_equal(gf_harness_count(h), 3);
    assert_str(h, 0, "category", "access");
    assert_int(h, 0, "level", 3);
    assert_str(h, 0, "raised", "2024-03-01 09:30:00");
    assert_str(h, 0, "resolved", "2024-03-03 10:00:00");
    assert_str(h, 0, "status", "resolved"); /* derived */
    assert_int(h, 1, "level", 4);
    assert_str(h, 1, "status", "open"); /* derived */
    assert_str(h, 1, "raised", "2024-03-02");
    assert_str(h, 2, "category", "pay");
    assert_int(h, 2, "level", 5);
    assert_str(h, 2, "status", "in_progress");
    gf_harness_destroy(&h);
}

static void test_metric_and_kinds_pass(void **state)
{
    const char *metric = "{\"kind\":\"metric\",\"set\":\"by_level\","
                         "\"level\":\"abc\",\"n\":3}";
    gf_harness *h = open_h(NULL);
    char *json;
    (void)state;
    push(h, metric);
    assert_int_equal(gf_harness_count(h), 1);
    assert_int_equal(gf_harness_rejects(h), 0);
    assert_str(h, 0, "level", "abc");
    assert_int(h, 0, "n", 3);
    gf_harness_destroy(&h);

    /* kinds: [demand] - a bad member passes untouched, a bad demand not */
    h = open_h("kinds: [demand]");
    push(h, "{\"kind\":\"member\",\"id\":\"M1\",\"phone\":\"123\","
            "\"platform\":\"美团\"}");
    push(h, "{\"kind\":\"demand\",\"id\":\"D1\"}");
    assert_int_equal(gf_harness_count(h), 1);
    assert_int_equal(gf_harness_rejects(h), 1);
    assert_str(h, 0, "phone", "123");
    assert_str(h, 0, "platform", "美团");
    assert_false(has_field(h, 0, "form"));
    json = gf_harness_output_json(h, 0);
    assert_non_null(json);
    free(json);
    assert_reject(h, 0, "field member_id: missing");
    gf_harness_destroy(&h);
}

/* ---- every rejection reason ------------------------------------------ */

#define MEMBER "{\"kind\":\"member\",\"id\":\"M9\",\"name\":\"测试丁\","

static void test_reject_kind(void **state)
{
    (void)state;
    bad(NULL, "{\"id\":\"X\"}", "field kind: missing");
    bad(NULL, "{\"kind\":\"\",\"id\":\"X\"}", "field kind: missing");
    bad(NULL, "{\"kind\":\"worker\",\"id\":\"X\"}", "field kind: unknown kind");
    bad(NULL, "{\"kind\":7}", "field kind: expected text");
}

static void test_reject_missing(void **state)
{
    (void)state;
    bad(NULL, "{\"kind\":\"member\",\"id\":\"M9\",\"name\":\"  \"}",
        "field name: missing");
    bad(NULL, "{\"kind\":\"member\",\"id\":\"M9\"}", "field name: missing");
    bad(NULL, "{\"kind\":\"org\",\"id\":\"O9\",\"name\":\"某支部\"}",
        "field type: missing");
    bad(NULL, "{\"kind\":\"project\",\"id\":\"P9\",\"name\":\"x\","
              "\"category\":\"保险\"}",
        "field org_id: missing");
    bad(NULL, "{\"kind\":\"demand\",\"id\":\"D9\",\"member_id\":\"M1\","
              "\"category\":\"pay\",\"level\":2}",
        "field raised: missing");
}

static void test_reject_enum(void **state)
{
    (void)state;
    bad(NULL, MEMBER "\"platform\":\"优步\"}",
        "field platform: unknown platform");
    bad(NULL, MEMBER "\"form\":\"快递外卖\"}", "field form: unknown form");
    bad(NULL, MEMBER "\"roles\":\"联络员;队长\"}", "field roles: unknown role");
    bad(NULL, MEMBER "\"roles\":[\"liaison\",3]}",
        "field roles: expected a list of text");
    bad(NULL, "{\"kind\":\"org\",\"id\":\"O9\",\"name\":\"x\",\"type\":\"党委\"}",
        "field type: unknown org type");
    bad(NULL, "{\"kind\":\"org\",\"id\":\"O9\",\"name\":\"x\",\"type\":\"branch\","
              "\"node\":\"总公司\"}",
        "field node: unknown node");
    bad(NULL, "{\"kind\":\"project\",\"id\":\"P9\",\"name\":\"x\","
              "\"category\":\"旅游\",\"org_id\":\"O1\"}",
        "field category: unknown project category");
    bad(NULL, "{\"kind\":\"demand\",\"id\":\"D9\",\"member_id\":\"M1\","
              "\"category\":\"pay\",\"level\":\"市委\","
              "\"raised\":\"2024-01-01\"}",
        "field level:");
}

static void test_reject_date(void **state)
{
    (void)state;
    bad(NULL, "{\"kind\":\"org\",\"id\":\"O9\",\"name\":\"x\",\"type\":\"branch\","
              "\"established\":\"2023-02-29\"}",
        "field established:");
    bad(NULL, "{\"kind\":\"org\",\"id\":\"O9\",\"name\":\"x\",\"type\":\"branch\","
              "\"established\":\"2023-02-29\"}",
        "no such day in the calendar");
    bad(NULL, MEMBER "\"joined\":\"01/07/2015\"}",
        "not a date (YYYY-MM-DD expected)");
    bad(NULL, MEMBER "\"joined\":\"2015-07-01 08:30\"}",
        "a date without a time of day expected");
    bad(NULL, "{\"kind\":\"demand\",\"id\":\"D9\",\"member_id\":\"M1\","
              "\"category\":\"pay\",\"level\":2,\"raised\":\"2024-01-01 25:00\"}",
        "field raised:");
    bad(NULL, "{\"kind\":\"demand\",\"id\":\"D9\",\"member_id\":\"M1\","
              "\"category\":\"pay\",\"level\":2,\"raised\":20240101}",
        "field raised: expected a date, got a number");
}

static void test_reject_phone(void **state)
{
    gf_harness *h;
    (void)state;
    bad(NULL, MEMBER "\"phone\":\"1380000001\"}",
        "field phone: has fewer than 11 digits");
    bad(NULL, MEMBER "\"phone\":\"138000000012\"}",
        "field phone: has more than 11 digits");
    bad(NULL, MEMBER "\"phone\":\"23800000001\"}",
        "field phone: does not start with 1");
    bad(NULL, MEMBER "\"phone\":\"1380000000O\"}",
        "field phone: holds characters other than digits");
    /* the number itself stays out of the reason */
    h = open_h(NULL);
    push(h, MEMBER "\"phone\":\"1397654321\"}");
    assert_int_equal(gf_harness_rejects(h), 1);
    assert_true(count_in(gf_harness_reject(h, 0), "1397654321") <= 1);
    gf_harness_destroy(&h);
}

static void test_reject_id_number(void **state)
{
    char id[19], json[512];
    (void)state;
    make_id(id, "32010619900307456", false);
    snprintf(json, sizeof json, MEMBER "\"id_number\":\"%s\"}", id);
    bad(NULL, json, "field id_number: wrong check digit");
    bad(NULL, MEMBER "\"id_number\":\"110105194912310021\"}",
        "field id_number: wrong check digit");
    bad(NULL, MEMBER "\"id_number\":\"11010519491231002\"}",
        "field id_number: not 18 characters");
    make_id(id, "11010519491331002", true); /* month 13, right check */
    snprintf(json, sizeof json, MEMBER "\"id_number\":\"%s\"}", id);
    bad(NULL, json, "field id_number: the birth date");
    bad(NULL, MEMBER "\"id_number\":\"11010519491231002Y\"}",
        "field id_number: the last character");

    /* and the right one passes */
    make_id(id, "51010819851111000", true);
    snprintf(json, sizeof json, MEMBER "\"id_number\":\"%s\"}", id);
    gf_harness *h = open_h(NULL);
    push(h, json);
    assert_int_equal(gf_harness_rejects(h), 0);
    assert_str(h, 0, "id_number", id);
    gf_harness_destroy(&h);
}

static void test_reject_types(void **state)
{
    (void)state;
    bad(NULL, MEMBER "\"age\":\"abc\"}", "is not an integer");
    bad(NULL, MEMBER "\"age\":\"200\"}", "field age: 200 is outside 16..75");
    bad(NULL, MEMBER "\"active_days\":31}", "field active_days: 31 is outside 0..30");
    bad(NULL, MEMBER "\"party\":\"maybe\"}", "field party:");
    bad(NULL, MEMBER "\"party\":\"maybe\"}", "is not yes/no");
    bad(NULL, MEMBER "\"station\":{\"a\":1}}", "field station: expected text, got a map");
    bad(NULL, "{\"kind\":\"project\",\"id\":\"P9\",\"name\":\"x\","
              "\"category\":\"other\",\"org_id\":\"O1\",\"budget\":\"五万\"}",
        "field budget:");
    bad(NULL, "{\"kind\":\"project\",\"id\":\"P9\",\"name\":\"x\","
              "\"category\":\"other\",\"org_id\":\"O1\",\"budget\":-5}",
        "field budget: -5 is outside 0..");
    bad(NULL, "{\"kind\":\"demand\",\"id\":\"D9\",\"member_id\":\"M1\","
              "\"category\":\"pay\",\"level\":6,\"raised\":\"2024-01-01\"}",
        "field level: 6 is outside 1..5");
}

static void test_reject_cross_field(void **state)
{
    (void)state;
    bad(NULL, MEMBER "\"party\":false,\"rel\":\"local\"}",
        "field rel: only for party members");
    bad(NULL, MEMBER "\"rel\":\"local\"}", "field rel: only for party members");
    bad(NULL, MEMBER "\"party\":\"是\",\"rel\":\"流动\"}",
        "field origin: missing");
    bad(NULL, MEMBER "\"party\":\"是\",\"rel\":\"local\",\"origin\":\"x\"}",
        "field origin: only for mobile party members");
    bad(NULL, "{\"kind\":\"demand\",\"id\":\"D9\",\"member_id\":\"M1\","
              "\"category\":\"pay\",\"level\":2,\"raised\":\"2024-03-05 10:00\","
              "\"resolved\":\"2024-03-05 09:59:59\"}",
        "field resolved: before raised");
    bad(NULL, "{\"kind\":\"demand\",\"id\":\"D9\",\"member_id\":\"M1\","
              "\"category\":\"pay\",\"level\":2,\"raised\":\"2024-03-05\","
              "\"resolved\":\"2024-03-06\",\"status\":\"待处理\"}",
        "field status:");
    bad(NULL, "{\"kind\":\"org\",\"id\":\"O9\",\"name\":\"x\",\"type\":\"branch\","
              "\"parent_id\":\"O9\"}",
        "field parent_id: the organisation is its own parent");
}

static void test_reject_all_problems(void **state)
{
    gf_harness *h = open_h(NULL);
    const char *line;
    (void)state;
    push(h, "{\"kind\":\"member\",\"id\":\"M9\",\"phone\":\"123\","
            "\"age\":\"x\",\"platform\":\"优步\"}");
    assert_int_equal(gf_harness_rejects(h), 1);
    line = gf_harness_reject(h, 0);
    assert_non_null(strstr(line, "field name: missing; "));
    assert_non_null(strstr(line, "field phone: has fewer than 11 digits; "));
    assert_non_null(strstr(line, "field platform: unknown platform"));
    assert_non_null(strstr(line, "field age: "));
    /* the run goes on */
    push(h, MEMBER "\"party\":1}");
    assert_int_equal(gf_harness_count(h), 1);
    assert_bool(h, 0, "party", true);
    assert_int_equal(gf_harness_flush(h), 0);
    gf_harness_destroy(&h);
}

/* ---- options ----------------------------------------------------------- */

static void test_not_strict(void **state)
{
    gf_harness *h = open_h("strict: false");
    (void)state;
    push(h, MEMBER "\"phone\":\"1380000001\",\"platform\":\"美团\","
                   "\"rel\":\"local\",\"age\":\"30\"}");
    push(h, "{\"kind\":\"member\",\"id\":\"M8\",\"phone\":\"13800000008\"}");
    push(h, "{\"kind\":\"demand\",\"id\":\"D9\",\"member_id\":\"M1\","
            "\"category\":\"pay\",\"level\":2,\"raised\":\"2024-03-05\","
            "\"resolved\":\"2024-03-01\"}");
    assert_int_equal(gf_harness_count(h), 2);
    assert_int_equal(gf_harness_rejects(h), 1);
    assert_reject(h, 0, "field name: missing");
    assert_false(has_field(h, 0, "phone"));
    assert_false(has_field(h, 0, "rel"));
    assert_str(h, 0, "platform", "meituan");
    assert_int(h, 0, "age", 30);
    assert_false(has_field(h, 1, "resolved"));
    assert_str(h, 1, "status", "open");
    assert_int_equal(gf_harness_flush(h), 0);
    gf_harness_destroy(&h);
}

static void test_bad_options(void **state)
{
    char *err = NULL;
    gf_harness *h = gf_harness_new("classify_schema", "kinds: [member, worker]",
                                   NULL, &err);
    (void)state;
    assert_null(h);
    assert_non_null(err);
    assert_non_null(strstr(err, "unknown kind \"worker\""));
    free(err);
    err = NULL;
    h = gf_harness_new("classify_schema", "strict: maybe", NULL, &err);
    assert_null(h);
    assert_non_null(err);
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_org_good),
        cmocka_unit_test(test_member_good),
        cmocka_unit_test(test_project_good),
        cmocka_unit_test(test_demand_good),
        cmocka_unit_test(test_metric_and_kinds_pass),
        cmocka_unit_test(test_reject_kind),
        cmocka_unit_test(test_reject_missing),
        cmocka_unit_test(test_reject_enum),
        cmocka_unit_test(test_reject_date),
        cmocka_unit_test(test_reject_phone),
        cmocka_unit_test(test_reject_id_number),
        cmocka_unit_test(test_reject_types),
        cmocka_unit_test(test_reject_cross_field),
        cmocka_unit_test(test_reject_all_problems),
        cmocka_unit_test(test_not_strict),
        cmocka_unit_test(test_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
