/*
 * test_out - gf_out, the record writer. Every record written is decoded
 * again with msgpack-c's msgpack_unpack_next (an independent decoder) and
 * compared with what the test set; byte-level expectations (copied fields
 * untouched) are checked against the source bytes packed by msgpack-c.
 * Also: replacing and unsetting keys, begin_copy with overrides, 10,000
 * records across batch boundaries, gf_out_take ownership, invalid set_raw,
 * source positions noted per record and handed over with the batch
 * (gf_out_take_pos), and allocation-failure walks (run under ASan for
 * leaks).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gf_alloc.h"
#include "gf_mp.h"
#include "gf_out.h"
#include "gf_record.h"
#include "gf_srcpos.h"
#include "unit_util.h"

/* --- decoding with msgpack-c ---------------------------------------------- */

typedef struct decoded {
    msgpack_unpacked u;
    msgpack_object_map map;
} decoded;

/* Decode the record [p, p+n) with msgpack-c: must be exactly one map. */
static void decode(decoded *d, const uint8_t *p, size_t n)
{
    size_t off = 0;
    msgpack_unpacked_init(&d->u);
    assert_int_equal(msgpack_unpack_next(&d->u, (const char *)p, n, &off),
                     MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(off, n);
    assert_int_equal(d->u.data.type, MSGPACK_OBJECT_MAP);
    d->map = d->u.data.via.map;
}

static void undecode(decoded *d)
{
    msgpack_unpacked_destroy(&d->u);
}

static bool key_is(const msgpack_object *k, const char *s)
{
    return k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(s) &&
           memcmp(k->via.str.ptr, s, k->via.str.size) == 0;
}

/* The keys of d in order, joined with ',' into buf. */
static const char *keys_of(const decoded *d, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (uint32_t i = 0; i < d->map.size; i++) {
        const msgpack_object *k = &d->map.ptr[i].key;
        n += (size_t)snprintf(buf + n, cap - n, "%s%.*s", i ? "," : "",
                              (int)k->via.str.size, k->via.str.ptr);
    }
    return buf;
}

static const msgpack_object *field(const decoded *d, const char *key)
{
    for (uint32_t i = 0; i < d->map.size; i++)
        if (key_is(&d->map.ptr[i].key, key))
            return &d->map.ptr[i].val;
    return NULL;
}

static gf_out out_plain(void)
{
    gf_out o;
    assert_int_equal(gf_out_init(&o, 1 << 20, NULL, NULL), 0);
    return o;
}

/* The single record in o's batch. */
static void decode_only(decoded *d, gf_out *o)
{
    const char *why;
    assert_int_equal(o->nrec, 1);
    assert_int_equal(gf_mp_check_batch(o->batch.data, o->batch.len, 1, &why),
                     0);
    decode(d, o->batch.data, o->batch.len);
}

/* --- tests ---------------------------------------------------------------- */

static void test_all_types(void **state)
{
    (void)state;
    gf_out o = out_plain();
    static const int64_t ints[] = {
        0,          127,        128,       255,       256,      65535, 65536,
        4294967295, 4294967296, INT64_MAX, -1,        -32,      -33,   -128,
        -129,       -32768,     -32769,    INT32_MIN, INT64_MIN};
    const size_t nints = sizeof ints / sizeof ints[0];
    char big[300];
    memset(big, 'b', sizeof big);
    gf_out_begin(&o);
    gf_out_set_str(&o, "kind", "member", 6);
    for (size_t i = 0; i < nints; i++) {
        char k[8];
        snprintf(k, sizeof k, "i%zu", i);
        gf_out_set_int(&o, k, ints[i]);
    }
    gf_out_set_float(&o, "f", 0.1);
    gf_out_set_float(&o, "f2", -1e300);
    gf_out_set_bool(&o, "t", true);
    gf_out_set_bool(&o, "no", false);
    gf_out_set_nil(&o, "nil");
    gf_out_set_str(&o, "s31", big, 31);
    gf_out_set_str(&o, "s32", big, 32);
    gf_out_set_str(&o, "s300", big, 300);
    gf_out_set_str(&o, "empty", NULL, 0);
    gf_out_set_str(&o, "zh", "\xe9\xaa\x91\xe6\x89\x8b", 6); /* 骑手 */
    assert_int_equal(gf_out_end(&o), 0);
    assert_int_equal(o.records, 1);

    decoded d;
    decode_only(&d, &o);
    assert_int_equal(d.map.size, 1 + nints + 10);
    /* more than 15 fields: a map16 header */
    assert_int_equal(o.batch.data[0], 0xde);
    const msgpack_object *v = field(&d, "kind");
    assert_true(v && v->type == MSGPACK_OBJECT_STR && v->via.str.size == 6);
    for (size_t i = 0; i < nints; i++) {
        char k[8];
        snprintf(k, sizeof k, "i%zu", i);
        v = field(&d, k);
        assert_non_null(v);
        if (ints[i] >= 0) {
            assert_int_equal(v->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
            assert_true(v->via.u64 == (uint64_t)ints[i]);
        } else {
            assert_int_equal(v->type, MSGPACK_OBJECT_NEGATIVE_INTEGER);
            assert_true(v->via.i64 == ints[i]);
        }
    }
    v = field(&d, "f");
    assert_true(v->type == MSGPACK_OBJECT_FLOAT64 && v->via.f64 == 0.1);
    v = field(&d, "f2");
    assert_true(v->type == MSGPACK_OBJECT_FLOAT64 && v->via.f64 == -1e300);
    v = field(&d, "t");
    assert_true(v->type == MSGPACK_OBJECT_BOOLEAN && v->via.boolean);
    v = field(&d, "no");
    assert_true(v->type == MSGPACK_OBJECT_BOOLEAN && !v->via.boolean);
    assert_int_equal(field(&d, "nil")->type, MSGPACK_OBJECT_NIL);
    assert_int_equal(field(&d, "s31")->via.str.size, 31);
    assert_int_equal(field(&d, "s32")->via.str.size, 32);
    assert_int_equal(field(&d, "s300")->via.str.size, 300);
    assert_int_equal(memcmp(field(&d, "s300")->via.str.ptr, big, 300), 0);
    assert_int_equal(field(&d, "empty")->via.str.size, 0);
    assert_int_equal(memcmp(field(&d, "zh")->via.str.ptr, "\xe9\xaa\x91", 3),
                     0);
    undecode(&d);

    /* the same values read back through gf_record */
    gf_record rec;
    gf_record_view(&rec, o.batch.data, o.batch.len);
    gf_value gv;
    assert_true(gf_record_get(&rec, "i9", &gv));
    assert_true(gv.type == GF_T_INT && gv.v.i == INT64_MAX);
    assert_true(gf_record_get(&rec, "i18", &gv));
    assert_true(gv.type == GF_T_INT && gv.v.i == INT64_MIN);
    gf_out_release(&o);
}

static void test_small_record_bytes(void **state)
{
    (void)state;
    /* exact bytes, worked out by hand from the MessagePack spec */
    gf_out o = out_plain();
    gf_out_begin(&o);
    gf_out_set_int(&o, "a", 1);
    gf_out_set_str(&o, "b", "xy", 2);
    assert_int_equal(gf_out_end(&o), 0);
    static const uint8_t want[] = {0x82, 0xa1, 'a', 0x01, 0xa1,
                                   'b',  0xa2, 'x', 'y'};
    assert_int_equal(o.batch.len, sizeof want);
    assert_memory_equal(o.batch.data, want, sizeof want);
    /* an empty record */
    gf_out_begin(&o);
    assert_int_equal(gf_out_end(&o), 0);
    assert_int_equal(o.batch.len, sizeof want + 1);
    assert_int_equal(o.batch.data[sizeof want], 0x80);
    assert_int_equal(o.nrec, 2);
    gf_out_release(&o);
}

static void test_replace_and_unset(void **state)
{
    (void)state;
    gf_out o = out_plain();
    char keys[256];
    gf_out_begin(&o);
    gf_out_set_str(&o, "a", "first", 5);
    gf_out_set_int(&o, "b", 2);
    gf_out_set_str(&o, "c", "c", 1);
    gf_out_set_str(&o, "a", "a much longer value than before", 31); /* grow */
    gf_out_set_int(&o, "b", 100000);                                /* grow */
    gf_out_set_str(&o, "c", NULL, 0);                               /* same */
    gf_out_set_int(&o, "a", 7);                                     /* shrink */
    gf_out_set_nil(&o, "d");
    gf_out_unset(&o, "b");
    gf_out_unset(&o, "nothere");
    gf_out_set_bool(&o, "b", true); /* set again after unset: appended */
    assert_int_equal(gf_out_end(&o), 0);
    decoded d;
    decode_only(&d, &o);
    assert_string_equal(keys_of(&d, keys, sizeof keys), "a,c,d,b");
    assert_true(field(&d, "a")->via.u64 == 7);
    assert_int_equal(field(&d, "c")->via.str.size, 0);
    assert_true(field(&d, "b")->via.boolean);
    undecode(&d);

    /* unset the first and the last field, and everything */
    gf_out_release(&o);
    o = out_plain();
    gf_out_begin(&o);
    gf_out_set_int(&o, "x", 1);
    gf_out_set_int(&o, "y", 2);
    gf_out_set_int(&o, "z", 3);
    gf_out_unset(&o, "x");
    gf_out_unset(&o, "z");
    gf_out_set_int(&o, "y", 200);
    assert_int_equal(gf_out_end(&o), 0);
    decode_only(&d, &o);
    assert_string_equal(keys_of(&d, keys, sizeof keys), "y");
    assert_true(field(&d, "y")->via.u64 == 200);
    undecode(&d);
    gf_out_release(&o);
}

/* A source record packed with msgpack-c. */
static uint8_t *pack_source(size_t *len)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 5);
    pk_str(&pk, "kind");
    pk_str(&pk, "demand");
    pk_str(&pk, "level");
    msgpack_pack_fix_int64(&pk, 3); /* a wide form: must stay as it is */
    pk_str(&pk, "text");
    pk_str(&pk, "need rest stations");
    pk_str(&pk, "tags");
    msgpack_pack_array(&pk, 2);
    pk_str(&pk, "rest");
    msgpack_pack_float(&pk, 1.5f); /* float32 stays float32 */
    pk_str(&pk, "phone");
    pk_str(&pk, "13812341234");
    uint8_t *p = exact_copy(sb.data, sb.size);
    *len = sb.size;
    msgpack_sbuffer_destroy(&sb);
    return p;
}

