/*
 * test_buf_alloc - gf_buf (growable buffer) and gf_alloc (the allocation
 * hook with failure injection that every other allocation test relies on).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gf_alloc.h"
#include "gf_buf.h"

static void test_buf(void **state)
{
    (void)state;
    gf_buf b = {0};
    assert_int_equal(gf_buf_append(&b, "abc", 3), 0);
    assert_int_equal(gf_buf_puts(&b, "de"), 0);
    assert_int_equal(gf_buf_printf(&b, "-%d-%s", 42, "x"), 0);
    assert_int_equal(b.len, 10);
    assert_memory_equal(b.data, "abcde-42-x", 10);
    assert_int_equal(gf_buf_append(&b, NULL, 0), 0);
    assert_int_equal(b.len, 10);
    /* grows: 100,000 single bytes */
    for (int i = 0; i < 100000; i++)
        assert_int_equal(gf_buf_append(&b, "z", 1), 0);
    assert_int_equal(b.len, 100010);
    assert_true(b.cap >= b.len);
    assert_int_equal(b.data[100009], 'z');
    size_t cap = b.cap;
    gf_buf_clear(&b);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, cap); /* memory kept */
    /* a reserve that cannot be satisfied leaves the buffer intact */
    assert_int_equal(gf_buf_puts(&b, "keep"), 0);
    assert_int_equal(gf_buf_reserve(&b, SIZE_MAX), -ENOMEM);
    assert_int_equal(gf_buf_reserve(&b, SIZE_MAX - 2), -ENOMEM);
    assert_int_equal(b.len, 4);
    assert_memory_equal(b.data, "keep", 4);
    /* a long printf */
    char big[5000];
    memset(big, 'p', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(gf_buf_printf(&b, "%s|", big), 0);
    assert_int_equal(b.len, 4 + 4999 + 1);
    assert_int_equal(b.data[b.len - 1], '|');
    gf_buf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    gf_buf_free(&b); /* twice is fine */
}

static void test_buf_alloc_failure(void **state)
{
    (void)state;
    gf_buf b = {0};
    assert_int_equal(gf_buf_puts(&b, "abc"), 0);
    size_t cap = b.cap;
    uint8_t *data = b.data;
    gf_alloc_fail_after(0);
    char big[1024] = {0};
    assert_int_equal(gf_buf_append(&b, big, sizeof big), -ENOMEM);
    assert_int_equal(gf_buf_printf(&b, "%1000d", 1), -ENOMEM);
    gf_alloc_fail_reset();
    assert_ptr_equal(b.data, data);
    assert_int_equal(b.cap, cap);
    assert_int_equal(b.len, 3);
    assert_int_equal(gf_buf_append(&b, big, sizeof big), 0);
    gf_buf_free(&b);
}

static void test_alloc_countdown(void **state)
{
    (void)state;
    gf_alloc_fail_after(2);
    void *a = gf_malloc(10);
    void *b = gf_calloc(2, 8);
    void *c = gf_malloc(10);
    void *d = gf_realloc(NULL, 10);
    char *e = gf_strdup("x");
    assert_non_null(a);
    assert_non_null(b);
    assert_null(c);
    assert_null(d);
    assert_null(e);
    assert_null(gf_asprintf("%d", 1));
    gf_alloc_fail_reset();
    c = gf_malloc(10);
    assert_non_null(c);
    assert_int_equal(((unsigned char *)b)[15], 0); /* calloc zeroes */
    gf_free(a);
    gf_free(b);
    gf_free(c);
    gf_free(NULL);
    /* a negative count disarms */
    gf_alloc_fail_after(-1);
    a = gf_malloc(1);
    assert_non_null(a);
    gf_free(a);
    /* zero-size requests still return something freeable */
    a = gf_malloc(0);
    assert_non_null(a);
    gf_free(a);
}

static void test_strings(void **state)
{
    (void)state;
    char *s = gf_strdup("hello");
    assert_string_equal(s, "hello");
    gf_free(s);
    assert_null(gf_strdup(NULL));
    s = gf_strndup("hello", 3);
    assert_string_equal(s, "hel");
    gf_free(s);
    s = gf_asprintf("%s-%d", "a", 7);
    assert_string_equal(s, "a-7");
    gf_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf),
        cmocka_unit_test(test_buf_alloc_failure),
        cmocka_unit_test(test_alloc_countdown),
        cmocka_unit_test(test_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
