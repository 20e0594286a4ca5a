/*
 * test_dist - the parts of gf_dist that need no sockets: placement of
 * `--stage NAME[#I]` specs on a hand-built pipeline (which instance slots
 * are marked, and the message for each wrong spec), and the per-process
 * file names (gf_dist_own_path). The links themselves are exercised by
 * tests/integration/dist_*.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gf_alloc.h"
#include "gf_dist.h"

static void test_own_path(void **state)
{
    (void)state;
    static const struct {
        const char *path, *spec, *want;
    } cases[] = {
        {"out/dead.jsonl", "sector#1", "out/dead.sector.1.jsonl"},
        {"dead.jsonl", "members", "dead.members.jsonl"},
        {"out/dead", "groups#0", "out/dead.groups.0"},
        {"out.d/dead", "x", "out.d/dead.x"},         /* a dot in a directory */
        {"/abs/.hidden", "x#2", "/abs/.hidden.x.2"}, /* a dot file */
        {"a/b.c.jsonl", "s", "a/b.c.s.jsonl"},       /* the last extension */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = gf_dist_own_path(cases[i].path, cases[i].spec);
        assert_non_null(got);
        assert_string_equal(got, cases[i].want);
        gf_free(got);
    }
    gf_alloc_fail_after(0);
    assert_null(gf_dist_own_path("dead.jsonl", "s"));
    gf_alloc_fail_reset();
}

/* members (1 worker), sector (2), groups (3) */
static gf_pipeline *three(void)
{
    static gf_stage_def st[3];
    static gf_pipeline p;
    static char names[3][8] = {"members", "sector", "groups"};
    static char file[] = "p.yaml";
    memset(st, 0, sizeof st);
    memset(&p, 0, sizeof p);
    for (unsigned i = 0; i < 3; i++) {
        st[i].name = names[i];
        st[i].workers = i + 1;
    }
    p.file = file;
    p.stages = st;
    p.nstages = 3;
    return &p;
}

static void test_place(void **state)
{
    (void)state;
    const gf_pipeline *p = three();
    const size_t first[] = {0, 1, 3};
    unsigned char local[6];
    char *err = NULL;

    const char *ok[] = {"members", "sector#1", "groups#0", "groups#2"};
    memset(local, 0, sizeof local);
    assert_int_equal(gf_dist_place(p, ok, 4, first, local, &err), 0);
    const unsigned char want[] = {1, 0, 1, 1, 0, 1};
    assert_memory_equal(local, want, sizeof want);

    static const struct {
        const char *spec, *msg;
    } bad[] = {
        {"nosuch", "--stage nosuch: no stage named 'nosuch' in p.yaml"},
        {"sector", "stage sector has 2 workers: name one instance, "
                   "--stage sector#I (I from 0 to 1)"},
        {"sector#2", "stage sector has 2 workers: the instance is 0 to 1"},
        {"groups#", "stage groups has 3 workers: the instance is 0 to 2"},
        {"groups#1x", "stage groups has 3 workers: the instance is 0 to 2"},
        {"members#1", "stage members has 1 worker: the instance is 0 to 0"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *spec[] = {bad[i].spec};
        memset(local, 0, sizeof local);
        err = NULL;
        assert_int_equal(gf_dist_place(p, spec, 1, first, local, &err), -1);
        assert_non_null(err);
        if (!strstr(err, bad[i].msg))
            fail_msg("%s: got \"%s\"", bad[i].spec, err);
        gf_free(err);
        for (size_t k = 0; k < sizeof local; k++)
            assert_int_equal(local[k], 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_own_path),
        cmocka_unit_test(test_place),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