/* Does hay contain needle? */
static bool contains(const uint8_t *hay, size_t hn, const uint8_t *needle,
                     size_t nn)
{
    for (size_t i = 0; i + nn <= hn; i++)
        if (memcmp(hay + i, needle, nn) == 0)
            return true;
    return false;
}

static void test_copy_override(void **state)
{
    (void)state;
    size_t slen;
    uint8_t *src = pack_source(&slen);
    gf_record rec;
    gf_record_view(&rec, src, slen);
    gf_value tags;
    assert_true(gf_record_get(&rec, "tags", &tags));

    /* untouched copy: identical bytes */
    gf_out o = out_plain();
    gf_out_begin_copy(&o, &rec);
    assert_int_equal(gf_out_end(&o), 0);
    assert_int_equal(o.batch.len, slen);
    assert_memory_equal(o.batch.data, src, slen);
    assert_int_equal(gf_out_emit(&o, &rec), 0);
    assert_int_equal(o.batch.len, 2 * slen);
    assert_memory_equal(o.batch.data + slen, src, slen);
    assert_int_equal(o.nrec, 2);
    gf_out_release(&o);

    /* override, unset, append */
    o = out_plain();
    gf_out_begin_copy(&o, &rec);
    gf_out_set_str(&o, "level", "four", 4);
    gf_out_unset(&o, "phone");
    gf_out_set_int(&o, "new1", 1);
    gf_out_set_str(&o, "new2", "two", 3);
    gf_out_set_int(&o, "new1", 11);
    assert_int_equal(gf_out_end(&o), 0);
    decoded d;
    char keys[256];
    decode_only(&d, &o);
    assert_string_equal(keys_of(&d, keys, sizeof keys),
                        "kind,level,text,tags,new1,new2");
    assert_int_equal(field(&d, "level")->via.str.size, 4);
    assert_true(field(&d, "new1")->via.u64 == 11);
    assert_int_equal(field(&d, "tags")->type, MSGPACK_OBJECT_ARRAY);
    undecode(&d);
    /* untouched values are the source's bytes (the wide int, float32) */
    assert_true(contains(o.batch.data, o.batch.len, tags.raw, tags.raw_len));
    static const uint8_t text[] = "\xa4text\xb2need rest stations";
    assert_true(contains(o.batch.data, o.batch.len, text, sizeof text - 1));
    assert_false(contains(o.batch.data, o.batch.len,
                          (const uint8_t *)"13812341234", 11));
    gf_out_release(&o);

    /* copy, then set_value from the source into a new key */
    o = out_plain();
    gf_out_begin_copy(&o, &rec);
    gf_out_set_value(&o, "tags2", &tags);
    gf_out_set_value(&o, "kind", NULL); /* nil */
    assert_int_equal(gf_out_end(&o), 0);
    decode_only(&d, &o);
    assert_string_equal(keys_of(&d, keys, sizeof keys),
                        "kind,level,text,tags,phone,tags2");
    assert_int_equal(field(&d, "kind")->type, MSGPACK_OBJECT_NIL);
    assert_int_equal(field(&d, "tags2")->via.array.size, 2);
    undecode(&d);
    gf_out_release(&o);
    free(src);
}

