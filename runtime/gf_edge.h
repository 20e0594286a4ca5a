/*
 * gf_edge - one edge of the pipeline graph: the sending end (gf_edge_tx, a
 * PUSH socket owned by one producer instance and connected to one consumer
 * instance) and the receiving end (gf_edge_rx, the PULL socket a consumer
 * instance reads every upstream producer from).
 *
 * A message is two ZeroMQ frames, header then payload (gf_frame.h), and a
 * DATA message whose batch has source positions (gf_srcpos.h) a third: the
 * records' positions, 8 bytes each in this process's byte order (edges
 * here never leave the process; gf_link sends no positions). DATA
 * payloads are batches handed over without a copy: a gf_edge_batch owns the
 * bytes and is reference-counted, so one batch can go to several
 * downstream stages (fan-out) and is freed when the last receiver closes
 * it. Each tx numbers its DATA frames from 1 and counts the records it
 * sent; its EOS carries both totals, which the rx side checks
 * (gf_edge_peer) before the consumer may flush.
 *
 * Every message received is validated (header, the payload's length
 * against the header; with check_payload every record of it) before the
 * consumer sees it; a bad one is dropped, counted on the rx and described
 * in the message returned, never trusted.
 *
 * Today edges are inproc (one process). The tx/rx split and the peer
 * accounting are what a later ipc/tcp variant with credits, ACKs and
 * heartbeats builds on; it belongs in its own file beside this one.
 *
 * Sockets are not thread-safe: create them in one thread, hand them over to
 * the thread that uses them (pthread_create is a full barrier), and destroy
 * them after that thread was joined.
 */
#ifndef GF_EDGE_H
#define GF_EDGE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zmq.h>

#include "gf_frame.h"
#include "gf_srcpos.h"

/* Batches queued per direction of an edge (SNDHWM and RCVHWM). */
#define GF_EDGE_HWM 8

/* A batch of encoded records shared by the messages that carry it. */
typedef struct gf_edge_batch {
    atomic_uint refs;
    uint8_t *data; /* gf_malloc'd; freed with the batch */
    size_t len;
    uint32_t nrec;
    /* the records' source positions, nrec of them (gf_malloc'd; freed with
       the batch), or NULL: sent as the third frame (added by pos) */
    gf_srcpos *pos;
} gf_edge_batch;

/*
 * Wrap `data` (gf_malloc'd, ownership taken even on failure) as a batch
 * holding one reference, the caller's. NULL when out of memory (data is
 * freed then).
 */
gf_edge_batch *gf_edge_batch_new(uint8_t *data, size_t len, uint32_t nrec);
/*
 * The same with the records' positions: `pos` (nrec entries, gf_malloc'd,
 * or NULL) is owned by the batch from now on, also on failure.
 */
gf_edge_batch *gf_edge_batch_new_pos(uint8_t *data, size_t len, uint32_t nrec,
                                     gf_srcpos *pos);
/* Drop one reference; the last frees the bytes. NULL is ignored. */
void gf_edge_batch_unref(gf_edge_batch *b);

/* ------------------------------------------------------------ sending -- */

typedef struct gf_edge_tx {
    void *sock;        /* ZMQ_PUSH */
    uint64_t producer; /* id written in every header */
    uint64_t seq;      /* last DATA sequence number sent */
    uint64_t records;  /* records sent in DATA frames */
} gf_edge_tx;

/*
 * Connect a sending end to `endpoint`, writing `producer` into every
 * header. NULL on failure (errno from ZeroMQ).
 */
gf_edge_tx *gf_edge_tx_new(void *zctx, const char *endpoint, uint64_t producer);
/*
 * Send batch b as one DATA message (three frames when b has positions:
 * the positions' bytes go without a copy, like the payload's). With
 * `dontwait`, returns -EAGAIN when
 * the edge is full (nothing sent, b untouched); otherwise blocks under
 * backpressure. On success the message holds its own reference to b.
 * Returns 0, or a negative errno (-ETERM when the run is stopping).
 */
int gf_edge_tx_send(gf_edge_tx *tx, gf_edge_batch *b, bool dontwait);
/* Send EOS with the totals of this edge (blocks). 0 or negative errno. */
int gf_edge_tx_eos(gf_edge_tx *tx);
/* Close the socket and free; *txp = NULL. */
void gf_edge_tx_destroy(gf_edge_tx **txp);

