/*
 * gf_edge - the two ends of an inproc PUSH/PULL edge (see gf_edge.h).
 *
 * Sending never copies a batch: the payload frame is built with
 * zmq_msg_init_data over the batch's bytes and a reference to it, released
 * by ZeroMQ (in whichever thread closes the last copy) through
 * batch_release(). The header frame is built first so that a full edge
 * (EAGAIN) leaves nothing half-sent.
 */
#include "gf_edge.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gf_alloc.h"

/* Poll items kept on the stack for up to this many sending ends. */
#define GF_EDGE_POLL_STACK 16

/*
 * ThreadSanitizer cannot see the ordering that ZeroMQ's (uninstrumented)
 * queues give: tell it that everything the sender did before a message
 * happens before what the receiver does after it. The header frame's data
 * pointer travels unchanged over inproc and names the message.
 */
#if defined(__SANITIZE_THREAD__)
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define GF_EDGE_SENT(m) __tsan_release(zmq_msg_data(m))
#define GF_EDGE_RECEIVED(m) __tsan_acquire(zmq_msg_data(m))
#else
#define GF_EDGE_SENT(m) ((void)0)
#define GF_EDGE_RECEIVED(m) ((void)0)
#endif

gf_edge_batch *gf_edge_batch_new(uint8_t *data, size_t len, uint32_t nrec)
{
    return gf_edge_batch_new_pos(data, len, nrec, NULL);
}

gf_edge_batch *gf_edge_batch_new_pos(uint8_t *data, size_t len, uint32_t nrec,
                                     gf_srcpos *pos)
{
    gf_edge_batch *b = gf_malloc(sizeof *b);
    if (!b) {
        gf_free(data);
        gf_free(pos);
        return NULL;
    }
    atomic_init(&b->refs, 1);
    b->data = data;
    b->len = len;
    b->nrec = nrec;
    b->pos = pos;
    return b;
}

void gf_edge_batch_unref(gf_edge_batch *b)
{
    if (!b)
        return;
    if (atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1) {
        gf_free(b->data);
        gf_free(b->pos);
        gf_free(b);
    }
}

/* ZeroMQ's free function for payload frames. */
static void batch_release(void *data, void *hint)
{
    (void)data;
    gf_edge_batch_unref(hint);
}

static int set_int_opt(void *sock, int opt, int v)
{
    return zmq_setsockopt(sock, opt, &v, sizeof v);
}

/* ------------------------------------------------------------ sending -- */

gf_edge_tx *gf_edge_tx_new(void *zctx, const char *endpoint, uint64_t producer)
{
    gf_edge_tx *tx = gf_calloc(1, sizeof *tx);
    if (!tx)
        return NULL;
    tx->producer = producer;
    tx->sock = zmq_socket(zctx, ZMQ_PUSH);
    if (!tx->sock)
        goto fail_alloc;
    if (set_int_opt(tx->sock, ZMQ_SNDHWM, GF_EDGE_HWM) != 0 ||
        set_int_opt(tx->sock, ZMQ_LINGER, 0) != 0 ||
        zmq_connect(tx->sock, endpoint) != 0)
        goto fail_socket;
    return tx;

fail_socket:
    zmq_close(tx->sock);
fail_alloc:
    gf_free(tx);
    return NULL;
}

/* Build a header frame. */
static int header_msg(zmq_msg_t *m, const gf_frame_hdr *h)
{
    if (zmq_msg_init_size(m, GF_FRAME_HDR_SIZE) != 0)
        return -errno;
    gf_frame_encode(h, zmq_msg_data(m));
    return 0;
}

