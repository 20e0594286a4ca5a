/*
 * test_edge - gf_edge over inproc: batches and EOS arrive with their
 * counts checked, fan-out shares one batch, round robin spreads batches,
 * and every kind of bad message is dropped, counted and described.
 * Source positions ride along as a third frame, checked for length.
 * Records are hand-encoded MessagePack so that the expected bytes do not
 * depend on gigflow's writer.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zmq.h>

#include "gf_alloc.h"
#include "gf_edge.h"

/* {"a":1} {"a":2} {"bb":"x"}: three records, 14 bytes */
static const uint8_t three[] = {0x81, 0xa1, 'a',  0x01, 0x81, 0xa1, 'a',
                                0x02, 0x81, 0xa2, 'b',  'b',  0xa1, 'x'};

typedef struct fx {
    void *zctx;
    gf_edge_rx *rx;
    gf_edge_tx *tx;
} fx;

static gf_edge_batch *make_batch(void)
{
    uint8_t *d = gf_malloc(sizeof three);
    assert_non_null(d);
    memcpy(d, three, sizeof three);
    gf_edge_batch *b = gf_edge_batch_new(d, sizeof three, 3);
    assert_non_null(b);
    return b;
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->zctx = zmq_ctx_new();
    uint64_t producers[] = {7, 9};
    f->rx = gf_edge_rx_new(f->zctx, "inproc://t-edge", producers, 2);
    if (f->rx)
        f->rx->check_payload = true; /* the bad-message tests need it */
    f->tx = gf_edge_tx_new(f->zctx, "inproc://t-edge", 7);
    if (!f->zctx || !f->rx || !f->tx)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    gf_edge_tx_destroy(&f->tx);
    gf_edge_rx_destroy(&f->rx);
    zmq_ctx_term(f->zctx);
    free(f);
    return 0;
}

/* A raw PUSH socket that can send anything at the rx. */
static void *raw_sender(fx *f)
{
    void *s = zmq_socket(f->zctx, ZMQ_PUSH);
    int zero = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    assert_int_equal(zmq_connect(s, "inproc://t-edge"), 0);
    return s;
}

static void raw_send(void *s, const gf_frame_hdr *h, const void *payload,
                     size_t len, bool with_payload)
{
    uint8_t hb[GF_FRAME_HDR_SIZE];
    gf_frame_encode(h, hb);
    assert_int_equal(zmq_send(s, hb, sizeof hb, with_payload ? ZMQ_SNDMORE : 0),
                     (int)sizeof hb);
    if (with_payload)
        assert_int_equal(zmq_send(s, payload, len, 0), (int)len);
}

static int recv1(fx *f, gf_edge_msg *m, const char **why)
{
    return gf_edge_rx_recv(f->rx, m, 2000, why);
}

static void test_data_then_eos(void **state)
{
    fx *f = *state;
    gf_edge_batch *b = make_batch();
    assert_int_equal(gf_edge_tx_send(f->tx, b, false), 0);
    assert_int_equal(gf_edge_tx_send(f->tx, b, false), 0);
    gf_edge_batch_unref(b);
    assert_int_equal(gf_edge_tx_eos(f->tx), 0);

    gf_edge_msg m;
    const char *why;
    for (int i = 1; i <= 2; i++) {
        assert_int_equal(recv1(f, &m, &why), GF_EDGE_DATA);
        assert_int_equal(m.hdr.type, GF_FRAME_DATA);
        assert_int_equal(m.hdr.producer, 7);
        assert_int_equal(m.hdr.seq, i);
        assert_int_equal(m.hdr.count, 3);
        assert_int_equal(zmq_msg_size(&m.payload), sizeof three);
        assert_memory_equal(zmq_msg_data(&m.payload), three, sizeof three);
        gf_edge_msg_close(&m);
    }
    assert_false(gf_edge_rx_done(f->rx));
    assert_int_equal(recv1(f, &m, &why), GF_EDGE_EOS);
    assert_int_equal(f->rx->peers[0].records, 6);
    assert_true(f->rx->peers[0].eos);
    assert_false(gf_edge_rx_done(f->rx)); /* producer 9 still open */

    gf_edge_tx *tx9 = gf_edge_tx_new(f->zctx, "inproc://t-edge", 9);
    assert_non_null(tx9);
    assert_int_equal(gf_edge_tx_eos(tx9), 0);
    assert_int_equal(recv1(f, &m, &why), GF_EDGE_EOS);
    assert_true(gf_edge_rx_done(f->rx));
    assert_int_equal(f->rx->bad_frames, 0);
    gf_edge_tx_destroy(&tx9);
}

