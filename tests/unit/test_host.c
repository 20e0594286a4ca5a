/*
 * test_host - gf_host_table: every member filled, messages formatted and
 * forwarded to the runner's gf_rt_ops with the right arguments, record and
 * writer functions wired to gf_record/gf_out/gf_json.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gf_host.h"
#include "gf_out.h"
#include "gf_srcpos.h"

/* A runner that records what it was handed. */
typedef struct runner {
    gf_rt rt; /* first, as gf_host.h requires */
    char last[2048];
    const char *file;
    unsigned line, col;
    gf_log_level level;
    const gf_record *rec;
    const void *data;
    size_t len;
    uint64_t rline;
    int drops;
} runner;

static runner *runner_of(gf_ctx *ctx)
{
    return (runner *)ctx->rt;
}

static void rt_log(gf_ctx *ctx, gf_log_level level, const char *msg)
{
    runner *r = runner_of(ctx);
    r->level = level;
    snprintf(r->last, sizeof r->last, "log:%s", msg);
}

static void rt_error(gf_ctx *ctx, const char *msg)
{
    snprintf(runner_of(ctx)->last, sizeof runner_of(ctx)->last, "error:%s",
             msg);
}

static void rt_config_error(gf_ctx *ctx, const char *file, unsigned line,
                            unsigned col, const char *msg)
{
    runner *r = runner_of(ctx);
    r->file = file;
    r->line = line;
    r->col = col;
    snprintf(r->last, sizeof r->last, "config:%s", msg);
}

static void rt_option_error(gf_ctx *ctx, const char *key, const char *msg)
{
    snprintf(runner_of(ctx)->last, sizeof runner_of(ctx)->last, "option:%s:%s",
             key, msg);
}

static int rt_reject(gf_ctx *ctx, const gf_record *rec, const void *data,
                     size_t len, const char *file, uint64_t line,
                     const char *reason)
{
    runner *r = runner_of(ctx);
    r->rec = rec;
    r->data = data;
    r->len = len;
    r->file = file;
    r->rline = line;
    snprintf(r->last, sizeof r->last, "reject:%s", reason);
    return -42;
}

static void rt_drop(gf_ctx *ctx, const gf_record *rec)
{
    (void)rec;
    runner_of(ctx)->drops++;
}

static int64_t rt_now(gf_ctx *ctx)
{
    (void)ctx;
    return 123;
}

static int64_t rt_started(gf_ctx *ctx)
{
    (void)ctx;
    return 456;
}

static uint64_t rt_rejects(gf_ctx *ctx)
{
    (void)ctx;
    return 789;
}

static const char *rt_info(gf_ctx *ctx, const char *key)
{
    (void)ctx;
    return strcmp(key, "name") == 0 ? "demo" : NULL;
}

static const gf_rt_ops ops = {
    .log = rt_log,
    .error = rt_error,
    .config_error = rt_config_error,
    .option_error = rt_option_error,
    .reject = rt_reject,
    .drop = rt_drop,
    .now_ns = rt_now,
    .run_started = rt_started,
    .rejects_total = rt_rejects,
    .run_info = rt_info,
};

static void test_table_complete(void **state)
{
    (void)state;
    const gf_host *h = &gf_host_table;
    assert_int_equal(h->size, sizeof(gf_host));
    assert_int_equal(h->abi_major, GF_ABI_MAJOR);
    assert_int_equal(h->abi_minor, GF_ABI_MINOR);
    /* every member after the header is a function pointer: none NULL */
    size_t first = offsetof(gf_host, log);
    size_t n = (sizeof(gf_host) - first) / sizeof(void (*)(void));
    /* 30 in ABI 1.0, 33 in 1.1 (output_open, output_path, value_to_json),
       34 in 1.3 (set_position):
       counted by hand in gigflow/plugin.h; a member appended there must be
       filled here too */
    assert_int_equal(n, 34);
    for (size_t i = 0; i < n; i++) {
        void (*fp)(void);
        memcpy(&fp, (const char *)h + first + i * sizeof fp, sizeof fp);
        assert_non_null(fp);
    }
}

