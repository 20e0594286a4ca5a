/*
 * gf_link - an edge between processes (ipc:// or tcp://), beside the inproc
 * gf_edge: credit-based flow control, an acknowledgement per batch,
 * heartbeats both ways, resending of unacknowledged batches to another
 * instance when one dies, and to the same one when no acknowledgement
 * came for a heartbeat (a broken and reconnected connection loses what it
 * carried; the consumer recognises copies: of a batch it holds it drops
 * them, of one it acknowledged it acknowledges them again) (ZeroMQ guide,
 * chapters 3-4: the Pirate patterns and credit-based flow control).
 *
 * Sockets. A consumer instance binds one ROUTER at its `listen` endpoint
 * (gf_link_rx); a producer instance connects one DEALER to every instance
 * of each consumer stage (gf_link_tx, one per consumer stage), with
 * ZMQ_IMMEDIATE (nothing is queued on a connection that is not up) and a
 * bounded ZMQ_LINGER. A DEALER's routing id is "gf" + the producer id in
 * hex, so a reconnect is the same peer (ZMQ_ROUTER_HANDOVER).
 *
 * Messages are gf_frame messages (header, payload), with these meanings
 * across processes (DESIGN.md "End of stream and delivery"):
 *
 *   HELLO      producer -> consumer: producer = its id. Repeated until the
 *              consumer answers; consumer -> producer: producer = the
 *              consumer instance's id, count = the credit granted (batches
 *              the producer may have unacknowledged at that instance).
 *   DATA       producer = the batch's origin, seq = the origin's sequence
 *              number: a stateless stage sends its output for an input
 *              batch under the input's id, so a batch redone elsewhere is
 *              recognised downstream (gf_dedup). Uses one credit. To a
 *              stateless stage it goes to any live instance with credit;
 *              to a stateful one (every instance holds state of its own)
 *              always to instance gf_dedup_route(origin, seq, N), so a
 *              batch that comes twice comes to the same instance.
 *   ACK        consumer -> producer: producer/seq = the batch's id (seq 0:
 *              the end of stream of that origin), aux = seq, count = credit
 *              given back (1 for DATA, 0 for EOS).
 *   EOS        producer = origin, aux = batches the origin made, count =
 *              its records (mod 2^32; to an instance of a stateful stage,
 *              those of the batches routed to it), seq = 1 when sent by
 *              the origin itself (the count can be checked), 0 when
 *              forwarded by a stateless stage (the count is the
 *              origin's, not this edge's). An origin sends EOS only when
 *              every batch was acknowledged.
 *   HEARTBEAT  both ways, every heartbeat/4 ms; producer = sender's id;
 *              aux 0 alive; 1 the sender's run failed (every peer fails
 *              too; 4: the same, because the sender was interrupted);
 *              2 the consumer's part of the run is done: its input was
 *              complete and its own consumers said 2 to it; 3 ok: its
 *              process committed its outputs, and its own consumers said
 *              3 to it. A process commits once every part it runs is
 *              done (2 travels from the last stage back to the first,
 *              so a process running both ends of the pipeline never
 *              waits for itself); then 3 travels back the same way, and
 *              no process ends with success before everything after it
 *              committed: a stage that dies or fails before that fails
 *              every process. Once said, 2 (then 3) is the aux of every
 *              heartbeat the consumer sends, so one lost on a reconnect
 *              is repeated. A peer that said 2 is still watched
 *              (heartbeats); one that said 3 is not. Each producer
 *              echoes 3, and the consumer stays connected until every
 *              live producer has, at most one heartbeat timeout (with
 *              ZMQ_IMMEDIATE a disconnect discards what the other end has
 *              not read yet).
 *
 * A peer that is silent for 13/16 of the heartbeat timeout is dead, so a
 * death is noticed within the timeout (links are serviced at least every
 * 3/16 of it; peers send every 1/4). A dead consumer
 * instance's unacknowledged batches go to the other instances of its
 * stage; losing a stateful consumer (aggregate, export) or the last
 * instance of a stage fails the run. On the consumer side, losing a
 * producer that is an origin before its end of stream fails the run;
 * losing a stateless producer is survived (its producers redo the work).
 *
 * Every message is validated (gf_frame_decode, gf_frame_check_payload,
 * known peer, within its credit) before it is queued; a bad one is dropped,
 * counted and logged with the sender's address. ZMQ_MAXMSGSIZE bounds
 * what the ROUTER accepts.
 *
 * Neither end blocks: the instance's thread polls the sockets
 * (gf_link_*_pollitems), then calls gf_link_*_service, which reads what
 * arrived and runs the timers (HELLO retries, heartbeats, deaths, resends).
 * Sockets are used by one thread only (the instance's).
 */
