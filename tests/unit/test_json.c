/*
 * test_json - gf_json: records rendered as JSON, and JSON objects turned
 * into fields. Inputs are packed with msgpack-c; expected JSON text is
 * written by hand from the rules (RFC 8259 escapes, U+FFFD per maximal
 * invalid subpart as in the Unicode standard's table 3-8, RFC 4648 base64
 * test vectors); every rendering is also parsed by jansson to prove it is
 * valid JSON.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>
#include <jansson.h>

#include "gf_alloc.h"
#include "gf_json.h"
#include "gf_mp.h"
#include "gf_out.h"
#include "gf_record.h"
#include "unit_util.h"

/* Render one value given as MessagePack bytes; returns a malloc'd string. */
static char *render_value(const uint8_t *mp, size_t n)
{
    uint8_t *p = exact_copy(mp, n);
    assert_int_equal(gf_mp_check(p, p + n, GF_MP_MAX_DEPTH), (long)n);
    gf_value v;
    gf_mp_read(p, &v);
    gf_buf b = {0};
    assert_int_equal(gf_json_value(&b, &v), 0);
    char *s = strndup((const char *)b.data, b.len);
    gf_buf_free(&b);
    free(p);
    /* valid JSON (as a top-level value) */
    json_error_t je;
    json_t *j = json_loadb(s, strlen(s), JSON_DECODE_ANY, &je);
    if (!j)
        fail_msg("not valid JSON: %s (%s)", s, je.text);
    json_decref(j);
    return s;
}

static void expect_str(const char *in, size_t n, const char *want)
{
    gf_buf b = {0};
    assert_int_equal(gf_json_string(&b, in, n), 0);
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data, want, b.len);
    json_error_t je;
    json_t *j = json_loadb((const char *)b.data, b.len,
                           JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    assert_non_null(j);
    json_decref(j);
    gf_buf_free(&b);
}

static void test_strings(void **state)
{
    (void)state;
    expect_str("", 0, "\"\"");
    expect_str("plain", 5, "\"plain\"");
    expect_str("a\"b\\c\n\t\r\b\f", 10, "\"a\\\"b\\\\c\\n\\t\\r\\b\\f\"");
    expect_str("\x01\x1f\x7f", 3, "\"\\u0001\\u001f\x7f\"");
    expect_str("a\0b", 3, "\"a\\u0000b\"");
    expect_str("/", 1, "\"/\"");
    /* valid multi-byte text stays as it is */
    expect_str("\xe9\xaa\x91\xe6\x89\x8b \xf0\x9f\x98\x80", 11,
               "\"\xe9\xaa\x91\xe6\x89\x8b \xf0\x9f\x98\x80\"");
    /* invalid: one U+FFFD per maximal subpart */
#define FFFD "\xef\xbf\xbd"
    expect_str("\x80", 1, "\"" FFFD "\"");
    expect_str("a\xc3", 2, "\"a" FFFD "\"");
    expect_str("\xc0\x80", 2, "\"" FFFD FFFD "\"");
    expect_str("\xed\xa0\x80", 3, "\"" FFFD FFFD FFFD "\"");
    expect_str("\xe6\x9cx", 3, "\"" FFFD "x\"");
    expect_str("\xf4\x90\x80\x80", 4, "\"" FFFD FFFD FFFD FFFD "\"");
    expect_str("\xf0\x9f\x98", 3, "\"" FFFD "\"");
    expect_str("\xff\xfe", 2, "\"" FFFD FFFD "\"");
    expect_str("\xe0\x9f\x80", 3, "\"" FFFD FFFD FFFD "\"");
#undef FFFD
}

static char *render_double(double d)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_double(&pk, d);
    char *s = render_value((const uint8_t *)sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    return s;
}

static void expect_double(double d, const char *want)
{
    char *s = render_double(d);
    assert_string_equal(s, want);
    free(s);
}

