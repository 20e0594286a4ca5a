/*
 * gf_link_rx - the consumer end of an edge between processes (see
 * gf_link.h; what both ends share is in gf_link_int.h, the producer end
 * in gf_link_tx.c).
 *
 * The consumer end reads every message as it arrives (so heartbeats are
 * never stuck behind data) and queues DATA and EOS for the instance's
 * thread; the queue is bounded by the credit it granted, and a producer
 * that sends beyond its credit has the excess rejected as bad frames.
 */
#include "gf_link.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gf_alloc.h"
#include "gf_link_int.h"

/* Per producer: ids of batches held, and of batches acknowledged lately
   (gf_link_rx; credit is at most RX_PEND_MAX). */
#define RX_PEND_MAX 64
#define RX_ACKED 64
#define GF_STR2(x) #x
#define GF_STR(x) GF_STR2(x)
/* Bad frames logged one by one, then one line per this many. */
#define BAD_LOG_FIRST 5
#define BAD_LOG_EVERY 1000

typedef struct rx_src {
    uint8_t rid[256];
    size_t rid_len;
    uint64_t producer;
    bool origin; /* losing it before its end of stream fails the run */
    bool live;
    bool gone; /* given up on: whatever it still sends is ignored */
    bool bye;  /* it echoed this end's "ok" */
    char addr[64];
    uint32_t inflight; /* DATA taken and not yet acknowledged */
    /* ids of those (a copy of one is dropped: its producer sent it again
       because no acknowledgement came in time) ... */
    uint64_t pend[RX_PEND_MAX][2];
    /* ... and of the last ones acknowledged (a copy is acknowledged again:
       the first acknowledgement was lost) */
    uint64_t acked[RX_ACKED][2];
    uint32_t acked_next;
    int64_t heard_ns, sent_ns;
} rx_src;

typedef struct rx_expect {
    uint64_t producer;
    bool origin;
} rx_expect;

struct gf_link_rx {
    const gf_link_opts *o;
    void *sock;
    uint64_t self;
    char *name;
    char *endpoint;
    size_t nexp;
    rx_expect *exp;
    size_t nsrc, capsrc;
    rx_src *srcs;
    uint64_t phase; /* HEARTBEAT aux of every heartbeat: 0, DONE or OK */
    gf_link_msg *q; /* ring */
    size_t qhead, qlen, qcap;
    uint64_t bad;
    gf_counters *cnt;
    char err[512];
};

gf_link_rx *gf_link_rx_new(void *lctx, const gf_link_opts *o, uint64_t self,
                           const char *name, const char *endpoint,
                           const uint64_t *producers, const bool *origin,
                           size_t n, gf_counters *cnt, const char **err)
{
    if ((o->credit ? o->credit : GF_LINK_CREDIT) > RX_PEND_MAX) {
        *err = "credit larger than " GF_STR(RX_PEND_MAX) " batches";
        return NULL;
    }
    *err = "out of memory";
    gf_link_rx *rx = gf_calloc(1, sizeof *rx);
    if (!rx)
        return NULL;
    rx->o = o;
    rx->self = self;
    rx->cnt = cnt;
    rx->name = gf_strdup(name);
    rx->endpoint = gf_strdup(endpoint);
    rx->exp = gf_calloc(n ? n : 1, sizeof *rx->exp);
    if (!rx->name || !rx->endpoint || !rx->exp)
        goto fail;
    for (size_t i = 0; i < n; i++)
        rx->exp[i] = (rx_expect){producers[i], origin[i]};
    rx->nexp = n;
    rx->sock = zmq_socket(lctx, ZMQ_ROUTER);
    if (!rx->sock) {
        *err = zmq_strerror(errno);
        goto fail;
    }
    int64_t maxmsg = (int64_t)GF_FRAME_MAX_PAYLOAD + 4096;
    if (set_int(rx->sock, ZMQ_ROUTER_MANDATORY, 1) != 0 ||
        set_int(rx->sock, ZMQ_ROUTER_HANDOVER, 1) != 0 ||
        set_int(rx->sock, ZMQ_LINGER, LINK_LINGER_MS) != 0 ||
        set_int(rx->sock, ZMQ_SNDHWM, 0) != 0 ||
        set_int(rx->sock, ZMQ_RCVHWM, 1000) != 0 ||
        zmq_setsockopt(rx->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) != 0) {
        *err = zmq_strerror(errno);
        goto fail;
    }
    if (o->secure && o->secure(o->secure_arg, rx->sock, true, NULL) < 0) {
        *err = "cannot secure the listening socket (see the message above)";
        goto fail;
    }
    if (zmq_bind(rx->sock, endpoint) != 0) {
        *err = zmq_strerror(errno);
        goto fail;
    }
    return rx;

fail:
    gf_link_rx_destroy(&rx);
    return NULL;
}