#ifndef GF_LINK_H
#define GF_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zmq.h>

#include "gf_edge.h"
#include "gf_frame.h"
#include "gf_stats.h"

/* Default heartbeat timeout: a dead peer is noticed within this. */
#define GF_LINK_HEARTBEAT_MS 3000
/* Batches a producer may have unacknowledged at one consumer instance. */
#define GF_LINK_CREDIT 8
/* HEARTBEAT aux values */
#define GF_LINK_HB_ALIVE 0
#define GF_LINK_HB_ABORT 1
#define GF_LINK_HB_DONE 2
#define GF_LINK_HB_OK 3
#define GF_LINK_HB_INTERRUPTED 4 /* as ABORT: the sender was interrupted */

/* Settings shared by the links of a run. */
typedef struct gf_link_opts {
    long heartbeat_ms; /* silence after which a peer is dead */
    uint32_t credit;   /* per producer and consumer instance */
    /* a line for the operator (no newline); may be NULL */
    void (*log)(void *arg, const char *line);
    void *log_arg;
    /* hook for every socket made (CURVE, limits); may be NULL. Returns 0,
       or negative to refuse the socket. server: a ROUTER about to bind. */
    int (*secure)(void *arg, void *sock, bool server, const char *peer_stage);
    void *secure_arg;
} gf_link_opts;

/* ------------------------------------------------------------ sending -- */

typedef struct gf_link_tx gf_link_tx;

/* Called when batch (origin, seq) was acknowledged (seq 0: the origin's
   end of stream, by every live instance). */
typedef void (*gf_link_ack_fn)(void *arg, uint64_t origin, uint64_t seq);

/*
 * Connect producer `producer` to the `n` instances of consumer stage
 * `stage` at `endpoints` (copied). `critical`: the stage is stateful, losing
 * an instance fails the run, and batches are routed by their id (DATA
 * above). Returns NULL with *err (static text) on
 * failure.
 */
gf_link_tx *gf_link_tx_new(void *lctx, const gf_link_opts *o, uint64_t producer,
                           const char *stage, char *const *endpoints, size_t n,
                           bool critical, gf_link_ack_fn on_ack, void *arg,
                           gf_counters *cnt, const char **err);
/* Poll items for the tx's sockets (POLLIN) into items[]; returns how many
   (at most gf_link_tx_npoll). */
size_t gf_link_tx_pollitems(gf_link_tx *tx, zmq_pollitem_t *items);
size_t gf_link_tx_npoll(const gf_link_tx *tx);
/*
 * Read what arrived, then run the timers. Returns 0, or -1 when the run
 * must fail (gf_link_tx_error says why).
 */
int gf_link_tx_service(gf_link_tx *tx, int64_t now_ns);
/* True once every instance answered HELLO (or is gone). */
bool gf_link_tx_ready(const gf_link_tx *tx);
/* "classify#1 at tcp://...", the instances that have not answered yet,
   into buf. */
void gf_link_tx_waiting(const gf_link_tx *tx, char *buf, size_t n);
/*
 * Stop waiting for the instances that have not answered HELLO: they are
 * taken as dead (a late one is never used). Returns how many instances are
 * live, or -1 for a stateful stage (every instance is needed).
 */
