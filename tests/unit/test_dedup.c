/*
 * test_dedup - gf_dedup: first and repeated (origin, seq), unknown origins,
 * end of stream with the batch and record counts (expected values are the
 * sums written out by hand), a gap or a batch beyond K refused, repeated
 * EOS, completion over several origins, growth past the first bitmap
 * words, and every allocation failure.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
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
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
