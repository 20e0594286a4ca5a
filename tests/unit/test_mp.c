/*
 * test_mp - gf_mp: validation and zero-copy reading of MessagePack.
 *
 * Inputs are built with msgpack-c's packer (independent of gigflow), and
 * every object gf_mp accepts is also decoded with msgpack_unpack_next,
 * which must agree on its length and value. Malformed inputs: every
 * truncation of a valid record, bombs (huge declared counts and lengths in
 * a few bytes), nesting one level too deep, reserved and ext type bytes,
 * wrong record counts and trailing bytes in a batch.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <cmocka.h>

#include "gf_mp.h"
#include "unit_util.h"

/* A record with every type, nested array and map, long strings. */
static void pack_sample(msgpack_sbuffer *sb)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 12);
    pk_str(&pk, "kind");
    pk_str(&pk, "member");
    pk_str(&pk, "age");
    msgpack_pack_int64(&pk, 31);
    pk_str(&pk, "neg");
    msgpack_pack_int64(&pk, -70000);
    pk_str(&pk, "big");
    msgpack_pack_uint64(&pk, 18446744073709551615ull);
    pk_str(&pk, "pts");
    msgpack_pack_double(&pk, 12.5);
    pk_str(&pk, "f32");
    msgpack_pack_float(&pk, 0.25f);
    pk_str(&pk, "ok");
    msgpack_pack_true(&pk);
    pk_str(&pk, "none");
    msgpack_pack_nil(&pk);
    pk_str(&pk, "name");
    pk_str(&pk, "\xe5\xbc\xa0\xe4\xb8\x89 a name longer than thirty-one bytes");
    pk_str(&pk, "bin");
    msgpack_pack_bin(&pk, 3);
    msgpack_pack_bin_body(&pk, "\x00\x01\x02", 3);
    pk_str(&pk, "roles");
    msgpack_pack_array(&pk, 2);
    pk_str(&pk, "liaison");
    msgpack_pack_int64(&pk, 300);
    pk_str(&pk, "meta");
    msgpack_pack_map(&pk, 1);
    msgpack_pack_int64(&pk, 7); /* nested maps may have any keys */
    pk_str(&pk, "seven");
}

