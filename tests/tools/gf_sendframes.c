/*
 * gf_sendframes - a hostile producer for tests/integration/dist_badframes.sh.
 *
 * Connects to a listening stage as producer PRODUCER (a DEALER with the
 * routing id gigflow uses), says HELLO, then sends NVALID valid DATA
 * batches (one record {kind: "member", seq: N} each, seq 1..NVALID, within
 * the credit granted) mixed at random with NBAD malformed messages:
 * truncated headers, bad magic, unknown types, headers without payload,
 * extra frames, declared lengths beyond the limit, truncated payloads,
 * MessagePack bombs (array32/map32/str32/bin32 declaring billions of
 * elements or bytes), nesting beyond the depth limit, record counts that
 * do not match, records that are not maps, a HELLO from a producer the
 * stage does not know. Then the end of stream, and it waits for it to be
 * acknowledged. With --oversize, it finally sends one message larger than
 * ZMQ_MAXMSGSIZE (the stage must drop the connection, not die), reconnects
 * and says HELLO again before the end of stream.
 *
 *   gf_sendframes ENDPOINT PRODUCER NVALID NBAD SEED [--oversize]
 *
 * Exit 0 when every valid batch and the end of stream were acknowledged.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zmq.h>

#include "gf_frame.h"
#include "gf_link.h"

#define NKINDS 14

static void *g_sock;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void send_parts(const void *a, size_t alen, const void *b, size_t blen,
                       bool two)
{
    zmq_send(g_sock, a, alen, two ? ZMQ_SNDMORE : 0);
    if (two)
        zmq_send(g_sock, b, blen, 0);
}

static void send_msg(const gf_frame_hdr *h, const void *payload, size_t len)
{
    uint8_t hdr[GF_FRAME_HDR_SIZE];
    gf_frame_encode(h, hdr);
    send_parts(hdr, sizeof hdr, payload, len, true);
}

/* One record {kind: "member", seq: n} into buf; returns its length. */
static size_t record(uint8_t *buf, uint32_t n)
{
    size_t k = 0;
    buf[k++] = 0x82;
    buf[k++] = 0xa4;
    memcpy(buf + k, "kind", 4);
    k += 4;
    buf[k++] = 0xa6;
    memcpy(buf + k, "member", 6);
    k += 6;
    buf[k++] = 0xa3;
    memcpy(buf + k, "seq", 3);
    k += 3;
    buf[k++] = 0xce;
    buf[k++] = (uint8_t)(n >> 24);
    buf[k++] = (uint8_t)(n >> 16);
    buf[k++] = (uint8_t)(n >> 8);
    buf[k++] = (uint8_t)n;
    return k;
}

/* Whether the stage said "ok" (HEARTBEAT aux GF_LINK_HB_OK). */
static bool g_done;

/* Read one reply; returns its header type, or 0 on timeout. */
static int recv_reply(gf_frame_hdr *h, long timeout_ms)
{
    zmq_pollitem_t it = {.socket = g_sock, .events = ZMQ_POLLIN};
    if (zmq_poll(&it, 1, timeout_ms) <= 0)
        return 0;
    uint8_t buf[64];
    int n = zmq_recv(g_sock, buf, sizeof buf, 0);
    int more = 0;
    size_t ml = sizeof more;
    zmq_getsockopt(g_sock, ZMQ_RCVMORE, &more, &ml);
    while (more) {
        uint8_t sink[16];
        zmq_recv(g_sock, sink, sizeof sink, 0);
        zmq_getsockopt(g_sock, ZMQ_RCVMORE, &more, &ml);
    }
    const char *why;
    if (n < 0 || gf_frame_decode(buf, (size_t)n, h, &why) != 0)
        return -1;
    if (h->type == GF_FRAME_HEARTBEAT && h->aux == GF_LINK_HB_OK)
        g_done = true;
    return h->type;
}

static uint32_t hello(uint64_t producer)
{
    int64_t deadline = now_ms() + 20000;
    while (now_ms() < deadline) {
        gf_frame_hdr h = {.type = GF_FRAME_HELLO, .producer = producer};
        send_msg(&h, "", 0);
        gf_frame_hdr r;
        int64_t until = now_ms() + 250;
        while (now_ms() < until) {
            int t = recv_reply(&r, 50);
            if (t == GF_FRAME_HELLO)
                return r.count;
        }
    }
    fprintf(stderr, "gf_sendframes: no HELLO answer within 20 s\n");
    exit(1);
}