/*
 * begin_copy indexes the copied pairs only when a set or unset needs them:
 * mixes of appending, overriding copied keys and unsetting, on a source of
 * 17 fields (a map16) with one key longer than a fixstr.
 */
static void test_copy_lazy_index(void **state)
{
    (void)state;
    static const char longkey[] = "a_key_of_forty_bytes_xxxxxxxxxxxxxxxxxxx";
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 17);
    for (int i = 0; i < 16; i++) {
        char k[8];
        snprintf(k, sizeof k, "k%d", i);
        pk_str(&pk, k);
        msgpack_pack_int64(&pk, i * 1000);
    }
    pk_str(&pk, longkey);
    pk_str(&pk, "long");
    gf_record rec;
    gf_record_view(&rec, (const uint8_t *)sb.data, sb.size);
    char keys[512], want[512];
    size_t n = 0;
    for (int i = 0; i < 16; i++)
        n += (size_t)snprintf(want + n, sizeof want - n, "k%d,", i);
    snprintf(want + n, sizeof want - n, "%s", longkey);

    /* append, override a copied key, unset the appended one, append */
    gf_out o = out_plain();
    gf_out_begin_copy(&o, &rec);
    gf_out_set_int(&o, "new", 1);
    gf_out_set_str(&o, "k3", "three", 5);
    gf_out_unset(&o, "new");
    gf_out_set_int(&o, "new2", 2);
    gf_out_set_str(&o, longkey, "LONG", 4);
    assert_int_equal(gf_out_end(&o), 0);
    decoded d;
    decode_only(&d, &o);
    char exp[600];
    snprintf(exp, sizeof exp, "%s,new2", want);
    assert_string_equal(keys_of(&d, keys, sizeof keys), exp);
    assert_int_equal(field(&d, "k3")->via.str.size, 5);
    assert_true(field(&d, "k15")->via.u64 == 15000);
    assert_true(field(&d, "new2")->via.u64 == 2);
    assert_memory_equal(field(&d, longkey)->via.str.ptr, "LONG", 4);
    undecode(&d);
    gf_out_release(&o);

    /* unset an appended field while the copy is not indexed */
    o = out_plain();
    gf_out_begin_copy(&o, &rec);
    gf_out_set_int(&o, "a", 1);
    gf_out_unset(&o, "a");
    gf_out_unset(&o, "missing");
    assert_int_equal(gf_out_end(&o), 0);
    assert_int_equal(o.batch.len, sb.size);
    assert_memory_equal(o.batch.data, sb.data, sb.size);
    gf_out_release(&o);

    /* unset copied keys: the first, the long one; the map header shrinks
       to a fixmap */
    o = out_plain();
    gf_out_begin_copy(&o, &rec);
    gf_out_unset(&o, "k0");
    gf_out_unset(&o, longkey);
    gf_out_set_int(&o, "k0", 7);
    assert_int_equal(gf_out_end(&o), 0);
    decode_only(&d, &o);
    assert_int_equal(d.map.size, 16);
    assert_true(field(&d, "k0")->via.u64 == 7);
    assert_null(field(&d, longkey));
    undecode(&d);
    gf_out_release(&o);
    msgpack_sbuffer_destroy(&sb);

    /* keys written as str8 rather than fixstr (another producer may): a
       set must still find and replace them */
    static const uint8_t str8keys[] = {0x82, 0xd9, 0x06, 's',  'e',  'c', 't',
                                       'o',  'r',  0x01, 0xd9, 0x01, 'k', 0x02};
    gf_record_view(&rec, str8keys, sizeof str8keys);
    o = out_plain();
    gf_out_begin_copy(&o, &rec);
    gf_out_set_int(&o, "sector", 5);
    gf_out_set_int(&o, "k", 6);
    gf_out_set_int(&o, "sectors", 7);
    assert_int_equal(gf_out_end(&o), 0);
    decode_only(&d, &o);
    assert_int_equal(d.map.size, 3);
    assert_true(field(&d, "sector")->via.u64 == 5);
    assert_true(field(&d, "k")->via.u64 == 6);
    assert_true(field(&d, "sectors")->via.u64 == 7);
    undecode(&d);
    gf_out_release(&o);
}