int gf_edge_tx_send(gf_edge_tx *tx, gf_edge_batch *b, bool dontwait)
{
    gf_frame_hdr h = {
        .type = GF_FRAME_DATA,
        .producer = tx->producer,
        .seq = tx->seq + 1,
        .count = b->nrec,
        .payload_len = (uint32_t)b->len,
    };
    zmq_msg_t hm, pm, xm;
    bool with_pos = b->pos != NULL && b->nrec > 0;
    int rc = header_msg(&hm, &h);
    if (rc < 0)
        return rc;
    atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
    if (zmq_msg_init_data(&pm, b->data, b->len, batch_release, b) != 0) {
        rc = -errno;
        gf_edge_batch_unref(b);
        goto fail_header;
    }
    if (with_pos) {
        atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
        if (zmq_msg_init_data(&xm, b->pos, (size_t)b->nrec * sizeof *b->pos,
                              batch_release, b) != 0) {
            rc = -errno;
            gf_edge_batch_unref(b);
            goto fail_payload;
        }
    }
    GF_EDGE_SENT(&hm);
    if (zmq_msg_send(&hm, tx->sock,
                     ZMQ_SNDMORE | (dontwait ? ZMQ_DONTWAIT : 0)) < 0) {
        rc = -errno;
        goto fail_positions;
    }
    /* the first frame went: the others are never refused for the HWM */
    if (zmq_msg_send(&pm, tx->sock, with_pos ? ZMQ_SNDMORE : 0) < 0) {
        rc = -errno;
        zmq_msg_close(&pm);
        if (with_pos)
            zmq_msg_close(&xm);
        return rc;
    }
    if (with_pos && zmq_msg_send(&xm, tx->sock, 0) < 0) {
        rc = -errno;
        zmq_msg_close(&xm);
        return rc;
    }
    tx->seq++;
    tx->records += b->nrec;
    return 0;

fail_positions:
    if (with_pos)
        zmq_msg_close(&xm);
fail_payload:
    zmq_msg_close(&pm);
fail_header:
    zmq_msg_close(&hm);
    return rc;
}

int gf_edge_tx_eos(gf_edge_tx *tx)
{
    gf_frame_hdr h = {
        .type = GF_FRAME_EOS,
        .producer = tx->producer,
        .seq = tx->seq + 1,
        .count = (uint32_t)tx->records,
        .aux = tx->seq,
    };
    zmq_msg_t hm;
    int rc = header_msg(&hm, &h);
    if (rc < 0)
        return rc;
    GF_EDGE_SENT(&hm);
    if (zmq_msg_send(&hm, tx->sock, ZMQ_SNDMORE) < 0) {
        rc = -errno;
        zmq_msg_close(&hm);
        return rc;
    }
    if (zmq_send(tx->sock, "", 0, 0) < 0)
        return -errno;
    return 0;
}

void gf_edge_tx_destroy(gf_edge_tx **txp)
{
    if (!txp || !*txp)
        return;
    zmq_close((*txp)->sock);
    gf_free(*txp);
    *txp = NULL;
}