/*
 * Of `n` sending ends, send b on one that can take it now, starting at
 * *rr and moving round robin; when all are full, wait (zmq_poll) until one
 * can. *rr is left after the one used, so load spreads over consumers.
 * Returns 0 or a negative errno.
 */
int gf_edge_tx_send_any(gf_edge_tx **tx, size_t n, size_t *rr,
                        gf_edge_batch *b);

/* ---------------------------------------------------------- receiving -- */

/* What an rx expects of one producer, and what it has seen of it. */
typedef struct gf_edge_peer {
    uint64_t producer;
    uint64_t seq;     /* last DATA sequence number received */
    uint64_t records; /* records received */
    bool eos;
} gf_edge_peer;

typedef struct gf_edge_rx {
    void *sock; /* ZMQ_PULL */
    char *endpoint;
    size_t npeers;
    gf_edge_peer *peers;
    size_t eos_left;     /* peers whose EOS has not arrived */
    uint64_t bad_frames; /* messages rejected */
    char why[192];       /* the last problem described */
    /*
     * Check every payload record by record (gf_frame_check_payload).
     * Off by default: an inproc edge carries only batches written by this
     * process's gf_out, which cannot write a malformed record, and the full
     * walk cost a sixth of a pipeline's CPU. Frames from outside the
     * process arrive on gf_link, which always checks them in full.
     */
    bool check_payload;
} gf_edge_rx;

/* One message received and validated. */
typedef struct gf_edge_msg {
    gf_frame_hdr hdr;
    zmq_msg_t payload;  /* the batch (DATA); empty otherwise */
    gf_edge_peer *peer; /* whom it came from */
    /* DATA: the records' positions (hdr.count * 8 bytes, checked), or
       empty when the batch has none; read it with gf_edge_msg_positions */
    zmq_msg_t positions;
} gf_edge_msg;

/* A DATA message's positions (hdr.count of them; read each with memcpy:
   the frame may be unaligned), or NULL when it carries none. */
static inline const gf_srcpos *gf_edge_msg_positions(gf_edge_msg *m)
{
    return zmq_msg_size(&m->positions)
               ? (const gf_srcpos *)zmq_msg_data(&m->positions)
               : NULL;
}

/*
 * Bind a receiving end at `endpoint` expecting the `npeers` producer ids
 * in `producers` (copied). NULL on failure.
 */
gf_edge_rx *gf_edge_rx_new(void *zctx, const char *endpoint,
                           const uint64_t *producers, size_t npeers);

/* gf_edge_rx_recv results (non-negative) */
enum {
    GF_EDGE_TIMEOUT = 0, /* nothing arrived within the timeout */
    GF_EDGE_DATA = 1,    /* m holds a checked batch: read, then close it */
    GF_EDGE_EOS = 2,     /* a producer's EOS, its counts matched */
    GF_EDGE_BAD = 3      /* a bad message was dropped; *why says why */
};

/*
 * Wait up to timeout_ms (-1: forever) for one message. DATA: m->payload
 * holds exactly hdr.count checked records, m->positions their positions
 * when the sender had any (a positions frame of another length, or on a
 * message other than DATA, is BAD); release both with gf_edge_msg_close. EOS:
 * the producer's totals were checked against what arrived. BAD: the message was
 * dropped and counted, *why describes it (a static or per-rx string valid until
 * the next call). A count or sequence mismatch at EOS, an EOS twice, or data
 * after EOS is returned as -EPROTO with *why set: the run must fail. Other
 * negative errno: the socket failed (-ETERM: the run is stopping).
 */
int gf_edge_rx_recv(gf_edge_rx *rx, gf_edge_msg *m, long timeout_ms,
                    const char **why);
/* Release a DATA message's payload and positions. */
void gf_edge_msg_close(gf_edge_msg *m);
/* True once every expected producer's EOS arrived. */
static inline bool gf_edge_rx_done(const gf_edge_rx *rx)
{
    return rx->eos_left == 0;
}
void gf_edge_rx_destroy(gf_edge_rx **rxp);

#endif
