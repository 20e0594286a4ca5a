/*
 * Unit tests of gf_pii: masks, pseudonyms (checked against an HMAC computed
 * by python3's hmac module, independent of libsodium), key file refusals,
 * records without the fields left alone, other fields byte-identical.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <msgpack.h>

#include "gf_alloc.h"
#include "gf_buf.h"
#include "gf_deadletter.h"
#include "gf_pii.h"
#include "gf_record.h"

/* A record built with msgpack-c from alternating key/value strings;
   a value starting with '#' is packed as an integer, "~" as nil. */
static msgpack_sbuffer build(const char *const *kv, size_t n)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, n / 2);
    for (size_t i = 0; i < n; i += 2) {
        msgpack_pack_str(&pk, strlen(kv[i]));
        msgpack_pack_str_body(&pk, kv[i], strlen(kv[i]));
        const char *v = kv[i + 1];
        if (v[0] == '#') {
            msgpack_pack_int64(&pk, strtoll(v + 1, NULL, 10));
        } else if (strcmp(v, "~") == 0) {
            msgpack_pack_nil(&pk);
        } else {
            msgpack_pack_str(&pk, strlen(v));
            msgpack_pack_str_body(&pk, v, strlen(v));
        }
    }
    return sb;
}

static gf_record view(const msgpack_sbuffer *sb)
{
    gf_record r;
    gf_record_view(&r, (const uint8_t *)sb->data, sb->size);
    return r;
}

/* Field `key` of rec as a malloc'd string ("<nil>" for nil). */
static char *field(const gf_record *rec, const char *key)
{
    gf_value v;
    if (!gf_record_get(rec, key, &v))
        return strdup("<absent>");
    if (v.type == GF_T_NIL)
        return strdup("<nil>");
    if (v.type == GF_T_INT) {
        char b[32];
        snprintf(b, sizeof b, "%lld", (long long)v.v.i);
        return strdup(b);
    }
    assert_int_equal(v.type, GF_T_STR);
    return strndup(v.v.s.ptr, v.v.s.len);
}

/* Mask one phone/id value through a record and return the result. */
static char *mask_one(const gf_pii *pii, const char *key, const char *value)
{
    const char *kv[] = {"kind", "member", key, value};
    msgpack_sbuffer sb = build(kv, 4);
    gf_record in = view(&sb), out;
    gf_buf scratch = {0};
    assert_true(gf_pii_apply(pii, &in, &scratch, &out));
    char *s = field(&out, key);
    gf_buf_free(&scratch);
    msgpack_sbuffer_destroy(&sb);
    return s;
}

static void test_mask_phone(void **state)
{
    (void)state;
    char *err = NULL;
    gf_pii *pii = gf_pii_new(GF_PII_MASK, NULL, &err);
    assert_non_null(pii);
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"13812341234", "138****1234"},
        {"#13812341234", "138****1234"},    /* an integer phone */
        {"8613812341234", "861******1234"}, /* 13 digits */
        {"12345678", "123*5678"},           /* 8: just longer than 7 */
        {"1234567", "*******"},             /* 7 or fewer: all hidden */
        {"110", "***"},
        {"电话13812341234", "电话1******1234"}, /* characters, not bytes */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = mask_one(pii, "phone", cases[i].in);
        assert_string_equal(got, cases[i].want);
        free(got);
    }
    gf_pii_free(&pii);
    assert_null(pii);
    gf_pii_free(&pii); /* NULL is fine */
}

static void test_mask_id(void **state)
{
    (void)state;
    gf_pii *pii = gf_pii_new(GF_PII_MASK, NULL, NULL);
    assert_non_null(pii);
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"11010519491231002X", "110105********002X"},
        {"110105491231002", "110105*****1002"}, /* old 15-digit card */
        {"12345678901", "123456*8901"},
        {"1234567890", "**********"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = mask_one(pii, "id_number", cases[i].in);
        assert_string_equal(got, cases[i].want);
        free(got);
    }
    gf_pii_free(&pii);
}

