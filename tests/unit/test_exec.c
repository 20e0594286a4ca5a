/*
 * test_exec - gf_exec_run on pipelines assembled by hand from the t_*
 * test plugins (no pipeline file, so only the executor is under test):
 * counts through linear, fan-out, fan-in and multi-worker graphs, flush
 * after every upstream EOS, plugin errors, rejects and --max-rejects,
 * commit only on success, and failed allocations anywhere in a run.
 * Expected counts follow from the generator's definition (seq 1..N,
 * group "g" seq%5), computed here, not read from gigflow.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "gf_alloc.h"
#include "gf_exec.h"
#include "gf_pipeline.h"

typedef struct tstage {
    const char *name, *plugin, *with; /* with: YAML flow mapping text */
    unsigned workers;
    const char *from[4];
} tstage;

static char tmpdir[] = "/tmp/gf-test-exec-XXXXXX";

/* Assemble a pipeline; stages must be listed upstream first. */
static gf_pipeline *build(const tstage *st, size_t n)
{
    gf_pipeline *p = calloc(1, sizeof *p);
    p->file = strdup("test.yaml");
    p->dir = strdup(tmpdir);
    p->name = strdup("test");
    p->nstages = n;
    p->stages = calloc(n, sizeof *p->stages);
    p->order = calloc(n, sizeof *p->order);
    for (size_t i = 0; i < n; i++) {
        gf_stage_def *d = &p->stages[i];
        p->order[i] = i;
        d->name = strdup(st[i].name);
        d->plugin = strdup(st[i].plugin);
        d->workers = st[i].workers ? st[i].workers : 1;
        d->pii_mode = GF_PII_OFF;
        char *err = NULL;
        d->lib = gf_loader_open(st[i].plugin, &err);
        if (!d->lib)
            fail_msg("%s", err);
        gf_diag diag = {0};
        const char *w = st[i].with ? st[i].with : "{}";
        gf_ynode *y = gf_yaml_load_string(w, strlen(w), "test.yaml", &diag);
        assert_non_null(y);
        d->node = y; /* owned here: freed in unbuild */
        d->opts = gf_options_parse(d->lib->desc, y, y, tmpdir, &diag);
        if (!d->opts) {
            gf_diag_print(&diag, stderr);
            fail();
        }
        gf_diag_free(&diag);
        d->from = calloc(4, sizeof *d->from);
        d->to = calloc(n, sizeof *d->to);
        for (size_t f = 0; f < 4 && st[i].from[f]; f++) {
            size_t k;
            for (k = 0; k < i && strcmp(st[k].name, st[i].from[f]) != 0; k++)
                ;
            assert_true(k < i);
            d->from[d->nfrom++] = k;
            p->stages[k].to[p->stages[k].nto++] = i;
        }
    }
    return p;
}

static void unbuild(gf_pipeline **pp)
{
    gf_pipeline *p = *pp;
    for (size_t i = 0; i < p->nstages; i++) {
        gf_stage_def *d = &p->stages[i];
        gf_optset_free(&d->opts);
        gf_loader_close(&d->lib);
        gf_ynode *y = (gf_ynode *)d->node;
        gf_ynode_free(&y);
        free(d->name);
        free(d->plugin);
        free(d->from);
        free(d->to);
    }
    free(p->stages);
    free(p->order);
    free(p->file);
    free(p->dir);
    free(p->name);
    free(p->dead_letters);
    free(p);
    *pp = NULL;
}

static gf_run_opts quiet(void)
{
    return (gf_run_opts){.batch_bytes = 4096, .max_rejects = -1};
}

static char *path_in_tmp(const char *name)
{
    static char buf[256];
    snprintf(buf, sizeof buf, "%s/%s", tmpdir, name);
    return buf;
}