static void test_timeout(void **state)
{
    fx *f = *state;
    gf_edge_msg m;
    const char *why;
    assert_int_equal(gf_edge_rx_recv(f->rx, &m, 10, &why), GF_EDGE_TIMEOUT);
}

static void test_bad_messages(void **state)
{
    fx *f = *state;
    void *s = raw_sender(f);
    gf_edge_msg m;
    const char *why;

    /* not a header at all */
    assert_int_equal(zmq_send(s, "garbage", 7, 0), 7);
    assert_int_equal(recv1(f, &m, &why), GF_EDGE_BAD);
    assert_non_null(strstr(why, "header"));

    /* a header without its payload frame */
    gf_frame_hdr h = {.type = GF_FRAME_DATA,
                      .producer = 7,
                      .seq = 1,
                      .count = 3,
                      .payload_len = 14};
    raw_send(s, &h, NULL, 0, false);
    assert_int_equal(recv1(f, &m, &why), GF_EDGE_BAD);
    assert_non_null(strstr(why, "payload"));

    /* a payload shorter than the header says */
    raw_send(s, &h, three, 10, true);
    assert_int_equal(recv1(f, &m, &why), GF_EDGE_BAD);
    assert_non_null(strstr(why, "producer 7"));
    /* the same, announced honestly as 10 bytes: the last record is cut */
    h.payload_len = 10;
    raw_send(s, &h, three, 10, true);
    h.payload_len = 14;
    assert_int_equal(recv1(f, &m, &why), GF_EDGE_BAD);
    assert_non_null(strstr(why, "producer 7"));

    /* a count that does not match the records */
    h.count = 2;
    raw_send(s, &h, three, sizeof three, true);
    assert_int_equal(recv1(f, &m, &why), GF_EDGE_BAD);

    /* bytes that are not MessagePack maps */
    uint8_t junk[14] = {0xc1, 0xc1, 0xc1};
    h.count = 3;
    raw_send(s, &h, junk, sizeof junk, true);
    assert_int_equal(recv1(f, &m, &why), GF_EDGE_BAD);

    /* a producer this edge does not know */
    h.producer = 42;
    raw_send(s, &h, three, sizeof three, true);
    assert_int_equal(recv1(f, &m, &why), GF_EDGE_BAD);
    assert_non_null(strstr(why, "unknown producer 42"));

    assert_int_equal(f->rx->bad_frames, 7);
    /* none of it counted as data: a good batch is still batch 1 */
    gf_edge_batch *b = make_batch();
    assert_int_equal(gf_edge_tx_send(f->tx, b, false), 0);
    gf_edge_batch_unref(b);
    assert_int_equal(recv1(f, &m, &why), GF_EDGE_DATA);
    assert_int_equal(m.hdr.seq, 1);
    gf_edge_msg_close(&m);
    assert_int_equal(f->rx->peers[0].records, 3);
    zmq_close(s);
}

/* A batch of `three` with positions {file k+1, line 10*(k+1)}. */
static gf_edge_batch *make_batch_pos(void)
{
    uint8_t *d = gf_malloc(sizeof three);
    gf_srcpos *p = gf_malloc(3 * sizeof *p);
    assert_non_null(d);
    assert_non_null(p);
    memcpy(d, three, sizeof three);
    for (uint32_t k = 0; k < 3; k++)
        p[k] = (gf_srcpos){k + 1, 10 * (k + 1)};
    gf_edge_batch *b = gf_edge_batch_new_pos(d, sizeof three, 3, p);
    assert_non_null(b);
    return b;
}

/* Positions go as a third frame, shared by every message of the batch;
   a batch without them is two frames and reads as NULL. */