static void test_copy_from_own_batch(void **state)
{
    (void)state;
    /* a record of the same batch as source and values: the batch grows
       (reallocates) while they are being copied */
    gf_out o;
    assert_int_equal(gf_out_init(&o, 16, NULL, NULL), 0);
    char big[200];
    memset(big, 'q', sizeof big);
    gf_out_begin(&o);
    gf_out_set_str(&o, "s", big, sizeof big);
    gf_out_set_int(&o, "n", 5);
    assert_int_equal(gf_out_end(&o), 0);
    for (int round = 0; round < 40; round++) {
        gf_record first;
        gf_record_view(&first, o.batch.data,
                       gf_mp_skip(o.batch.data) - o.batch.data);
        gf_value s;
        assert_true(gf_record_get(&first, "s", &s));
        if (round % 2 == 0) {
            gf_out_begin_copy(&o, &first);
            gf_out_set_value(&o, "s2", &s);
            assert_int_equal(gf_out_end(&o), 0);
        } else {
            assert_int_equal(gf_out_emit(&o, &first), 0);
        }
    }
    const char *why;
    assert_int_equal(gf_mp_check_batch(o.batch.data, o.batch.len, 41, &why), 0);
    const uint8_t *pos = o.batch.data;
    gf_record r;
    int n = 0;
    while (gf_mp_batch_next(&pos, o.batch.data + o.batch.len, &r)) {
        gf_value s;
        assert_true(gf_record_get(&r, "s", &s));
        assert_int_equal(s.v.s.len, 200);
        assert_int_equal(memcmp(s.v.s.ptr, big, 200), 0);
        if (gf_record_get(&r, "s2", &s))
            assert_int_equal(memcmp(s.v.s.ptr, big, 200), 0);
        n++;
    }
    assert_int_equal(n, 41);
    gf_out_release(&o);
}

static void test_raw_and_value(void **state)
{
    (void)state;
    gf_out o = out_plain();
    gf_out_begin(&o);
    static const uint8_t nested[] = {0x92, 0x01, 0x81, 0xa1, 'k', 0xc0};
    gf_out_set_raw(&o, "n", nested, sizeof nested);
    gf_value hand = {.type = GF_T_STR};
    hand.v.s.ptr = "hand";
    hand.v.s.len = 4;
    gf_out_set_value(&o, "h", &hand);
    gf_value bin = {.type = GF_T_BIN};
    bin.v.s.ptr = "\x00\x01";
    bin.v.s.len = 2;
    gf_out_set_value(&o, "bin", &bin);
    gf_value fl = {.type = GF_T_FLOAT, .v.f = 2.5};
    gf_out_set_value(&o, "fl", &fl);
    gf_value in = {.type = GF_T_INT, .v.i = -7};
    gf_out_set_value(&o, "in", &in);
    assert_int_equal(gf_out_end(&o), 0);
    decoded d;
    decode_only(&d, &o);
    const msgpack_object *v = field(&d, "n");
    assert_true(v->type == MSGPACK_OBJECT_ARRAY && v->via.array.size == 2);
    assert_int_equal(v->via.array.ptr[1].type, MSGPACK_OBJECT_MAP);
    assert_int_equal(field(&d, "h")->via.str.size, 4);
    assert_int_equal(field(&d, "bin")->type, MSGPACK_OBJECT_BIN);
    assert_true(field(&d, "fl")->via.f64 == 2.5);
    assert_true(field(&d, "in")->via.i64 == -7);
    undecode(&d);
    size_t good_len = o.batch.len;

    /* invalid raw bytes: the record ends as an error */
    static const uint8_t trunc[] = {0x92, 0x01};
    gf_out_begin(&o);
    gf_out_set_int(&o, "ok", 1);
    gf_out_set_raw(&o, "bad", trunc, sizeof trunc);
    gf_out_set_int(&o, "after", 2);
    int r = gf_out_end(&o);
    assert_true(r < 0);
    assert_int_equal(o.status, r);
    assert_int_equal(o.nrec, 1);
    assert_int_equal(o.batch.len, good_len); /* nothing of it left */
    gf_out_release(&o);

    /* depth: the record is level 1, so a raw value may nest 31 deep */
    uint8_t deep[40];
    memset(deep, 0x91, sizeof deep);
    deep[GF_MP_MAX_DEPTH - 1] = 0xc0;
    o = out_plain();
    gf_out_begin(&o);
    gf_out_set_raw(&o, "d31", deep, GF_MP_MAX_DEPTH);
    assert_int_equal(gf_out_end(&o), 0);
    const char *why;
    assert_int_equal(gf_mp_check_batch(o.batch.data, o.batch.len, 1, &why), 0);
    gf_out_release(&o);
    deep[GF_MP_MAX_DEPTH - 1] = 0x91;
    deep[GF_MP_MAX_DEPTH] = 0xc0;
    o = out_plain();
    gf_out_begin(&o);
    gf_out_set_raw(&o, "d32", deep, GF_MP_MAX_DEPTH + 1);
    assert_int_equal(gf_out_end(&o), -EINVAL);
    gf_out_release(&o);

    /* an ext value, an array value without bytes, and a NULL key */
    static const uint8_t ext[] = {0xd4, 0x01, 0x02};
    o = out_plain();
    gf_out_begin(&o);
    gf_out_set_raw(&o, "e", ext, sizeof ext);
    assert_true(gf_out_end(&o) < 0);
    gf_out_release(&o);
    o = out_plain();
    gf_out_begin(&o);
    gf_value arr = {.type = GF_T_ARRAY, .n = 2};
    gf_out_set_value(&o, "a", &arr);
    assert_true(gf_out_end(&o) < 0);
    gf_out_release(&o);
    o = out_plain();
    gf_out_begin(&o);
    gf_out_set_int(&o, NULL, 1);
    assert_true(gf_out_end(&o) < 0);
    gf_out_release(&o);
    /* end without begin */
    o = out_plain();
    assert_true(gf_out_end(&o) < 0);
    assert_int_equal(o.status, 0);
    gf_out_release(&o);
}