int gf_edge_tx_send_any(gf_edge_tx **tx, size_t n, size_t *rr, gf_edge_batch *b)
{
    for (size_t k = 0; k < n; k++) {
        size_t i = (*rr + k) % n;
        int rc = gf_edge_tx_send(tx[i], b, true);
        if (rc == 0) {
            *rr = (i + 1) % n;
            return 0;
        }
        if (rc != -EAGAIN)
            return rc;
    }

    /* every consumer is full: wait until one can take the batch */
    zmq_pollitem_t stack[GF_EDGE_POLL_STACK];
    zmq_pollitem_t *items = stack;
    if (n > GF_EDGE_POLL_STACK) {
        items = gf_malloc(n * sizeof *items);
        if (!items)
            return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        items[i] =
            (zmq_pollitem_t){.socket = tx[i]->sock, .events = ZMQ_POLLOUT};
    int rc;
    for (;;) {
        if (zmq_poll(items, (int)n, -1) < 0) {
            rc = -errno;
            if (rc == -EINTR)
                continue;
            break;
        }
        size_t k;
        for (k = 0; k < n; k++) {
            size_t i = (*rr + k) % n;
            if (!(items[i].revents & ZMQ_POLLOUT))
                continue;
            rc = gf_edge_tx_send(tx[i], b, true);
            if (rc == 0)
                *rr = (i + 1) % n;
            if (rc != -EAGAIN)
                break;
        }
        if (k < n)
            break;
    }
    if (items != stack)
        gf_free(items);
    return rc;
}

/* ---------------------------------------------------------- receiving -- */

gf_edge_rx *gf_edge_rx_new(void *zctx, const char *endpoint,
                           const uint64_t *producers, size_t npeers)
{
    gf_edge_rx *rx = gf_calloc(1, sizeof *rx);
    if (!rx)
        return NULL;
    rx->endpoint = gf_strdup(endpoint);
    rx->peers = gf_calloc(npeers ? npeers : 1, sizeof *rx->peers);
    if (!rx->endpoint || !rx->peers)
        goto fail_alloc;
    for (size_t i = 0; i < npeers; i++)
        rx->peers[i].producer = producers[i];
    rx->npeers = rx->eos_left = npeers;
    rx->sock = zmq_socket(zctx, ZMQ_PULL);
    if (!rx->sock)
        goto fail_alloc;
    if (set_int_opt(rx->sock, ZMQ_RCVHWM, GF_EDGE_HWM) != 0 ||
        set_int_opt(rx->sock, ZMQ_LINGER, 0) != 0 ||
        zmq_bind(rx->sock, endpoint) != 0)
        goto fail_socket;
    return rx;

fail_socket:
    zmq_close(rx->sock);
fail_alloc:
    gf_free(rx->peers);
    gf_free(rx->endpoint);
    gf_free(rx);
    return NULL;
}

static gf_edge_peer *find_peer(gf_edge_rx *rx, uint64_t producer)
{
    for (size_t i = 0; i < rx->npeers; i++)
        if (rx->peers[i].producer == producer)
            return &rx->peers[i];
    return NULL;
}

/* Receive and discard the rest of a multipart message. */
static void drain_parts(void *sock, bool more)
{
    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, sock, 0) < 0) {
            zmq_msg_close(&m);
            return;
        }
        more = zmq_msg_more(&m);
        zmq_msg_close(&m);
    }
}

/* Count a bad message and describe it. */
static int bad(gf_edge_rx *rx, const char **why, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int bad(gf_edge_rx *rx, const char **why, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rx->why, sizeof rx->why, fmt, ap);
    va_end(ap);
    rx->bad_frames++;
    *why = rx->why;
    return GF_EDGE_BAD;
}

static int proto(gf_edge_rx *rx, const char **why, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int proto(gf_edge_rx *rx, const char **why, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rx->why, sizeof rx->why, fmt, ap);
    va_end(ap);
    *why = rx->why;
    return -EPROTO;
}

/* Account a checked message to its producer. */
static int accept_msg(gf_edge_rx *rx, gf_edge_msg *m, const char **why)
{
    const gf_frame_hdr *h = &m->hdr;
    gf_edge_peer *p = find_peer(rx, h->producer);
    if (!p)
        return bad(rx, why, "message from unknown producer %" PRIu64,
                   h->producer);
    m->peer = p;
    switch (h->type) {
    case GF_FRAME_DATA:
        if (p->eos)
            return proto(rx, why,
                         "producer %" PRIu64 ": data after end of stream",
                         p->producer);
        if (h->seq != p->seq + 1)
            return proto(rx, why,
                         "producer %" PRIu64 ": batch %" PRIu64
                         " arrived, expected %" PRIu64,
                         p->producer, h->seq, p->seq + 1);
        p->seq = h->seq;
        p->records += h->count;
        return GF_EDGE_DATA;
    case GF_FRAME_EOS:
        if (p->eos)
            return proto(rx, why, "producer %" PRIu64 ": end of stream twice",
                         p->producer);
        /* the header holds the count modulo 2^32, the batches exactly */
        if (h->count != (uint32_t)p->records || h->aux != p->seq)
            return proto(rx, why,
                         "producer %" PRIu64 ": end of stream says %" PRIu32
                         " records in %" PRIu64 " batches, %" PRIu64
                         " records in %" PRIu64 " batches arrived",
                         p->producer, h->count, h->aux, p->records, p->seq);
        p->eos = true;
        rx->eos_left--;
        return GF_EDGE_EOS;
    default:
        return bad(rx, why, "producer %" PRIu64 ": unexpected frame type %u",
                   h->producer, (unsigned)h->type);
    }
}