static long count_lines(const char *file)
{
    FILE *f = fopen(file, "r");
    if (!f)
        return -1;
    long n = 0;
    int c;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

/* Sum of the seq fields of every line of a JSON-lines file. */
static long long seq_sum(const char *file)
{
    FILE *f = fopen(file, "r");
    if (!f)
        return -1;
    char line[4096];
    long long s = 0;
    while (fgets(line, sizeof line, f)) {
        const char *q = strstr(line, "\"seq\":");
        if (q)
            s += atoll(q + 6);
    }
    fclose(f);
    return s;
}

static int setup_all(void **state)
{
    (void)state;
    if (!mkdtemp(tmpdir))
        return -1;
    setenv("GIGFLOW_PLUGIN_PATH", GF_TEST_PLUGIN_DIR, 1);
    return 0;
}

static int teardown_all(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_linear(void **state)
{
    (void)state;
    unlink(path_in_tmp("lin.jsonl"));
    const tstage st[] = {
        {"gen", "t_gen", "{count: 1000, per_call: 7}", 1, {0}},
        {"mid", "t_fail", "{tag: x}", 1, {"gen"}},
        {"out", "t_sink", "{path: lin.jsonl}", 1, {"mid"}},
    };
    gf_pipeline *p = build(st, 3);
    gf_run_opts o = quiet();
    gf_stage_stats s[3];
    assert_int_equal(gf_exec_run(p, &o, s), GF_EXIT_OK);
    assert_int_equal(s[0].in, 0);
    assert_int_equal(s[0].out, 1000);
    assert_int_equal(s[1].in, 1000);
    assert_int_equal(s[1].out, 1000);
    assert_int_equal(s[2].in, 1000);
    assert_int_equal(s[2].out, 0);
    assert_int_equal(count_lines(path_in_tmp("lin.jsonl")), 1000);
    assert_int_equal(seq_sum(path_in_tmp("lin.jsonl")), 1000LL * 1001 / 2);
    unbuild(&p);
}

/* gen -> a, b (fan-out: each gets everything); a, b -> sink (fan-in) */
static void test_fan_out_fan_in(void **state)
{
    (void)state;
    const tstage st[] = {
        {"gen", "t_gen", "{count: 3000}", 1, {0}},
        {"a", "t_fail", "{tag: a}", 1, {"gen"}},
        {"b", "t_fail", "{tag: b, drop_every: 3}", 2, {"gen"}},
        {"out", "t_sink", "{path: fan.jsonl}", 1, {"a", "b"}},
    };
    gf_pipeline *p = build(st, 4);
    gf_run_opts o = quiet();
    gf_stage_stats s[4];
    assert_int_equal(gf_exec_run(p, &o, s), GF_EXIT_OK);
    assert_int_equal(s[1].in, 3000);
    assert_int_equal(s[2].in, 3000);
    /* b drops every 3rd record each of its 2 instances sees: exactly
       1000 when both saw multiples of 3, so check the sum instead */
    assert_int_equal(s[2].out + s[2].dropped, 3000);
    assert_in_range(s[2].dropped, 998, 1000);
    assert_int_equal(s[3].in, 3000 + s[2].out);
    assert_int_equal(count_lines(path_in_tmp("fan.jsonl")), (long)s[3].in);
    unbuild(&p);
}

/* Aggregation after many workers: flush only after every EOS. */
static void test_workers_then_count(void **state)
{
    (void)state;
    const tstage st[] = {
        {"gen", "t_gen", "{count: 20000, per_call: 333}", 3, {0}},
        {"mid", "t_fail", "{tag: w}", 4, {"gen"}},
        {"cnt", "t_count", "{by: group}", 1, {"mid"}},
        {"out", "t_sink", "{path: cnt.jsonl}", 1, {"cnt"}},
    };
    gf_pipeline *p = build(st, 4);
    gf_run_opts o = quiet();
    gf_stage_stats s[4];
    assert_int_equal(gf_exec_run(p, &o, s), GF_EXIT_OK);
    assert_int_equal(s[0].out, 20000);
    assert_int_equal(s[2].in, 20000);
    assert_int_equal(s[2].out, 5);
    FILE *f = fopen(path_in_tmp("cnt.jsonl"), "r");
    assert_non_null(f);
    char line[512];
    int k = 0;
    while (fgets(line, sizeof line, f)) {
        char want[128];
        /* g0..g4 in order, 4000 each: 20000 seqs spread evenly over seq%5 */
        snprintf(want, sizeof want,
                 "{\"kind\":\"metric\",\"set\":\"cnt\",\"group\":\"g%d\","
                 "\"count\":4000}\n",
                 k);
        assert_string_equal(line, want);
        k++;
    }
    fclose(f);
    assert_int_equal(k, 5);
    unbuild(&p);
}

static void test_plugin_error_fails_run(void **state)
{
    (void)state;
    unlink(path_in_tmp("err.jsonl"));
    const tstage st[] = {
        {"gen", "t_gen", "{count: 100000}", 1, {0}},
        {"mid", "t_fail", "{fail_at: 5000}", 2, {"gen"}},
        {"out", "t_sink", "{path: err.jsonl}", 1, {"mid"}},
    };
    gf_pipeline *p = build(st, 3);
    gf_run_opts o = quiet();
    assert_int_equal(gf_exec_run(p, &o, NULL), GF_EXIT_FAILURE);
    /* nothing committed, the temporary file removed */
    assert_int_equal(access(path_in_tmp("err.jsonl"), F_OK), -1);
    unbuild(&p);

    const tstage st2[] = {
        {"gen", "t_gen", "{count: 1000, fail_at: 10}", 1, {0}},
        {"out", "t_sink", "{path: err.jsonl}", 1, {"gen"}},
    };
    p = build(st2, 2);
    assert_int_equal(gf_exec_run(p, &o, NULL), GF_EXIT_FAILURE);
    assert_int_equal(access(path_in_tmp("err.jsonl"), F_OK), -1);
    unbuild(&p);

    const tstage st3[] = {
        {"gen", "t_gen", "{count: 10}", 1, {0}},
        {"out", "t_sink", "{path: err.jsonl, fail_commit: true}", 1, {"gen"}},
    };
    p = build(st3, 2);
    assert_int_equal(gf_exec_run(p, &o, NULL), GF_EXIT_FAILURE);
    assert_int_equal(access(path_in_tmp("err.jsonl"), F_OK), -1);
    unbuild(&p);
}

static void test_rejects(void **state)
{
    (void)state;
    const tstage st[] = {
        {"gen", "t_gen", "{count: 1000}", 1, {0}},
        {"mid", "t_fail", "{reject_every: 10}", 1, {"gen"}},
        {"out", "t_sink", "{path: rej.jsonl}", 1, {"mid"}},
    };
    gf_pipeline *p = build(st, 3);
    p->dead_letters = strdup(path_in_tmp("rej.dead.jsonl"));
    gf_run_opts o = quiet();
    gf_stage_stats s[3];
    assert_int_equal(gf_exec_run(p, &o, s), GF_EXIT_OK);
    assert_int_equal(s[1].rejected, 100);
    assert_int_equal(s[1].out, 900);
    assert_int_equal(count_lines(path_in_tmp("rej.jsonl")), 900);
    assert_int_equal(count_lines(path_in_tmp("rej.dead.jsonl")), 100);
    /* the rejected ones are the multiples of 10: 10+20+...+1000 */
    assert_int_equal(seq_sum(path_in_tmp("rej.dead.jsonl")),
                     10LL * 100 * 101 / 2);

    o.max_rejects = 100;
    assert_int_equal(gf_exec_run(p, &o, s), GF_EXIT_OK);
    o.max_rejects = 99;
    unlink(path_in_tmp("rej.jsonl"));
    assert_int_equal(gf_exec_run(p, &o, s), GF_EXIT_FAILURE);
    assert_int_equal(access(path_in_tmp("rej.jsonl"), F_OK), -1);
    unbuild(&p);
}

/* Every allocation of the runtime failing in turn: the run fails
   cleanly (no crash, no leak under ASan, no hang) or succeeds. */
static void test_alloc_failures(void **state)
{
    (void)state;
    const tstage st[] = {
        {"gen", "t_gen", "{count: 300, per_call: 50}", 2, {0}},
        {"mid", "t_fail", "{tag: t}", 2, {"gen"}},
        {"out", "t_sink", "{path: oom.jsonl}", 1, {"mid"}},
    };
    gf_pipeline *p = build(st, 3);
    gf_run_opts o = quiet();
    o.batch_bytes = 512;
    int ok = 0, failed = 0;
    for (long n = 0; n < 400; n++) {
        gf_alloc_fail_after(n);
        int rc = gf_exec_run(p, &o, NULL);
        gf_alloc_fail_reset();
        assert_true(rc == GF_EXIT_OK || rc == GF_EXIT_FAILURE);
        if (rc == GF_EXIT_OK) {
            ok++;
            assert_int_equal(count_lines(path_in_tmp("oom.jsonl")), 300);
        } else {
            failed++;
        }
    }
    assert_true(failed > 10);
    assert_true(ok > 0);
    unbuild(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linear),
        cmocka_unit_test(test_fan_out_fan_in),
        cmocka_unit_test(test_workers_then_count),
        cmocka_unit_test(test_plugin_error_fails_run),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
