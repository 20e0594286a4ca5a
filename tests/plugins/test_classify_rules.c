/*
 * test_classify_rules - the classify_rules plugin through the harness:
 * every condition type and action, the order in which rules apply, byte
 * copies, and a bad rules file of each kind with its exact line:col.
 * Set GF_BENCH=1 to also time a million records.
 */
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

typedef struct fixture {
    char dir[64];
    char path[128];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    strcpy(f->dir, "/tmp/gf_rules_XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/rules.yaml", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

/* A harness on `rules` (written to the fixture's file); fails the test on
   error. */
static gf_harness *open_rules(fixture *f, const char *rules)
{
    char opts[256], *err = NULL;
    write_file(f->path, rules);
    snprintf(opts, sizeof opts, "rules: %s", f->path);
    gf_harness *h = gf_harness_new("classify_rules", opts, NULL, &err);
    if (!h)
        fail_msg("harness: %s", err ? err : "(no message)");
    free(err);
    return h;
}

/* Output record i's field `key`; GF_T_NIL with ok=false when absent. */
static gf_value out_field(gf_harness *h, size_t i, const char *key, bool *ok)
{
    gf_value v;
    assert_true(i < gf_harness_count(h));
    *ok = gf_harness_host(h)->get(gf_harness_output(h, i), key, &v);
    return v;
}

static void assert_str_field(gf_harness *h, size_t i, const char *key,
                             const char *want)
{
    bool ok;
    gf_value v = out_field(h, i, key, &ok);
    assert_true(ok);
    assert_int_equal(v.type, GF_T_STR);
    assert_int_equal(v.v.s.len, strlen(want));
    assert_memory_equal(v.v.s.ptr, want, strlen(want));
}

static void assert_absent(gf_harness *h, size_t i, const char *key)
{
    bool ok;
    out_field(h, i, key, &ok);
    assert_false(ok);
}

static const char *const example_rules =
    "rules:\n"
    "  - name: sector\n"
    "    when:\n"
    "      platform: [美团, 饿了么]\n"
    "      age: {min: 18, max: 35}\n"
    "      station: {regex: \"^STN-0[0-9]+$\"}\n"
    "      org_id: {exists: true}\n"
    "      party: true\n"
    "    set: {sector: food_delivery, youth: true, weight: 2, ratio: 0.5,\n"
    "          code: \"42\", none: ~}\n"
    "  - when: {age: {max: 15}}\n"
    "    reject: \"age below 16\"\n"
    "  - when: {status: test}\n"
    "    drop: true\n";

/* Push `json`; return how many records came out for it. */
static size_t push(gf_harness *h, const char *json)
{
    size_t before = gf_harness_count(h);
    assert_int_equal(gf_harness_push_json(h, json), 0);
    return gf_harness_count(h) - before;
}

static void test_all_conditions_match(void **state)
{
    gf_harness *h = open_rules(*state, example_rules);
    assert_int_equal(push(h, "{\"kind\":\"member\",\"platform\":\"美团\","
                             "\"age\":20,\"station\":\"STN-012\","
                             "\"org_id\":\"O1\",\"party\":true}"),
                     1);
    bool ok;
    assert_str_field(h, 0, "sector", "food_delivery");
    gf_value v = out_field(h, 0, "youth", &ok);
    assert_int_equal(v.type, GF_T_BOOL);
    assert_true(v.v.b);
    v = out_field(h, 0, "weight", &ok);
    assert_int_equal(v.type, GF_T_INT);
    assert_int_equal(v.v.i, 2);
    v = out_field(h, 0, "ratio", &ok);
    assert_int_equal(v.type, GF_T_FLOAT);
    assert_true(v.v.f == 0.5);
    assert_str_field(h, 0, "code", "42"); /* quoted: a string */
    v = out_field(h, 0, "none", &ok);
    assert_true(ok);
    assert_int_equal(v.type, GF_T_NIL);
    assert_str_field(h, 0, "platform", "美团"); /* the copy keeps fields */
    /* boundaries are inclusive; a float age is a number too */
    push(h, "{\"platform\":\"饿了么\",\"age\":18,\"station\":\"STN-01\","
            "\"org_id\":1,\"party\":true}");
    push(h, "{\"platform\":\"饿了么\",\"age\":35.0,\"station\":\"STN-09\","
            "\"org_id\":1,\"party\":true}");
    assert_str_field(h, 1, "sector", "food_delivery");
    assert_str_field(h, 2, "sector", "food_delivery");
    gf_harness_destroy(&h);
    assert_null(h);
}

static void test_each_condition_fails(void **state)
{
    static const char *const misses[] = {
        /* platform not in the list */
        "{\"platform\":\"顺丰\",\"age\":20,\"station\":\"STN-012\","
        "\"org_id\":1,\"party\":true}",
        /* age above max, and a string that looks like a number */
        "{\"platform\":\"美团\",\"age\":36,\"station\":\"STN-012\","
        "\"org_id\":1,\"party\":true}",
        "{\"platform\":\"美团\",\"age\":\"20\",\"station\":\"STN-012\","
        "\"org_id\":1,\"party\":true}",
        "{\"platform\":\"美团\",\"age\":17.5,\"station\":\"STN-012\","
        "\"org_id\":1,\"party\":true}",
        /* regex */
        "{\"platform\":\"美团\",\"age\":20,\"station\":\"STN-A12\","
        "\"org_id\":1,\"party\":true}",
        "{\"platform\":\"美团\",\"age\":20,\"station\":\"STN-012x\","
        "\"org_id\":1,\"party\":true}",
        "{\"platform\":\"美团\",\"age\":20,\"station\":12,"
        "\"org_id\":1,\"party\":true}",
        /* exists: absent, nil */
        "{\"platform\":\"美团\",\"age\":20,\"station\":\"STN-012\","
        "\"party\":true}",
        "{\"platform\":\"美团\",\"age\":20,\"station\":\"STN-012\","
        "\"org_id\":null,\"party\":true}",
        /* equal: false, a string, absent */
        "{\"platform\":\"美团\",\"age\":20,\"station\":\"STN-012\","
        "\"org_id\":1,\"party\":false}",
        "{\"platform\":\"美团\",\"age\":20,\"station\":\"STN-012\","
        "\"org_id\":1,\"party\":\"true\"}",
        "{\"platform\":\"美团\",\"age\":20,\"station\":\"STN-012\","
        "\"org_id\":1}",
    };
    gf_harness *h = open_rules(*state, example_rules);
    for (size_t i = 0; i < sizeof misses / sizeof *misses; i++) {
        assert_int_equal(push(h, misses[i]), 1);
        assert_absent(h, i, "sector");
    }
    assert_int_equal(gf_harness_rejects(h), 0);
    assert_int_equal(gf_harness_drops(h), 0);
    gf_harness_destroy(&h);
}

static void test_reject_and_drop(void **state)
{
    gf_harness *h = open_rules(*state, example_rules);
    assert_int_equal(push(h, "{\"kind\":\"member\",\"age\":15}"), 0);
    assert_int_equal(gf_harness_rejects(h), 1);
    assert_non_null(strstr(gf_harness_reject(h, 0), "age below 16"));
    assert_int_equal(push(h, "{\"kind\":\"member\",\"age\":16}"), 1);
    assert_int_equal(push(h, "{\"kind\":\"member\",\"status\":\"test\"}"), 0);
    assert_int_equal(gf_harness_drops(h), 1);
    assert_int_equal(push(h, "{\"kind\":\"member\",\"status\":\"live\"}"), 1);
    assert_int_equal(gf_harness_rejects(h), 1);
    assert_int_equal(gf_harness_count(h), 2);
    gf_harness_destroy(&h);
}

/* Later rules see the fields earlier rules set; the first drop or reject
   ends the record; a field set twice keeps the later value. */
static void test_order(void **state)
{
    gf_harness *h = open_rules(
        *state, "rules:\n"
                "  - set: {seen: 1}\n" /* no when: always */
                "  - when: {points: {min: 100}}\n"
                "    set: {tier: gold, seen: 2}\n"
                "  - when: {tier: gold}\n"
                "    set: {badge: true}\n"
                "  - when: {tier: gold, badge: true, vip: {exists: false}}\n"
                "    set: {checked: yes}\n"
                "  - when: {tier: banned}\n"
                "    reject: banned\n"
                "  - when: {tier: [banned, hidden]}\n"
                "    drop: true\n"
                "  - when: {seen: 2}\n"
                "    set: {last: true}\n");
    /* the record's own tier is overridden by the set before rule 3 */
    assert_int_equal(push(h, "{\"tier\":\"silver\",\"points\":150}"), 1);
    bool ok;
    assert_str_field(h, 0, "tier", "gold");
    assert_true(out_field(h, 0, "badge", &ok).v.b);
    assert_str_field(h, 0, "checked", "yes"); /* core schema: yes is text */
    assert_int_equal(out_field(h, 0, "seen", &ok).v.i, 2);
    assert_true(out_field(h, 0, "last", &ok).v.b);
    /* no points: tier stays silver, only the unconditional rule applies */
    assert_int_equal(push(h, "{\"tier\":\"silver\",\"vip\":1}"), 1);
    assert_str_field(h, 1, "tier", "silver");
    assert_int_equal(out_field(h, 1, "seen", &ok).v.i, 1);
    assert_absent(h, 1, "badge");
    assert_absent(h, 1, "last");
    /* gold but vip: no `checked` */
    assert_int_equal(push(h, "{\"points\":100,\"vip\":true}"), 1);
    assert_absent(h, 2, "checked");
    assert_true(out_field(h, 2, "badge", &ok).v.b);
    /* reject comes first even though the drop rule would match too */
    assert_int_equal(push(h, "{\"tier\":\"banned\"}"), 0);
    assert_int_equal(gf_harness_rejects(h), 1);
    assert_int_equal(gf_harness_drops(h), 0);
    assert_int_equal(push(h, "{\"tier\":\"hidden\"}"), 0);
    assert_int_equal(gf_harness_drops(h), 1);
    gf_harness_destroy(&h);
}

/*
 * Lists: a long list of strings (looked up in a hash set), lists mixing
 * types, and a field tested, then set, then tested again (the second test
 * must see the new value, not the first one's lookup).
 */
static void test_lists(void **state)
{
    char rules[4096];
    size_t n =
        (size_t)snprintf(rules, sizeof rules, "rules:\n  - when: {station: [");
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(rules + n, sizeof rules - n, "%sSTN-%04d",
                              i ? ", " : "", i * 7);
    snprintf(rules + n, sizeof rules - n,
             "]}\n"
             "    set: {listed: true}\n"
             "  - when: {p: [a, b, \"1\"]}\n"
             "    set: {p: x, hit1: true}\n"
             "  - when: {p: [x, y]}\n"
             "    set: {hit2: true}\n"
             "  - when: {p: [a, 1]}\n"
             "    set: {hit3: true}\n"
             "  - when: {q: [1, true, \"one\", ~]}\n"
             "    set: {hitq: true}\n");
    gf_harness *h = open_rules(*state, rules);
    bool ok;
    /* every listed station, and unlisted ones of the same length */
    for (int i = 0; i < 280; i++) {
        char rec[64];
        snprintf(rec, sizeof rec, "{\"station\":\"STN-%04d\"}", i);
        assert_int_equal(push(h, rec), 1);
        out_field(h, (size_t)i, "listed", &ok);
        if (ok != (i % 7 == 0))
            fail_msg("station STN-%04d: listed %d", i, ok);
    }
    size_t at = 280;
    assert_int_equal(push(h, "{\"p\":\"a\"}"), 1);
    assert_str_field(h, at, "p", "x");
    assert_true(out_field(h, at, "hit1", &ok).v.b);
    assert_true(out_field(h, at, "hit2", &ok).v.b);
    assert_absent(h, at, "hit3"); /* p is x by then */
    at++;
    /* an integer 1 is not the string "1", and the other way round */
    assert_int_equal(push(h, "{\"p\":1}"), 1);
    assert_absent(h, at, "hit1");
    assert_true(out_field(h, at, "hit3", &ok).v.b);
    at++;
    assert_int_equal(push(h, "{\"p\":\"1\",\"q\":\"one\"}"), 1);
    assert_true(out_field(h, at, "hit1", &ok).v.b);
    assert_true(out_field(h, at, "hitq", &ok).v.b);
    at++;
    assert_int_equal(push(h, "{\"q\":true}"), 1);
    assert_true(out_field(h, at, "hitq", &ok).v.b);
    at++;
    assert_int_equal(push(h, "{\"q\":\"ONE\",\"p\":\"c\"}"), 1);
    assert_absent(h, at, "hitq");
    assert_absent(h, at, "hit1");
    at++;
    assert_int_equal(push(h, "{\"p\":\"z\"}"), 1); /* q absent: nil */
    assert_true(out_field(h, at, "hitq", &ok).v.b);
    gf_harness_destroy(&h);

    /* 70 list conditions on one field (more than one word of bits), each
       listing its own value and the common one */
    static char many[16384];
    n = (size_t)snprintf(many, sizeof many, "rules:\n");
    for (int i = 0; i < 70; i++)
        n += (size_t)snprintf(many + n, sizeof many - n,
                              "  - when: {z: [v%d, all]}\n"
                              "    set: {hit%d: true}\n",
                              i, i);
    h = open_rules(*state, many);
    assert_int_equal(push(h, "{\"z\":\"v65\"}"), 1);
    assert_int_equal(push(h, "{\"z\":\"all\"}"), 1);
    for (int i = 0; i < 70; i++) {
        char key[16];
        snprintf(key, sizeof key, "hit%d", i);
        out_field(h, 0, key, &ok);
        if (ok != (i == 65))
            fail_msg("z v65: %s is %d", key, ok);
        out_field(h, 1, key, &ok);
        assert_true(ok);
    }
    gf_harness_destroy(&h);
}

/* Scalars compare by type: numbers numerically, bools, strings bytewise. */
static void test_equality(void **state)
{
    gf_harness *h = open_rules(*state, "rules:\n"
                                       "  - when: {n: 2}\n"
                                       "    set: {hit_n: true}\n"
                                       "  - when: {s: \"2\"}\n"
                                       "    set: {hit_s: true}\n"
                                       "  - when: {big: 9007199254740993}\n"
                                       "    set: {hit_big: true}\n"
                                       "  - when: {z: ~}\n"
                                       "    set: {hit_z: true}\n");
    assert_int_equal(
        push(h, "{\"n\":2.0,\"s\":\"2\",\"big\":9007199254740993}"), 1);
    bool ok;
    assert_true(out_field(h, 0, "hit_n", &ok).v.b);
    assert_true(out_field(h, 0, "hit_s", &ok).v.b);
    assert_true(out_field(h, 0, "hit_big", &ok).v.b);
    assert_true(out_field(h, 0, "hit_z", &ok).v.b); /* absent is nil */
    assert_int_equal(push(h, "{\"n\":\"2\",\"s\":2,\"big\":9007199254740992,"
                             "\"z\":0}"),
                     1);
    assert_absent(h, 1, "hit_n");
    assert_absent(h, 1, "hit_s");
    assert_absent(h, 1, "hit_big");
    assert_absent(h, 1, "hit_z");
    gf_harness_destroy(&h);
}

/* A record no rule changes comes out byte for byte; a changed one keeps
   its fields in order and appends the new ones. */
static void test_byte_copy(void **state)
{
    gf_harness *h =
        open_rules(*state, "rules:\n"
                           "  - when: {age: {min: 60}}\n"
                           "    set: {senior: true, kind: elder}\n");
    mpb b = {0};
    mpb_map(&b, 3);
    mpb_str(&b, "kind");
    mpb_str(&b, "member");
    mpb_str(&b, "age");
    mpb_int(&b, 30);
    mpb_str(&b, "name");
    mpb_str(&b, "张三");
    assert_int_equal(gf_harness_push(h, b.p, b.len), 0);
    assert_int_equal(gf_harness_count(h), 1);
    const gf_record *r = gf_harness_output(h, 0);
    assert_int_equal(r->len, b.len);
    assert_memory_equal(r->data, b.p, b.len);

    b.len = 0;
    mpb_map(&b, 3);
    mpb_str(&b, "kind");
    mpb_str(&b, "member");
    mpb_str(&b, "age");
    mpb_int(&b, 61);
    mpb_str(&b, "name");
    mpb_str(&b, "李四");
    assert_int_equal(gf_harness_push(h, b.p, b.len), 0);
    const gf_host *host = gf_harness_host(h);
    static const char *const want[] = {"kind", "age", "name", "senior"};
    gf_iter it = {0};
    gf_str k;
    gf_value v;
    size_t n = 0;
    while (host->next(gf_harness_output(h, 1), &it, &k, &v)) {
        assert_true(n < 4);
        assert_true(gf_str_eq(k, want[n]));
        n++;
    }
    assert_int_equal(n, 4);
    assert_str_field(h, 1, "kind", "elder"); /* replaced in place */
    free(b.p);
    gf_harness_destroy(&h);
}

/* Bad bytes in a string never crash the regex (UTF-8 checked by PCRE2). */
static void test_invalid_utf8(void **state)
{
    gf_harness *h = open_rules(*state, "rules:\n"
                                       "  - when: {s: {regex: \"^a.c$\"}}\n"
                                       "    set: {hit: true}\n");
    mpb b = {0};
    mpb_map(&b, 1);
    mpb_str(&b, "s");
    mpb_strn(&b,
             "a\xff"
             "c",
             3);
    assert_int_equal(gf_harness_push(h, b.p, b.len), 0);
    b.len = 0;
    mpb_map(&b, 1);
    mpb_str(&b, "s");
    mpb_str(&b, "a中c");
    assert_int_equal(gf_harness_push(h, b.p, b.len), 0);
    assert_int_equal(gf_harness_count(h), 2);
    assert_absent(h, 0, "hit");
    bool ok;
    assert_true(out_field(h, 1, "hit", &ok).v.b); /* . is one character */
    free(b.p);
    gf_harness_destroy(&h);
}

/* --- bad rules files -------------------------------------------------- */

/* Load `rules`, expect failure, and return the error text (malloc'd). */
static char *load_error(fixture *f, const char *rules)
{
    char opts[256], *err = NULL;
    write_file(f->path, rules);
    snprintf(opts, sizeof opts, "rules: %s", f->path);
    gf_harness *h = gf_harness_new("classify_rules", opts, NULL, &err);
    if (h)
        fail_msg("a bad rules file was accepted:\n%s", rules);
    assert_non_null(err);
    return err;
}

/* The error text holds "PATH:LINE:COL: ...what..." on one line. */
static void assert_error_at(fixture *f, const char *err, unsigned line,
                            unsigned col, const char *what)
{
    char prefix[256];
    snprintf(prefix, sizeof prefix, "%s:%u:%u: ", f->path, line, col);
    const char *p = strstr(err, prefix);
    if (!p)
        fail_msg("no error at %u:%u in:\n%s", line, col, err);
    const char *eol = strchr(p, '\n');
    size_t n = eol ? (size_t)(eol - p) : strlen(p);
    char *one = strndup(p, n);
    if (!strstr(one, what))
        fail_msg("error at %u:%u lacks '%s': %s", line, col, what, one);
    free(one);
}

static void test_unknown_operator(void **state)
{
    char *err = load_error(*state, "rules:\n"
                                   "  - when: {age: {mn: 18}}\n"
                                   "    set: {a: 1}\n");
    assert_error_at(*state, err, 2, 18, "unknown condition operator 'mn'");
    free(err);
}

static void test_bad_regex(void **state)
{
    char *err = load_error(*state, "rules:\n"
                                   "  - when:\n"
                                   "      station: {regex: \"^(STN\"}\n"
                                   "    drop: true\n");
    assert_error_at(*state, err, 3, 24, "missing closing parenthesis");
    assert_error_at(*state, err, 3, 24, "offset 5");
    free(err);
}

static void test_min_above_max(void **state)
{
    char *err = load_error(*state, "rules:\n"
                                   "  - when: {age: {min: 40, max: 30}}\n"
                                   "    drop: true\n");
    assert_error_at(*state, err, 2, 18, "min 40 is greater than max 30");
    free(err);
}

static void test_no_action(void **state)
{
    char *err = load_error(*state, "rules:\n"
                                   "  - name: lonely\n"
                                   "    when: {a: 1}\n"
                                   "  - when: {a: 2}\n"
                                   "    drop: false\n");
    assert_error_at(*state, err, 2, 5, "rule has no action");
    assert_error_at(*state, err, 4, 5, "rule has no action");
    free(err);
}

static void test_unknown_key(void **state)
{
    char *err = load_error(*state, "rulez: []\n"
                                   "rules:\n"
                                   "  - when: {a: 1}\n"
                                   "    sett: {b: 2}\n"
                                   "    drop: true\n");
    assert_error_at(*state, err, 1, 1, "unknown key 'rulez'");
    assert_error_at(*state, err, 4, 5, "unknown key 'sett'");
    free(err);
}

static void test_wrong_types(void **state)
{
    char *err =
        load_error(*state, "rules:\n"
                           "  - when: {age: {min: abc}}\n"
                           "    drop: yes\n"
                           "  - when: [a]\n"
                           "    reject: \"x\"\n"
                           "  - when: {s: {regex: [a]}, e: {exists: 1}}\n"
                           "    set: {x: [1, 2]}\n"
                           "  - set: {a: 1}\n"
                           "    drop: true\n");
    assert_error_at(*state, err, 2, 23, "'min' needs a number");
    assert_error_at(*state, err, 3, 11, "'drop' needs true or false");
    assert_error_at(*state, err, 4, 11, "'when' needs a mapping");
    assert_error_at(*state, err, 6, 23, "'regex' needs a pattern");
    assert_error_at(*state, err, 6, 41, "'exists' needs true or false");
    assert_error_at(*state, err, 7, 14, "can be set to a scalar");
    assert_error_at(*state, err, 8, 5, "'set' has no effect");
    free(err);
}

static void test_not_a_list(void **state)
{
    char *err = load_error(*state, "rules: {a: 1}\n");
    assert_error_at(*state, err, 1, 8, "'rules' needs a list");
    free(err);
    err = load_error(*state, "- drop: true\n");
    assert_error_at(*state, err, 1, 1, "expected a mapping with 'rules:'");
    free(err);
    err = load_error(*state, "");
    assert_non_null(strstr(err, "empty"));
    free(err);
}

static void test_yaml_syntax(void **state)
{
    fixture *f = *state;
    char *err = load_error(f, "rules:\n"
                              "  - when: {a: 1\n"
                              "    drop: true\n");
    char prefix[160];
    snprintf(prefix, sizeof prefix, "%s:3:", f->path);
    assert_non_null(strstr(err, prefix));
    assert_non_null(strstr(err, "YAML"));
    free(err);
}

static void test_missing_file(void **state)
{
    fixture *f = *state;
    char *err = NULL;
    gf_harness *h = gf_harness_new(
        "classify_rules", "rules: /nonexistent/gf/rules.yaml", NULL, &err);
    assert_null(h);
    assert_non_null(err);
    assert_non_null(strstr(err, "/nonexistent/gf/rules.yaml"));
    assert_non_null(strstr(err, "cannot open"));
    free(err);
    (void)f;
}

/* --- speed ------------------------------------------------------------ */

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Push `n` records cycling through `recs`; returns records/s. */
static double push_timed(gf_harness *h, const mpb *recs, size_t nrecs, size_t n)
{
    double t0 = seconds();
    for (size_t i = 0; i < n; i++)
        assert_int_equal(
            gf_harness_push(h, recs[i % nrecs].p, recs[i % nrecs].len), 0);
    return n / (seconds() - t0);
}

static void test_bench(void **state)
{
    if (!getenv("GF_BENCH"))
        skip();
    static const char *const platforms[] = {"美团", "饿了么", "顺丰", "盒马"};
    const size_t n = 1000000;
    mpb *recs = calloc(64, sizeof *recs);
    for (size_t i = 0; i < 64; i++) {
        mpb *b = &recs[i];
        mpb_map(b, 7);
        mpb_str(b, "kind");
        mpb_str(b, "member");
        mpb_str(b, "platform");
        mpb_str(b, platforms[i % 4]);
        mpb_str(b, "age");
        mpb_int(b, (int64_t)(14 + i % 40));
        mpb_str(b, "station");
        mpb_str(b, i % 3 ? "STN-0123" : "STN-X1");
        mpb_str(b, "org_id");
        mpb_int(b, (int64_t)i);
        mpb_str(b, "party");
        mpb_bool(b, i % 2);
        mpb_str(b, "status");
        mpb_str(b, i % 50 ? "live" : "test");
    }
    gf_harness *h = open_rules(*state, example_rules);
    double rate = push_timed(h, recs, 64, n);
    printf("classify_rules: %zu records, example rules: %.0f records/s "
           "(out %zu, rejected %zu, dropped %zu)\n",
           n, rate, gf_harness_count(h), gf_harness_rejects(h),
           gf_harness_drops(h));
    assert_int_equal(
        gf_harness_count(h) + gf_harness_rejects(h) + gf_harness_drops(h), n);
    gf_harness_destroy(&h);
    /* the same rules ending in a catch-all drop: the harness keeps no
       output, so this times the rule evaluation itself */
    char *rules = malloc(strlen(example_rules) + 64);
    strcpy(rules, example_rules);
    strcat(rules, "  - drop: true\n");
    h = open_rules(*state, rules);
    rate = push_timed(h, recs, 64, n);
    printf("classify_rules: %zu records, example rules + final drop: "
           "%.0f records/s\n",
           n, rate);
    assert_int_equal(gf_harness_count(h), 0);
    gf_harness_destroy(&h);
    free(rules);
    for (size_t i = 0; i < 64; i++)
        free(recs[i].p);
    free(recs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_all_conditions_match, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_each_condition_fails, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_reject_and_drop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_equality, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_byte_copy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_operator, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_regex, setup, teardown),
        cmocka_unit_test_setup_teardown(test_min_above_max, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_action, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_a_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_yaml_syntax, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bench, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