int gf_edge_rx_recv(gf_edge_rx *rx, gf_edge_msg *m, long timeout_ms,
                    const char **why)
{
    *why = NULL;
    if (timeout_ms >= 0) {
        zmq_pollitem_t it = {.socket = rx->sock, .events = ZMQ_POLLIN};
        int n = zmq_poll(&it, 1, timeout_ms);
        if (n < 0)
            return errno == EINTR ? GF_EDGE_TIMEOUT : -errno;
        if (n == 0)
            return GF_EDGE_TIMEOUT;
    }

    zmq_msg_t hm;
    zmq_msg_init(&hm);
    if (zmq_msg_recv(&hm, rx->sock, 0) < 0) {
        int rc = -errno;
        zmq_msg_close(&hm);
        return rc == -EINTR || rc == -EAGAIN ? GF_EDGE_TIMEOUT : rc;
    }
    GF_EDGE_RECEIVED(&hm);
    bool more = zmq_msg_more(&hm);
    const char *w = NULL;
    int dec =
        gf_frame_decode(zmq_msg_data(&hm), zmq_msg_size(&hm), &m->hdr, &w);
    zmq_msg_close(&hm);
    if (dec != 0) {
        drain_parts(rx->sock, more);
        return bad(rx, why, "bad frame header: %s", w ? w : "invalid");
    }
    if (!more)
        return bad(rx, why,
                   "producer %" PRIu64 ": header without payload frame",
                   m->hdr.producer);

    zmq_msg_init(&m->payload);
    zmq_msg_init(&m->positions);
    if (zmq_msg_recv(&m->payload, rx->sock, 0) < 0) {
        int rc = -errno;
        gf_edge_msg_close(m);
        return rc;
    }
    bool third = zmq_msg_more(&m->payload);
    if (third) {
        if (zmq_msg_recv(&m->positions, rx->sock, 0) < 0) {
            int rc = -errno;
            gf_edge_msg_close(m);
            return rc;
        }
        if (zmq_msg_more(&m->positions)) {
            drain_parts(rx->sock, true);
            gf_edge_msg_close(m);
            return bad(rx, why, "producer %" PRIu64 ": more than three frames",
                       m->hdr.producer);
        }
    }
    size_t plen = zmq_msg_size(&m->payload);
    size_t xlen = zmq_msg_size(&m->positions);
    if (plen != m->hdr.payload_len)
        w = "payload length differs from the header";
    else if (m->hdr.type != GF_FRAME_DATA && plen != 0)
        w = "a payload on a frame that carries none";
    else if (third && m->hdr.type != GF_FRAME_DATA)
        w = "positions on a frame that carries no records";
    else if (third && xlen != (size_t)m->hdr.count * sizeof(gf_srcpos))
        w = "positions frame not 8 bytes per record";
    if (w || (rx->check_payload &&
              gf_frame_check_payload(&m->hdr, zmq_msg_data(&m->payload), plen,
                                     &w) != 0)) {
        gf_edge_msg_close(m);
        return bad(rx, why, "producer %" PRIu64 ", batch %" PRIu64 ": %s",
                   m->hdr.producer, m->hdr.seq, w ? w : "bad payload");
    }
    int rc = accept_msg(rx, m, why);
    if (rc != GF_EDGE_DATA)
        gf_edge_msg_close(m);
    return rc;
}

void gf_edge_msg_close(gf_edge_msg *m)
{
    zmq_msg_close(&m->payload);
    zmq_msg_close(&m->positions);
}

void gf_edge_rx_destroy(gf_edge_rx **rxp)
{
    if (!rxp || !*rxp)
        return;
    gf_edge_rx *rx = *rxp;
    zmq_close(rx->sock);
    gf_free(rx->peers);
    gf_free(rx->endpoint);
    gf_free(rx);
    *rxp = NULL;
}