/* Every other field survives byte for byte, in order. */
static void test_other_fields_untouched(void **state)
{
    (void)state;
    gf_pii *pii = gf_pii_new(GF_PII_MASK, NULL, NULL);
    const char *kv[] = {
        "kind",        "member", "name", "张三",      "phone",
        "13812341234", "age",    "#31",  "id_number", "11010519491231002X",
        "note",        "~"};
    msgpack_sbuffer sb = build(kv, 12);
    gf_record in = view(&sb), out;
    gf_buf scratch = {0};
    assert_true(gf_pii_apply(pii, &in, &scratch, &out));
    assert_int_equal(out.nfields, 6);
    /* the expected record, built independently with the masked values */
    const char *kv2[] = {
        "kind",        "member", "name", "张三",      "phone",
        "138****1234", "age",    "#31",  "id_number", "110105********002X",
        "note",        "~"};
    msgpack_sbuffer want = build(kv2, 12);
    assert_int_equal(out.len, want.size);
    assert_memory_equal(out.data, want.data, want.size);
    gf_buf_free(&scratch);
    msgpack_sbuffer_destroy(&sb);
    msgpack_sbuffer_destroy(&want);
    gf_pii_free(&pii);
}

static void test_records_without_fields(void **state)
{
    (void)state;
    gf_pii *mask = gf_pii_new(GF_PII_MASK, NULL, NULL);
    gf_pii *off = gf_pii_new(GF_PII_OFF, NULL, NULL);
    assert_non_null(mask);
    assert_non_null(off);
    gf_buf scratch = {0};
    gf_record out = {0};

    const char *org[] = {"kind", "org", "name", "美团站点", "phones", "3"};
    msgpack_sbuffer sb = build(org, 6);
    gf_record in = view(&sb);
    assert_false(gf_pii_apply(mask, &in, &scratch, &out));
    assert_null(out.data); /* untouched */
    msgpack_sbuffer_destroy(&sb);

    /* nil and "" carry nothing to hide */
    const char *empty[] = {"kind", "member", "phone", "~", "id_number", ""};
    sb = build(empty, 6);
    in = view(&sb);
    assert_false(gf_pii_apply(mask, &in, &scratch, &out));
    msgpack_sbuffer_destroy(&sb);

    /* mask_pii: false */
    const char *m[] = {"kind", "member", "phone", "13812341234"};
    sb = build(m, 4);
    in = view(&sb);
    assert_false(gf_pii_apply(off, &in, &scratch, &out));
    assert_null(out.data);
    msgpack_sbuffer_destroy(&sb);

    gf_buf_free(&scratch);
    gf_pii_free(&mask);
    gf_pii_free(&off);
}

/* Values that are not text: a float phone, a bool, an array. */
static void test_other_types(void **state)
{
    (void)state;
    gf_pii *pii = gf_pii_new(GF_PII_MASK, NULL, NULL);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3);
    msgpack_pack_str_with_body(&pk, "phone", 5);
    msgpack_pack_double(&pk, 13812341234.0);
    msgpack_pack_str_with_body(&pk, "id_number", 9);
    msgpack_pack_array(&pk, 2);
    msgpack_pack_int(&pk, 1);
    msgpack_pack_true(&pk);
    msgpack_pack_str_with_body(&pk, "ok", 2);
    msgpack_pack_true(&pk);
    gf_record in = view(&sb), out;
    gf_buf scratch = {0};
    assert_true(gf_pii_apply(pii, &in, &scratch, &out));
    char *got = field(&out, "phone");
    assert_string_equal(got, "138****1234");
    free(got);
    got = field(&out, "id_number");
    assert_string_equal(got, "****");
    free(got);
    gf_value v;
    assert_true(gf_record_get(&out, "ok", &v));
    assert_int_equal(v.type, GF_T_BOOL);
    assert_true(v.v.b);
    gf_buf_free(&scratch);
    msgpack_sbuffer_destroy(&sb);
    gf_pii_free(&pii);
}

