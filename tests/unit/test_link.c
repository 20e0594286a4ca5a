/*
 * test_link - gf_link in one thread over inproc: the HELLO handshake and
 * the credit it grants (sends beyond it are refused with -EAGAIN until an
 * ACK gives credit back), acknowledgements reaching on_ack, a silent
 * consumer instance taken as dead and its unacknowledged batches resent to
 * the other one, a stateful (critical) consumer's death failing the link,
 * an origin producer's silence failing the receiving end, malformed
 * messages counted and dropped without reaching the queue, a critical
 * link routing each batch to instance (origin + seq) % N with per-instance
 * record counts in its EOS, the end-of-run phases ("done", "ok", their
 * repetition in heartbeats, the echo, and a consumer done too early), and
 * retransmission: a batch unacknowledged for a heartbeat is sent again, a
 * copy of a batch still held is dropped, a copy of one acknowledged is
 * acknowledged again.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "gf_alloc.h"
#include "gf_link.h"

#define HB 300 /* ms */

typedef struct acks {
    uint64_t n, last_origin, last_seq;
} acks;

static void on_ack(void *arg, uint64_t origin, uint64_t seq)
{
    acks *a = arg;
    a->n++;
    a->last_origin = origin;
    a->last_seq = seq;
}

static const gf_link_opts opts = {.heartbeat_ms = HB, .credit = 2};

typedef struct fix {
    void *ctx;
    gf_counters ctx_cnt, rx_cnt[2];
    gf_link_rx *rx[2];
    gf_link_tx *tx;
    acks a;
    bool serve[2]; /* service rx[i] in pump() */
} fix;

