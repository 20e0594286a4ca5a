/*
 * test_record - gf_record: field lookup, iteration over fields, array
 * elements and map entries, on records packed with msgpack-c. Expected
 * values are the ones packed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "gf_mp.h"
#include "gf_record.h"
#include "unit_util.h"

typedef struct fixture {
    msgpack_sbuffer sb;
    uint8_t *data;
    gf_record rec;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    msgpack_sbuffer_init(&f->sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &f->sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 8);
    pk_str(&pk, "kind");
    pk_str(&pk, "member");
    pk_str(&pk, "age");
    msgpack_pack_int64(&pk, 29);
    pk_str(&pk, "ag"); /* a prefix of "age": must not match "age" */
    msgpack_pack_int64(&pk, 1);
    pk_str(&pk, "");
    pk_str(&pk, "empty key");
    pk_str(&pk, "roles");
    msgpack_pack_array(&pk, 3);
    pk_str(&pk, "liaison");
    msgpack_pack_int64(&pk, -5);
    msgpack_pack_array(&pk, 1);
    msgpack_pack_nil(&pk);
    pk_str(&pk, "meta");
    msgpack_pack_map(&pk, 2);
    msgpack_pack_int64(&pk, 1);
    pk_str(&pk, "one");
    pk_str(&pk, "two");
    msgpack_pack_double(&pk, 2.0);
    /* a key longer than 255 bytes: str16 */
    char longkey[300];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    pk_str(&pk, longkey);
    msgpack_pack_true(&pk);
    pk_str(&pk, "station");
    pk_str(&pk, "\xe6\x9c\x9d\xe9\x98\xb3"); /* 朝阳 */
    f->data = exact_copy(f->sb.data, f->sb.size);
    const char *why;
    assert_int_equal(gf_mp_check_batch(f->data, f->sb.size, 1, &why), 0);
    gf_record_view(&f->rec, f->data, f->sb.size);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    free(f->data);
    msgpack_sbuffer_destroy(&f->sb);
    free(f);
    return 0;
}

static void test_view(void **state)
{
    fixture *f = *state;
    assert_int_equal(f->rec.nfields, 8);
    assert_ptr_equal(f->rec.data, f->data);
    assert_int_equal(f->rec.len, f->sb.size);
}

static void test_get(void **state)
{
    fixture *f = *state;
    gf_value v;
    assert_true(gf_record_get(&f->rec, "kind", &v));
    assert_int_equal(v.type, GF_T_STR);
    assert_true(gf_str_eq(v.v.s, "member"));
    assert_true(gf_record_get(&f->rec, "age", &v));
    assert_int_equal(v.type, GF_T_INT);
    assert_int_equal(v.v.i, 29);
    assert_true(gf_record_get(&f->rec, "ag", &v));
    assert_int_equal(v.v.i, 1);
    assert_true(gf_record_get(&f->rec, "", &v));
    assert_true(gf_str_eq(v.v.s, "empty key"));
    assert_true(gf_record_get(&f->rec, "station", &v));
    assert_int_equal(v.v.s.len, 6);
    /* raw covers the encoded value */
    assert_int_equal(v.raw_len, 7);
    assert_int_equal(v.raw[0], 0xa6);

    char longkey[300];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    assert_true(gf_record_get(&f->rec, longkey, &v));
    assert_int_equal(v.type, GF_T_BOOL);
    assert_true(v.v.b);

    /* absent: false and nil */
    v.type = GF_T_INT;
    assert_false(gf_record_get(&f->rec, "missing", &v));
    assert_int_equal(v.type, GF_T_NIL);
    assert_false(gf_record_get(&f->rec, "agex", &v));
    assert_false(gf_record_get(&f->rec, "Age", &v));
    /* out may be NULL: presence only */
    assert_true(gf_record_get(&f->rec, "meta", NULL));

    /* get_n with a key that is not NUL-terminated */
    const char *buf = "agexyz";
    assert_true(gf_record_get_n(&f->rec, buf, 3, &v));
    assert_int_equal(v.v.i, 29);
    assert_true(gf_record_get_n(&f->rec, buf, 2, &v));
    assert_int_equal(v.v.i, 1);
    assert_false(gf_record_get_n(&f->rec, buf, 4, &v));
}