/* A record of more than 15 fields has a map16 header; long values str16. */
static void test_big_record(void **state)
{
    (void)state;
    gf_pii *pii = gf_pii_new(GF_PII_MASK, NULL, NULL);
    const char *kv[44], *kv2[44];
    char keys[20][8];
    char longphone[301];
    memset(longphone, '9', 300);
    longphone[300] = '\0';
    char longmask[301];
    memcpy(longmask, longphone, 3);
    memset(longmask + 3, '*', 293);
    memcpy(longmask + 296, "9999", 5);
    for (int i = 0; i < 20; i++) {
        snprintf(keys[i], sizeof keys[i], "f%02d", i);
        kv[2 * i] = kv2[2 * i] = keys[i];
        kv[2 * i + 1] = kv2[2 * i + 1] = "#7";
    }
    kv[40] = kv2[40] = "phone";
    kv[41] = longphone;
    kv2[41] = longmask;
    kv[42] = kv2[42] = "tail";
    kv[43] = kv2[43] = "end";
    msgpack_sbuffer sb = build(kv, 44), want = build(kv2, 44);
    gf_record in = view(&sb), out;
    gf_buf scratch = {0};
    assert_true(gf_pii_apply(pii, &in, &scratch, &out));
    assert_int_equal(out.nfields, 22);
    assert_int_equal(out.len, want.size);
    assert_memory_equal(out.data, want.data, want.size);
    gf_buf_free(&scratch);
    msgpack_sbuffer_destroy(&sb);
    msgpack_sbuffer_destroy(&want);
    gf_pii_free(&pii);
}

/* --- pseudonyms ----------------------------------------------------------- */

static char tmpdir[64];

static char *write_key(const char *name, const char *content, mode_t mode)
{
    char *path = NULL;
    assert_true(asprintf(&path, "%s/%s", tmpdir, name) > 0);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
    return path;
}

/* HMAC-SHA256 hex of msg under the key file's bytes (one trailing newline
   stripped, as documented), computed by python3, not libsodium. */
static char *python_hmac(const char *key_path, const char *msg)
{
    char *cmd = NULL;
    assert_true(asprintf(&cmd,
                         "python3 -c 'import hmac,hashlib,sys\n"
                         "k=open(sys.argv[1],\"rb\").read()\n"
                         "k=k[:-1] if k.endswith(b\"\\n\") else k\n"
                         "print(hmac.new(k,sys.argv[2].encode(),hashlib.sha256)"
                         ".hexdigest())'"
                         " '%s' '%s'",
                         key_path, msg) > 0);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[128] = {0};
    assert_non_null(fgets(line, sizeof line, p));
    assert_int_equal(pclose(p), 0);
    free(cmd);
    line[strcspn(line, "\n")] = '\0';
    assert_int_equal(strlen(line), 64);
    return strdup(line);
}

static void test_pseudonym_matches_hmac(void **state)
{
    (void)state;
    char *key =
        write_key("k1", "0123456789abcdef0123456789abcdef-key-one\n", 0600);
    char *err = NULL;
    gf_pii *pii = gf_pii_new(GF_PII_PSEUDONYM, key, &err);
    assert_null(err);
    assert_non_null(pii);

    char *want = python_hmac(key, "13812341234");
    char expect[32];
    snprintf(expect, sizeof expect, "p:%.16s", want);
    char *got = mask_one(pii, "phone", "13812341234");
    assert_string_equal(got, expect);
    free(got);
    /* the integer phone reads as the same text: same pseudonym */
    got = mask_one(pii, "phone", "#13812341234");
    assert_string_equal(got, expect);
    free(got);
    /* stable: a second policy from the same key agrees */
    gf_pii *again = gf_pii_new(GF_PII_PSEUDONYM, key, NULL);
    got = mask_one(again, "phone", "13812341234");
    assert_string_equal(got, expect);
    free(got);
    gf_pii_free(&again);
    free(want);

    /* id numbers too */
    want = python_hmac(key, "11010519491231002X");
    snprintf(expect, sizeof expect, "p:%.16s", want);
    got = mask_one(pii, "id_number", "11010519491231002X");
    assert_string_equal(got, expect);
    free(got);
    free(want);

    gf_pii_free(&pii);
    unlink(key);
    free(key);
}