static void pump(fix *f, gf_link_tx *tx, int ms)
{
    int64_t end = gf_stats_now_ns() + (int64_t)ms * 1000000;
    while (gf_stats_now_ns() < end) {
        int64_t now = gf_stats_now_ns();
        for (int i = 0; i < 2; i++)
            if (f->serve[i] && f->rx[i])
                assert_int_equal(gf_link_rx_service(f->rx[i], now), 0);
        if (tx)
            gf_link_tx_service(tx, now);
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
}

static gf_edge_batch *batch(void)
{
    /* one record: {"a": 1} */
    uint8_t *g = gf_malloc(4);
    memcpy(g,
           "\x81\xa1"
           "a\x01",
           4);
    return gf_edge_batch_new(g, 4, 1);
}

static int setup(void **state)
{
    fix *f = calloc(1, sizeof *f);
    f->ctx = zmq_ctx_new();
    const uint64_t prod[] = {1};
    const bool origin[] = {true};
    const char *err;
    static char e0[] = "inproc://c0", e1[] = "inproc://c1";
    char *eps[2] = {e0, e1};
    for (int i = 0; i < 2; i++) {
        f->rx[i] = gf_link_rx_new(f->ctx, &opts, 10 + (uint64_t)i, "c", eps[i],
                                  prod, origin, 1, &f->rx_cnt[i], &err);
        assert_non_null(f->rx[i]);
        f->serve[i] = true;
    }
    f->tx = gf_link_tx_new(f->ctx, &opts, 1, "c", eps, 2, false, on_ack, &f->a,
                           &f->ctx_cnt, &err);
    assert_non_null(f->tx);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fix *f = *state;
    gf_link_tx_destroy(&f->tx);
    for (int i = 0; i < 2; i++)
        gf_link_rx_destroy(&f->rx[i]);
    zmq_ctx_term(f->ctx);
    free(f);
    return 0;
}

/* Wait for the handshake. */
static void ready(fix *f)
{
    for (int k = 0; k < 200 && !gf_link_tx_ready(f->tx); k++)
        pump(f, f->tx, 10);
    assert_true(gf_link_tx_ready(f->tx));
}

static void test_credit_and_ack(void **state)
{
    fix *f = *state;
    ready(f);
    gf_edge_batch *b = batch();
    /* credit 2 on each of two instances: 4 sends, then -EAGAIN */
    for (uint64_t s = 1; s <= 4; s++)
        assert_int_equal(gf_link_tx_send(f->tx, 1, s, b), 0);
    assert_int_equal(gf_link_tx_send(f->tx, 1, 5, b), -EAGAIN);
    assert_int_equal(gf_link_tx_unacked(f->tx), 4);
    pump(f, f->tx, 30);
    /* each instance got two, round robin; acknowledge them */
    int got = 0;
    for (int i = 0; i < 2; i++) {
        gf_link_msg m;
        while (gf_link_rx_next(f->rx[i], &m)) {
            assert_int_equal(m.hdr.type, GF_FRAME_DATA);
            assert_int_equal(m.hdr.count, 1);
            assert_int_equal(zmq_msg_size(&m.payload), 4);
            gf_link_rx_ack(f->rx[i], m.src, m.hdr.producer, m.hdr.seq);
            zmq_msg_close(&m.payload);
            got++;
        }
    }
    assert_int_equal(got, 4);
    pump(f, f->tx, 30);
    assert_int_equal(f->a.n, 4);
    assert_int_equal(gf_link_tx_unacked(f->tx), 0);
    assert_int_equal(gf_link_tx_send(f->tx, 1, 5, b), 0);
    /* EOS: acknowledged by both instances -> one on_ack(origin, 0) */
    pump(f, f->tx, 20);
    gf_link_msg m;
    for (int i = 0; i < 2; i++)
        while (gf_link_rx_next(f->rx[i], &m)) {
            gf_link_rx_ack(f->rx[i], m.src, m.hdr.producer, m.hdr.seq);
            zmq_msg_close(&m.payload);
        }
    assert_int_equal(gf_link_tx_eos(f->tx, 1, 5, 5, true), 0);
    pump(f, f->tx, 30);
    int eos = 0;
    for (int i = 0; i < 2; i++)
        while (gf_link_rx_next(f->rx[i], &m)) {
            assert_int_equal(m.hdr.type, GF_FRAME_EOS);
            assert_int_equal(m.hdr.aux, 5);
            assert_int_equal(m.hdr.seq, 1); /* direct */
            gf_link_rx_ack(f->rx[i], m.src, m.hdr.producer, 0);
            zmq_msg_close(&m.payload);
            eos++;
        }
    assert_int_equal(eos, 2);
    f->a.n = 0;
    pump(f, f->tx, 30);
    assert_int_equal(f->a.n, 1);
    assert_int_equal(f->a.last_seq, 0);
    assert_int_equal(gf_link_tx_unacked(f->tx), 0);
    gf_edge_batch_unref(b);
}

static void test_dead_instance_resend(void **state)
{
    fix *f = *state;
    ready(f);
    gf_edge_batch *b = batch();
    for (uint64_t s = 1; s <= 4; s++)
        assert_int_equal(gf_link_tx_send(f->tx, 1, s, b), 0);
    pump(f, f->tx, 20);
    /* instance 1 falls silent and never answers */
    f->serve[1] = false;
    uint64_t seen[8] = {0};
    int n = 0;
    for (int k = 0; k < 100 && n < 4; k++) {
        gf_link_msg m;
        while (gf_link_rx_next(f->rx[0], &m)) {
            seen[n++] = m.hdr.seq;
            gf_link_rx_ack(f->rx[0], m.src, m.hdr.producer, m.hdr.seq);
            zmq_msg_close(&m.payload);
        }
        pump(f, f->tx, 20);
    }
    /* instance 0 got its own two, then instance 1's two after HB ms */
    assert_int_equal(n, 4);
    uint64_t sum = seen[0] + seen[1] + seen[2] + seen[3];
    assert_int_equal(sum, 1 + 2 + 3 + 4);
    assert_int_equal(atomic_load(&f->ctx_cnt.batches_resent), 2);
    pump(f, f->tx, 30);
    assert_int_equal(gf_link_tx_unacked(f->tx), 0);
    gf_edge_batch_unref(b);
}

static void test_critical_and_origin_loss(void **state)
{
    fix *f = *state;
    ready(f); /* rx[1] knows producer 1 */
    const char *err;
    static char e0[] = "inproc://c0";
    char *eps[1] = {e0};
    gf_counters cnt;
    memset(&cnt, 0, sizeof cnt);
    gf_link_tx *tx = gf_link_tx_new(f->ctx, &opts, 1, "agg", eps, 1, true, NULL,
                                    NULL, &cnt, &err);
    assert_non_null(tx);
    for (int k = 0; k < 100 && !gf_link_tx_ready(tx); k++)
        pump(f, tx, 10);
    assert_true(gf_link_tx_ready(tx));
    f->serve[0] = false;
    int rc = 0;
    for (int k = 0; k < 100 && rc == 0; k++) {
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
        rc = gf_link_tx_service(tx, gf_stats_now_ns());
    }
    assert_int_equal(rc, -1);
    assert_non_null(strstr(gf_link_tx_error(tx), "lost agg#0"));
    /* the receiving end: producer 1, an origin, fell silent */
    gf_link_tx_destroy(&tx);
    gf_link_tx_destroy(&f->tx);
    rc = 0;
    for (int k = 0; k < 100 && rc == 0; k++) {
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
        rc = gf_link_rx_service(f->rx[1], gf_stats_now_ns());
    }
    assert_int_equal(rc, -1);
    assert_non_null(strstr(gf_link_rx_error(f->rx[1]), "lost producer 1"));
}

static void test_bad_messages(void **state)
{
    fix *f = *state;
    ready(f);
    void *d = zmq_socket(f->ctx, ZMQ_DEALER);
    assert_int_equal(zmq_connect(d, "inproc://c0"), 0);
    uint8_t hdr[GF_FRAME_HDR_SIZE];
    gf_frame_hdr h = {.type = GF_FRAME_DATA,
                      .producer = 1,
                      .seq = 1,
                      .count = 1,
                      .payload_len = 4};
    gf_frame_encode(&h, hdr);
    zmq_send(d, hdr, 20, ZMQ_SNDMORE); /* short header */
    zmq_send(d,
             "\x81\xa1"
             "a\x01",
             4, 0);
    zmq_send(d, hdr, sizeof hdr, 0);           /* no payload */
    zmq_send(d, hdr, sizeof hdr, ZMQ_SNDMORE); /* DATA before HELLO */
    zmq_send(d,
             "\x81\xa1"
             "a\x01",
             4, 0);
    zmq_send(d, hdr, sizeof hdr, ZMQ_SNDMORE); /* array32 bomb */
    zmq_send(d, "\xdd\xff\xff\xff\xff", 4, 0);
    pump(f, f->tx, 30);
    assert_int_equal(gf_link_rx_bad(f->rx[0]), 4);
    assert_int_equal(atomic_load(&f->rx_cnt[0].frames_rejected), 4);
    gf_link_msg m;
    assert_int_equal(gf_link_rx_next(f->rx[0], &m), 0);
    zmq_close(d);
}

/* Take what rx i has queued: DATA seqs into seqs[], acknowledged. */
static int drain_rx(fix *f, int i, uint64_t *seqs, int max, uint32_t *eos_count)
{
    int n = 0;
    gf_link_msg m;
    while (gf_link_rx_next(f->rx[i], &m)) {
        if (m.hdr.type == GF_FRAME_EOS) {
            if (eos_count)
                *eos_count = m.hdr.count;
            gf_link_rx_ack(f->rx[i], m.src, m.hdr.producer, 0);
        } else {
            if (n < max)
                seqs[n] = m.hdr.seq;
            n++;
            gf_link_rx_ack(f->rx[i], m.src, m.hdr.producer, m.hdr.seq);
        }
        zmq_msg_close(&m.payload);
    }
    return n;
}

static void test_routed_critical(void **state)
{
    fix *f = *state;
    const char *err;
    static char e0[] = "inproc://c0", e1[] = "inproc://c1";
    char *eps[2] = {e0, e1};
    gf_link_tx_destroy(&f->tx);
    f->tx = gf_link_tx_new(f->ctx, &opts, 1, "agg", eps, 2, true, on_ack, &f->a,
                           &f->ctx_cnt, &err);
    assert_non_null(f->tx);
    ready(f);
    gf_edge_batch *b = batch();
    /* (1 + seq) % 2: seqs 1 and 3 to instance 0, 2 and 4 to instance 1 */
    assert_int_equal(gf_link_tx_send(f->tx, 1, 1, b), 0);
    assert_int_equal(gf_link_tx_send(f->tx, 1, 3, b), 0);
    /* instance 0 is out of credit: seq 5 waits although instance 1 has
       credit (a stateless link would have sent it there) */
    assert_int_equal(gf_link_tx_send(f->tx, 1, 5, b), -EAGAIN);
    assert_int_equal(gf_link_tx_send(f->tx, 1, 2, b), 0);
    assert_int_equal(gf_link_tx_send(f->tx, 1, 4, b), 0);
    pump(f, f->tx, 30);
    uint64_t s0[4] = {0}, s1[4] = {0};
    assert_int_equal(drain_rx(f, 0, s0, 4, NULL), 2);
    assert_int_equal(drain_rx(f, 1, s1, 4, NULL), 2);
    assert_int_equal(s0[0] + s0[1], 1 + 3);
    assert_int_equal(s1[0] + s1[1], 2 + 4);
    pump(f, f->tx, 30);
    assert_int_equal(gf_link_tx_send(f->tx, 1, 5, b), 0); /* to instance 0 */
    pump(f, f->tx, 30);
    assert_int_equal(drain_rx(f, 0, s0, 4, NULL), 1);
    assert_int_equal(s0[0], 5);
    pump(f, f->tx, 30);
    /* EOS: 5 batches; each instance is told the records of its share */
    assert_int_equal(gf_link_tx_eos(f->tx, 1, 5, 5, true), 0);
    pump(f, f->tx, 30);
    uint32_t c0 = 99, c1 = 99;
    drain_rx(f, 0, s0, 4, &c0);
    drain_rx(f, 1, s1, 4, &c1);
    assert_int_equal(c0, 3); /* seqs 1, 3, 5: one record each */
    assert_int_equal(c1, 2); /* seqs 2, 4 */
    pump(f, f->tx, 30);
    assert_int_equal(gf_link_tx_unacked(f->tx), 0);
    gf_edge_batch_unref(b);
}

static void test_done_and_ok(void **state)
{
    fix *f = *state;
    ready(f);
    assert_false(gf_link_tx_settled(f->tx, false));
    gf_link_rx_done(f->rx[0]);
    pump(f, f->tx, 30);
    assert_false(gf_link_tx_settled(f->tx, false)); /* instance 1 works */
    gf_link_rx_done(f->rx[1]);
    pump(f, f->tx, 30);
    assert_true(gf_link_tx_settled(f->tx, false));
    assert_false(gf_link_tx_settled(f->tx, true));
    /* still watched after "done": peers gauge unchanged */
    assert_int_equal(atomic_load(&f->ctx_cnt.peers), 2);
    gf_link_rx_ok(f->rx[0]);
    gf_link_rx_ok(f->rx[1]);
    for (int k = 0; k < 50 && !(gf_link_rx_all_bye(f->rx[0]) &&
                                gf_link_rx_all_bye(f->rx[1]));
         k++)
        pump(f, f->tx, 10);
    assert_true(gf_link_tx_settled(f->tx, true));
    assert_true(gf_link_rx_all_bye(f->rx[0])); /* the echo came back */
    assert_true(gf_link_rx_all_bye(f->rx[1]));
    assert_int_equal(atomic_load(&f->ctx_cnt.peers), 0);

    /* a producer that connects after "done" learns it from the next
       heartbeat: the phase rides on every one */
    const char *err;
    gf_counters cnt;
    memset(&cnt, 0, sizeof cnt);
    const uint64_t prod[] = {1};
    const bool origin[] = {false};
    gf_link_rx_destroy(&f->rx[1]);
    static char e2[] = "inproc://c2";
    f->rx[1] = gf_link_rx_new(f->ctx, &opts, 12, "d", e2, prod, origin, 1,
                              &f->rx_cnt[1], &err);
    assert_non_null(f->rx[1]);
    gf_link_rx_done(f->rx[1]); /* told nobody: no producer yet */
    char *eps2[1] = {e2};
    gf_link_tx *late = gf_link_tx_new(f->ctx, &opts, 1, "d", eps2, 1, false,
                                      NULL, NULL, &cnt, &err);
    assert_non_null(late);
    for (int k = 0; k < 100 && !gf_link_tx_settled(late, false); k++)
        pump(f, late, 10);
    assert_true(gf_link_tx_settled(late, false));
    gf_link_tx_destroy(&late);
}

static void test_done_too_early(void **state)
{
    fix *f = *state;
    ready(f);
    gf_edge_batch *b = batch();
    assert_int_equal(gf_link_tx_send(f->tx, 1, 1, b), 0); /* to instance 0 */
    pump(f, f->tx, 20);
    /* instance 0 says it is done without acknowledging the batch */
    gf_link_rx_done(f->rx[0]);
    int rc = 0;
    for (int k = 0; k < 50 && rc == 0; k++) {
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
        rc = gf_link_tx_service(f->tx, gf_stats_now_ns());
    }
    assert_int_equal(rc, -1);
    assert_non_null(
        strstr(gf_link_tx_error(f->tx), "says it is done while 1 batches"));
    gf_edge_batch_unref(b);
}

static void test_retransmit(void **state)
{
    fix *f = *state;
    ready(f);
    gf_edge_batch *b = batch();
    assert_int_equal(gf_link_tx_send(f->tx, 1, 1, b), 0); /* to instance 0 */
    /* held, not acknowledged, for longer than the heartbeat (both ends
       alive): the producer sends it again, the consumer drops the copy */
    pump(f, f->tx, HB * 3 / 2);
    assert_true(atomic_load(&f->ctx_cnt.batches_resent) >= 1);
    assert_true(atomic_load(&f->rx_cnt[0].duplicates) >= 1);
    uint64_t seqs[4];
    assert_int_equal(drain_rx(f, 0, seqs, 4, NULL), 1); /* one copy queued */
    assert_int_equal(seqs[0], 1);
    pump(f, f->tx, 30);
    assert_int_equal(gf_link_tx_unacked(f->tx), 0);
    assert_int_equal(f->a.n, 1);

    /* the acknowledgement lost: the same producer (same routing id, on a
       new connection) sends batch 1 again; it is acknowledged again, not
       queued */
    const char *err;
    static char e0[] = "inproc://c0";
    char *eps[1] = {e0};
    gf_counters cnt;
    memset(&cnt, 0, sizeof cnt);
    acks a2 = {0};
    gf_link_tx *again = gf_link_tx_new(f->ctx, &opts, 1, "c", eps, 1, false,
                                       on_ack, &a2, &cnt, &err);
    assert_non_null(again);
    for (int k = 0; k < 100 && !gf_link_tx_ready(again); k++)
        pump(f, again, 10);
    assert_true(gf_link_tx_ready(again));
    uint64_t dups = atomic_load(&f->rx_cnt[0].duplicates);
    assert_int_equal(gf_link_tx_send(again, 1, 1, b), 0);
    for (int k = 0; k < 50 && a2.n == 0; k++)
        pump(f, again, 10);
    assert_int_equal(a2.n, 1);
    assert_int_equal(a2.last_seq, 1);
    assert_int_equal(atomic_load(&f->rx_cnt[0].duplicates), dups + 1);
    assert_int_equal(drain_rx(f, 0, seqs, 4, NULL), 0); /* nothing queued */
    gf_link_tx_destroy(&again);
    gf_edge_batch_unref(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_credit_and_ack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dead_instance_resend, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_critical_and_origin_loss, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_messages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_routed_critical, setup, teardown),
        cmocka_unit_test_setup_teardown(test_done_and_ok, setup, teardown),
        cmocka_unit_test_setup_teardown(test_done_too_early, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retransmit, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