/* One malformed message of kind k. */
static void send_bad(unsigned k, uint64_t producer, uint64_t seq)
{
    uint8_t hdr[GF_FRAME_HDR_SIZE], pl[256];
    gf_frame_hdr h = {
        .type = GF_FRAME_DATA, .producer = producer, .seq = seq, .count = 1};
    size_t n = record(pl, 7);
    switch (k) {
    case 0: /* truncated header */
        h.payload_len = (uint32_t)n;
        gf_frame_encode(&h, hdr);
        send_parts(hdr, 20, pl, n, true);
        break;
    case 1: /* bad magic */
        h.payload_len = (uint32_t)n;
        gf_frame_encode(&h, hdr);
        hdr[0] ^= 0xff;
        send_parts(hdr, sizeof hdr, pl, n, true);
        break;
    case 2: /* unknown type */
        h.payload_len = (uint32_t)n;
        gf_frame_encode(&h, hdr);
        hdr[5] = 9;
        send_parts(hdr, sizeof hdr, pl, n, true);
        break;
    case 3: /* header without payload frame */
        h.payload_len = (uint32_t)n;
        gf_frame_encode(&h, hdr);
        send_parts(hdr, sizeof hdr, NULL, 0, false);
        break;
    case 4: /* three frames */
        h.payload_len = (uint32_t)n;
        gf_frame_encode(&h, hdr);
        zmq_send(g_sock, hdr, sizeof hdr, ZMQ_SNDMORE);
        zmq_send(g_sock, pl, n, ZMQ_SNDMORE);
        zmq_send(g_sock, pl, n, 0);
        break;
    case 5: /* declared length beyond the limit */
        h.payload_len = GF_FRAME_MAX_PAYLOAD + 1;
        send_msg(&h, pl, n);
        break;
    case 6: /* payload shorter than declared */
        h.payload_len = (uint32_t)n;
        send_msg(&h, pl, n - 3);
        break;
    case 7: /* array32 declaring 4 billion elements */
    case 8: /* map32 declaring 4 billion pairs */
    case 9: /* str32 / bin32 declaring 4 GiB */
    {
        uint8_t bomb[16] = {0x81, 0xa1, 'x'};
        size_t b = 3;
        bomb[b++] = k == 7 ? 0xdd : k == 8 ? 0xdf : (seq & 1) ? 0xdb : 0xc6;
        bomb[b++] = 0xff;
        bomb[b++] = 0xff;
        bomb[b++] = 0xff;
        bomb[b++] = 0xff;
        bomb[b++] = 0x01;
        h.payload_len = (uint32_t)b;
        send_msg(&h, bomb, b);
        break;
    }
    case 10: /* nested beyond the depth limit */
    {
        uint8_t deep[200];
        size_t d = 0;
        deep[d++] = 0x81;
        deep[d++] = 0xa1;
        deep[d++] = 'x';
        for (int i = 0; i < 100; i++)
            deep[d++] = 0x91; /* fixarray of one */
        deep[d++] = 0x01;
        h.payload_len = (uint32_t)d;
        send_msg(&h, deep, d);
        break;
    }
    case 11: /* count says 2, one record */
        h.count = 2;
        h.payload_len = (uint32_t)n;
        send_msg(&h, pl, n);
        break;
    case 12: /* a record that is not a map */
    {
        uint8_t v[1] = {0x2a};
        h.payload_len = 1;
        send_msg(&h, v, 1);
        break;
    }
    default: /* HELLO from a producer the stage does not know */
    {
        gf_frame_hdr u = {.type = GF_FRAME_HELLO, .producer = 999999};
        send_msg(&u, "", 0);
        break;
    }
    }
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: gf_sendframes ENDPOINT PRODUCER NVALID NBAD "
                        "SEED [--oversize]\n");
        return 2;
    }
    const char *ep = argv[1];
    uint64_t producer = strtoull(argv[2], NULL, 10);
    uint32_t nvalid = (uint32_t)strtoul(argv[3], NULL, 10);
    uint32_t nbad = (uint32_t)strtoul(argv[4], NULL, 10);
    srand((unsigned)strtoul(argv[5], NULL, 10));
    bool oversize = argc > 6 && strcmp(argv[6], "--oversize") == 0;

    void *ctx = zmq_ctx_new();
    g_sock = zmq_socket(ctx, ZMQ_DEALER);
    char rid[24];
    snprintf(rid, sizeof rid, "gf%016" PRIx64, producer);
    zmq_setsockopt(g_sock, ZMQ_ROUTING_ID, rid, strlen(rid));
    int zero = 0;
    zmq_setsockopt(g_sock, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(g_sock, ZMQ_SNDHWM, &zero, sizeof zero);
    if (zmq_connect(g_sock, ep) != 0) {
        fprintf(stderr, "gf_sendframes: connect %s: %s\n", ep,
                zmq_strerror(zmq_errno()));
        return 1;
    }
    uint32_t credit = hello(producer);
    uint32_t inflight = 0, sent = 0, bad = 0, acked = 0;
    int64_t deadline = now_ms() + 120000;
    while ((sent < nvalid || bad < nbad) && now_ms() < deadline) {
        gf_frame_hdr r;
        while (recv_reply(&r, 0) > 0)
            if (r.type == GF_FRAME_ACK && r.seq != 0) {
                inflight--;
                acked++;
            }
        bool do_bad = bad < nbad &&
                      (sent == nvalid || (uint64_t)rand() * (nvalid + nbad) <
                                             (uint64_t)RAND_MAX * nbad);
        if (do_bad) {
            send_bad(bad % NKINDS, producer, sent + 1);
            bad++;
            continue;
        }
        if (inflight >= credit) {
            if (recv_reply(&r, 1000) == GF_FRAME_ACK && r.seq != 0) {
                inflight--;
                acked++;
            }
            continue;
        }
        uint8_t pl[64];
        size_t n = record(pl, sent + 1);
        gf_frame_hdr h = {.type = GF_FRAME_DATA,
                          .producer = producer,
                          .seq = sent + 1,
                          .count = 1,
                          .payload_len = (uint32_t)n};
        send_msg(&h, pl, n);
        sent++;
        inflight++;
    }
    while (acked < nvalid && now_ms() < deadline) {
        gf_frame_hdr r;
        if (recv_reply(&r, 1000) == GF_FRAME_ACK && r.seq != 0)
            acked++;
    }
    if (acked < nvalid) {
        fprintf(stderr, "gf_sendframes: %u of %u batches acknowledged\n", acked,
                nvalid);
        return 1;
    }
    if (oversize) {
        size_t big = GF_FRAME_MAX_PAYLOAD + 8192;
        uint8_t *p = calloc(1, big);
        gf_frame_hdr h = {.type = GF_FRAME_DATA,
                          .producer = producer,
                          .seq = nvalid + 1,
                          .count = 1,
                          .payload_len = (uint32_t)big};
        if (p)
            send_msg(&h, p, big);
        free(p);
        hello(producer); /* the connection was dropped: come back */
    }
    gf_frame_hdr eos = {.type = GF_FRAME_EOS,
                        .producer = producer,
                        .seq = 1,
                        .count = nvalid,
                        .aux = nvalid};
    send_msg(&eos, "", 0);
    while (now_ms() < deadline) {
        gf_frame_hdr r;
        int t = recv_reply(&r, 1000);
        if (t == GF_FRAME_ACK && r.seq == 0) {
            /* the stage says its outputs are committed ("ok"): echo it,
               as gigflow producers do, so that it may close at once */
            int64_t until = now_ms() + 5000;
            while (!g_done && now_ms() < until)
                recv_reply(&r, 100);
            if (g_done) {
                gf_frame_hdr e = {.type = GF_FRAME_HEARTBEAT,
                                  .producer = producer,
                                  .aux = GF_LINK_HB_OK};
                send_msg(&e, "", 0);
            }
            printf("sent %u valid, %u malformed; all acknowledged\n", nvalid,
                   nbad);
            int linger = 1000;
            zmq_setsockopt(g_sock, ZMQ_LINGER, &linger, sizeof linger);
            zmq_close(g_sock);
            zmq_ctx_term(ctx);
            return 0;
        }
    }
    fprintf(stderr, "gf_sendframes: end of stream not acknowledged\n");
    return 1;
}