int gf_link_tx_give_up(gf_link_tx *tx);
/*
 * Send batch b (a reference is taken) as (origin, seq) to a live instance
 * with credit, round robin (critical: to its routed instance). -EAGAIN
 * when none can take it now (or resends are waiting: they go first);
 * -EPIPE when the routed instance has already finished; 0 when sent.
 */
int gf_link_tx_send(gf_link_tx *tx, uint64_t origin, uint64_t seq,
                    gf_edge_batch *b);
/* Send origin's end of stream to every live instance (no credit needed). */
int gf_link_tx_eos(gf_link_tx *tx, uint64_t origin, uint64_t batches,
                   uint32_t records, bool direct);
/* Batches and ends of stream sent and not yet acknowledged. */
size_t gf_link_tx_unacked(const gf_link_tx *tx);
/* True once nothing is unacknowledged and every instance said its part of
   the run is done (HEARTBEAT aux 2; with `ok`: that its outputs are
   committed, aux 3) or is gone (a stateless one). */
bool gf_link_tx_settled(const gf_link_tx *tx, bool ok);
/* Tell every live instance that this run failed (best effort);
   `interrupted`: because this process was interrupted. */
void gf_link_tx_abort(gf_link_tx *tx, bool interrupted);
const char *gf_link_tx_error(const gf_link_tx *tx);
void gf_link_tx_destroy(gf_link_tx **txp);

/* ---------------------------------------------------------- receiving -- */

typedef struct gf_link_rx gf_link_rx;

/* One message taken off the rx. */
typedef struct gf_link_msg {
    gf_frame_hdr hdr; /* DATA or EOS */
    zmq_msg_t payload;
    size_t src; /* for gf_link_rx_ack */
} gf_link_msg;

/*
 * Bind consumer instance `self` (named `name`, e.g. "aggregate#0") at
 * `endpoint`, accepting the `n` producer ids in `producers`; `origin[i]`:
 * producer i is an origin whose loss before its end of stream fails the run.
 * Returns NULL with *err on failure (errno from ZeroMQ).
 */
gf_link_rx *gf_link_rx_new(void *lctx, const gf_link_opts *o, uint64_t self,
                           const char *name, const char *endpoint,
                           const uint64_t *producers, const bool *origin,
                           size_t n, gf_counters *cnt, const char **err);
void *gf_link_rx_socket(gf_link_rx *rx);
/* As gf_link_tx_service. */
int gf_link_rx_service(gf_link_rx *rx, int64_t now_ns);
/* Take the next queued DATA or EOS message (1), or 0 when none. Close
   m->payload after use. */
int gf_link_rx_next(gf_link_rx *rx, gf_link_msg *m);
/* Acknowledge (origin, seq) to the producer that sent message src (seq 0:
   an end of stream). Nothing happens when that producer is gone. */
void gf_link_rx_ack(gf_link_rx *rx, size_t src, uint64_t origin, uint64_t seq);
/* Producers heard from recently. */
size_t gf_link_rx_live(const gf_link_rx *rx);
/* Tell the producers this instance's part of the run is done (HEARTBEAT
   aux 2): its input is complete and its consumers' parts are done. */
void gf_link_rx_done(gf_link_rx *rx);
/* Tell the producers the outputs of this instance and of everything after
   it are committed (aux 3); each echoes it. */
void gf_link_rx_ok(gf_link_rx *rx);
/* True once every live producer echoed gf_link_rx_ok: this end may close
   without its last messages being discarded unread. */
bool gf_link_rx_all_bye(const gf_link_rx *rx);
/* Tell the producers this run failed (best effort), as gf_link_tx_abort. */
void gf_link_rx_abort(gf_link_rx *rx, bool interrupted);
/* Bad messages dropped so far. */
uint64_t gf_link_rx_bad(const gf_link_rx *rx);
const char *gf_link_rx_error(const gf_link_rx *rx);
void gf_link_rx_destroy(gf_link_rx **rxp);

#endif
