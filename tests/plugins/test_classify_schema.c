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
    /* end of stream: "note" is reported, nothing emitted; idempotent */
    assert_int_equal(gf_harness_flush(h), 0);
    assert_int_equal(gf_harness_flush(h), 0);
    assert_int_equal(gf_harness_count(h), 3);
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
    snprintf(
        json, sizeof json,
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
    bad(NULL,
        "{\"kind\":\"project\",\"id\":\"P9\",\"name\":\"x\","
        "\"category\":\"保险\"}",
        "field org_id: missing");
    bad(NULL,
        "{\"kind\":\"demand\",\"id\":\"D9\",\"member_id\":\"M1\","
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
    bad(NULL,
        "{\"kind\":\"org\",\"id\":\"O9\",\"name\":\"x\",\"type\":\"党委\"}",
        "field type: unknown org type");
    bad(NULL,
        "{\"kind\":\"org\",\"id\":\"O9\",\"name\":\"x\",\"type\":\"branch\","
        "\"node\":\"总公司\"}",
        "field node: unknown node");
    bad(NULL,
        "{\"kind\":\"project\",\"id\":\"P9\",\"name\":\"x\","
        "\"category\":\"旅游\",\"org_id\":\"O1\"}",
        "field category: unknown project category");
    bad(NULL,
        "{\"kind\":\"demand\",\"id\":\"D9\",\"member_id\":\"M1\","
        "\"category\":\"pay\",\"level\":\"市委\","
        "\"raised\":\"2024-01-01\"}",
        "field level:");
}

static void test_reject_date(void **state)
{
    (void)state;
    bad(NULL,
        "{\"kind\":\"org\",\"id\":\"O9\",\"name\":\"x\",\"type\":\"branch\","
        "\"established\":\"2023-02-29\"}",
        "field established:");
    bad(NULL,
        "{\"kind\":\"org\",\"id\":\"O9\",\"name\":\"x\",\"type\":\"branch\","
        "\"established\":\"2023-02-29\"}",
        "no such day in the calendar");
    bad(NULL, MEMBER "\"joined\":\"01/07/2015\"}",
        "not a date (YYYY-MM-DD expected)");
    bad(NULL, MEMBER "\"joined\":\"2015-07-01 08:30\"}",
        "a date without a time of day expected");
    bad(NULL,
        "{\"kind\":\"demand\",\"id\":\"D9\",\"member_id\":\"M1\","
        "\"category\":\"pay\",\"level\":2,\"raised\":\"2024-01-01 25:00\"}",
        "field raised:");
    bad(NULL,
        "{\"kind\":\"demand\",\"id\":\"D9\",\"member_id\":\"M1\","
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
    bad(NULL, MEMBER "\"active_days\":31}",
        "field active_days: 31 is outside 0..30");
    bad(NULL, MEMBER "\"party\":\"maybe\"}", "field party:");
    bad(NULL, MEMBER "\"party\":\"maybe\"}", "is not yes/no");
    bad(NULL, MEMBER "\"station\":{\"a\":1}}",
        "field station: expected text, got a map");
    bad(NULL,
        "{\"kind\":\"project\",\"id\":\"P9\",\"name\":\"x\","
        "\"category\":\"other\",\"org_id\":\"O1\",\"budget\":\"五万\"}",
        "field budget:");
    bad(NULL,
        "{\"kind\":\"project\",\"id\":\"P9\",\"name\":\"x\","
        "\"category\":\"other\",\"org_id\":\"O1\",\"budget\":-5}",
        "field budget: -5 is outside 0..");
    bad(NULL,
        "{\"kind\":\"demand\",\"id\":\"D9\",\"member_id\":\"M1\","
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
    bad(NULL,
        "{\"kind\":\"demand\",\"id\":\"D9\",\"member_id\":\"M1\","
        "\"category\":\"pay\",\"level\":2,\"raised\":\"2024-03-05 10:00\","
        "\"resolved\":\"2024-03-05 09:59:59\"}",
        "field resolved: before raised");
    bad(NULL,
        "{\"kind\":\"demand\",\"id\":\"D9\",\"member_id\":\"M1\","
        "\"category\":\"pay\",\"level\":2,\"raised\":\"2024-03-05\","
        "\"resolved\":\"2024-03-06\",\"status\":\"待处理\"}",
        "field status:");
    bad(NULL,
        "{\"kind\":\"org\",\"id\":\"O9\",\"name\":\"x\",\"type\":\"branch\","
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

/* ---- the bundled sample data ------------------------------------------
 * pipelines/data/ read the way an ingest stage would (a minimal CSV reader
 * and iconv here, independent of gigflow's ingest plugins), every row
 * pushed through classify_schema. The expected figures are the ones
 * tests/data/make_sample.py wrote into pipelines/data/README.md. */

#ifndef GF_SOURCE_DIR
#define GF_SOURCE_DIR "."
#endif
#include <iconv.h>

static char *slurp(const char *name, size_t *len)
{
    char path[512];
    FILE *f;
    char *buf;
    long n;
    snprintf(path, sizeof path, "%s/pipelines/data/%s", GF_SOURCE_DIR, name);
    f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static char *gb18030_to_utf8(const char *in, size_t len)
{
    iconv_t cd = iconv_open("UTF-8", "GB18030");
    size_t cap = len * 2 + 1, left = cap - 1;
    char *out = malloc(cap), *o = out, *i = (char *)(uintptr_t)in;
    assert_true(cd != (iconv_t)-1);
    assert_int_not_equal(iconv(cd, &i, &len, &o, &left), (size_t)-1);
    *o = '\0';
    iconv_close(cd);
    return out;
}

static bool utf8_valid(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t k = c < 0x80             ? 0
                   : (c & 0xE0) == 0xC0 ? 1
                   : (c & 0xF0) == 0xE0 ? 2
                   : (c & 0xF8) == 0xF0 ? 3
                                        : 9;
        if (k == 9 || i + k >= n)
            return false;
        for (size_t j = 1; j <= k; j++)
            if ((s[i + j] & 0xC0) != 0x80)
                return false;
        i += k + 1;
    }
    return true;
}

static void json_str(char **p, const char *s, size_t n)
{
    *(*p)++ = '"';
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"' || s[i] == '\\')
            *(*p)++ = '\\';
        *(*p)++ = s[i];
    }
    *(*p)++ = '"';
}

/*
 * Push every data line of CSV text (header first, CRLF or LF, fields
 * maybe quoted, no newline inside quotes) as a record of `kind`, the
 * header names mapped to fields through `map` (pairs header, field; NULL
 * map: headers are the field names). Lines with the wrong number of
 * fields or invalid UTF-8 are skipped, as ingest would reject them.
 * Returns the number of lines skipped.
 */
static size_t push_csv(gf_harness *h, const char *kind, char *text,
                       const char *const *map)
{
    char *fields[32];
    size_t flen[32], nhead = 0, skipped = 0;
    char head[32][64];
    char *line = text;
    bool first = true;

    if (memcmp(line, "\xef\xbb\xbf", 3) == 0)
        line += 3;
    while (*line) {
        char *end = strchr(line, '\n'), *next;
        size_t n = 0, len;
        char json[4096], *j = json;
        if (end == NULL)
            end = line + strlen(line);
        next = *end ? end + 1 : end;
        len = (size_t)(end - line);
        if (len > 0 && line[len - 1] == '\r')
            len--;
        if (!utf8_valid((const unsigned char *)line, len)) {
            skipped++;
            line = next;
            continue;
        }
        /* split, unquoting in place */
        for (size_t i = 0; i <= len && n < 32;) {
            char *f = line + i, *w = f;
            if (i < len && line[i] == '"') {
                i++;
                while (i < len) {
                    if (line[i] == '"' && i + 1 < len && line[i + 1] == '"') {
                        *w++ = '"';
                        i += 2;
                    } else if (line[i] == '"') {
                        i++;
                        break;
                    } else {
                        *w++ = line[i++];
                    }
                }
            } else {
                while (i < len && line[i] != ',')
                    *w++ = line[i++];
            }
            fields[n] = f;
            flen[n++] = (size_t)(w - f);
            i++; /* the comma */
        }
        if (first) {
            for (size_t k = 0; k < n; k++) {
                const char *name = NULL;
                for (size_t m = 0; map && map[m]; m += 2)
                    if (strlen(map[m]) == flen[k] &&
                        memcmp(map[m], fields[k], flen[k]) == 0)
                        name = map[m + 1];
                if (name)
                    snprintf(head[k], sizeof head[k], "%s", name);
                else
                    snprintf(head[k], sizeof head[k], "%.*s", (int)flen[k],
                             fields[k]);
            }
            nhead = n;
            first = false;
            line = next;
            continue;
        }
        if (n != nhead) {
            skipped++;
            line = next;
            continue;
        }
        j += sprintf(j, "{\"kind\":\"%s\"", kind);
        for (size_t k = 0; k < n; k++) {
            *j++ = ',';
            json_str(&j, head[k], strlen(head[k]));
            *j++ = ':';
            json_str(&j, fields[k], flen[k]);
        }
        *j++ = '}';
        *j = '\0';
        push(h, json);
        line = next;
    }
    return skipped;
}

static size_t count_where(gf_harness *h, const char *key, const char *str,
                          int is_true)
{
    size_t n = 0;
    for (size_t i = 0; i < gf_harness_count(h); i++) {
        gf_value v = field(h, i, key);
        if (str && v.type == GF_T_STR && gf_str_eq(v.v.s, str))
            n++;
        else if (is_true == 1 && v.type == GF_T_BOOL && v.v.b)
            n++;
        else if (is_true == 2 && v.type != GF_T_NIL)
            n++;
        else if (is_true == 3 && v.type == GF_T_NIL)
            n++;
    }
    return n;
}

static void test_sample_orgs(void **state)
{
    static const char *const map[] = {
        "组织编号", "id",           "组织名称",    "name",     "组织类型",
        "type",     "上级组织编号", "parent_id",   "所属平台", "platform",
        "所属区",   "district",     "节点类型",    "node",     "站点",
        "station",  "成立日期",     "established", NULL};
    size_t len;
    char *raw = slurp("orgs.csv", &len), *text = gb18030_to_utf8(raw, len);
    gf_harness *h = open_h(NULL);
    (void)state;
    assert_int_equal(push_csv(h, "org", text, map), 1); /* line 35 */
    assert_int_equal(gf_harness_count(h), 39);
    assert_int_equal(gf_harness_rejects(h), 2);
    assert_reject(h, 0, "field type: unknown org type");
    assert_reject(h, 1, "field established:");
    assert_str(h, 0, "type", "industry_committee");
    assert_str(h, 1, "type", "mobile_committee");
    assert_int_equal(count_where(h, "type", "branch", 0), 16);
    assert_int_equal(count_where(h, "type", "joint_branch", 0), 4);
    free(raw);
    free(text);
    gf_harness_destroy(&h);
}

static void test_sample_members(void **state)
{
    static const char *const map[] = {"人员编号",
                                      "id",
                                      "姓名",
                                      "name",
                                      "手机号",
                                      "phone",
                                      "身份证号",
                                      "id_number",
                                      "平台",
                                      "platform",
                                      "从业类型",
                                      "form",
                                      "所属区",
                                      "district",
                                      "站点",
                                      "station",
                                      "所属组织编号",
                                      "org_id",
                                      "政治面貌",
                                      "party",
                                      "组织关系",
                                      "rel",
                                      "流出地党组织",
                                      "origin",
                                      "年龄",
                                      "age",
                                      "入党日期",
                                      "joined",
                                      "组织生活积分",
                                      "points",
                                      "角色",
                                      "roles",
                                      "近30天活跃天数",
                                      "active_days",
                                      NULL};
    size_t len;
    char *text = slurp("members.csv", &len);
    gf_harness *h = open_h(NULL);
    (void)state;
    assert_int_equal(push_csv(h, "member", text, map), 1); /* line 149 */
    assert_int_equal(gf_harness_rejects(h), 4);
    assert_reject(h, 0, "field phone: has fewer than 11 digits");
    assert_reject(h, 1, "field id_number: wrong check digit");
    assert_reject(h, 2, "field platform: unknown platform");
    assert_reject(h, 3, "field rel: only for party members");
    /* the generator's facts (pipelines/data/README.md) */
    assert_int_equal(gf_harness_count(h), 195);
    assert_int_equal(count_where(h, "party", NULL, 1), 22);
    assert_int_equal(count_where(h, "rel", "mobile", 0), 9);
    assert_int_equal(count_where(h, "origin", NULL, 2), 9);
    assert_int_equal(count_where(h, "org_id", NULL, 2), 143);
    assert_int_equal(count_where(h, "form", NULL, 3), 0);
    for (size_t i = 0; i < gf_harness_count(h); i++) {
        assert_int_equal(field(h, i, "age").type, GF_T_INT);
        assert_int_equal(field(h, i, "phone").v.s.len, 11);
    }
    free(text);
    gf_harness_destroy(&h);
}

static void test_sample_projects(void **state)
{
    size_t len;
    char *text = slurp("projects.csv", &len);
    gf_harness *h = open_h(NULL);
    (void)state;
    assert_int_equal(push_csv(h, "project", text, NULL), 0);
    assert_int_equal(gf_harness_count(h), 30);
    assert_int_equal(gf_harness_rejects(h), 1);
    assert_reject(h, 0, "field budget:");
    assert_str(h, 11, "name", "Rider legal aid, spring");
    for (size_t i = 0; i < 30; i++)
        assert_int_equal(field(h, i, "budget").type, GF_T_FLOAT);
    free(text);
    gf_harness_destroy(&h);
}

static void test_sample_demands(void **state)
{
    size_t len, lines = 0, notjson = 0;
    char *text = slurp("demands.jsonl", &len);
    gf_harness *h = open_h(NULL);
    size_t per_level[6] = {0};
    (void)state;
    for (char *line = text, *nl; *line; line = nl + 1) {
        int rc;
        nl = strchr(line, '\n');
        assert_non_null(nl);
        *nl = '\0';
        lines++;
        rc = gf_harness_push_json(h, line);
        if (rc == -2)
            notjson++;
        else
            assert_int_equal(rc, 0);
    }
    assert_int_equal(lines, 122);
    assert_int_equal(notjson, 1); /* line 91 */
    assert_int_equal(gf_harness_rejects(h), 1);
    assert_reject(h, 0, "field resolved: before raised");
    assert_int_equal(gf_harness_count(h), 120);
    for (size_t i = 0; i < 120; i++) {
        gf_value v = field(h, i, "level");
        assert_int_equal(v.type, GF_T_INT);
        assert_in_range(v.v.i, 1, 5);
        per_level[v.v.i]++;
    }
    assert_int_equal(per_level[1], 36);
    assert_int_equal(per_level[2], 30);
    assert_int_equal(per_level[3], 27);
    assert_int_equal(per_level[4], 16);
    assert_int_equal(per_level[5], 11);
    assert_int_equal(count_where(h, "resolved", NULL, 3), 33);
    assert_int_equal(count_where(h, "status", "resolved", 0), 87);
    free(text);
    gf_harness_destroy(&h);
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
        cmocka_unit_test(test_sample_orgs),
        cmocka_unit_test(test_sample_members),
        cmocka_unit_test(test_sample_projects),
        cmocka_unit_test(test_sample_demands),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