static void test_next(void **state)
{
    fixture *f = *state;
    static const char *keys[] = {"kind",  "age",  "ag", "",
                                 "roles", "meta", NULL, "station"};
    gf_iter it = {0};
    gf_str k;
    gf_value v;
    int i = 0;
    while (gf_record_next(&f->rec, &it, &k, &v)) {
        if (keys[i])
            assert_true(gf_str_eq(k, keys[i]));
        else
            assert_int_equal(k.len, 299);
        i++;
    }
    assert_int_equal(i, 8);
    assert_false(gf_record_next(&f->rec, &it, &k, &v)); /* stays at end */

    /* key or value may be NULL */
    gf_iter it2 = {0};
    i = 0;
    while (gf_record_next(&f->rec, &it2, NULL, NULL))
        i++;
    assert_int_equal(i, 8);
}

static void test_elem_entry(void **state)
{
    fixture *f = *state;
    gf_value arr, e;
    assert_true(gf_record_get(&f->rec, "roles", &arr));
    assert_int_equal(arr.type, GF_T_ARRAY);
    assert_int_equal(arr.n, 3);
    gf_iter it = {0};
    assert_true(gf_value_elem(&arr, &it, &e));
    assert_true(e.type == GF_T_STR && gf_str_eq(e.v.s, "liaison"));
    assert_true(gf_value_elem(&arr, &it, &e));
    assert_true(e.type == GF_T_INT && e.v.i == -5);
    assert_true(gf_value_elem(&arr, &it, &e));
    assert_int_equal(e.type, GF_T_ARRAY);
    gf_iter in = {0};
    gf_value nil;
    assert_true(gf_value_elem(&e, &in, &nil));
    assert_int_equal(nil.type, GF_T_NIL);
    assert_false(gf_value_elem(&e, &in, &nil));
    assert_false(gf_value_elem(&arr, &it, &e));

    gf_value map, k, v;
    assert_true(gf_record_get(&f->rec, "meta", &map));
    assert_int_equal(map.type, GF_T_MAP);
    assert_int_equal(map.n, 2);
    gf_iter mi = {0};
    assert_true(gf_value_entry(&map, &mi, &k, &v));
    assert_true(k.type == GF_T_INT && k.v.i == 1);
    assert_true(v.type == GF_T_STR && gf_str_eq(v.v.s, "one"));
    assert_true(gf_value_entry(&map, &mi, &k, &v));
    assert_true(k.type == GF_T_STR && gf_str_eq(k.v.s, "two"));
    assert_true(v.type == GF_T_FLOAT && v.v.f == 2.0);
    assert_false(gf_value_entry(&map, &mi, &k, &v));

    /* wrong types are refused, not misread */
    gf_iter bad = {0};
    assert_false(gf_value_elem(&map, &bad, &e));
    gf_iter bad2 = {0};
    assert_false(gf_value_entry(&arr, &bad2, &k, &v));
}

static void test_empty_and_odd_records(void **state)
{
    (void)state;
    uint8_t empty = 0x80;
    gf_record rec;
    gf_record_view(&rec, &empty, 1);
    assert_int_equal(rec.nfields, 0);
    gf_value v;
    assert_false(gf_record_get(&rec, "x", &v));
    gf_iter it = {0};
    assert_false(gf_record_next(&rec, &it, NULL, NULL));

    /* map16 header holding a pair with an int key (skipped) and "a" */
    uint8_t m16[] = {0xde, 0x00, 0x02, 0x05, 0x06, 0xa1, 'a', 0x07};
    gf_record_view(&rec, m16, sizeof m16);
    assert_int_equal(rec.nfields, 2);
    assert_true(gf_record_get(&rec, "a", &v));
    assert_int_equal(v.v.i, 7);
    gf_iter it2 = {0};
    gf_str k;
    assert_true(gf_record_next(&rec, &it2, &k, &v));
    assert_true(gf_str_eq(k, "a"));
    assert_false(gf_record_next(&rec, &it2, &k, &v));

    /* NULL record: absent */
    assert_false(gf_record_get(NULL, "a", &v));
    assert_int_equal(v.type, GF_T_NIL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_view, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_next, setup, teardown),
        cmocka_unit_test_setup_teardown(test_elem_entry, setup, teardown),
        cmocka_unit_test(test_empty_and_odd_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