static void test_numbers(void **state)
{
    (void)state;
    expect_double(0.1, "0.1");
    expect_double(2.5, "2.5");
    expect_double(3.0, "3");
    expect_double(-0.0, "-0");
    expect_double(1e300, "1e+300");
    expect_double(1.0 / 3.0, "0.3333333333333333");
    expect_double(0.1 + 0.2, "0.30000000000000004");
    /* the smallest denormal: any decimal in (2.5e-324, 7.4e-324) reads
       back as it, so %.15g already round-trips */
    expect_double(5e-324, "4.94065645841247e-324");
    expect_double(NAN, "null");
    expect_double(INFINITY, "null");
    expect_double(-INFINITY, "null");
    /* float32 0.1f (the double 0.100000001490116...) reads back from
       "0.1" as a float; 0x4b800000 is 2^24 */
    static const uint8_t f32[] = {0xca, 0x3d, 0xcc, 0xcc, 0xcd};
    char *s = render_value(f32, sizeof f32);
    assert_string_equal(s, "0.1");
    free(s);
    static const uint8_t f32b[] = {0xca, 0x4b, 0x80, 0x00, 0x00};
    s = render_value(f32b, sizeof f32b);
    assert_string_equal(s, "16777216");
    free(s);
    /* every double reads back exactly */
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double d;
        memcpy(&d, &x, sizeof d);
        if (!isfinite(d))
            continue;
        s = render_double(d);
        assert_true(strtod(s, NULL) == d);
        assert_true(strlen(s) <= 24);
        free(s);
    }
    /* integers: every width */
    static const uint8_t ints[][9] = {
        {0x00},
        {0x7f},
        {0xff},
        {0xcc, 0xff},
        {0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0},
        {0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
    static const size_t lens[] = {1, 1, 1, 2, 9, 9};
    static const char *want[] = {"0",
                                 "127",
                                 "-1",
                                 "255",
                                 "-9223372036854775808",
                                 "1.8446744073709552e+19"};
    for (size_t i = 0; i < 6; i++) {
        s = render_value(ints[i], lens[i]);
        assert_string_equal(s, want[i]);
        free(s);
    }
}

static void test_base64(void **state)
{
    (void)state;
    /* RFC 4648 section 10 */
    static const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *out[] = {"\"\"",        "\"Zg==\"",     "\"Zm8=\"",
                                "\"Zm9v\"",    "\"Zm9vYg==\"", "\"Zm9vYmE=\"",
                                "\"Zm9vYmFy\""};
    for (size_t i = 0; i < 7; i++) {
        uint8_t mp[16];
        size_t n = strlen(in[i]);
        mp[0] = 0xc4;
        mp[1] = (uint8_t)n;
        memcpy(mp + 2, in[i], n);
        char *s = render_value(mp, n + 2);
        assert_string_equal(s, out[i]);
        free(s);
    }
}

static void test_record_nested(void **state)
{
    (void)state;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 6);
    pk_str(&pk, "kind");
    pk_str(&pk, "org");
    pk_str(&pk, "n");
    msgpack_pack_nil(&pk);
    pk_str(&pk, "ok");
    msgpack_pack_false(&pk);
    pk_str(&pk, "a");
    msgpack_pack_array(&pk, 3);
    msgpack_pack_int64(&pk, 1);
    msgpack_pack_array(&pk, 2);
    msgpack_pack_int64(&pk, 2);
    msgpack_pack_map(&pk, 0);
    msgpack_pack_map(&pk, 1);
    pk_str(&pk, "k");
    msgpack_pack_nil(&pk);
    pk_str(&pk, "m");
    msgpack_pack_map(&pk, 2);
    msgpack_pack_int64(&pk, 7);
    pk_str(&pk, "seven");
    msgpack_pack_true(&pk);
    msgpack_pack_array(&pk, 0);
    pk_str(&pk, "q\"");
    msgpack_pack_double(&pk, -1.5);
    uint8_t *p = exact_copy(sb.data, sb.size);
    gf_record rec;
    gf_record_view(&rec, p, sb.size);
    gf_buf b = {0};
    assert_int_equal(gf_json_record(&b, &rec), 0);
    static const char want[] =
        "{\"kind\":\"org\",\"n\":null,\"ok\":false,\"a\":[1,[2,{}],{\"k\":null}"
        "],"
        "\"m\":{\"7\":\"seven\",\"true\":[]},\"q\\\"\":-1.5}";
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data, want, b.len);
    gf_buf_free(&b);

    /* to_json: a malloc'd, NUL-terminated buffer grown from nothing */
    char *buf = NULL;
    size_t cap = 0;
    long n = gf_json_to_malloc(&rec, &buf, &cap);
    assert_int_equal(n, (long)strlen(want));
    assert_string_equal(buf, want);
    assert_true(cap > (size_t)n);
    n = gf_json_to_malloc(&rec, &buf, &cap); /* reused */
    assert_string_equal(buf, want);
    free(buf);
    gf_record empty = {0};
    buf = NULL;
    cap = 0;
    assert_int_equal(gf_json_to_malloc(&empty, &buf, &cap), 2);
    assert_string_equal(buf, "{}");
    free(buf);
    free(p);
    msgpack_sbuffer_destroy(&sb);
}

