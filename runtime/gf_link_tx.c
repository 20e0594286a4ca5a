/*
 * gf_link_tx - the producer end of an edge between processes (see
 * gf_link.h; what both ends share is in gf_link_int.h, the consumer end
 * in gf_link_rx.c).
 *
 * The producer end keeps every DATA batch it sent until it is
 * acknowledged, in a small array of items; an item whose instance died is
 * marked for resending and goes, before any new batch, to the next live
 * instance with credit. Ends of stream are items too, one per live
 * instance.
 */
#include "gf_link.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gf_alloc.h"
#include "gf_dedup.h"
#include "gf_link_int.h"

/* HELLO is repeated this often until answered (and a lost connection is
   retried every 10 ms at first, ZMQ_RECONNECT_IVL): start-up costs little. */
#define HELLO_EVERY_NS (10 * NS_PER_MS)

typedef enum peer_state {
    PEER_CONNECTING, /* HELLO not answered yet */
    PEER_LIVE,
    PEER_DONE, /* its part is done: no more data; still watched */
    PEER_OK,   /* its outputs are committed: no longer watched */
    PEER_DEAD
} peer_state;

typedef struct tx_peer {
    char *name; /* "classify#1" */
    char *endpoint;
    void *sock; /* DEALER; NULL once dead */
    peer_state state;
    uint32_t credit;
    uint64_t records; /* of this producer's own batches routed here */
    int64_t heard_ns, sent_ns, hello_ns;
} tx_peer;

/* A batch or an end of stream sent and not yet acknowledged. */
typedef struct tx_item {
    uint64_t origin, seq; /* seq 0: end of stream */
    gf_edge_batch *b;     /* DATA only */
    uint64_t batches;     /* EOS */
    uint32_t records;     /* EOS */
    bool direct;          /* EOS */
    bool unsent;          /* EOS: not queued yet (connection down) */
    bool redo;            /* DATA: resent after an instance died */
    long peer;            /* where it went; -1: to resend */
    int64_t sent_ns;      /* last sent (retransmitted after the timeout) */
} tx_item;

struct gf_link_tx {
    const gf_link_opts *o;
    char *stage;
    bool critical;
    uint64_t producer;
    size_t n;
    tx_peer *peers;
    tx_item *items;
    size_t nitems, capitems;
    size_t resend;   /* items with peer -1 */
    size_t redo;     /* resent items not acknowledged yet */
    uint64_t redone; /* resent items acknowledged since the last report */
    size_t rr;
    int64_t start_ns;
    gf_link_ack_fn on_ack;
    void *arg;
    gf_counters *cnt;
    char err[512];
};

static void payload_free(void *data, void *hint)
{
    (void)data;
    gf_edge_batch_unref(hint);
}

/* Send DATA item it to peer p (which has credit; `again`: the item holds
   its credit already, a retransmission). 0 or -errno. */
