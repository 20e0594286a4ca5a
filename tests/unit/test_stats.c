/*
 * test_stats - gf_stats: instances summed per stage, seconds the longest
 * instance, the summary table's rows and rates, the progress line; in a
 * distributed run, only the instances that run here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gf_alloc.h"
#include "gf_stats.h"

static const char *const names[] = {"gen", "a_long_stage_name"};
static const unsigned inst[] = {1, 3};

static gf_stats *filled(void)
{
    gf_stats *s = gf_stats_new(2, names, inst);
    assert_non_null(s);
    gf_counters *g = gf_stats_counters(s, 0, 0);
    atomic_store(&g->out, 1000);
    atomic_store(&g->start_ns, 1000000000);
    atomic_store(&g->end_ns, 3000000000); /* 2 s */
    for (unsigned k = 0; k < 3; k++) {
        gf_counters *c = gf_stats_counters(s, 1, k);
        atomic_store(&c->in, 100 * (k + 1)); /* 100+200+300 */
        atomic_store(&c->out, 90 * (k + 1)); /* 90+180+270 */
        atomic_store(&c->rejected, k);       /* 0+1+2 */
        atomic_store(&c->dropped, 2 * k);    /* 0+2+4 */
        atomic_store(&c->start_ns, 1000000000);
        atomic_store(&c->end_ns, 1000000000 + (int64_t)(k + 1) * 500000000);
    }
    return s;
}

static void test_sum(void **state)
{
    (void)state;
    gf_stats *s = filled();
    gf_stage_stats st;
    gf_stats_sum(s, 1, 0, &st);
    assert_int_equal(st.in, 600);
    assert_int_equal(st.out, 540);
    assert_int_equal(st.rejected, 3);
    assert_int_equal(st.dropped, 6);
    assert_true(st.seconds > 1.499 && st.seconds < 1.501); /* the longest */
    gf_stats_sum(s, 0, 0, &st);
    assert_int_equal(st.out, 1000);
    assert_true(st.seconds > 1.999 && st.seconds < 2.001);
    /* an instance still running counts until now */
    atomic_store(&gf_stats_counters(s, 0, 0)->end_ns, 0);
    gf_stats_sum(s, 0, 5000000000, &st);
    assert_true(st.seconds > 3.999 && st.seconds < 4.001);
    gf_stats_free(&s);
    assert_null(s);
    gf_stats_free(&s);
}

static void test_summary(void **state)
{
    (void)state;
    gf_stats *s = filled();
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    gf_stats_summary(s, f, 0);
    fclose(f);
    char head[64], name[64];
    unsigned long long in, out, rej, drop;
    double secs, rate;
    const char *l2 = strchr(buf, '\n') + 1;
    const char *l3 = strchr(l2, '\n') + 1;
    assert_int_equal(sscanf(buf, "%63s", head), 1);
    assert_string_equal(head, "stage");
    assert_non_null(strstr(buf, "records/s"));
    assert_int_equal(sscanf(l2, "%63s %llu %llu %llu %llu %lf %lf", name, &in,
                            &out, &rej, &drop, &secs, &rate),
                     7);
    assert_string_equal(name, "gen");
    assert_int_equal(out, 1000);
    assert_true(rate > 499 && rate < 501); /* 1000 out in 2 s */
    assert_int_equal(sscanf(l3, "%63s %llu %llu %llu %llu %lf %lf", name, &in,
                            &out, &rej, &drop, &secs, &rate),
                     7);
    assert_string_equal(name, "a_long_stage_name");
    assert_int_equal(in, 600);
    assert_int_equal(rej, 3);
    assert_int_equal(drop, 6);
    assert_true(rate > 399 && rate < 401); /* 600 in in 1.5 s */
    /* columns line up: every row as long as the header */
    size_t w1 = (size_t)(l2 - buf), w2 = (size_t)(l3 - l2);
    assert_int_equal(w1, w2);
    free(buf);

    f = open_memstream(&buf, &len);
    gf_stats_progress(s, f, 3000000000, 1000000000);
    fclose(f);
    assert_non_null(strstr(buf, "2.0s"));
    assert_non_null(strstr(buf, "gen out 1000"));
    assert_non_null(strstr(buf, "a_long_stage_name in 600 out 540 rej 3"));
    assert_null(strchr(buf, '\n'));
    free(buf);
    gf_stats_free(&s);
}