/* Set fields from json on a fresh record; returns the rendered record
   (malloc'd) or NULL with err filled. */
static char *roundtrip(const char *json, char *err, size_t errlen)
{
    gf_out o;
    assert_int_equal(gf_out_init(&o, 1 << 16, NULL, NULL), 0);
    gf_out_begin(&o);
    gf_out_set_str(&o, "pre", "x", 1);
    int r = gf_json_set_fields(&o, json, strlen(json), err, errlen);
    assert_int_equal(gf_out_end(&o), 0);
    char *s = NULL;
    gf_record rec;
    gf_record_view(&rec, o.batch.data, o.batch.len);
    size_t cap = 0;
    assert_true(gf_json_to_malloc(&rec, &s, &cap) > 0);
    if (r != 0) {
        /* a bad text sets nothing */
        assert_string_equal(s, "{\"pre\":\"x\"}");
        free(s);
        s = NULL;
    }
    gf_out_release(&o);
    return s;
}

static void test_set_fields(void **state)
{
    (void)state;
    char err[128];
    char *s = roundtrip(
        "{\"kind\":\"member\", \"age\":30, \"pts\":1.5, \"ok\":true, "
        "\"no\":false, \"n\":null, \"roles\":[\"a\",1,[]], "
        "\"meta\":{\"x\":{\"y\":[2.5]}}, \"zh\":\"\\u9a91\xe6\x89\x8b\", "
        "\"nul\":\"a\\u0000b\", \"pre\":\"replaced\", "
        "\"neg\":-9223372036854775808}",
        err, sizeof err);
    assert_non_null(s);
    assert_string_equal(
        s, "{\"pre\":\"replaced\",\"kind\":\"member\",\"age\":30,\"pts\":1.5,"
           "\"ok\":true,\"no\":false,\"n\":null,\"roles\":[\"a\",1,[]],"
           "\"meta\":{\"x\":{\"y\":[2.5]}},\"zh\":\"\xe9\xaa\x91\xe6\x89\x8b\","
           "\"nul\":\"a\\u0000b\",\"neg\":-9223372036854775808}");
    free(s);

    /* types as read back */
    gf_out o;
    assert_int_equal(gf_out_init(&o, 1 << 16, NULL, NULL), 0);
    gf_out_begin(&o);
    const char *j = "{\"i\":7,\"f\":7.0,\"arr\":[1,2,3],\"obj\":{\"k\":1}}";
    assert_int_equal(gf_json_set_fields(&o, j, strlen(j), err, sizeof err), 0);
    assert_int_equal(gf_out_end(&o), 0);
    gf_record rec;
    gf_record_view(&rec, o.batch.data, o.batch.len);
    gf_value v;
    assert_true(gf_record_get(&rec, "i", &v) && v.type == GF_T_INT);
    assert_true(gf_record_get(&rec, "f", &v) && v.type == GF_T_FLOAT);
    assert_true(gf_record_get(&rec, "arr", &v) && v.type == GF_T_ARRAY);
    assert_int_equal(v.n, 3);
    assert_true(gf_record_get(&rec, "obj", &v) && v.type == GF_T_MAP);
    gf_out_release(&o);

    /* duplicate keys: the last value wins, in the first one's place */
    s = roundtrip("{\"a\":1,\"b\":2,\"a\":3}", err, sizeof err);
    assert_string_equal(s, "{\"pre\":\"x\",\"a\":3,\"b\":2}");
    free(s);
}

