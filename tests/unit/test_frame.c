/*
 * test_frame - gf_frame: the 40-byte header's exact little-endian layout
 * (expected bytes written out by hand from the table in gf_frame.h), every
 * check of gf_frame_decode, and gf_frame_check_payload against payloads
 * packed with msgpack-c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "gf_frame.h"
#include "unit_util.h"

static const gf_frame_hdr sample = {
    .type = GF_FRAME_EOS,
    .flags = 0,
    .producer = 0x0102030405060708ull,
    .seq = 0x1112131415161718ull,
    .count = 0x21222324u,
    .payload_len = 0,
    .aux = 0x3132333435363738ull,
};

static void test_layout(void **state)
{
    (void)state;
    uint8_t b[GF_FRAME_HDR_SIZE];
    gf_frame_encode(&sample, b);
    static const uint8_t want[GF_FRAME_HDR_SIZE] = {
        'G',  'F',  'F',  'R',  1,    2,    0,    0, /* magic ver type flags */
        0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, /* producer */
        0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11, /* seq */
        0x24, 0x23, 0x22, 0x21, 0,    0,    0,    0,    /* count, payload */
        0x38, 0x37, 0x36, 0x35, 0x34, 0x33, 0x32, 0x31, /* aux */
    };
    assert_memory_equal(b, want, sizeof want);

    gf_frame_hdr h;
    const char *why = NULL;
    uint8_t *p = exact_copy(b, sizeof b);
    assert_int_equal(gf_frame_decode(p, sizeof b, &h, &why), 0);
    free(p);
    assert_int_equal(h.type, GF_FRAME_EOS);
    assert_true(h.producer == sample.producer);
    assert_true(h.seq == sample.seq);
    assert_int_equal(h.count, sample.count);
    assert_int_equal(h.payload_len, 0);
    assert_true(h.aux == sample.aux);
}

static void expect_refused(const uint8_t *b, size_t len, const char *want)
{
    gf_frame_hdr h;
    const char *why = NULL;
    uint8_t *p = exact_copy(b, len);
    assert_int_equal(gf_frame_decode(p, len, &h, &why), -1);
    assert_string_equal(why, want);
    free(p);
}

static void test_decode_checks(void **state)
{
    (void)state;
    uint8_t b[GF_FRAME_HDR_SIZE + 1] = {0};
    gf_frame_encode(&sample, b);
    expect_refused(b, 39, "header frame is not 40 bytes");
    expect_refused(b, 41, "header frame is not 40 bytes");
    expect_refused(b, 0, "header frame is not 40 bytes");
    gf_frame_hdr h;
    const char *why;
    assert_int_equal(gf_frame_decode(NULL, 40, &h, &why), -1);

    uint8_t c[GF_FRAME_HDR_SIZE];
    memcpy(c, b, sizeof c);
    c[0] = 'X';
    expect_refused(c, 40, "bad magic (not a gigflow frame)");
    memcpy(c, b, sizeof c);
    c[4] = 2;
    expect_refused(c, 40, "unsupported frame version");
    for (int t = 0; t < 256; t++) {
        memcpy(c, b, sizeof c);
        c[5] = (uint8_t)t;
        if (t >= 1 && t <= 5) {
            assert_int_equal(gf_frame_decode(c, 40, &h, &why), 0);
            assert_int_equal(h.type, t);
        } else {
            expect_refused(c, 40, "unknown frame type");
        }
    }
    memcpy(c, b, sizeof c);
    c[7] = 0x80;
    expect_refused(c, 40, "unknown frame flags");

    gf_frame_hdr big = sample;
    big.type = GF_FRAME_DATA;
    big.payload_len = GF_FRAME_MAX_PAYLOAD;
    gf_frame_encode(&big, c);
    assert_int_equal(gf_frame_decode(c, 40, &h, &why), 0);
    big.payload_len = GF_FRAME_MAX_PAYLOAD + 1;
    gf_frame_encode(&big, c);
    expect_refused(c, 40, "payload length above the limit");
    big.payload_len = UINT32_MAX;
    gf_frame_encode(&big, c);
    expect_refused(c, 40, "payload length above the limit");
}

static void test_payload(void **state)
{
    (void)state;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    for (int i = 0; i < 2; i++) {
        msgpack_pack_map(&pk, 1);
        pk_str(&pk, "i");
        msgpack_pack_int64(&pk, i);
    }
    uint8_t *p = exact_copy(sb.data, sb.size);
    gf_frame_hdr h = {
        .type = GF_FRAME_DATA, .count = 2, .payload_len = (uint32_t)sb.size};
    const char *why = NULL;
    assert_int_equal(gf_frame_check_payload(&h, p, sb.size, &why), 0);
    assert_int_equal(gf_frame_check_payload(&h, p, sb.size - 1, &why), -1);
    assert_string_equal(why, "payload length differs from the header's");
    h.count = 3;
    assert_int_equal(gf_frame_check_payload(&h, p, sb.size, &why), -1);
    assert_string_equal(why, "fewer records than the header's count");
    h.count = 1;
    assert_int_equal(gf_frame_check_payload(&h, p, sb.size, &why), -1);
    assert_string_equal(why, "bytes left after the last record");
    /* truncated payloads, with a header that agrees on the length */
    for (size_t cut = 0; cut < sb.size; cut++) {
        uint8_t *q = exact_copy(sb.data, cut);
        gf_frame_hdr t = {
            .type = GF_FRAME_DATA, .count = 2, .payload_len = (uint32_t)cut};
        assert_int_equal(gf_frame_check_payload(&t, q, cut, &why), -1);
        free(q);
    }
    /* frames without records */
    gf_frame_hdr e = {.type = GF_FRAME_EOS, .count = 1000, .aux = 3};
    assert_int_equal(gf_frame_check_payload(&e, NULL, 0, &why), 0);
    e.payload_len = (uint32_t)sb.size;
    assert_int_equal(gf_frame_check_payload(&e, p, sb.size, &why), -1);
    assert_string_equal(why, "payload on a frame that carries none");
    gf_frame_hdr d0 = {.type = GF_FRAME_DATA};
    assert_int_equal(gf_frame_check_payload(&d0, NULL, 0, &why), 0);
    free(p);
    msgpack_sbuffer_destroy(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_decode_checks),
        cmocka_unit_test(test_payload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