void *gf_link_rx_socket(gf_link_rx *rx)
{
    return rx->sock;
}

static int rx_fail(gf_link_rx *rx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int rx_fail(gf_link_rx *rx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rx->err, sizeof rx->err, fmt, ap);
    va_end(ap);
    return -1;
}

/* Count and (at first, then now and then) log a rejected message. */
static void rx_bad(gf_link_rx *rx, const char *addr, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void rx_bad(gf_link_rx *rx, const char *addr, const char *fmt, ...)
{
    rx->bad++;
    ADD(rx->cnt->frames_rejected, 1);
    if (rx->bad > BAD_LOG_FIRST && rx->bad % BAD_LOG_EVERY != 0)
        return;
    char what[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    say(rx->o, "rejected a frame from %s: %s (%" PRIu64 " rejected so far)",
        addr && *addr ? addr : "an unknown peer", what, rx->bad);
}

static rx_src *find_src(gf_link_rx *rx, const void *rid, size_t len)
{
    for (size_t i = 0; i < rx->nsrc; i++)
        if (rx->srcs[i].rid_len == len &&
            memcmp(rx->srcs[i].rid, rid, len) == 0)
            return &rx->srcs[i];
    return NULL;
}

static const rx_expect *find_expect(const gf_link_rx *rx, uint64_t producer)
{
    for (size_t i = 0; i < rx->nexp; i++)
        if (rx->exp[i].producer == producer)
            return &rx->exp[i];
    return NULL;
}

static int rx_send(gf_link_rx *rx, rx_src *s, const gf_frame_hdr *h)
{
    int rc = send_ctl(rx->sock, s->rid, s->rid_len, h);
    if (rc == 0)
        s->sent_ns = gf_stats_now_ns();
    else if (getenv("GIGFLOW_DEBUG"))
        say(rx->o, "sending type %u to producer %" PRIu64 ": %s",
            (unsigned)h->type, s->producer, zmq_strerror(-rc));
    else if (h->type == GF_FRAME_ACK && h->seq == 0 && getenv("GIGFLOW_DEBUG"))
        say(rx->o, "EOS ack sent to producer %" PRIu64, s->producer);
    return rc;
}

/* Where (origin, seq) is among the batches held for s, or -1. */
static long pend_find(const rx_src *s, uint64_t origin, uint64_t seq)
{
    for (uint32_t i = 0; i < s->inflight; i++)
        if (s->pend[i][0] == origin && s->pend[i][1] == seq)
            return (long)i;
    return -1;
}

/* Forget a held batch (acknowledged or dropped). True when it was held. */
static bool pend_remove(rx_src *s, uint64_t origin, uint64_t seq)
{
    long i = pend_find(s, origin, seq);
    if (i < 0)
        return false;
    s->inflight--;
    s->pend[i][0] = s->pend[s->inflight][0];
    s->pend[i][1] = s->pend[s->inflight][1];
    return true;
}

static bool acked_has(const rx_src *s, uint64_t origin, uint64_t seq)
{
    for (uint32_t i = 0; i < RX_ACKED; i++)
        if (s->acked[i][1] == seq && s->acked[i][0] == origin && seq != 0)
            return true;
    return false;
}

/* ACK (origin, seq) to s: seq 0 an end of stream, else one credit back. */
static void rx_send_ack(gf_link_rx *rx, rx_src *s, uint64_t origin,
                        uint64_t seq)
{
    gf_frame_hdr h = {.type = GF_FRAME_ACK,
                      .producer = origin,
                      .seq = seq,
                      .aux = seq,
                      .count = seq != 0 ? 1 : 0};
    rx_send(rx, s, &h);
}

/* A HELLO from routing id rid: register (or re-register) its producer. */
static void rx_hello(gf_link_rx *rx, zmq_msg_t *ridm, const gf_frame_hdr *h,
                     const char *addr, int64_t now)
{
    const rx_expect *e = find_expect(rx, h->producer);
    if (!e) {
        rx_bad(rx, addr,
               "HELLO from producer %" PRIu64 ", not one of this "
               "stage's producers",
               h->producer);
        return;
    }
    size_t len = zmq_msg_size(ridm);
    if (len > sizeof rx->srcs[0].rid) {
        rx_bad(rx, addr, "routing id of %zu bytes", len);
        return;
    }
    rx_src *s = find_src(rx, zmq_msg_data(ridm), len);
    if (!s) {
        for (size_t i = 0; i < rx->nsrc; i++)
            if (rx->srcs[i].producer == h->producer)
                s = &rx->srcs[i]; /* reconnected under another id */
    }
    if (s && s->gone)
        return; /* its work went elsewhere: it does not come back */
    if (!s) {
        if (rx->nsrc == rx->capsrc) {
            size_t cap = rx->capsrc ? rx->capsrc * 2 : 8;
            rx_src *n = gf_realloc(rx->srcs, cap * sizeof *n);
            if (!n)
                return; /* it says HELLO again */
            rx->srcs = n;
            rx->capsrc = cap;
        }
        s = &rx->srcs[rx->nsrc++];
        memset(s, 0, sizeof *s);
        s->producer = h->producer;
        s->origin = e->origin;
        say(rx->o, "producer %" PRIu64 " connected from %s", h->producer,
            addr && *addr ? addr : "(local)");
    }
    memcpy(s->rid, zmq_msg_data(ridm), len);
    s->rid_len = len;
    snprintf(s->addr, sizeof s->addr, "%s", addr ? addr : "");
    if (!s->live)
        ADD(rx->cnt->peers, 1);
    s->live = true;
    s->heard_ns = now;
    gf_frame_hdr r = {.type = GF_FRAME_HELLO,
                      .producer = rx->self,
                      .count = rx->o->credit ? rx->o->credit : GF_LINK_CREDIT};
    rx_send(rx, s, &r);
}

static int rx_enqueue(gf_link_rx *rx, const gf_link_msg *m)
{
    if (rx->qlen == rx->qcap) {
        size_t cap = rx->qcap ? rx->qcap * 2 : 16;
        gf_link_msg *n = gf_malloc(cap * sizeof *n);
        if (!n)
            return -ENOMEM;
        for (size_t i = 0; i < rx->qlen; i++) {
            n[i].hdr = rx->q[(rx->qhead + i) % rx->qcap].hdr;
            n[i].src = rx->q[(rx->qhead + i) % rx->qcap].src;
            zmq_msg_init(&n[i].payload);
            zmq_msg_move(&n[i].payload,
                         &rx->q[(rx->qhead + i) % rx->qcap].payload);
        }
        gf_free(rx->q);
        rx->q = n;
        rx->qhead = 0;
        rx->qcap = cap;
    }
    gf_link_msg *slot = &rx->q[(rx->qhead + rx->qlen) % rx->qcap];
    slot->hdr = m->hdr;
    slot->src = m->src;
    zmq_msg_init(&slot->payload);
    zmq_msg_move(&slot->payload, (zmq_msg_t *)&m->payload);
    rx->qlen++;
    return 0;
}

/* Read one message off the ROUTER. 1: one was handled, 0: none waiting,
   -1: the run must fail. */
static int rx_read_one(gf_link_rx *rx, int64_t now)
{
    zmq_msg_t ridm, hm;
    zmq_msg_init(&ridm);
    if (zmq_msg_recv(&ridm, rx->sock, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&ridm);
        return 0;
    }
    char addr[64] = "";
    int ret = 1;
    if (!zmq_msg_more(&ridm)) {
        rx_bad(rx, addr, "message without frames");
        goto done_rid;
    }
    zmq_msg_init(&hm);
    if (zmq_msg_recv(&hm, rx->sock, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&hm);
        goto done_rid;
    }
    /* the routing id frame is made locally: the wire's metadata is here */
    const char *pa = zmq_msg_gets(&hm, "Peer-Address");
    snprintf(addr, sizeof addr, "%s", pa ? pa : "local");
    bool more = zmq_msg_more(&hm);
    gf_frame_hdr h;
    const char *why = NULL;
    int dec = gf_frame_decode(zmq_msg_data(&hm), zmq_msg_size(&hm), &h, &why);
    zmq_msg_close(&hm);
    if (dec != 0) {
        drain(rx->sock, more);
        rx_bad(rx, addr, "bad frame header: %s", why ? why : "invalid");
        goto done_rid;
    }
    if (!more) {
        rx_bad(rx, addr, "header without payload frame");
        goto done_rid;
    }
    gf_link_msg m = {.hdr = h};
    zmq_msg_init(&m.payload);
    if (zmq_msg_recv(&m.payload, rx->sock, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&m.payload);
        goto done_rid;
    }
    if (zmq_msg_more(&m.payload)) {
        drain(rx->sock, true);
        rx_bad(rx, addr, "more than two frames");
        goto done_payload;
    }
    if (gf_frame_check_payload(&h, zmq_msg_data(&m.payload),
                               zmq_msg_size(&m.payload), &why) != 0) {
        rx_bad(rx, addr, "producer %" PRIu64 ", batch %" PRIu64 ": %s",
               h.producer, h.seq, why ? why : "bad payload");
        goto done_payload;
    }
    if (h.type == GF_FRAME_HELLO) {
        rx_hello(rx, &ridm, &h, addr, now);
        goto done_payload;
    }
    rx_src *s = find_src(rx, zmq_msg_data(&ridm), zmq_msg_size(&ridm));
    if (!s) {
        rx_bad(rx, addr, "%s frame before HELLO",
               h.type == GF_FRAME_DATA ? "DATA" : "a");
        goto done_payload;
    }
    if (s->gone)
        goto done_payload; /* late words of a producer given up on */
    s->heard_ns = now;
    switch (h.type) {
    case GF_FRAME_HEARTBEAT:
        if (h.aux == GF_LINK_HB_OK)
            s->bye = true;
        if (h.aux == GF_LINK_HB_ABORT || h.aux == GF_LINK_HB_INTERRUPTED)
            ret = rx_fail(rx, "producer %" PRIu64 " at %s %s: the run stops",
                          s->producer, s->addr,
                          h.aux == GF_LINK_HB_ABORT ? "failed"
                                                    : "was interrupted");
        break;
    case GF_FRAME_DATA:
        if (pend_find(s, h.producer, h.seq) >= 0) {
            ADD(rx->cnt->duplicates, 1); /* held already: its ack will do */
            break;
        }
        if (acked_has(s, h.producer, h.seq)) {
            ADD(rx->cnt->duplicates, 1); /* the first ack was lost */
            rx_send_ack(rx, s, h.producer, h.seq);
            break;
        }
        if (s->inflight >= (rx->o->credit ? rx->o->credit : GF_LINK_CREDIT)) {
            rx_bad(rx, addr,
                   "producer %" PRIu64 ": batch %" PRIu64 " beyond its credit",
                   h.producer, h.seq);
            break;
        }
        s->pend[s->inflight][0] = h.producer;
        s->pend[s->inflight][1] = h.seq;
        s->inflight++;
        m.src = (size_t)(s - rx->srcs);
        if (rx_enqueue(rx, &m) < 0)
            ret = rx_fail(rx, "out of memory");
        break;
    case GF_FRAME_EOS:
        if (h.producer == s->producer)
            s->origin = false; /* its stream is complete */
        m.src = (size_t)(s - rx->srcs);
        if (rx_enqueue(rx, &m) < 0)
            ret = rx_fail(rx, "out of memory");
        break;
    default:
        rx_bad(rx, addr, "producer %" PRIu64 ": unexpected frame type %u",
               s->producer, (unsigned)h.type);
        break;
    }

done_payload:
    zmq_msg_close(&m.payload);
done_rid:
    zmq_msg_close(&ridm);
    return ret;
}

int gf_link_rx_service(gf_link_rx *rx, int64_t now)
{
    int r;
    while ((r = rx_read_one(rx, now)) == 1)
        ;
    if (r < 0)
        return -1;
    int64_t hb = hb_ns(rx->o);
    for (size_t i = 0; i < rx->nsrc; i++) {
        rx_src *s = &rx->srcs[i];
        if (!s->live)
            continue;
        if (now - s->heard_ns > dead_ns(rx->o)) {
            s->live = false;
            s->gone = true;
            ADD(rx->cnt->peers, -1);
            if (s->origin)
                return rx_fail(rx,
                               "lost producer %" PRIu64 " at %s (no message "
                               "for %.1f s) before its end of stream",
                               s->producer, s->addr,
                               (double)(now - s->heard_ns) / 1e9);
            say(rx->o,
                "producer %" PRIu64 " at %s: no message for %.1f s, taken "
                "as gone",
                s->producer, s->addr, (double)(now - s->heard_ns) / 1e9);
            continue;
        }
        if (now - s->sent_ns >= hb / 4) {
            /* once done (or ok), every heartbeat says so: one lost on a
               reconnect is repeated */
            gf_frame_hdr h = {.type = GF_FRAME_HEARTBEAT,
                              .producer = rx->self,
                              .aux = rx->phase};
            if (rx_send(rx, s, &h) == -EHOSTUNREACH)
                s->sent_ns = now; /* disconnected: silence will tell */
        }
    }
    return 0;
}

int gf_link_rx_next(gf_link_rx *rx, gf_link_msg *m)
{
    while (rx->qlen > 0) {
        gf_link_msg *slot = &rx->q[rx->qhead];
        rx->qhead = (rx->qhead + 1) % rx->qcap;
        rx->qlen--;
        m->hdr = slot->hdr;
        m->src = slot->src;
        zmq_msg_init(&m->payload);
        zmq_msg_move(&m->payload, &slot->payload);
        zmq_msg_close(&slot->payload);
        rx_src *s = &rx->srcs[m->src];
        if (!s->live && m->hdr.type == GF_FRAME_DATA) {
            /* its producer gave it to another instance already */
            pend_remove(s, m->hdr.producer, m->hdr.seq);
            zmq_msg_close(&m->payload);
            continue;
        }
        return 1;
    }
    return 0;
}

void gf_link_rx_ack(gf_link_rx *rx, size_t src, uint64_t origin, uint64_t seq)
{
    rx_src *s = &rx->srcs[src];
    if (seq != 0 && pend_remove(s, origin, seq)) {
        s->acked[s->acked_next][0] = origin;
        s->acked[s->acked_next][1] = seq;
        s->acked_next = (s->acked_next + 1) % RX_ACKED;
    }
    if (!s->live)
        return;
    rx_send_ack(rx, s, origin, seq);
}

size_t gf_link_rx_live(const gf_link_rx *rx)
{
    size_t n = 0;
    for (size_t i = 0; i < rx->nsrc; i++)
        n += rx->srcs[i].live;
    return n;
}

static void rx_tell_all(gf_link_rx *rx, uint64_t aux)
{
    if (!rx)
        return;
    for (size_t i = 0; i < rx->nsrc; i++) {
        if (!rx->srcs[i].live)
            continue;
        gf_frame_hdr h = {
            .type = GF_FRAME_HEARTBEAT, .producer = rx->self, .aux = aux};
        rx_send(rx, &rx->srcs[i], &h);
    }
}

void gf_link_rx_done(gf_link_rx *rx)
{
    rx->phase = GF_LINK_HB_DONE;
    rx_tell_all(rx, GF_LINK_HB_DONE);
}

void gf_link_rx_ok(gf_link_rx *rx)
{
    rx->phase = GF_LINK_HB_OK;
    rx_tell_all(rx, GF_LINK_HB_OK);
}

bool gf_link_rx_all_bye(const gf_link_rx *rx)
{
    for (size_t i = 0; i < rx->nsrc; i++)
        if (rx->srcs[i].live && !rx->srcs[i].bye)
            return false;
    return true;
}

void gf_link_rx_abort(gf_link_rx *rx, bool interrupted)
{
    rx_tell_all(rx, interrupted ? GF_LINK_HB_INTERRUPTED : GF_LINK_HB_ABORT);
}

uint64_t gf_link_rx_bad(const gf_link_rx *rx)
{
    return rx->bad;
}

const char *gf_link_rx_error(const gf_link_rx *rx)
{
    return rx->err;
}

void gf_link_rx_destroy(gf_link_rx **rxp)
{
    if (!rxp || !*rxp)
        return;
    gf_link_rx *rx = *rxp;
    for (size_t i = 0; i < rx->qlen; i++)
        zmq_msg_close(&rx->q[(rx->qhead + i) % rx->qcap].payload);
    gf_free(rx->q);
    if (rx->sock)
        zmq_close(rx->sock);
    gf_free(rx->srcs);
    gf_free(rx->exp);
    gf_free(rx->name);
    gf_free(rx->endpoint);
    gf_free(rx);
    *rxp = NULL;
}