static void expect_error(const char *json, const char *want_prefix)
{
    char err[160];
    char *s = roundtrip(json, err, sizeof err);
    assert_null(s);
    if (strncmp(err, want_prefix, strlen(want_prefix)) != 0)
        fail_msg("for %s: got \"%s\", want \"%s...\"", json, err, want_prefix);
}

static void test_set_fields_errors(void **state)
{
    (void)state;
    expect_error("{\"a\":1", "column 6: '}' expected");
    expect_error("{\"a\" 1}", "column 6: ':' expected");
    expect_error("{\"a\":18446744073709551616}", "column 25: too big integer");
    expect_error("[1,2]", "column 1: expected a JSON object");
    expect_error("", "column 1: ");
    expect_error("{\"a\":1} x", "column 9: end of file expected");
    expect_error("{\"a\":\"\\ud800\"}", "column 13: invalid Unicode");
    expect_error("{\"a\":\"\xff\"}", "column ");
    expect_error("{\"a\":1,\n\"b\":}", "line 2 column 5: ");

    /* nesting: a record is depth 1, so a value may nest 31 deep */
    char deep[128];
    size_t n = 0;
    n += (size_t)sprintf(deep + n, "{\"a\":");
    for (int i = 0; i < GF_MP_MAX_DEPTH - 1; i++)
        deep[n++] = '[';
    for (int i = 0; i < GF_MP_MAX_DEPTH - 1; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    deep[n] = '\0';
    char err[128];
    char *s = roundtrip(deep, err, sizeof err);
    assert_non_null(s);
    free(s);
    memmove(deep + 6, deep + 5, n - 4);
    deep[5] = '[';
    n++;
    memmove(deep + n - 1, deep + n - 2, 3);
    deep[n - 2] = ']';
    expect_error(deep, "column 1: nested deeper than 32");

    /* no record open */
    gf_out closed;
    assert_int_equal(gf_out_init(&closed, 1 << 16, NULL, NULL), 0);
    assert_int_equal(gf_json_set_fields(&closed, "{}", 2, err, sizeof err), -1);
    assert_string_equal(err, "no record is open (begin() first)");
    gf_out_release(&closed);

    /* NULL err buffer is allowed */
    gf_out o;
    assert_int_equal(gf_out_init(&o, 1 << 16, NULL, NULL), 0);
    gf_out_begin(&o);
    assert_int_equal(gf_json_set_fields(&o, "{", 1, NULL, 0), -1);
    gf_out_release(&o);
}

static void test_alloc_failures(void **state)
{
    (void)state;
    const char *j =
        "{\"kind\":\"member\",\"age\":30,\"roles\":[\"a\",{\"b\":[1,2]}],"
        "\"name\":\"a fairly long name to need some space\"}";
    int ok = 0;
    for (long n = 0; n < 2000 && !ok; n++) {
        gf_out o;
        char err[128];
        gf_alloc_fail_after(n);
        if (gf_out_init(&o, 1 << 16, NULL, NULL) != 0) {
            gf_alloc_fail_reset();
            continue;
        }
        gf_out_begin(&o);
        int r = gf_json_set_fields(&o, j, strlen(j), err, sizeof err);
        int e = gf_out_end(&o);
        char *buf = NULL;
        size_t cap = 0;
        long len = -1;
        if (r == 0 && e == 0) {
            gf_record rec;
            gf_record_view(&rec, o.batch.data, o.batch.len);
            len = gf_json_to_malloc(&rec, &buf, &cap);
        }
        gf_alloc_fail_reset();
        if (r != 0)
            assert_true(err[0] != '\0');
        ok = r == 0 && e == 0 && len > 0;
        if (ok)
            assert_non_null(strstr(buf, "\"roles\":[\"a\",{\"b\":[1,2]}]"));
        free(buf);
        gf_out_release(&o);
    }
    assert_true(ok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_record_nested),
        cmocka_unit_test(test_set_fields),
        cmocka_unit_test(test_set_fields_errors),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