static int tx_send_item(gf_link_tx *tx, tx_item *it, size_t p, bool again)
{
    tx_peer *pe = &tx->peers[p];
    gf_frame_hdr h = {
        .type = GF_FRAME_DATA,
        .producer = it->origin,
        .seq = it->seq,
        .count = it->b->nrec,
        .payload_len = (uint32_t)it->b->len,
    };
    uint8_t hdr[GF_FRAME_HDR_SIZE];
    gf_frame_encode(&h, hdr);
    if (zmq_send(pe->sock, hdr, sizeof hdr, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return -errno;
    int rc;
    if (it->b->len == 0) {
        rc = zmq_send(pe->sock, "", 0, 0);
    } else {
        zmq_msg_t pm;
        atomic_fetch_add_explicit(&it->b->refs, 1, memory_order_relaxed);
        if (zmq_msg_init_data(&pm, it->b->data, it->b->len, payload_free,
                              it->b) != 0) {
            gf_edge_batch_unref(it->b);
            return -errno; /* the header went: the peer drops the message */
        }
        rc = zmq_msg_send(&pm, pe->sock, 0);
        if (rc < 0)
            zmq_msg_close(&pm);
    }
    if (rc < 0)
        return -errno;
    if (!again) {
        pe->credit--;
        ADD(tx->cnt->credit, -1);
    }
    pe->sent_ns = it->sent_ns = gf_stats_now_ns();
    it->peer = (long)p;
    return 0;
}

static int tx_send_eos(gf_link_tx *tx, const tx_item *it, size_t p)
{
    /* a stateful stage's instance checks the records of its share */
    uint32_t records = tx->critical && it->direct
                           ? (uint32_t)tx->peers[p].records
                           : it->records;
    gf_frame_hdr h = {
        .type = GF_FRAME_EOS,
        .producer = it->origin,
        .seq = it->direct ? 1 : 0,
        .count = records,
        .aux = it->batches,
    };
    int rc = send_ctl(tx->peers[p].sock, NULL, 0, &h);
    if (rc == 0)
        tx->peers[p].sent_ns = gf_stats_now_ns();
    return rc;
}

/*
 * Send again what a live instance has not acknowledged for a heartbeat
 * timeout: a connection that broke and came back (ZeroMQ reconnects by
 * itself) loses what was on it, the message or its acknowledgement, while
 * both ends stay alive. The consumer recognises a copy (gf_link_rx: of a
 * batch it still holds it drops, of one it acknowledged it acknowledges
 * again), so this is safe when the consumer is merely slow.
 */
static void tx_retransmit(gf_link_tx *tx, int64_t now)
{
    int64_t timeout = hb_ns(tx->o);
    for (size_t i = 0; i < tx->nitems; i++) {
        tx_item *it = &tx->items[i];
        if (it->peer < 0 || it->unsent || now - it->sent_ns < timeout ||
            tx->peers[it->peer].state != PEER_LIVE)
            continue;
        int rc = it->seq == 0 ? tx_send_eos(tx, it, (size_t)it->peer)
                              : tx_send_item(tx, it, (size_t)it->peer, true);
        it->sent_ns = now; /* sent, or tried: the next try in a timeout */
        if (rc == 0 && it->seq != 0) {
            ADD(tx->cnt->batches_resent, 1);
            if (getenv("GIGFLOW_DEBUG"))
                say(tx->o,
                    "%s: batch %" PRIu64 " of %" PRIu64
                    " unacknowledged for a heartbeat: sent again",
                    tx->peers[it->peer].name, it->seq, it->origin);
        }
    }
}

static tx_item *tx_add_item(gf_link_tx *tx)
{
    if (tx->nitems == tx->capitems) {
        size_t cap = tx->capitems ? tx->capitems * 2 : 32;
        tx_item *n = gf_realloc(tx->items, cap * sizeof *n);
        if (!n)
            return NULL;
        tx->items = n;
        tx->capitems = cap;
    }
    tx_item *it = &tx->items[tx->nitems++];
    memset(it, 0, sizeof *it);
    return it;
}

/* Remove item i (order does not matter). */
static void tx_drop_item(gf_link_tx *tx, size_t i)
{
    if (tx->items[i].peer < 0)
        tx->resend--;
    if (tx->items[i].redo)
        tx->redo--;
    gf_edge_batch_unref(tx->items[i].b);
    tx->items[i] = tx->items[--tx->nitems];
}

/* True while some live instance still has origin's EOS unacknowledged. */
static bool tx_eos_pending(const gf_link_tx *tx, uint64_t origin)
{
    for (size_t i = 0; i < tx->nitems; i++)
        if (tx->items[i].seq == 0 && tx->items[i].origin == origin)
            return true;
    return false;
}

/* Peer p is done (st PEER_DONE: it takes no more data, but is still
   watched), ok or dead (gone): its DATA is resent, its EOS forgotten. */
static void tx_lose_peer(gf_link_tx *tx, size_t p, peer_state st)
{
    tx_peer *pe = &tx->peers[p];
    bool counted = pe->state == PEER_LIVE || pe->state == PEER_DONE;
    pe->state = st;
    ADD(tx->cnt->credit, -(int64_t)pe->credit);
    pe->credit = 0;
    /* A finished consumer's socket stays open until this end is destroyed:
       with ZMQ_IMMEDIATE, a disconnect discards what the other end has not
       read yet (its last acknowledgements). A dead one's is closed. */
    if (pe->sock && st == PEER_DEAD) {
        set_int(pe->sock, ZMQ_LINGER, 0);
        zmq_close(pe->sock);
        pe->sock = NULL;
    }
    if (counted && st != PEER_DONE)
        ADD(tx->cnt->peers, -1);
    for (size_t i = 0; i < tx->nitems;) {
        tx_item *it = &tx->items[i];
        if (it->peer != (long)p) {
            i++;
            continue;
        }
        if (it->seq == 0 || st == PEER_DONE) {
            uint64_t origin = it->origin, seq = it->seq;
            tx_drop_item(tx, i);
            if (seq == 0 && !tx_eos_pending(tx, origin) && tx->on_ack)
                tx->on_ack(tx->arg, origin, 0);
            continue;
        }
        it->peer = -1;
        if (!it->redo)
            tx->redo++;
        it->redo = true;
        tx->resend++;
        ADD(tx->cnt->batches_resent, 1);
        i++;
    }
}

gf_link_tx *gf_link_tx_new(void *lctx, const gf_link_opts *o, uint64_t producer,
                           const char *stage, char *const *endpoints, size_t n,
                           bool critical, gf_link_ack_fn on_ack, void *arg,
                           gf_counters *cnt, const char **err)
{
    *err = "out of memory";
    gf_link_tx *tx = gf_calloc(1, sizeof *tx);
    if (!tx)
        return NULL;
    tx->o = o;
    tx->producer = producer;
    tx->critical = critical;
    tx->on_ack = on_ack;
    tx->arg = arg;
    tx->cnt = cnt;
    tx->start_ns = gf_stats_now_ns();
    tx->stage = gf_strdup(stage);
    tx->peers = gf_calloc(n, sizeof *tx->peers);
    if (!tx->stage || !tx->peers)
        goto fail;
    tx->n = n;
    char rid[24];
    snprintf(rid, sizeof rid, "gf%016" PRIx64, producer);
    for (size_t i = 0; i < n; i++) {
        tx_peer *pe = &tx->peers[i];
        pe->name = gf_asprintf("%s#%zu", stage, i);
        pe->endpoint = gf_strdup(endpoints[i]);
        if (!pe->name || !pe->endpoint)
            goto fail;
        pe->sock = zmq_socket(lctx, ZMQ_DEALER);
        if (!pe->sock) {
            *err = zmq_strerror(errno);
            goto fail;
        }
        if (set_int(pe->sock, ZMQ_IMMEDIATE, 1) != 0 ||
            set_int(pe->sock, ZMQ_LINGER, LINK_LINGER_MS) != 0 ||
            set_int(pe->sock, ZMQ_SNDHWM, 0) != 0 ||
            set_int(pe->sock, ZMQ_RCVHWM, 0) != 0 ||
            set_int(pe->sock, ZMQ_RECONNECT_IVL, 10) != 0 ||
            set_int(pe->sock, ZMQ_RECONNECT_IVL_MAX, 1000) != 0 ||
            zmq_setsockopt(pe->sock, ZMQ_ROUTING_ID, rid, strlen(rid)) != 0) {
            *err = zmq_strerror(errno);
            goto fail;
        }
        if (o->secure && o->secure(o->secure_arg, pe->sock, false, stage) < 0) {
            *err = "cannot secure the connection (see the message above)";
            goto fail;
        }
        if (zmq_connect(pe->sock, pe->endpoint) != 0) {
            *err = zmq_strerror(errno);
            goto fail;
        }
    }
    return tx;

fail:
    gf_link_tx_destroy(&tx);
    return NULL;
}

size_t gf_link_tx_npoll(const gf_link_tx *tx)
{
    return tx->n;
}

size_t gf_link_tx_pollitems(gf_link_tx *tx, zmq_pollitem_t *items)
{
    size_t k = 0;
    for (size_t i = 0; i < tx->n; i++)
        if (tx->peers[i].sock && tx->peers[i].state != PEER_OK)
            items[k++] = (zmq_pollitem_t){.socket = tx->peers[i].sock,
                                          .events = ZMQ_POLLIN};
    return k;
}

static int tx_fail(gf_link_tx *tx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int tx_fail(gf_link_tx *tx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tx->err, sizeof tx->err, fmt, ap);
    va_end(ap);
    return -1;
}

/* Handle one message from peer p. Returns 0 or -1 (run fails). */
static int tx_handle(gf_link_tx *tx, size_t p, const gf_frame_hdr *h,
                     int64_t now)
{
    tx_peer *pe = &tx->peers[p];
    pe->heard_ns = now;
    switch (h->type) {
    case GF_FRAME_HELLO:
        if (pe->state == PEER_CONNECTING) {
            pe->state = PEER_LIVE;
            pe->credit = h->count;
            ADD(tx->cnt->peers, 1);
            ADD(tx->cnt->credit, h->count);
            say(tx->o, "connected to %s at %s (credit %" PRIu32 ")", pe->name,
                pe->endpoint, h->count);
        }
        return 0;
    case GF_FRAME_HEARTBEAT:
        if (h->aux == GF_LINK_HB_ABORT || h->aux == GF_LINK_HB_INTERRUPTED)
            return tx_fail(
                tx, "%s at %s %s: the run stops", pe->name, pe->endpoint,
                h->aux == GF_LINK_HB_ABORT ? "failed" : "was interrupted");
        if ((h->aux == GF_LINK_HB_DONE || h->aux == GF_LINK_HB_OK) &&
            pe->state == PEER_LIVE) {
            if (getenv("GIGFLOW_DEBUG"))
                say(tx->o, "%s: its part is done", pe->name);
            /* a consumer is done only after acknowledging everything: a
               batch still out there would be lost */
            size_t out = 0;
            for (size_t i = 0; i < tx->nitems; i++)
                out += tx->items[i].peer == (long)p && tx->items[i].seq != 0;
            if (out > 0)
                return tx_fail(tx,
                               "%s at %s says it is done while %zu batches "
                               "sent to it are unacknowledged",
                               pe->name, pe->endpoint, out);
            tx_lose_peer(tx, p, PEER_DONE); /* an ok without done: both */
        }
        if (h->aux == GF_LINK_HB_OK &&
            (pe->state == PEER_LIVE || pe->state == PEER_DONE)) {
            if (getenv("GIGFLOW_DEBUG"))
                say(tx->o, "%s: its outputs are committed", pe->name);
            /* echo it: the consumer may close once every producer has */
            gf_frame_hdr e = {.type = GF_FRAME_HEARTBEAT,
                              .producer = tx->producer,
                              .aux = GF_LINK_HB_OK};
            send_ctl(pe->sock, NULL, 0, &e);
            tx_lose_peer(tx, p, PEER_OK);
        }
        return 0;
    case GF_FRAME_ACK:
        for (size_t i = 0; i < tx->nitems; i++) {
            tx_item *it = &tx->items[i];
            if (it->peer != (long)p || it->origin != h->producer ||
                it->seq != h->seq)
                continue;
            uint64_t origin = it->origin, seq = it->seq;
            if (it->redo) {
                it->redo = false;
                tx->redone++;
                if (--tx->redo == 0) {
                    say(tx->o,
                        "the %" PRIu64 " batches of lost instances "
                        "were redone",
                        tx->redone);
                    tx->redone = 0;
                }
            }
            tx_drop_item(tx, i);
            pe->credit += h->count;
            ADD(tx->cnt->credit, (int64_t)h->count);
            if (seq != 0)
                ADD(tx->cnt->batches_acked, 1);
            if (tx->on_ack && (seq != 0 || !tx_eos_pending(tx, origin)))
                tx->on_ack(tx->arg, origin, seq);
            break;
        }
        return 0;
    default:
        say(tx->o, "%s at %s sent an unexpected frame (type %u); ignored",
            pe->name, pe->endpoint, (unsigned)h->type);
        return 0;
    }
}

/* Send waiting resends while some instance has credit. */
static void tx_pump(gf_link_tx *tx)
{
    for (size_t i = 0; i < tx->nitems; i++) {
        tx_item *it = &tx->items[i];
        if (it->unsent && tx->peers[it->peer].state == PEER_LIVE)
            it->unsent = tx_send_eos(tx, it, (size_t)it->peer) < 0;
    }
    for (size_t i = 0; i < tx->nitems && tx->resend > 0; i++) {
        tx_item *it = &tx->items[i];
        if (it->peer >= 0)
            continue;
        for (size_t k = 0; k < tx->n; k++) {
            size_t p = tx->critical ? gf_dedup_route(it->origin, it->seq,
                                                     (unsigned)tx->n)
                                    : (tx->rr + k) % tx->n;
            if (tx->peers[p].state != PEER_LIVE || tx->peers[p].credit == 0)
                continue;
            if (tx_send_item(tx, it, p, false) == 0) {
                tx->resend--;
                tx->rr = (p + 1) % tx->n;
                ADD(tx->cnt->batches_sent, 1);
                break;
            }
        }
    }
}

int gf_link_tx_service(gf_link_tx *tx, int64_t now)
{
    for (size_t p = 0; p < tx->n; p++) {
        tx_peer *pe = &tx->peers[p];
        while (pe->sock && pe->state != PEER_OK) {
            zmq_msg_t hm;
            zmq_msg_init(&hm);
            if (zmq_msg_recv(&hm, pe->sock, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&hm);
                break;
            }
            bool more = zmq_msg_more(&hm);
            gf_frame_hdr h;
            const char *why;
            int dec =
                gf_frame_decode(zmq_msg_data(&hm), zmq_msg_size(&hm), &h, &why);
            zmq_msg_close(&hm);
            drain(pe->sock, more);
            if (dec != 0) {
                say(tx->o, "%s at %s: bad frame dropped: %s", pe->name,
                    pe->endpoint, why);
                ADD(tx->cnt->frames_rejected, 1);
                continue;
            }
            if (getenv("GIGFLOW_DEBUG") &&
                (h.type != GF_FRAME_ACK || h.seq == 0) &&
                h.type != GF_FRAME_HEARTBEAT)
                say(tx->o, "%s: got type %u seq %" PRIu64, pe->name,
                    (unsigned)h.type, h.seq);
            if (tx_handle(tx, p, &h, now) < 0)
                return -1;
        }
    }

    int64_t hb = hb_ns(tx->o);
    size_t alive = 0;
    for (size_t p = 0; p < tx->n; p++) {
        tx_peer *pe = &tx->peers[p];
        if (pe->state == PEER_CONNECTING &&
            now - pe->hello_ns >= HELLO_EVERY_NS) {
            gf_frame_hdr h = {.type = GF_FRAME_HELLO, .producer = tx->producer};
            if (send_ctl(pe->sock, NULL, 0, &h) == 0)
                pe->sent_ns = now;
            pe->hello_ns = now; /* EAGAIN: not connected yet, retry */
        }
        if (pe->state != PEER_LIVE && pe->state != PEER_DONE) {
            alive += pe->state == PEER_CONNECTING;
            continue;
        }
        if (now - pe->heard_ns > dead_ns(tx->o)) {
            say(tx->o, "%s at %s: no message for %.1f s, taken as dead%s",
                pe->name, pe->endpoint, (double)(now - pe->heard_ns) / 1e9,
                tx->critical ? "" : "; its batches go to other instances");
            if (tx->critical)
                return tx_fail(tx,
                               "lost %s at %s (no message for %.1f s): the "
                               "run cannot complete without it",
                               pe->name, pe->endpoint,
                               (double)(now - pe->heard_ns) / 1e9);
            tx_lose_peer(tx, p, PEER_DEAD);
            continue;
        }
        alive += pe->state == PEER_LIVE;
        if (now - pe->sent_ns >= hb / 4) {
            gf_frame_hdr h = {.type = GF_FRAME_HEARTBEAT,
                              .producer = tx->producer};
            if (send_ctl(pe->sock, NULL, 0, &h) == 0)
                pe->sent_ns = now;
        }
    }
    bool any_done = false;
    for (size_t p = 0; p < tx->n; p++)
        any_done |=
            tx->peers[p].state == PEER_DONE || tx->peers[p].state == PEER_OK;
    if (alive == 0 && !any_done)
        return tx_fail(tx, "every instance of stage %s is gone", tx->stage);
    if (alive == 0 && tx->resend > 0)
        return tx_fail(tx,
                       "stage %s finished while %zu batches were still "
                       "unacknowledged",
                       tx->stage, tx->resend);
    tx_pump(tx);
    tx_retransmit(tx, now);
    return 0;
}

bool gf_link_tx_ready(const gf_link_tx *tx)
{
    for (size_t p = 0; p < tx->n; p++)
        if (tx->peers[p].state == PEER_CONNECTING)
            return false;
    return true;
}

void gf_link_tx_waiting(const gf_link_tx *tx, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t p = 0; p < tx->n && len < n; p++) {
        if (tx->peers[p].state != PEER_CONNECTING)
            continue;
        int w = snprintf(buf + len, n - len, "%s%s at %s", len ? ", " : "",
                         tx->peers[p].name, tx->peers[p].endpoint);
        if (w < 0)
            break;
        len += (size_t)w;
    }
}

int gf_link_tx_give_up(gf_link_tx *tx)
{
    if (tx->critical)
        return -1;
    int live = 0;
    for (size_t p = 0; p < tx->n; p++) {
        if (tx->peers[p].state == PEER_CONNECTING) {
            tx->peers[p].state = PEER_LIVE; /* for tx_lose_peer's count */
            ADD(tx->cnt->peers, 1);
            tx_lose_peer(tx, p, PEER_DEAD);
        }
        live += tx->peers[p].state == PEER_LIVE;
    }
    return live;
}

int gf_link_tx_send(gf_link_tx *tx, uint64_t origin, uint64_t seq,
                    gf_edge_batch *b)
{
    if (tx->resend > 0)
        return -EAGAIN;
    for (size_t k = 0; k < tx->n; k++) {
        size_t p = (tx->rr + k) % tx->n;
        if (tx->critical) {
            /* every instance is needed and holds its own state: a batch
               always goes to the same one (gf_dedup_route) */
            p = gf_dedup_route(origin, seq, (unsigned)tx->n);
            if (tx->peers[p].state == PEER_DONE)
                return -EPIPE;
            if (tx->peers[p].state != PEER_LIVE || tx->peers[p].credit == 0)
                return -EAGAIN;
        }
        if (tx->peers[p].state != PEER_LIVE || tx->peers[p].credit == 0)
            continue;
        tx_item *it = tx_add_item(tx);
        if (!it)
            return -ENOMEM;
        it->origin = origin;
        it->seq = seq;
        it->b = b;
        atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
        int rc = tx_send_item(tx, it, p, false);
        if (rc < 0) {
            it->peer = 0; /* not counted as a resend */
            tx_drop_item(tx, tx->nitems - 1);
            if (rc == -EAGAIN)
                continue; /* the connection is not up after all */
            return rc;
        }
        tx->rr = (p + 1) % tx->n;
        if (origin == tx->producer)
            tx->peers[p].records += b->nrec;
        ADD(tx->cnt->batches_sent, 1);
        return 0;
    }
    return -EAGAIN;
}

int gf_link_tx_eos(gf_link_tx *tx, uint64_t origin, uint64_t batches,
                   uint32_t records, bool direct)
{
    bool sent = false;
    for (size_t p = 0; p < tx->n; p++) {
        if (tx->peers[p].state != PEER_LIVE)
            continue;
        tx_item *it = tx_add_item(tx);
        if (!it)
            return -ENOMEM;
        it->origin = origin;
        it->batches = batches;
        it->records = records;
        it->direct = direct;
        it->peer = (long)p;
        it->sent_ns = gf_stats_now_ns();
        /* not connected right now: retried by tx_pump */
        it->unsent = tx_send_eos(tx, it, p) < 0;
        sent = true;
    }
    if (!sent && tx->on_ack)
        tx->on_ack(tx->arg, origin, 0); /* everyone is done already */
    return 0;
}

size_t gf_link_tx_unacked(const gf_link_tx *tx)
{
    return tx->nitems;
}

bool gf_link_tx_settled(const gf_link_tx *tx, bool ok)
{
    if (tx->nitems > 0)
        return false;
    for (size_t p = 0; p < tx->n; p++)
        if (tx->peers[p].state == PEER_LIVE ||
            tx->peers[p].state == PEER_CONNECTING ||
            (ok && tx->peers[p].state == PEER_DONE))
            return false;
    return true;
}

void gf_link_tx_abort(gf_link_tx *tx, bool interrupted)
{
    if (!tx)
        return;
    for (size_t p = 0; p < tx->n; p++) {
        if (!tx->peers[p].sock || tx->peers[p].state == PEER_DEAD)
            continue;
        gf_frame_hdr h = {.type = GF_FRAME_HEARTBEAT,
                          .producer = tx->producer,
                          .aux = interrupted ? GF_LINK_HB_INTERRUPTED
                                             : GF_LINK_HB_ABORT};
        send_ctl(tx->peers[p].sock, NULL, 0, &h);
    }
}

const char *gf_link_tx_error(const gf_link_tx *tx)
{
    return tx->err;
}

void gf_link_tx_destroy(gf_link_tx **txp)
{
    if (!txp || !*txp)
        return;
    gf_link_tx *tx = *txp;
    for (size_t i = 0; i < tx->nitems; i++)
        gf_edge_batch_unref(tx->items[i].b);
    gf_free(tx->items);
    for (size_t p = 0; p < tx->n; p++) {
        if (tx->peers[p].sock)
            zmq_close(tx->peers[p].sock);
        gf_free(tx->peers[p].name);
        gf_free(tx->peers[p].endpoint);
    }
    gf_free(tx->peers);
    gf_free(tx->stage);
    gf_free(tx);
    *txp = NULL;
}