static void test_begin_abandons(void **state)
{
    (void)state;
    gf_out o = out_plain();
    gf_out_begin(&o);
    gf_out_set_int(&o, "abandoned", 1);
    gf_out_begin(&o);
    gf_out_set_int(&o, "kept", 2);
    assert_int_equal(gf_out_end(&o), 0);
    decoded d;
    char keys[64];
    decode_only(&d, &o);
    assert_string_equal(keys_of(&d, keys, sizeof keys), "kept");
    undecode(&d);
    gf_out_release(&o);
}

/* on_full: collect every batch, checked, into a list. */
typedef struct collected {
    int batches;
    uint32_t records;
    int64_t next_i; /* the next record's "i" */
    size_t max_batch;
} collected;

static int collect(gf_out *out, void *arg)
{
    collected *c = arg;
    size_t len;
    uint32_t nrec;
    uint8_t *data = gf_out_take(out, &len, &nrec);
    assert_non_null(data);
    assert_int_equal(out->batch.len, 0);
    assert_int_equal(out->nrec, 0);
    const char *why;
    assert_int_equal(gf_mp_check_batch(data, len, nrec, &why), 0);
    /* decode with msgpack-c, record by record */
    size_t off = 0;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    uint32_t n = 0;
    while (msgpack_unpack_next(&u, (const char *)data, len, &off) ==
           MSGPACK_UNPACK_SUCCESS) {
        const msgpack_object_map *m = &u.data.via.map;
        assert_int_equal(m->size, 15);
        assert_true(key_is(&m->ptr[0].key, "i"));
        assert_true(m->ptr[0].val.via.i64 == c->next_i);
        c->next_i++;
        n++;
    }
    msgpack_unpacked_destroy(&u);
    assert_int_equal(off, len);
    assert_int_equal(n, nrec);
    c->batches++;
    c->records += nrec;
    if (len > c->max_batch)
        c->max_batch = len;
    gf_free(data);
    return 0;
}

static void write_15(gf_out *o, int64_t i)
{
    gf_out_begin(o);
    gf_out_set_int(o, "i", i);
    gf_out_set_str(o, "kind", "member", 6);
    gf_out_set_str(o, "name", "Zhang San", 9);
    gf_out_set_str(o, "platform", "meituan", 7);
    gf_out_set_str(o, "district", "chaoyang", 8);
    gf_out_set_str(o, "station", "station-0042", 12);
    gf_out_set_int(o, "age", 20 + i % 40);
    gf_out_set_float(o, "points", (double)i * 0.5);
    gf_out_set_bool(o, "party", i % 3 == 0);
    gf_out_set_str(o, "relation", "mobile", 6);
    gf_out_set_str(o, "origin", "henan", 5);
    gf_out_set_str(o, "role", "pioneer", 7);
    gf_out_set_int(o, "year", 2024);
    gf_out_set_str(o, "joined", "2024-03-01", 10);
    gf_out_set_nil(o, "note");
}

static void test_many_records_batches(void **state)
{
    (void)state;
    collected c = {0};
    gf_out o;
    assert_int_equal(gf_out_init(&o, 4096, collect, &c), 0);
    for (int64_t i = 0; i < 10000; i++) {
        write_15(&o, i);
        assert_int_equal(gf_out_end(&o), 0);
    }
    assert_true(c.batches > 10);
    /* the last partial batch */
    uint32_t before = c.records;
    assert_int_equal(gf_out_flush(&o), 0);
    assert_true(c.records > before);
    assert_int_equal(c.records, 10000);
    assert_int_equal(c.next_i, 10000);
    assert_int_equal(o.records, 10000);
    /* a batch stops growing at the first record past batch_bytes */
    assert_true(c.max_batch < 4096 + 200);
    assert_int_equal(gf_out_flush(&o), 0); /* empty: nothing */
    gf_out_release(&o);
}