/* One report of s (0 summary, 1 progress line, 2 Prometheus) as a
   malloc'd string. */
static char *report(gf_stats *s, int what)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    if (what == 0) {
        gf_stats_summary(s, f, 0);
    } else if (what == 1) {
        gf_stats_progress(s, f, 3000000000, 1000000000);
    } else {
        gf_buf b = {0};
        gf_stats_prometheus(s, &b, 3000000000);
        fwrite(b.data, 1, b.len, f);
        gf_buf_free(&b);
    }
    long len = ftell(f);
    assert_true(len >= 0);
    char *buf = calloc(1, (size_t)len + 1);
    assert_non_null(buf);
    rewind(f);
    assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    return buf;
}

/* Instances of other processes: no rows of zeros, an "elsewhere" line. */
static void test_remote(void **state)
{
    (void)state;
    gf_stats *s = filled();
    /* gen and instance 1 of a_long_stage_name run elsewhere: their
       counters were filled above, yet must not count */
    gf_stats_set_remote(s, 0, 0);
    gf_stats_set_remote(s, 1, 1);
    gf_stage_stats st;
    gf_stats_sum(s, 1, 0, &st);
    assert_int_equal(st.in, 400); /* 100 + 300 */
    assert_int_equal(st.out, 360);
    assert_int_equal(st.rejected, 2);
    assert_true(st.seconds > 1.499 && st.seconds < 1.501);

    char *buf = report(s, 0);
    const char *l2 = strchr(buf, '\n') + 1;
    const char *l3 = strchr(l2, '\n') + 1;
    char name[64];
    unsigned long long in, out, rej, drop;
    double secs, rate;
    assert_int_equal(sscanf(l2, "%63s %llu %llu %llu %llu %lf %lf", name, &in,
                            &out, &rej, &drop, &secs, &rate),
                     7);
    assert_string_equal(name, "a_long_stage_name#0,2");
    assert_int_equal(in, 400);
    assert_int_equal(out, 360);
    assert_string_equal(l3, "elsewhere (other processes): gen, "
                            "a_long_stage_name#1\n");
    assert_null(strstr(buf, "\ngen "));
    assert_int_equal((size_t)(l2 - buf), (size_t)(l3 - l2)); /* aligned */
    free(buf);

    buf = report(s, 1);
    assert_null(strstr(buf, "gen"));
    assert_non_null(strstr(buf, "a_long_stage_name#0,2 in 400 out 360 rej 2"));
    free(buf);

    buf = report(s, 2);
    assert_null(strstr(buf, "stage=\"gen\""));
    assert_non_null(strstr(
        buf, "gigflow_records_in_total{stage=\"a_long_stage_name\"} 400\n"));
    assert_non_null(strstr(
        buf, "gigflow_stage_instances{stage=\"a_long_stage_name\"} 2\n"));
    free(buf);
    gf_stats_free(&s);

    /* everything here: no elsewhere line */
    s = filled();
    buf = report(s, 0);
    assert_null(strstr(buf, "elsewhere"));
    free(buf);
    buf = report(s, 2);
    assert_non_null(strstr(buf, "gigflow_stage_instances{stage=\"gen\"} 1\n"));
    assert_non_null(strstr(
        buf, "gigflow_stage_instances{stage=\"a_long_stage_name\"} 3\n"));
    free(buf);
    gf_stats_free(&s);
}

static void test_alloc_failure(void **state)
{
    (void)state;
    for (long n = 0; n < 5; n++) {
        gf_alloc_fail_after(n);
        gf_stats *s = gf_stats_new(2, names, inst);
        gf_alloc_fail_reset();
        if (s) {
            assert_true(n >= 4);
            gf_stats_free(&s);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sum),
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_remote),
        cmocka_unit_test(test_alloc_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
