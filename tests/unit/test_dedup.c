/*
 * test_dedup - gf_dedup: first and repeated (origin, seq), unknown origins,
 * end of stream with the batch and record counts (expected values are the
 * sums written out by hand), a gap or a batch beyond K refused, repeated
 * EOS, completion over several origins, growth past the first bitmap
 * words, shares of a stage with several instances (which seqs of 1..K
 * each takes, written out by hand), and every allocation failure.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "gf_alloc.h"
#include "gf_dedup.h"

static void test_take_and_eos(void **state)
{
    (void)state;
    const uint64_t ids[] = {7, 9};
    gf_dedup *d = gf_dedup_new(ids, 2);
    assert_non_null(d);
    char why[256];
    assert_int_equal(gf_dedup_take(d, 7, 1, 10), GF_DEDUP_NEW);
    assert_int_equal(gf_dedup_take(d, 7, 3, 30), GF_DEDUP_NEW);
    assert_int_equal(gf_dedup_take(d, 7, 1, 10), GF_DEDUP_DUP);
    assert_int_equal(gf_dedup_take(d, 8, 1, 10), GF_DEDUP_UNKNOWN);
    assert_int_equal(gf_dedup_take(d, 7, 0, 10), GF_DEDUP_UNKNOWN);
    assert_int_equal(gf_dedup_duplicates(d), 1);
    /* 2 is missing: K = 3 refused */
    assert_int_equal(gf_dedup_eos(d, 7, 3, 60, true, why, sizeof why), -EPROTO);
    assert_non_null(strstr(why, "3 batches, 2 distinct"));
    assert_int_equal(gf_dedup_take(d, 7, 2, 20), GF_DEDUP_NEW);
    /* records: 10 + 20 + 30 = 60, not 61 */
    assert_int_equal(gf_dedup_eos(d, 7, 3, 61, true, why, sizeof why), -EPROTO);
    assert_non_null(strstr(why, "61 records, 60 arrived"));
    /* forwarded EOS: records not checked */
    assert_int_equal(gf_dedup_eos(d, 7, 3, 61, false, why, sizeof why), 1);
    assert_false(gf_dedup_done(d));
    assert_int_equal(gf_dedup_waiting_for(d), 9);
    assert_int_equal(gf_dedup_eos(d, 7, 3, 60, true, why, sizeof why), 0);
    assert_int_equal(gf_dedup_eos(d, 5, 0, 0, true, why, sizeof why),
                     GF_DEDUP_UNKNOWN);
    /* origin 9 made nothing */
    assert_int_equal(gf_dedup_eos(d, 9, 0, 0, true, why, sizeof why), 1);
    assert_true(gf_dedup_done(d));
    assert_int_equal(gf_dedup_waiting_for(d), 0);
    gf_dedup_free(&d);
    assert_null(d);
    gf_dedup_free(NULL);
}

static void test_beyond_k_and_growth(void **state)
{
    (void)state;
    const uint64_t ids[] = {1};
    gf_dedup *d = gf_dedup_new(ids, 1);
    assert_non_null(d);
    char why[256];
    /* 5000 batches, in reverse order: the bitmap grows several times */
    for (uint64_t s = 5000; s >= 1; s--)
        assert_int_equal(gf_dedup_take(d, 1, s, 1), GF_DEDUP_NEW);
    for (uint64_t s = 1; s <= 5000; s += 499)
        assert_int_equal(gf_dedup_take(d, 1, s, 1), GF_DEDUP_DUP);
    assert_int_equal(gf_dedup_take(d, 1, 5002, 1), GF_DEDUP_NEW);
    /* 5001 distinct but 5002 > K = 5001 */
    assert_int_equal(gf_dedup_eos(d, 1, 5001, 5001, true, why, sizeof why),
                     -EPROTO);
    assert_non_null(strstr(why, "highest 5002"));
    gf_dedup_free(&d);
}

/* Origin 5 split over 3 instances, K = 10: (5 + s) % 3 gives instance 0
   the seqs 1 4 7 10, instance 1 2 5 8, instance 2 3 6 9. */