static void test_take_ownership(void **state)
{
    (void)state;
    gf_out o = out_plain();
    size_t len;
    uint32_t nrec;
    assert_null(gf_out_take(&o, &len, &nrec));
    assert_int_equal(len, 0);
    gf_out_begin(&o);
    gf_out_set_int(&o, "a", 1);
    assert_int_equal(gf_out_end(&o), 0);
    /* a record open while the batch is taken stays open and intact */
    gf_out_begin(&o);
    gf_out_set_int(&o, "b", 2);
    uint8_t *taken = gf_out_take(&o, &len, &nrec);
    assert_non_null(taken);
    assert_int_equal(nrec, 1);
    assert_int_equal(len, 4);
    gf_out_set_int(&o, "c", 3);
    gf_out_set_int(&o, "b", 20);
    assert_int_equal(gf_out_end(&o), 0);
    /* the taken buffer is ours: the out writes elsewhere */
    static const uint8_t first[] = {0x81, 0xa1, 'a', 0x01};
    assert_memory_equal(taken, first, 4);
    assert_ptr_not_equal(taken, o.batch.data);
    decoded d;
    char keys[64];
    decode_only(&d, &o);
    assert_string_equal(keys_of(&d, keys, sizeof keys), "b,c");
    assert_true(field(&d, "b")->via.u64 == 20);
    undecode(&d);
    gf_free(taken);
    taken = gf_out_take(&o, &len, &nrec);
    assert_int_equal(nrec, 1);
    gf_free(taken);
    assert_null(gf_out_take(&o, &len, &nrec));
    gf_out_release(&o);
}

static int count_full(gf_out *out, void *arg)
{
    int *calls = arg;
    (*calls)++;
    gf_buf_clear(&out->batch); /* copy-and-clear style */
    return *calls >= 3 ? -ECANCELED : 0;
}

static void test_on_full_and_flush(void **state)
{
    (void)state;
    int calls = 0;
    gf_out o;
    assert_int_equal(gf_out_init(&o, 1, count_full, &calls), 0);
    gf_out_begin(&o);
    gf_out_set_int(&o, "a", 1);
    assert_int_equal(gf_out_end(&o), 0);
    assert_int_equal(calls, 1);
    assert_int_equal(o.nrec, 0);
    gf_out_release(&o);

    /* flush keeps an open record */
    calls = 0;
    assert_int_equal(gf_out_init(&o, 1 << 20, count_full, &calls), 0);
    gf_out_begin(&o);
    gf_out_set_int(&o, "a", 1);
    assert_int_equal(gf_out_end(&o), 0);
    assert_int_equal(calls, 0);
    gf_out_begin(&o);
    gf_out_set_int(&o, "open", 1);
    assert_int_equal(gf_out_flush(&o), 0);
    assert_int_equal(calls, 1);
    assert_int_equal(o.nrec, 0);
    gf_out_set_int(&o, "open", 2);
    assert_int_equal(gf_out_end(&o), 0);
    decoded d;
    decode_only(&d, &o);
    assert_true(field(&d, "open")->via.u64 == 2);
    undecode(&d);
    assert_int_equal(gf_out_flush(&o), 0);
    assert_int_equal(calls, 2);
    /* the third call stops the run: end() returns it and it sticks */
    gf_out_begin(&o);
    assert_int_equal(gf_out_end(&o), 0);
    assert_int_equal(gf_out_flush(&o), -ECANCELED);
    assert_int_equal(o.status, -ECANCELED);
    gf_out_begin(&o);
    assert_int_equal(gf_out_end(&o), -ECANCELED);
    gf_out_release(&o);
}

static void test_wide_records(void **state)
{
    (void)state;
    /* 16 and 300 fields: map16 headers written at end() */
    for (int nf = 15; nf <= 300; nf += 285) {
        for (int extra = 0; extra < 2; extra++) {
            gf_out o = out_plain();
            gf_out_begin(&o);
            for (int i = 0; i < nf + extra; i++) {
                char k[16];
                snprintf(k, sizeof k, "k%d", i);
                gf_out_set_int(&o, k, i);
            }
            assert_int_equal(gf_out_end(&o), 0);
            decoded d;
            decode_only(&d, &o);
            assert_int_equal(d.map.size, (uint32_t)(nf + extra));
            for (int i = 0; i < nf + extra; i++)
                assert_true(d.map.ptr[i].val.via.u64 == (uint64_t)i);
            undecode(&d);
            gf_out_release(&o);
        }
    }
}

/* on_full for the allocation walk: take, check, free. */
static int take_check(gf_out *out, void *arg)
{
    collected *c = arg;
    size_t len;
    uint32_t nrec;
    uint8_t *data = gf_out_take(out, &len, &nrec);
    const char *why;
    assert_non_null(data);
    assert_int_equal(gf_mp_check_batch(data, len, nrec, &why), 0);
    c->records += nrec;
    gf_free(data);
    return 0;
}

/* One pass of everything that allocates; returns 0 when all succeeded. */
static int alloc_scenario(void)
{
    collected c = {0};
    gf_out o;
    int failed = 0;
    if (gf_out_init(&o, 512, take_check, &c) != 0)
        return -1;
    uint8_t src[] = {0x82, 0xa1, 'a', 0x01, 0xa1, 'b', 0xa1, 'x'};
    gf_record rec;
    gf_record_view(&rec, src, sizeof src);
    for (int64_t i = 0; i < 60; i++) {
        write_15(&o, i);
        if (gf_out_end(&o) != 0)
            failed = 1;
        if (failed)
            break;
    }
    if (!failed) {
        gf_out_begin_copy(&o, &rec);
        gf_out_set_str(&o, "a", "longer value", 12);
        if (gf_out_end(&o) != 0)
            failed = 1;
    }
    if (!failed && gf_out_flush(&o) != 0)
        failed = 1;
    if (o.status < 0)
        failed = 1;
    if (!failed)
        assert_int_equal(c.records, 61);
    gf_out_release(&o);
    return failed ? -1 : 0;
}