static void test_positions(void **state)
{
    fx *f = *state;
    gf_edge_batch *b = make_batch_pos();
    assert_int_equal(gf_edge_tx_send(f->tx, b, false), 0);
    assert_int_equal(gf_edge_tx_send(f->tx, b, false), 0);
    gf_edge_batch_unref(b); /* the messages hold it now */
    b = make_batch();
    assert_int_equal(gf_edge_tx_send(f->tx, b, false), 0);
    gf_edge_batch_unref(b);

    gf_edge_msg m;
    const char *why;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(recv1(f, &m, &why), GF_EDGE_DATA);
        assert_int_equal(zmq_msg_size(&m.payload), sizeof three);
        const gf_srcpos *p = gf_edge_msg_positions(&m);
        assert_non_null(p);
        assert_int_equal(zmq_msg_size(&m.positions), 24);
        for (uint32_t k = 0; k < 3; k++) {
            gf_srcpos one;
            memcpy(&one, p + k, sizeof one);
            assert_int_equal(one.file, k + 1);
            assert_int_equal(one.line, 10 * (k + 1));
        }
        gf_edge_msg_close(&m);
    }
    assert_int_equal(recv1(f, &m, &why), GF_EDGE_DATA);
    assert_null(gf_edge_msg_positions(&m));
    gf_edge_msg_close(&m);

    /* a malformed positions frame rejects the message as bad */
    void *s = raw_sender(f);
    uint8_t hb[GF_FRAME_HDR_SIZE];
    gf_frame_hdr h = {.type = GF_FRAME_DATA,
                      .producer = 7,
                      .seq = 4,
                      .count = 3,
                      .payload_len = sizeof three};
    gf_frame_encode(&h, hb);
    uint8_t pos[32] = {0};
    static const size_t wrong[] = {0, 8, 23, 25, 32};
    for (size_t i = 0; i < sizeof wrong / sizeof *wrong; i++) {
        assert_int_equal(zmq_send(s, hb, sizeof hb, ZMQ_SNDMORE),
                         (int)sizeof hb);
        assert_int_equal(zmq_send(s, three, sizeof three, ZMQ_SNDMORE),
                         (int)sizeof three);
        assert_int_equal(zmq_send(s, pos, wrong[i], 0), (int)wrong[i]);
        assert_int_equal(recv1(f, &m, &why), GF_EDGE_BAD);
        assert_non_null(strstr(why, "positions"));
        assert_non_null(strstr(why, "producer 7"));
    }
    /* four frames */
    assert_int_equal(zmq_send(s, hb, sizeof hb, ZMQ_SNDMORE), (int)sizeof hb);
    assert_int_equal(zmq_send(s, three, sizeof three, ZMQ_SNDMORE),
                     (int)sizeof three);
    assert_int_equal(zmq_send(s, pos, 24, ZMQ_SNDMORE), 24);
    assert_int_equal(zmq_send(s, pos, 8, 0), 8);
    assert_int_equal(recv1(f, &m, &why), GF_EDGE_BAD);
    assert_non_null(strstr(why, "more than three frames"));
    /* positions on an EOS */
    gf_frame_hdr e = {
        .type = GF_FRAME_EOS, .producer = 7, .seq = 4, .count = 9, .aux = 3};
    gf_frame_encode(&e, hb);
    assert_int_equal(zmq_send(s, hb, sizeof hb, ZMQ_SNDMORE), (int)sizeof hb);
    assert_int_equal(zmq_send(s, "", 0, ZMQ_SNDMORE), 0);
    assert_int_equal(zmq_send(s, pos, 0, 0), 0);
    assert_int_equal(recv1(f, &m, &why), GF_EDGE_BAD);
    assert_non_null(strstr(why, "positions"));
    assert_int_equal(f->rx->bad_frames, 7);
    /* none of it counted: the right positions frame is batch 4 */
    gf_frame_encode(&h, hb);
    assert_int_equal(zmq_send(s, hb, sizeof hb, ZMQ_SNDMORE), (int)sizeof hb);
    assert_int_equal(zmq_send(s, three, sizeof three, ZMQ_SNDMORE),
                     (int)sizeof three);
    assert_int_equal(zmq_send(s, pos, 24, 0), 24);
    assert_int_equal(recv1(f, &m, &why), GF_EDGE_DATA);
    assert_int_equal(m.hdr.seq, 4);
    assert_non_null(gf_edge_msg_positions(&m));
    gf_edge_msg_close(&m);
    assert_int_equal(f->rx->peers[0].records, 12);
    zmq_close(s);
}

static void test_eos_count_mismatch(void **state)
{
    fx *f = *state;
    void *s = raw_sender(f);
    gf_edge_msg m;
    const char *why;
    gf_frame_hdr h = {
        .type = GF_FRAME_EOS, .producer = 7, .seq = 1, .count = 5, .aux = 0};
    raw_send(s, &h, "", 0, true);
    assert_int_equal(recv1(f, &m, &why), -EPROTO);
    assert_non_null(strstr(why, "5 records"));
    assert_false(f->rx->peers[0].eos);
    zmq_close(s);
}

