/*
 * test_srcpos - the run's table of source file names: one index per name
 * (from 1; 0 is unknown), names read back by index, growth past the first
 * hash size, several threads interning the same names at once (each name
 * must get one index whichever thread saw it first), and an allocation-
 * failure walk (run under ASan for leaks).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gf_alloc.h"
#include "gf_srcpos.h"

static void test_intern_and_name(void **state)
{
    (void)state;
    gf_srcpos_table *t = gf_srcpos_table_new();
    assert_non_null(t);
    assert_null(gf_srcpos_name(t, 0));
    assert_null(gf_srcpos_name(t, 1));
    const char *stored = "x";
    assert_int_equal(gf_srcpos_intern(t, NULL, &stored), 0);
    assert_null(stored);
    assert_int_equal(gf_srcpos_intern(NULL, "a", NULL), 0);

    char buf[32];
    strcpy(buf, "/data/members.csv");
    uint32_t a = gf_srcpos_intern(t, buf, &stored);
    assert_int_equal(a, 1);
    assert_string_equal(stored, "/data/members.csv");
    assert_ptr_not_equal(stored, buf); /* a copy */
    strcpy(buf, "/data/orgs.csv");     /* the caller's buffer changes */
    assert_string_equal(gf_srcpos_name(t, a), "/data/members.csv");
    uint32_t b = gf_srcpos_intern(t, buf, NULL);
    assert_int_equal(b, 2);
    assert_int_equal(gf_srcpos_intern(t, "/data/members.csv", NULL), a);
    assert_int_equal(gf_srcpos_intern(t, "", NULL), 3); /* empty is a name */
    assert_string_equal(gf_srcpos_name(t, 3), "");
    assert_null(gf_srcpos_name(t, 4));
    assert_true(gf_srcpos_known((gf_srcpos){0, 1}));
    assert_true(gf_srcpos_known((gf_srcpos){1, 0}));
    assert_false(gf_srcpos_known((gf_srcpos){0, 0}));
    gf_srcpos_table_free(&t);
    assert_null(t);
    gf_srcpos_table_free(&t); /* NULL is fine */
    gf_srcpos_table_free(NULL);
}

/* Thousands of names: the hash grows; every name keeps its index and its
   text, and names are not confused with their prefixes. */
static void test_many(void **state)
{
    (void)state;
    gf_srcpos_table *t = gf_srcpos_table_new();
    assert_non_null(t);
    char name[32];
    for (uint32_t i = 0; i < 5000; i++) {
        snprintf(name, sizeof name, "file-%u.csv", i);
        assert_int_equal(gf_srcpos_intern(t, name, NULL), i + 1);
    }
    for (uint32_t i = 0; i < 5000; i++) {
        snprintf(name, sizeof name, "file-%u.csv", i);
        assert_int_equal(gf_srcpos_intern(t, name, NULL), i + 1);
        assert_string_equal(gf_srcpos_name(t, i + 1), name);
    }
    assert_int_equal(gf_srcpos_intern(t, "file-1", NULL), 5001);
    gf_srcpos_table_free(&t);
}

typedef struct worker {
    gf_srcpos_table *t;
    unsigned seed;
    uint32_t idx[64]; /* index each name got */
} worker;

static void *intern_all(void *arg)
{
    worker *w = arg;
    char name[32];
    for (int round = 0; round < 200; round++) {
        for (unsigned k = 0; k < 64; k++) {
            unsigned i = (k * 7 + w->seed + (unsigned)round) % 64;
            snprintf(name, sizeof name, "in/%u.jsonl", i);
            uint32_t got = gf_srcpos_intern(w->t, name, NULL);
            if (w->idx[i] == 0)
                w->idx[i] = got;
            else if (w->idx[i] != got)
                w->idx[i] = UINT32_MAX; /* changed: reported below */
            const char *back = gf_srcpos_name(w->t, got);
            if (!back || strcmp(back, name) != 0)
                w->idx[i] = UINT32_MAX;
        }
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    gf_srcpos_table *t = gf_srcpos_table_new();
    assert_non_null(t);
    worker w[4];
    pthread_t th[4];
    for (unsigned i = 0; i < 4; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].t = t;
        w[i].seed = i * 13;
        assert_int_equal(pthread_create(&th[i], NULL, intern_all, &w[i]), 0);
    }
    for (unsigned i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    /* one index per name, the same in every thread, 64 in all */
    int seen[65] = {0};
    for (unsigned k = 0; k < 64; k++) {
        for (unsigned i = 0; i < 4; i++) {
            assert_true(w[i].idx[k] >= 1 && w[i].idx[k] <= 64);
            assert_int_equal(w[i].idx[k], w[0].idx[k]);
        }
        seen[w[0].idx[k]]++;
    }
    for (unsigned i = 1; i <= 64; i++)
        assert_int_equal(seen[i], 1);
    assert_null(gf_srcpos_name(t, 65));
    gf_srcpos_table_free(&t);
}

/* One pass of everything that allocates; 0 when all succeeded. */
static int alloc_scenario(void)
{
    gf_srcpos_table *t = gf_srcpos_table_new();
    if (!t)
        return -1;
    int failed = 0;
    char name[32];
    for (uint32_t i = 0; i < 40 && !failed; i++) {
        snprintf(name, sizeof name, "f%u", i);
        uint32_t got = gf_srcpos_intern(t, name, NULL);
        if (got == 0)
            failed = 1; /* nothing half-added: the next one may work */
        else
            assert_string_equal(gf_srcpos_name(t, got), name);
    }
    gf_srcpos_table_free(&t);
    return failed ? -1 : 0;
}

static void test_alloc_failures(void **state)
{
    (void)state;
    int ok = 0;
    for (long n = 0; n < 500 && !ok; n++) {
        gf_alloc_fail_after(n);
        ok = alloc_scenario() == 0;
        gf_alloc_fail_reset();
    }
    assert_true(ok);
    /* a failed intern leaves the table consistent */
    gf_srcpos_table *t = gf_srcpos_table_new();
    assert_non_null(t);
    assert_int_equal(gf_srcpos_intern(t, "a", NULL), 1);
    gf_alloc_fail_after(0);
    const char *stored = "x";
    assert_int_equal(gf_srcpos_intern(t, "b", &stored), 0);
    assert_null(stored);
    assert_int_equal(gf_srcpos_intern(t, "a", NULL), 1); /* no allocation */
    gf_alloc_fail_reset();
    assert_int_equal(gf_srcpos_intern(t, "b", NULL), 2);
    assert_string_equal(gf_srcpos_name(t, 2), "b");
    gf_srcpos_table_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_intern_and_name),
        cmocka_unit_test(test_many),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