static void test_forwarding(void **state)
{
    (void)state;
    runner r = {.rt = {.ops = &ops}};
    gf_ctx ctx = {.host = &gf_host_table, .stage = "s1", .rt = &r};
    const gf_host *h = ctx.host;

    h->log(&ctx, GF_LOG_WARN, "n=%d %s", 5, "x");
    assert_string_equal(r.last, "log:n=5 x");
    assert_int_equal(r.level, GF_LOG_WARN);
    h->error(&ctx, "bad %s", "thing");
    assert_string_equal(r.last, "error:bad thing");
    h->config_error(&ctx, "rules.yaml", 3, 7, "unknown key %s", "foo");
    assert_string_equal(r.last, "config:unknown key foo");
    assert_string_equal(r.file, "rules.yaml");
    assert_int_equal(r.line, 3);
    assert_int_equal(r.col, 7);
    h->option_error(&ctx, "path", "no such file %s", "a.csv");
    assert_string_equal(r.last, "option:path:no such file a.csv");

    /* a message longer than the stack buffer arrives whole */
    char big[1500];
    memset(big, 'm', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    h->error(&ctx, "%s!", big);
    assert_int_equal(strlen(r.last), strlen("error:") + sizeof big);
    assert_int_equal(r.last[strlen(r.last) - 1], '!');

    uint8_t mp[] = {0x80};
    gf_record rec = {mp, 1, 0};
    assert_int_equal(h->reject(&ctx, &rec, "why"), -42);
    assert_ptr_equal(r.rec, &rec);
    assert_null(r.data);
    assert_string_equal(r.last, "reject:why");
    assert_int_equal(h->reject_raw(&ctx, "a,b", 3, "in.csv", 12, "fields"),
                     -42);
    assert_null(r.rec);
    assert_int_equal(r.len, 3);
    assert_string_equal(r.file, "in.csv");
    assert_int_equal(r.rline, 12);
    h->drop(&ctx, &rec);
    assert_int_equal(r.drops, 1);
    assert_int_equal(h->now_ns(&ctx), 123);
    assert_int_equal(h->run_started(&ctx), 456);
    assert_int_equal(h->rejects_total(&ctx), 789);
    assert_string_equal(h->run_info(&ctx, "name"), "demo");
    assert_null(h->run_info(&ctx, "other"));
}

static void test_fallbacks(void **state)
{
    (void)state;
    /* a runner that left everything out: no crash, sensible values */
    static const gf_rt_ops none = {0};
    gf_rt rt = {.ops = &none};
    gf_ctx ctx = {.host = &gf_host_table, .stage = "s", .rt = &rt};
    const gf_host *h = ctx.host;
    h->log(&ctx, GF_LOG_DEBUG, "to stderr %d", 1);
    assert_int_equal(h->reject(&ctx, NULL, "x"), 0);
    h->drop(&ctx, NULL);
    assert_true(h->now_ns(&ctx) > 0);
    assert_true(h->run_started(&ctx) > 1500000000);
    assert_int_equal(h->rejects_total(&ctx), 0);
    assert_null(h->run_info(&ctx, "name"));
}

static void test_record_functions(void **state)
{
    (void)state;
    const gf_host *h = &gf_host_table;
    gf_out out;
    assert_int_equal(gf_out_init(&out, 1 << 16, NULL, NULL), 0);
    h->begin(&out);
    h->set_str(&out, "kind", "org", 3);
    h->set_int(&out, "n", 2);
    char err[64];
    assert_int_equal(h->set_json(&out, "{\"x\":[1]}", 9, err, sizeof err), 0);
    assert_int_equal(h->end(&out), 0);
    gf_record rec = {out.batch.data, out.batch.len, 3};
    gf_value v;
    assert_true(h->get(&rec, "n", &v));
    assert_int_equal(v.v.i, 2);
    char *buf = NULL;
    size_t cap = 0;
    assert_true(h->to_json(&rec, &buf, &cap) > 0);
    assert_string_equal(buf, "{\"kind\":\"org\",\"n\":2,\"x\":[1]}");
    /* one value, into the same buffer: the array as written above */
    assert_true(h->get(&rec, "x", &v));
    assert_int_equal(h->value_to_json(&v, &buf, &cap), 3);
    assert_string_equal(buf, "[1]");
    assert_true(h->get(&rec, "kind", &v));
    assert_int_equal(h->value_to_json(&v, &buf, &cap), 5);
    assert_string_equal(buf, "\"org\"");
    free(buf);
    /* set_position (ABI minor 3) is the out's: the next record's position */
    assert_true(GF_HOST_HAS(h, set_position));
    gf_srcpos_table *t = gf_srcpos_table_new();
    assert_non_null(t);
    out.srcpos = t;
    h->set_position(&out, "in.csv", 12);
    assert_int_equal(out.cur.line, 12);
    assert_string_equal(gf_srcpos_name(t, out.cur.file), "in.csv");
    h->begin(&out);
    assert_int_equal(h->end(&out), 0);
    assert_int_equal(out.npos, 2);
    assert_int_equal(out.pos[0].line, 0); /* the record before: unknown */
    assert_int_equal(out.pos[1].line, 12);
    gf_out_release(&out);
    gf_srcpos_table_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_complete),
        cmocka_unit_test(test_forwarding),
        cmocka_unit_test(test_fallbacks),
        cmocka_unit_test(test_record_functions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