/* --- source positions ------------------------------------------------- */

/* Take the batch with its positions; check them against "i": record i
   has line i + 1 in file "f<i / 100 % 2>", records below 10 none. */
static int take_pos_check(gf_out *out, void *arg)
{
    collected *c = arg;
    size_t len;
    uint32_t nrec;
    gf_srcpos *pos;
    uint8_t *data = gf_out_take_pos(out, &len, &nrec, &pos);
    assert_non_null(data);
    assert_int_equal(out->npos, 0);
    const uint8_t *p = data, *end = data + len;
    gf_record r;
    for (uint32_t k = 0; gf_mp_batch_next(&p, end, &r); k++) {
        gf_value v;
        assert_true(gf_record_get(&r, "i", &v));
        int64_t i = v.v.i;
        assert_true(i == c->next_i);
        c->next_i++;
        if (i < 10) {
            if (pos) /* another record of the batch has one: zeros here */
                assert_true(pos[k].file == 0 && pos[k].line == 0);
            continue;
        }
        assert_non_null(pos);
        char want[8];
        snprintf(want, sizeof want, "f%d", (int)(i / 100 % 2));
        assert_string_equal(gf_srcpos_name(out->srcpos, pos[k].file), want);
        assert_int_equal(pos[k].line, i + 1);
    }
    c->records += nrec;
    c->batches++;
    gf_free(data);
    gf_free(pos);
    return 0;
}

static void test_positions(void **state)
{
    (void)state;
    gf_srcpos_table *t = gf_srcpos_table_new();
    assert_non_null(t);
    gf_out o = out_plain();
    o.srcpos = t;
    size_t len;
    uint32_t nrec;
    gf_srcpos *pos;
    /* no position ever set: nothing noted, none handed over */
    for (int i = 0; i < 2; i++) {
        gf_out_begin(&o);
        gf_out_set_int(&o, "i", i);
        assert_int_equal(gf_out_end(&o), 0);
    }
    assert_int_equal(o.npos, 0);
    char *a1 = strdup("a.csv"), *a2 = strdup("a.csv");
    gf_out_set_position(&o, a1, 5);
    gf_out_begin(&o);
    gf_out_set_int(&o, "i", 2);
    assert_int_equal(gf_out_end(&o), 0);
    /* the same name from another string is the same file; a string not
       the one passed last is read by its text (a1, now another name) */
    gf_out_begin(&o);
    gf_out_set_position(&o, a2, 6); /* with a record open: that record's */
    gf_out_set_int(&o, "i", 3);
    assert_int_equal(gf_out_end(&o), 0);
    strcpy(a1, "b.csv");
    gf_out_set_position(&o, a1, 7);
    uint8_t rec4[] = {0x81, 0xa1, 'i', 0x04};
    gf_record r4;
    gf_record_view(&r4, rec4, sizeof rec4);
    assert_int_equal(gf_out_emit(&o, &r4), 0);
    gf_out_set_position(&o, NULL, 8); /* a line of no known file */
    gf_out_begin(&o);
    assert_int_equal(gf_out_end(&o), 0);
    gf_out_set_position(&o, a2, (uint64_t)UINT32_MAX + 1); /* too far */
    gf_out_begin(&o);
    assert_int_equal(gf_out_end(&o), 0);
    uint8_t *data = gf_out_take_pos(&o, &len, &nrec, &pos);
    assert_non_null(data);
    assert_int_equal(nrec, 7);
    assert_non_null(pos);
    static const uint32_t lines[] = {0, 0, 5, 6, 7, 8, 0};
    static const char *const files[] = {NULL,    NULL, "a.csv", "a.csv",
                                        "b.csv", NULL, "a.csv"};
    for (int k = 0; k < 7; k++) {
        assert_int_equal(pos[k].line, lines[k]);
        const char *name = gf_srcpos_name(t, pos[k].file);
        if (files[k])
            assert_string_equal(name, files[k]);
        else
            assert_null(name);
    }
    assert_int_equal(pos[2].file, pos[3].file);
    assert_int_not_equal(pos[3].file, pos[4].file);
    gf_free(data);
    gf_free(pos);

    /* the position holds until changed: the next batch's record has it */
    gf_out_set_position(&o, "c.csv", 1);
    gf_out_begin(&o);
    assert_int_equal(gf_out_end(&o), 0);
    /* a record open when the batch is taken keeps its own position */
    gf_out_set_position(&o, "c.csv", 2);
    gf_out_begin(&o);
    gf_out_set_int(&o, "open", 1);
    data = gf_out_take_pos(&o, &len, &nrec, &pos);
    assert_int_equal(nrec, 1);
    assert_non_null(pos);
    assert_int_equal(pos[0].line, 1);
    assert_string_equal(gf_srcpos_name(t, pos[0].file), "c.csv");
    gf_free(data);
    gf_free(pos);
    assert_int_equal(gf_out_end(&o), 0);
    data = gf_out_take_pos(&o, &len, &nrec, &pos);
    assert_int_equal(nrec, 1);
    assert_non_null(pos);
    assert_int_equal(pos[0].line, 2);
    gf_free(data);
    gf_free(pos);

    /* gf_out_take drops them; unknown again, none are handed over */
    gf_out_begin(&o);
    assert_int_equal(gf_out_end(&o), 0);
    data = gf_out_take(&o, &len, &nrec);
    assert_int_equal(nrec, 1);
    assert_int_equal(o.npos, 0);
    gf_free(data);
    gf_out_set_position(&o, NULL, 0);
    gf_out_begin(&o);
    assert_int_equal(gf_out_end(&o), 0);
    data = gf_out_take_pos(&o, &len, &nrec, &pos);
    assert_non_null(data);
    assert_null(pos);
    gf_free(data);
    assert_null(gf_out_take_pos(&o, &len, &nrec, &pos));
    assert_null(pos);
    gf_out_release(&o);

    /* an out without a table knows lines, not files */
    o = out_plain();
    gf_out_set_position(&o, "x.csv", 4);
    assert_int_equal(o.cur.file, 0);
    assert_int_equal(o.cur.line, 4);
    gf_out_release(&o);
    free(a1);
    free(a2);
    gf_srcpos_table_free(&t);
}