/* msgpack-c decodes [p, p+n) as exactly one object of n bytes. */
static void assert_msgpackc_agrees(const uint8_t *p, size_t n)
{
    msgpack_unpacked u;
    size_t off = 0;
    msgpack_unpacked_init(&u);
    msgpack_unpack_return r = msgpack_unpack_next(&u, (const char *)p, n, &off);
    assert_int_equal(r, MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(off, n);
    msgpack_unpacked_destroy(&u);
}

static void test_valid_record(void **state)
{
    (void)state;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    pack_sample(&sb);
    uint8_t *p = exact_copy(sb.data, sb.size);
    long n = gf_mp_check(p, p + sb.size, GF_MP_MAX_DEPTH);
    assert_int_equal(n, (long)sb.size);
    assert_msgpackc_agrees(p, sb.size);
    assert_ptr_equal(gf_mp_skip(p), p + sb.size);

    const char *why = NULL;
    assert_int_equal(gf_mp_check_batch(p, sb.size, 1, &why), 0);

    gf_value v;
    assert_ptr_equal(gf_mp_read(p, &v), p + sb.size);
    assert_int_equal(v.type, GF_T_MAP);
    assert_int_equal(v.n, 12);
    assert_int_equal(v.raw_len, sb.size);
    free(p);
    msgpack_sbuffer_destroy(&sb);
}

static void test_truncated_everywhere(void **state)
{
    (void)state;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    pack_sample(&sb);
    for (size_t cut = 0; cut < sb.size; cut++) {
        uint8_t *p = exact_copy(sb.data, cut);
        const char *why = NULL;
        assert_int_equal(gf_mp_check(p, p + cut, GF_MP_MAX_DEPTH), -1);
        assert_int_equal(gf_mp_check_batch(p, cut, 1, &why), -1);
        assert_non_null(why);
        free(p);
    }
    msgpack_sbuffer_destroy(&sb);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_bombs(void **state)
{
    (void)state;
    /* each declares far more than the 10 bytes it comes in */
    static const uint8_t bombs[][10] = {
        {0xdd, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02, 0x03, 0x04, 0x05},
        {0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, 0x61, 0x01, 0x02, 0x03},
        {0xdb, 0xff, 0xff, 0xff, 0xff, 0x61, 0x62, 0x63, 0x64, 0x65},
        {0xc6, 0xff, 0xff, 0xff, 0xff, 0x61, 0x62, 0x63, 0x64, 0x65},
        {0xdc, 0xff, 0xff, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07},
        {0xde, 0x00, 0x05, 0xa1, 0x61, 0x01, 0xa1, 0x62, 0x02, 0xc0},
        {0x91, 0x91, 0x91, 0xdd, 0x7f, 0xff, 0xff, 0xff, 0x00, 0x00},
        {0x81, 0xa1, 0x61, 0xdd, 0x80, 0x00, 0x00, 0x00, 0xc0, 0xc0},
    };
    double t0 = now_s();
    for (size_t i = 0; i < sizeof bombs / sizeof bombs[0]; i++) {
        uint8_t *p = exact_copy(bombs[i], 10);
        const char *why = NULL;
        assert_int_equal(gf_mp_check(p, p + 10, GF_MP_MAX_DEPTH), -1);
        assert_int_equal(gf_mp_check_batch(p, 10, 1, &why), -1);
        free(p);
    }
    /* a batch header claiming more records than bytes */
    uint8_t empty_map = 0x80;
    const char *why = NULL;
    assert_int_equal(gf_mp_check_batch(&empty_map, 1, 4000000000u, &why), -1);
    assert_string_equal(why, "record count larger than the payload");
    /* refused at the header: microseconds, not seconds */
    assert_true(now_s() - t0 < 0.5);
}

/* n nested arrays around a nil: [[[...nil...]]] */
static uint8_t *nested(unsigned n, size_t *len)
{
    uint8_t *p = calloc(1, n + 1);
    assert_non_null(p);
    memset(p, 0x91, n);
    p[n] = 0xc0;
    *len = n + 1;
    return p;
}

static void test_depth(void **state)
{
    (void)state;
    size_t len;
    uint8_t *p = nested(GF_MP_MAX_DEPTH, &len);
    assert_int_equal(gf_mp_check(p, p + len, GF_MP_MAX_DEPTH), (long)len);
    assert_int_equal(gf_mp_check(p, p + len, GF_MP_MAX_DEPTH - 1), -1);
    free(p);
    p = nested(GF_MP_MAX_DEPTH + 1, &len);
    assert_int_equal(gf_mp_check(p, p + len, GF_MP_MAX_DEPTH), -1);
    /* a larger max_depth is capped, not trusted */
    assert_int_equal(gf_mp_check(p, p + len, 1000), -1);
    free(p);
    p = nested(100000, &len);
    assert_int_equal(gf_mp_check(p, p + len, GF_MP_MAX_DEPTH), -1);
    free(p);

    /* a record (map at depth 1) whose value nests 31 more: 32 in all */
    uint8_t rec[64];
    size_t n = 0;
    rec[n++] = 0x81;
    rec[n++] = 0xa1;
    rec[n++] = 'x';
    for (int i = 0; i < GF_MP_MAX_DEPTH - 1; i++)
        rec[n++] = 0x91;
    rec[n++] = 0x01;
    const char *why = NULL;
    assert_int_equal(gf_mp_check_batch(rec, n, 1, &why), 0);
    /* one more level: 33 */
    memmove(rec + 4, rec + 3, n - 3);
    rec[3] = 0x91;
    n++;
    assert_int_equal(gf_mp_check_batch(rec, n, 1, &why), -1);
}

static void test_refused_bytes(void **state)
{
    (void)state;
    /* 0xc1 and every ext form, each followed by enough bytes */
    static const uint8_t bad[] = {0xc1, 0xc7, 0xc8, 0xc9, 0xd4,
                                  0xd5, 0xd6, 0xd7, 0xd8};
    for (size_t i = 0; i < sizeof bad; i++) {
        uint8_t buf[32] = {0};
        buf[0] = bad[i];
        buf[1] = 1;
        assert_int_equal(gf_mp_check(buf, buf + sizeof buf, 32), -1);
        /* inside an array too */
        uint8_t arr[33] = {0x91};
        memcpy(arr + 1, buf, 32);
        assert_int_equal(gf_mp_check(arr, arr + sizeof arr, 32), -1);
    }
    assert_int_equal(gf_mp_check(NULL, NULL, 32), -1);
    uint8_t one = 0xc0;
    assert_int_equal(gf_mp_check(&one, &one, 32), -1); /* empty */
}

static void test_scalars_read(void **state)
{
    (void)state;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    const int64_t ints[] = {
        0,         1,      127,    128,        255,
        256,       65535,  65536,  4294967295, 4294967296,
        INT64_MAX, -1,     -32,    -33,        -128,
        -129,      -32768, -32769, INT32_MIN,  (int64_t)INT32_MIN - 1,
        INT64_MIN};
    size_t nints = sizeof ints / sizeof ints[0];
    for (size_t i = 0; i < nints; i++)
        msgpack_pack_int64(&pk, ints[i]);
    /* explicit wide forms holding small values */
    msgpack_pack_fix_uint64(&pk, 5);
    msgpack_pack_fix_int8(&pk, -3);
    msgpack_pack_fix_int16(&pk, -300);
    msgpack_pack_fix_uint16(&pk, 40000);
    msgpack_pack_uint64(&pk, (uint64_t)INT64_MAX + 1);
    msgpack_pack_float(&pk, 1.5f);
    msgpack_pack_double(&pk, -2.25);
    msgpack_pack_false(&pk);
    msgpack_pack_nil(&pk);
    char big[70000];
    memset(big, 'z', sizeof big);
    msgpack_pack_str(&pk, sizeof big);
    msgpack_pack_str_body(&pk, big, sizeof big);
    msgpack_pack_bin(&pk, 300);
    msgpack_pack_bin_body(&pk, big, 300);
    msgpack_pack_array(&pk, 20);
    for (int i = 0; i < 20; i++)
        msgpack_pack_int64(&pk, i);

    uint8_t *buf = exact_copy(sb.data, sb.size);
    const uint8_t *p = buf, *end = buf + sb.size;
    gf_value v;
    for (size_t i = 0; i < nints; i++) {
        long n = gf_mp_check(p, end, 32);
        assert_true(n > 0);
        assert_msgpackc_agrees(p, (size_t)n);
        const uint8_t *q = gf_mp_read(p, &v);
        assert_int_equal(q - p, n);
        assert_int_equal(v.type, GF_T_INT);
        assert_true(v.v.i == ints[i]);
        assert_ptr_equal(v.raw, p);
        assert_int_equal(v.raw_len, n);
        p = q;
    }
    static const int64_t wide[] = {5, -3, -300, 40000};
    for (size_t i = 0; i < 4; i++) {
        p = gf_mp_read(p, &v);
        assert_int_equal(v.type, GF_T_INT);
        assert_true(v.v.i == wide[i]);
    }
    p = gf_mp_read(p, &v);
    assert_int_equal(v.type, GF_T_FLOAT);
    assert_true(v.v.f == 9223372036854775808.0);
    p = gf_mp_read(p, &v);
    assert_int_equal(v.type, GF_T_FLOAT);
    assert_true(v.v.f == 1.5);
    p = gf_mp_read(p, &v);
    assert_true(v.type == GF_T_FLOAT && v.v.f == -2.25);
    p = gf_mp_read(p, &v);
    assert_true(v.type == GF_T_BOOL && !v.v.b);
    p = gf_mp_read(p, &v);
    assert_int_equal(v.type, GF_T_NIL);
    assert_int_equal(gf_mp_check(p, end, 32), (long)(sizeof big + 5));
    p = gf_mp_read(p, &v);
    assert_int_equal(v.type, GF_T_STR);
    assert_int_equal(v.v.s.len, sizeof big);
    assert_int_equal(v.v.s.ptr[69999], 'z');
    p = gf_mp_read(p, &v);
    assert_int_equal(v.type, GF_T_BIN);
    assert_int_equal(v.v.s.len, 300);
    assert_int_equal(gf_mp_check(p, end, 32), end - p);
    p = gf_mp_read(p, &v);
    assert_int_equal(v.type, GF_T_ARRAY);
    assert_int_equal(v.n, 20);
    assert_ptr_equal(p, end);
    free(buf);
    msgpack_sbuffer_destroy(&sb);
}

static void pack_rec(msgpack_packer *pk, int i)
{
    msgpack_pack_map(pk, 2);
    pk_str(pk, "i");
    msgpack_pack_int64(pk, i);
    pk_str(pk, "s");
    pk_str(pk, "x");
}

static void test_batch(void **state)
{
    (void)state;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    for (int i = 0; i < 3; i++)
        pack_rec(&pk, i);
    uint8_t *p = exact_copy(sb.data, sb.size);
    const char *why = NULL;
    assert_int_equal(gf_mp_check_batch(p, sb.size, 3, &why), 0);
    assert_int_equal(gf_mp_check_batch(p, sb.size, 2, &why), -1);
    assert_string_equal(why, "bytes left after the last record");
    assert_int_equal(gf_mp_check_batch(p, sb.size, 4, &why), -1);
    assert_string_equal(why, "fewer records than the header's count");
    assert_int_equal(gf_mp_check_batch(p, sb.size, 0, &why), -1);
    assert_int_equal(gf_mp_check_batch(NULL, 0, 0, &why), 0);

    /* iterate */
    const uint8_t *pos = p;
    gf_record rec;
    int n = 0;
    while (gf_mp_batch_next(&pos, p + sb.size, &rec)) {
        assert_int_equal(rec.nfields, 2);
        gf_value v;
        gf_mp_read(rec.data + 3, &v); /* after 0x82 0xa1 'i' */
        assert_int_equal(v.v.i, n);
        n++;
    }
    assert_int_equal(n, 3);
    free(p);

    /* trailing garbage byte */
    msgpack_sbuffer_write(&sb, "\xc0", 1);
    p = exact_copy(sb.data, sb.size);
    assert_int_equal(gf_mp_check_batch(p, sb.size, 3, &why), -1);
    assert_string_equal(why, "bytes left after the last record");
    assert_int_equal(gf_mp_check_batch(p, sb.size, 4, &why), -1);
    assert_string_equal(why, "record is not a map");
    free(p);
    msgpack_sbuffer_destroy(&sb);

    /* a record that is not a map, a key that is not a string */
    uint8_t arr[] = {0x91, 0x01};
    assert_int_equal(gf_mp_check_batch(arr, sizeof arr, 1, &why), -1);
    assert_string_equal(why, "record is not a map");
    uint8_t intkey[] = {0x81, 0x01, 0x02};
    assert_int_equal(gf_mp_check_batch(intkey, sizeof intkey, 1, &why), -1);
    assert_string_equal(why, "record key is not a string");
    uint8_t longkey[] = {0x81, 0xda, 0x00, 0x01, 'k', 0x02};
    assert_int_equal(gf_mp_check_batch(longkey, sizeof longkey, 1, &why), 0);
    /* a string key running past the end */
    uint8_t cutkey[] = {0x81, 0xa5, 'k', 0x02};
    assert_int_equal(gf_mp_check_batch(cutkey, sizeof cutkey, 1, &why), -1);
    assert_string_equal(why, "truncated or malformed record");
}

/* Cheap deterministic generator (xorshift). */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void test_mutations_agree_with_msgpackc(void **state)
{
    (void)state;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    pack_sample(&sb);
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    int accepted = 0;
    for (int round = 0; round < 20000; round++) {
        uint8_t *p = exact_copy(sb.data, sb.size);
        int flips = 1 + (int)(rnd(&seed) % 4);
        for (int f = 0; f < flips; f++)
            p[rnd(&seed) % sb.size] = (uint8_t)rnd(&seed);
        size_t len = sb.size - (rnd(&seed) % 3 == 0 ? rnd(&seed) % sb.size : 0);
        long n = gf_mp_check(p, p + len, GF_MP_MAX_DEPTH);
        if (n >= 0) {
            accepted++;
            assert_true((size_t)n <= len);
            assert_msgpackc_agrees(p, (size_t)n);
            assert_ptr_equal(gf_mp_skip(p), p + n);
        }
        free(p);
    }
    assert_true(accepted > 0);
    msgpack_sbuffer_destroy(&sb);
}

/*
 * The batch check by definition, the slow way: each of `count` records is
 * one object gf_mp_check accepts, a map whose keys are all strings, and the
 * records fill the payload exactly.
 */
static bool batch_ok_reference(const uint8_t *p, size_t len, uint32_t count)
{
    const uint8_t *end = p + len;
    for (uint32_t r = 0; r < count; r++) {
        long n = gf_mp_check(p, end, GF_MP_MAX_DEPTH);
        if (n < 0)
            return false;
        gf_value m;
        gf_mp_read(p, &m);
        if (m.type != GF_T_MAP)
            return false;
        gf_value k, v;
        const uint8_t *q = p + (p[0] <= 0x8f ? 1 : p[0] == 0xde ? 3 : 5);
        for (uint32_t i = 0; i < m.n; i++) {
            q = gf_mp_read(q, &k);
            if (k.type != GF_T_STR)
                return false;
            q = gf_mp_read(q, &v);
        }
        p += n;
    }
    return p == end;
}

/* Four records: flat ones (what batches mostly hold, the fast path) and
   one with long strings, a str16 key and nested values. */
static void pack_batch(msgpack_sbuffer *sb)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    for (int i = 0; i < 3; i++) {
        msgpack_pack_map(&pk, 6);
        pk_str(&pk, "kind");
        pk_str(&pk, "member");
        pk_str(&pk, "platform");
        pk_str(&pk, "\xe7\xbe\x8e\xe5\x9b\xa2");
        pk_str(&pk, "age");
        msgpack_pack_int64(&pk, 20 + i);
        pk_str(&pk, "points");
        msgpack_pack_int64(&pk, 300 * i - 200);
        pk_str(&pk, "party");
        msgpack_pack_true(&pk);
        pk_str(&pk, "ratio");
        msgpack_pack_double(&pk, 0.5);
    }
    pack_sample(sb);
    msgpack_pack_map(&pk, 2);
    msgpack_pack_str(&pk, 300);
    char key[300];
    memset(key, 'k', sizeof key);
    msgpack_pack_str_body(&pk, key, sizeof key);
    msgpack_pack_nil(&pk);
    pk_str(&pk, "z");
    msgpack_pack_int64(&pk, 1);
}

static void test_batch_mutations_agree_with_reference(void **state)
{
    (void)state;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    pack_batch(&sb);
    uint8_t *whole = exact_copy(sb.data, sb.size);
    assert_true(batch_ok_reference(whole, sb.size, 5));
    assert_int_equal(gf_mp_check_batch(whole, sb.size, 5, NULL), 0);
    free(whole);
    uint64_t seed = 0x2545f4914f6cdd1dull;
    int accepted = 0, refused = 0;
    for (int round = 0; round < 50000; round++) {
        uint8_t *p = exact_copy(sb.data, sb.size);
        int flips = (int)(rnd(&seed) % 4);
        for (int f = 0; f < flips; f++)
            p[rnd(&seed) % sb.size] = (uint8_t)rnd(&seed);
        size_t len = sb.size - (rnd(&seed) % 4 == 0 ? rnd(&seed) % sb.size : 0);
        uint32_t count = 5 - (uint32_t)(rnd(&seed) % 3);
        bool want = batch_ok_reference(p, len, count);
        const char *why = NULL;
        int got = gf_mp_check_batch(p, len, count, &why);
        if (want != (got == 0))
            fail_msg("round %d: reference says %d, gf_mp_check_batch %d (%s)",
                     round, want, got, why ? why : "");
        if (got == 0) {
            /* accepted: the reader walks the same records */
            accepted++;
            const uint8_t *pos = p;
            gf_record rec;
            uint32_t n = 0;
            while (gf_mp_batch_next(&pos, p + len, &rec)) {
                long sz = gf_mp_check(rec.data, p + len, GF_MP_MAX_DEPTH);
                assert_int_equal(sz, (long)rec.len);
                n++;
            }
            assert_int_equal(n, count);
        } else {
            refused++;
            assert_non_null(why);
        }
        free(p);
    }
    assert_true(accepted > 100 && refused > 100);
    msgpack_sbuffer_destroy(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_record),
        cmocka_unit_test(test_truncated_everywhere),
        cmocka_unit_test(test_bombs),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_refused_bytes),
        cmocka_unit_test(test_scalars_read),
        cmocka_unit_test(test_batch),
        cmocka_unit_test(test_mutations_agree_with_msgpackc),
        cmocka_unit_test(test_batch_mutations_agree_with_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