static void test_sequence_gap_and_data_after_eos(void **state)
{
    fx *f = *state;
    void *s = raw_sender(f);
    gf_edge_msg m;
    const char *why;
    gf_frame_hdr h = {.type = GF_FRAME_DATA,
                      .producer = 9,
                      .seq = 2,
                      .count = 3,
                      .payload_len = 14};
    raw_send(s, &h, three, sizeof three, true);
    assert_int_equal(recv1(f, &m, &why), -EPROTO);
    assert_non_null(strstr(why, "expected 1"));

    gf_frame_hdr eos = {.type = GF_FRAME_EOS, .producer = 7, .seq = 1};
    raw_send(s, &eos, "", 0, true);
    assert_int_equal(recv1(f, &m, &why), GF_EDGE_EOS);
    h.producer = 7;
    h.seq = 1;
    raw_send(s, &h, three, sizeof three, true);
    assert_int_equal(recv1(f, &m, &why), -EPROTO);
    assert_non_null(strstr(why, "after end of stream"));
    raw_send(s, &eos, "", 0, true);
    assert_int_equal(recv1(f, &m, &why), -EPROTO);
    assert_non_null(strstr(why, "twice"));
    zmq_close(s);
}

/* One batch to two consumers (fan-out) and round robin over two. */
static void test_fanout_and_round_robin(void **state)
{
    fx *f = *state;
    uint64_t p[] = {7};
    gf_edge_rx *a = gf_edge_rx_new(f->zctx, "inproc://t-a", p, 1);
    gf_edge_rx *c = gf_edge_rx_new(f->zctx, "inproc://t-c", p, 1);
    gf_edge_tx *ta = gf_edge_tx_new(f->zctx, "inproc://t-a", 7);
    gf_edge_tx *tc = gf_edge_tx_new(f->zctx, "inproc://t-c", 7);
    assert_true(a && c && ta && tc);

    gf_edge_batch *b = make_batch();
    assert_int_equal(gf_edge_tx_send(ta, b, false), 0);
    assert_int_equal(gf_edge_tx_send(tc, b, false), 0);
    /* round robin: four more batches, two to each */
    gf_edge_tx *both[] = {ta, tc};
    size_t rr = 0;
    for (int i = 0; i < 4; i++)
        assert_int_equal(gf_edge_tx_send_any(both, 2, &rr, b), 0);
    gf_edge_batch_unref(b); /* the messages keep it alive */
    assert_int_equal(gf_edge_tx_eos(ta), 0);
    assert_int_equal(gf_edge_tx_eos(tc), 0);

    gf_edge_rx *rxs[] = {a, c};
    for (int k = 0; k < 2; k++) {
        gf_edge_msg m;
        const char *why;
        int data = 0, r;
        while ((r = gf_edge_rx_recv(rxs[k], &m, 2000, &why)) == GF_EDGE_DATA) {
            assert_memory_equal(zmq_msg_data(&m.payload), three, sizeof three);
            gf_edge_msg_close(&m);
            data++;
        }
        assert_int_equal(r, GF_EDGE_EOS);
        assert_int_equal(data, 3);
        assert_int_equal(rxs[k]->peers[0].records, 9);
    }
    gf_edge_tx_destroy(&ta);
    gf_edge_tx_destroy(&tc);
    gf_edge_rx_destroy(&a);
    gf_edge_rx_destroy(&c);
}

/* A full edge refuses a non-blocking send and accepts once drained. */
static void test_backpressure(void **state)
{
    fx *f = *state;
    gf_edge_batch *b = make_batch();
    int sent = 0;
    while (sent < 100 && gf_edge_tx_send(f->tx, b, true) == 0)
        sent++;
    assert_true(sent >= GF_EDGE_HWM && sent < 100);
    assert_int_equal(gf_edge_tx_send(f->tx, b, true), -EAGAIN);
    gf_edge_msg m;
    const char *why;
    for (int i = 0; i < sent; i++) {
        assert_int_equal(recv1(f, &m, &why), GF_EDGE_DATA);
        gf_edge_msg_close(&m);
    }
    assert_int_equal(gf_edge_tx_send(f->tx, b, false), 0);
    assert_int_equal(recv1(f, &m, &why), GF_EDGE_DATA);
    assert_int_equal(m.hdr.seq, (uint64_t)sent + 1);
    gf_edge_msg_close(&m);
    gf_edge_batch_unref(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_data_then_eos, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_messages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_positions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eos_count_mismatch, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sequence_gap_and_data_after_eos,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_fanout_and_round_robin, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_backpressure, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