static void test_pseudonym_depends_on_key(void **state)
{
    (void)state;
    char *k1 = write_key("ka", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 0600);
    char *k2 = write_key("kb", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB", 0400);
    gf_pii *p1 = gf_pii_new(GF_PII_PSEUDONYM, k1, NULL);
    gf_pii *p2 = gf_pii_new(GF_PII_PSEUDONYM, k2, NULL);
    assert_non_null(p1);
    assert_non_null(p2);
    char *a = mask_one(p1, "phone", "13812341234");
    char *b = mask_one(p2, "phone", "13812341234");
    char *c = mask_one(p1, "phone", "13812341235");
    assert_string_not_equal(a, b);
    assert_string_not_equal(a, c);
    assert_int_equal(strlen(a), 18);
    assert_memory_equal(a, "p:", 2);
    char *want = python_hmac(k2, "13812341234");
    assert_memory_equal(b + 2, want, 16);
    free(want);
    free(a);
    free(b);
    free(c);
    gf_pii_free(&p1);
    gf_pii_free(&p2);
    unlink(k1);
    unlink(k2);
    free(k1);
    free(k2);
}

/* --- key file refusals ---------------------------------------------------- */

static void expect_refusal(const char *path, const char *want)
{
    char *err = NULL;
    gf_pii *pii = gf_pii_new(GF_PII_PSEUDONYM, path, &err);
    assert_null(pii);
    assert_non_null(err);
    if (!strstr(err, want))
        fail_msg("error '%s' lacks '%s'", err, want);
    free(err);
}

static void test_key_refusals(void **state)
{
    (void)state;
    char *open_key =
        write_key("open", "0123456789abcdef0123456789abcdef", 0644);
    char msg[512];
    snprintf(msg, sizeof msg, "%s: permissions 0644 are too open; chmod 600 %s",
             open_key, open_key);
    expect_refusal(open_key, msg);

    char *group = write_key("group", "0123456789abcdef0123456789abcdef", 0640);
    expect_refusal(group, "permissions 0640 are too open");

    char *shortk = write_key("short", "too-short-key\n", 0600);
    expect_refusal(shortk, "the key is 13 bytes, at least 32 are needed");

    /* 31 bytes + newline: the newline does not count */
    char *k31 = write_key("k31", "0123456789abcdef0123456789abcde\n", 0600);
    expect_refusal(k31, "the key is 31 bytes");

    expect_refusal(tmpdir, "not a regular file");

    char missing[128];
    snprintf(missing, sizeof missing, "%s/no-such-key", tmpdir);
    expect_refusal(missing, "cannot open");

    char *err = NULL;
    assert_null(gf_pii_new(GF_PII_PSEUDONYM, NULL, &err));
    assert_non_null(strstr(err, "pseudonymize_key_file"));
    free(err);

    const char *files[] = {open_key, group, shortk, k31};
    for (size_t i = 0; i < 4; i++) {
        unlink(files[i]);
        free((void *)files[i]);
    }
}

/* Failing allocations never leak and never crash. */
static void test_alloc_failures(void **state)
{
    (void)state;
    char *key = write_key("kf", "0123456789abcdef0123456789abcdef", 0600);
    for (long n = 0; n < 8; n++) {
        char *err = NULL;
        gf_alloc_fail_after(n);
        gf_pii *pii = gf_pii_new(GF_PII_PSEUDONYM, key, &err);
        gf_alloc_fail_reset();
        if (pii)
            gf_pii_free(&pii);
        free(err);
    }
    gf_pii *pii = gf_pii_new(GF_PII_MASK, NULL, NULL);
    const char *kv[] = {"kind", "member", "phone", "13812341234"};
    msgpack_sbuffer sb = build(kv, 4);
    gf_record in = view(&sb), out;
    gf_buf scratch = {0};
    gf_alloc_fail_after(0);
    bool rewritten = gf_pii_apply(pii, &in, &scratch, &out);
    gf_alloc_fail_reset();
    /* no memory: the number must not come through */
    assert_true(rewritten);
    char *got = field(&out, "phone");
    assert_string_equal(got, "<absent>");
    free(got);
    gf_buf_free(&scratch);
    msgpack_sbuffer_destroy(&sb);
    gf_pii_free(&pii);
    unlink(key);
    free(key);
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/gf_test_pii.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return rmdir(tmpdir);
}

/* Raw text: digit runs of 11+ masked, shorter ones and the rest kept. */
static void expect_masked_text(const char *in, const char *want)
{
    gf_buf b = {0};
    assert_int_equal(gf_pii_mask_text(&b, in, strlen(in)), 0);
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data, want, b.len);
    gf_buf_free(&b);
}