static void test_shares(void **state)
{
    (void)state;
    static const uint64_t mine[3][5] = {{1, 4, 7, 10}, {2, 5, 8}, {3, 6, 9}};
    static const size_t nmine[3] = {4, 3, 3};
    const uint64_t ids[] = {5, 11};
    char why[256];
    for (unsigned k = 0; k < 3; k++) {
        gf_dedup *d = gf_dedup_new(ids, 2);
        assert_non_null(d);
        assert_int_equal(gf_dedup_share(d, 5, k, 3), 0);
        assert_int_equal(gf_dedup_share(d, 6, k, 3), GF_DEDUP_UNKNOWN);
        assert_int_equal(gf_dedup_share(d, 5, 3, 3), -EINVAL);
        for (uint64_t s = 1; s <= 10; s++) {
            bool own = false;
            for (size_t i = 0; i < nmine[k]; i++)
                own |= mine[k][i] == s;
            assert_int_equal(gf_dedup_route(5, s, 3) == k, own);
            assert_int_equal(gf_dedup_take(d, 5, s, (uint32_t)s),
                             own ? GF_DEDUP_NEW : GF_DEDUP_ELSEWHERE);
        }
        /* records of the share: instance 0 1+4+7+10 = 22, 1: 15, 2: 18 */
        static const uint32_t recs[3] = {22, 15, 18};
        assert_int_equal(
            gf_dedup_eos(d, 5, 10, recs[k] + 1, true, why, sizeof why),
            -EPROTO);
        /* K = 11 would give instance 1 seq 11 too: missing there only */
        int r11 = gf_dedup_eos(d, 5, 11, recs[k], true, why, sizeof why);
        if (k == 1) {
            assert_int_equal(r11, -EPROTO);
            assert_non_null(strstr(why, "4 of them for instance 1 of 3"));
        } else {
            assert_int_equal(r11, 1);
        }
        if (k == 1)
            assert_int_equal(
                gf_dedup_eos(d, 5, 10, recs[k], true, why, sizeof why), 1);
        /* origin 11 is not shared: it expects all of 1..2 */
        assert_int_equal(gf_dedup_take(d, 11, 1, 1), GF_DEDUP_NEW);
        assert_int_equal(gf_dedup_eos(d, 11, 2, 1, true, why, sizeof why),
                         -EPROTO);
        assert_int_equal(gf_dedup_take(d, 11, 2, 1), GF_DEDUP_NEW);
        assert_int_equal(gf_dedup_eos(d, 11, 2, 2, true, why, sizeof why), 1);
        assert_true(gf_dedup_done(d));
        gf_dedup_free(&d);
    }
    /* an origin with no batches, and one with fewer batches than shares */
    const uint64_t one[] = {4};
    for (unsigned k = 0; k < 3; k++) {
        gf_dedup *d = gf_dedup_new(one, 1);
        assert_int_equal(gf_dedup_share(d, 4, k, 3), 0);
        assert_int_equal(gf_dedup_eos(d, 4, 0, 0, true, why, sizeof why), 1);
        gf_dedup_free(&d);
        d = gf_dedup_new(one, 1);
        assert_int_equal(gf_dedup_share(d, 4, k, 3), 0);
        /* K = 1: seq 1 goes to (4 + 1) % 3 = 2 */
        if (k == 2)
            assert_int_equal(gf_dedup_take(d, 4, 1, 7), GF_DEDUP_NEW);
        assert_int_equal(
            gf_dedup_eos(d, 4, 1, k == 2 ? 7 : 0, true, why, sizeof why), 1);
        gf_dedup_free(&d);
    }
}

static void test_alloc_failures(void **state)
{
    (void)state;
    const uint64_t ids[] = {1};
    for (long n = 0; n < 2; n++) {
        gf_alloc_fail_after(n);
        gf_dedup *d = gf_dedup_new(ids, 1);
        gf_alloc_fail_after(-1);
        assert_null(d);
    }
    gf_dedup *d = gf_dedup_new(ids, 1);
    assert_non_null(d);
    gf_alloc_fail_after(0);
    assert_int_equal(gf_dedup_take(d, 1, 1, 1), -ENOMEM);
    gf_alloc_fail_after(-1);
    /* nothing was recorded: the same batch is new afterwards */
    assert_int_equal(gf_dedup_take(d, 1, 1, 1), GF_DEDUP_NEW);
    gf_dedup_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_take_and_eos),
        cmocka_unit_test(test_beyond_k_and_growth),
        cmocka_unit_test(test_shares),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