/* Positions across many batches handed over by on_full, with the file
   changing every 100 records. */
static void test_positions_batches(void **state)
{
    (void)state;
    gf_srcpos_table *t = gf_srcpos_table_new();
    assert_non_null(t);
    collected c = {0};
    gf_out o;
    assert_int_equal(gf_out_init(&o, 4096, take_pos_check, &c), 0);
    o.srcpos = t;
    for (int64_t i = 0; i < 5000; i++) {
        /* one string per file, as set_position asks; a copy of the same
           name (a new string each record) must still work */
        static const char *const names[] = {"f0", "f1"};
        char copy[8];
        const char *f = names[i / 100 % 2];
        if (i % 3 == 0)
            f = strcpy(copy, f);
        if (i >= 10)
            gf_out_set_position(&o, f, (uint64_t)i + 1);
        write_15(&o, i);
        assert_int_equal(gf_out_end(&o), 0);
    }
    assert_int_equal(gf_out_flush(&o), 0);
    assert_int_equal(c.records, 5000);
    assert_int_equal(c.next_i, 5000);
    assert_true(c.batches > 10);
    assert_non_null(gf_srcpos_name(t, 2));
    assert_null(gf_srcpos_name(t, 3)); /* two names only */
    gf_out_release(&o);
    gf_srcpos_table_free(&t);
}

/* The allocation walk with positions: a failure anywhere is clean. */
static int alloc_scenario_pos(void)
{
    collected c = {0};
    gf_out o;
    int failed = 0;
    gf_srcpos_table *t = gf_srcpos_table_new();
    if (!t)
        return -1;
    if (gf_out_init(&o, 512, take_pos_check, &c) != 0) {
        gf_srcpos_table_free(&t);
        return -1;
    }
    o.srcpos = t;
    for (int64_t i = 0; i < 250 && !failed; i++) {
        /* one string per file, as set_position asks; a copy of the same
           name (a new string each record) must still work */
        static const char *const names[] = {"f0", "f1"};
        char copy[8];
        const char *f = names[i / 100 % 2];
        if (i % 3 == 0)
            f = strcpy(copy, f);
        if (i >= 10)
            gf_out_set_position(&o, f, (uint64_t)i + 1);
        if (i >= 10 && o.cur.file == 0)
            failed = 1; /* interning failed: the position is unknown */
        write_15(&o, i);
        if (gf_out_end(&o) != 0)
            failed = 1;
    }
    if (!failed && (gf_out_flush(&o) != 0 || o.status < 0))
        failed = 1;
    if (!failed)
        assert_int_equal(c.records, 250);
    gf_out_release(&o);
    gf_srcpos_table_free(&t);
    return failed ? -1 : 0;
}

static void test_positions_alloc_failures(void **state)
{
    (void)state;
    int ok = 0;
    for (long n = 0; n < 1000 && !ok; n++) {
        gf_alloc_fail_after(n);
        ok = alloc_scenario_pos() == 0;
        gf_alloc_fail_reset();
    }
    assert_true(ok);
}

static int collect_copy(gf_out *out, void *arg)
{
    (void)arg;
    gf_buf_clear(&out->batch);
    return 0;
}

static void test_alloc_failures(void **state)
{
    (void)state;
    int ok = 0;
    for (long n = 0; n < 1000 && !ok; n++) {
        gf_alloc_fail_after(n);
        ok = alloc_scenario() == 0;
        gf_alloc_fail_reset();
    }
    assert_true(ok);
    /* and gf_out_init itself */
    gf_alloc_fail_after(0);
    gf_out o;
    assert_int_equal(gf_out_init(&o, 64, collect_copy, NULL), -ENOMEM);
    gf_alloc_fail_reset();
    gf_out_release(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_types),
        cmocka_unit_test(test_small_record_bytes),
        cmocka_unit_test(test_replace_and_unset),
        cmocka_unit_test(test_copy_override),
        cmocka_unit_test(test_copy_lazy_index),
        cmocka_unit_test(test_copy_from_own_batch),
        cmocka_unit_test(test_raw_and_value),
        cmocka_unit_test(test_begin_abandons),
        cmocka_unit_test(test_many_records_batches),
        cmocka_unit_test(test_take_ownership),
        cmocka_unit_test(test_on_full_and_flush),
        cmocka_unit_test(test_wide_records),
        cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_positions),
        cmocka_unit_test(test_positions_batches),
        cmocka_unit_test(test_positions_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