static void test_mask_text(void **state)
{
    (void)state;
    expect_masked_text("M1,张某,13812341234,美团", "M1,张某,138****1234,美团");
    expect_masked_text("138 1234 5678;x", "138 **** 5678;x");
    expect_masked_text("138-1234-5678", "138-****-5678");
    expect_masked_text("id 11010519491231002X end",
                       "id 110105********002X end");
    expect_masked_text("110105194912310021", "110105********0021");
    /* short numbers, dates and amounts stay */
    expect_masked_text("2025-06-30,173500.00,1234567890",
                       "2025-06-30,173500.00,1234567890");
    expect_masked_text("", "");
    expect_masked_text("12345678901", "123****8901");
}

/* Dead letters mask records and raw lines alike. */
static void test_deadletter_masks(void **state)
{
    (void)state;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    msgpack_pack_str_with_body(&pk, "id", 2);
    msgpack_pack_str_with_body(&pk, "m1", 2);
    msgpack_pack_str_with_body(&pk, "phone", 5);
    msgpack_pack_str_with_body(&pk, "13812341234", 11);
    gf_record rec;
    gf_record_view(&rec, (const uint8_t *)sb.data, sb.size);
    gf_buf b = {0};
    assert_int_equal(
        gf_deadletter_format(&b, "s", "why", &rec, NULL, 0, NULL, 0, NULL), 0);
    assert_non_null(memmem(b.data, b.len, "138****1234", 11));
    assert_null(memmem(b.data, b.len, "13812341234", 11));
    gf_buf_clear(&b);
    const char *raw = "m2,13912345678";
    assert_int_equal(gf_deadletter_format(&b, "s", "why", NULL, raw,
                                          strlen(raw), "f.csv", 3, NULL),
                     0);
    assert_non_null(memmem(b.data, b.len, "139****5678", 11));
    assert_null(memmem(b.data, b.len, "13912345678", 11));
    gf_buf_free(&b);
    msgpack_sbuffer_destroy(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mask_phone),
        cmocka_unit_test(test_mask_text),
        cmocka_unit_test(test_deadletter_masks),
        cmocka_unit_test(test_mask_id),
        cmocka_unit_test(test_other_fields_untouched),
        cmocka_unit_test(test_records_without_fields),
        cmocka_unit_test(test_other_types),
        cmocka_unit_test(test_big_record),
        cmocka_unit_test(test_pseudonym_matches_hmac),
        cmocka_unit_test(test_pseudonym_depends_on_key),
        cmocka_unit_test(test_key_refusals),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
