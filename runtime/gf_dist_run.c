/*
 * gf_dist_run - the thread of a local instance of a distributed run (see
 * gf_dist.h; its set-up is in gf_dist.c): servicing its links, its input
 * (pass-through or stateful, over links or inproc), sending its outputs,
 * the partial states of an aggregate with workers, its end of stream, the
 * end of the run (settle), and the dead letters held per input batch.
 *
 * The loop differs from the one-process loop (gf_stage.c) in that nothing
 * may block for long: between batches, and while waiting for credit or
 * acknowledgements, the thread polls its links and services them
 * (heartbeats, acknowledgements, deaths, resends). The one-process path is
 * untouched by any of this.
 */
#include "gf_dist.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gf_alloc.h"
#include "gf_dedup.h"
#include "gf_dist_int.h"
#include "gf_link.h"

/* "waiting for consumers" is repeated this often. */
#define WAIT_LOG_NS (5000 * NS_PER_MS)
/* Links are serviced at least this often while batches keep coming:
   acknowledgements read late hold back the producers' credit (a few
   microseconds a time, once per batch of about 650 records at most). */
#define SERVICE_EVERY_NS (1 * NS_PER_MS)

/* Around every plugin callback made by the instance's thread: let the
   keeper service the links while the plugin works. */
static void plugin_enter(gf_inst *in)
{
    pthread_mutex_unlock(&in->dist->lock);
}

static void plugin_leave(gf_inst *in)
{
    pthread_mutex_lock(&in->dist->lock);
}

/* Instance 0 of an aggregate with workers fed over links (link_merge):
   which instance producer id p is (1..N-1), or 0 when p is not one of its
   siblings. */
static unsigned sibling(const gf_inst *in, uint64_t p)
{
    if (!link_merge(in) || in->ctx.instance != 0 || p <= in->producer ||
        p - in->producer >= in->ctx.instances)
        return 0;
    return (unsigned)(p - in->producer);
}

/* A line for GIGFLOW_DEBUG=1: the end-of-stream steps of the links. */
static void debug(gf_inst *in, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void debug(gf_inst *in, const char *fmt, ...)
{
    char line[300];
    int n = in->ctx.instances > 1
                ? snprintf(line, sizeof line, "instance %u: ", in->ctx.instance)
                : 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    in->rt.ops->log(&in->ctx, GF_LOG_DEBUG, line);
}

/* ------------------------------------------------------------ service -- */

static long hb_ms(const gf_inst *in)
{
    long hb = in->run->opts.heartbeat_ms;
    return hb > 0 ? hb : GF_LINK_HEARTBEAT_MS;
}

static long wait_ms(const gf_inst *in)
{
    long w = in->run->opts.wait_ms;
    return w > 0 ? w : 60000;
}

int gf_dist_fail(gf_inst *in, const char *what)
{
    if (!gf_run_stopping(in->run))
        gf_run_fail(in->run, "stage %s: %s", in->dist->name, what);
    return -1;
}

/*
 * Wait up to timeout_ms for something on the links (and on the inproc
 * input when `input`), then service every link. Returns 0, or -1 with
 * *why when a link fails the run (every link is serviced all the same).
 */
static int service_links(gf_inst *in, long timeout_ms, bool input,
                         const char **why)
{
    struct gf_dist_inst *di = in->dist;
    *why = NULL;
    size_t need = 2 + (di->lrx ? 1 : 0);
    for (size_t t = 0; t < di->ntx; t++)
        if (di->ltx[t])
            need += gf_link_tx_npoll(di->ltx[t]);
    if (need > di->capitems) {
        zmq_pollitem_t *n = gf_realloc(di->items, need * sizeof *n);
        if (!n) {
            *why = "out of memory";
            return -1;
        }
        di->items = n;
        di->capitems = need;
    }
    size_t k = 0;
    if (di->lrx)
        di->items[k++] = (zmq_pollitem_t){.socket = gf_link_rx_socket(di->lrx),
                                          .events = ZMQ_POLLIN};
    for (size_t t = 0; t < di->ntx; t++)
        if (di->ltx[t])
            k += gf_link_tx_pollitems(di->ltx[t], di->items + k);
    if (input && in->rx)
        di->items[k++] =
            (zmq_pollitem_t){.socket = in->rx->sock, .events = ZMQ_POLLIN};
    if (k > 0 && timeout_ms != 0) {
        if (zmq_poll(di->items, (int)k, timeout_ms) < 0 && errno == ETERM) {
            *why = "the run is stopping";
            return -1;
        }
    } else if (timeout_ms > 0) {
        /* nothing to watch (an instance whose edges are all inproc): just
           wait, rather than spin */
        struct timespec ts = {timeout_ms / 1000,
                              (timeout_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    int64_t now = gf_stats_now_ns();
    di->last_service = now;
    int rc = 0;
    if (di->lrx && gf_link_rx_service(di->lrx, now) < 0) {
        *why = gf_link_rx_error(di->lrx);
        rc = -1;
    }
    for (size_t t = 0; t < di->ntx; t++)
        if (di->ltx[t] && gf_link_tx_service(di->ltx[t], now) < 0 && !*why) {
            *why = gf_link_tx_error(di->ltx[t]);
            rc = -1;
        }
    return rc;
}

/* service_links, then: -1 when the run is failing (or was interrupted:
   across processes that fails it), else 0. */
static int drain_late(gf_inst *in);

int gf_dist_service(gf_inst *in, long timeout_ms, bool input)
{
    const char *why;
    if (service_links(in, timeout_ms, input, &why) < 0)
        return gf_dist_fail(in, why);
    if (in->dist->input_done && drain_late(in) < 0)
        return -1;
    if (gf_run_stopping(in->run))
        return -1;
    if (gf_run_interrupted(in->run) && !atomic_load(&in->run->committed))
        return gf_dist_fail(in, "interrupted; the other processes of the run "
                                "stop too");
    return 0;
}

/* Service the links now and then while a plugin works. */
static int service_sometimes(gf_inst *in)
{
    if (gf_stats_now_ns() - in->dist->last_service < SERVICE_EVERY_NS)
        return 0;
    return gf_dist_service(in, 0, false);
}

static size_t unacked(const gf_inst *in)
{
    size_t n = 0;
    for (size_t t = 0; t < in->dist->ntx; t++)
        if (in->dist->ltx[t])
            n += gf_link_tx_unacked(in->dist->ltx[t]);
    return n;
}

/* --wait is over: go on without the workers of stateless stages that
   never answered, when each such stage has one that did. True when the
   run can go on. */
static bool give_up(gf_inst *in, const char *waiting)
{
    struct gf_dist_inst *di = in->dist;
    for (size_t t = 0; t < di->ntx; t++) {
        if (!di->ltx[t] || gf_link_tx_ready(di->ltx[t]))
            continue;
        if (gf_link_tx_give_up(di->ltx[t]) <= 0)
            return false;
    }
    char msg[700];
    snprintf(msg, sizeof msg,
             "warning: going on without %.600s: no answer within %.0f s",
             waiting, (double)wait_ms(in) / 1000);
    gf_dist_link_log(in, msg);
    return true;
}

/* Wait until every consumer instance answered HELLO (bounded). */
static int wait_ready(gf_inst *in)
{
    struct gf_dist_inst *di = in->dist;
    int64_t t0 = gf_stats_now_ns(),
            logged = t0 - WAIT_LOG_NS + 1000 * NS_PER_MS;
    for (;;) {
        bool ready = true;
        for (size_t t = 0; t < di->ntx; t++)
            if (di->ltx[t] && !gf_link_tx_ready(di->ltx[t]))
                ready = false;
        if (ready)
            return 0;
        int64_t now = gf_stats_now_ns();
        if (now - logged >= WAIT_LOG_NS || now - t0 > wait_ms(in) * NS_PER_MS) {
            char buf[512] = "", part[400];
            for (size_t t = 0; t < di->ntx; t++) {
                if (!di->ltx[t] || gf_link_tx_ready(di->ltx[t]))
                    continue;
                gf_link_tx_waiting(di->ltx[t], part, sizeof part);
                size_t l = strlen(buf);
                snprintf(buf + l, sizeof buf - l, "%s%s", l ? ", " : "", part);
            }
            if (now - t0 > wait_ms(in) * NS_PER_MS && give_up(in, buf))
                continue;
            if (now - t0 > wait_ms(in) * NS_PER_MS) {
                char msg[700];
                snprintf(msg, sizeof msg,
                         "consumers did not answer within %.0f s: %s (start "
                         "them, or raise --wait)",
                         (double)wait_ms(in) / 1000, buf);
                return gf_dist_fail(in, msg);
            }
            char msg[600];
            snprintf(msg, sizeof msg, "waiting for consumers: %s", buf);
            gf_dist_link_log(in, msg);
            logged = now;
        }
        if (gf_dist_service(in, 50, false) < 0)
            return -1;
    }
}

/* Wait until every link acknowledged everything sent. */
static int wait_acked(gf_inst *in)
{
    while (unacked(in) > 0)
        if (gf_dist_service(in, hb_ms(in) / 8 + 1, false) < 0)
            return -1;
    return 0;
}

/* ------------------------------------------------------ chain acks -- */

static dist_origin *find_origin(struct gf_dist_inst *di, uint64_t id)
{
    for (size_t i = 0; i < di->norigins; i++)
        if (di->origins[i].id == id)
            return &di->origins[i];
    return NULL;
}

static int chain_add(struct gf_dist_inst *di, uint64_t origin, uint64_t seq,
                     size_t src, unsigned waiting)
{
    if (di->nchain == di->capchain) {
        size_t cap = di->capchain ? di->capchain * 2 : 16;
        dist_chain *n = gf_realloc(di->chain, cap * sizeof *n);
        if (!n)
            return -ENOMEM;
        di->chain = n;
        di->capchain = cap;
    }
    di->chain[di->nchain++] = (dist_chain){origin, seq, src, waiting, {0}, 0};
    return 0;
}

/* Write (and free) the dead letters held for one input batch; a failure
   fails the run. */
static void write_held(gf_inst *in, gf_buf *b, uint32_t n)
{
    if (n > 0) {
        int rc = gf_deadletter_write_lines(in->run->dl, b->data, b->len, n);
        if (rc < 0)
            gf_run_fail(in->run, "stage %s: cannot write the dead letters: %s",
                        in->def->name, strerror(-rc));
        else
            gf_stage_count_rejects(in, n);
    }
    gf_buf_free(b);
}

int gf_dist_hold_reject(gf_inst *in, const char *reason, const gf_record *rec,
                        const void *raw, size_t len, const char *file,
                        uint64_t line)
{
    struct gf_dist_inst *di = in->dist;
    if (!di || !di->passthru || !di->in_batch)
        return 0;
    pthread_mutex_lock(&di->lock);
    gf_deadletter_batch at = {di->cur_origin, di->cur_seq, di->nheld};
    int rc = 1;
    if (gf_deadletter_format(&di->held, in->def->name, reason, rec, raw, len,
                             file, line, &at) < 0) {
        gf_dist_fail(in, "out of memory");
        rc = -ENOMEM;
    } else {
        di->nheld++;
    }
    pthread_mutex_unlock(&di->lock);
    return rc;
}

/* A link acknowledged (origin, seq): acknowledge the inputs whose outputs
   are now all acknowledged. */
void gf_dist_on_ack(void *arg, uint64_t origin, uint64_t seq)
{
    gf_inst *in = arg;
    struct gf_dist_inst *di = in->dist;
    if (!di->passthru)
        return;
    if (seq == 0) {
        dist_origin *o = find_origin(di, origin);
        if (!o || o->eos_wait == 0 || --o->eos_wait > 0)
            return;
        debug(in, "end of stream of %" PRIu64 " acknowledged downstream",
              origin);
        for (size_t i = 0; i < di->nchain;) {
            if (di->chain[i].seq == 0 && di->chain[i].origin == origin) {
                gf_link_rx_ack(di->lrx, di->chain[i].src, origin, 0);
                di->chain[i] = di->chain[--di->nchain];
            } else {
                i++;
            }
        }
        return;
    }
    for (size_t i = 0; i < di->nchain; i++) {
        dist_chain *c = &di->chain[i];
        if (c->origin != origin || c->seq != seq || c->waiting == 0)
            continue;
        if (--c->waiting == 0) {
            /* a dead worker's rejects are never written: only those of
               the worker whose outputs were taken */
            write_held(in, &c->dead, c->ndead);
            gf_link_rx_ack(di->lrx, c->src, origin, seq);
            di->chain[i] = di->chain[--di->nchain];
        }
        return;
    }
}

/* --------------------------------------------------------- sending -- */

/* Send batch b as (origin, seq) to every downstream stage. */
static int send_all(gf_inst *in, gf_edge_batch *b, uint64_t origin,
                    uint64_t seq)
{
    struct gf_dist_inst *di = in->dist;
    for (size_t t = 0; t < in->ndown; t++) {
        gf_fanout *f = &in->down[t];
        if (di->ltx[t]) {
            for (;;) {
                int rc = gf_link_tx_send(di->ltx[t], origin, seq, b);
                if (rc == 0)
                    break;
                if (rc == -EPIPE)
                    return gf_dist_fail(in, "a batch for an instance that has "
                                            "already finished its input");
                if (rc != -EAGAIN)
                    return gf_dist_fail(in,
                                        "sending over a link: out of memory");
                if (gf_dist_service(in, hb_ms(in) / 8 + 1, false) < 0)
                    return -1;
            }
            continue;
        }
        if (b->nrec == 0)
            continue;
        if (di->nltx == 0 && !di->lrx) {
            int rc = gf_edge_tx_send_any(f->tx, f->n, &f->rr, b);
            if (rc < 0) {
                if (rc != -ETERM)
                    gf_dist_fail(in, zmq_strerror(-rc));
                return -1;
            }
            continue;
        }
        for (;;) {
            int rc = -EAGAIN;
            for (size_t k = 0; k < f->n && rc == -EAGAIN; k++) {
                size_t i = (f->rr + k) % f->n;
                rc = gf_edge_tx_send(f->tx[i], b, true);
                if (rc == 0)
                    f->rr = (i + 1) % f->n;
            }
            if (rc == 0)
                break;
            if (rc != -EAGAIN) {
                if (rc != -ETERM)
                    gf_dist_fail(in, zmq_strerror(-rc));
                return -1;
            }
            if (gf_dist_service(in, 2, false) < 0)
                return -1;
        }
    }
    return 0;
}

static int dist_send(gf_inst *in, gf_out *out);

int gf_dist_send(gf_out *out, void *arg)
{
    gf_inst *in = arg;
    pthread_mutex_lock(&in->dist->lock);
    int rc = dist_send(in, out);
    pthread_mutex_unlock(&in->dist->lock);
    return rc;
}

static int dist_send(gf_inst *in, gf_out *out)
{
    struct gf_dist_inst *di = in->dist;
    size_t len;
    uint32_t nrec;
    uint8_t *data = gf_out_take(out, &len, &nrec);
    in->batch_t0 = 0;
    if (!data) {
        if (out->nrec == 0)
            return 0;
        return gf_dist_fail(in, "out of memory");
    }
    atomic_fetch_add_explicit(&in->cnt->out, nrec, memory_order_relaxed);
    if (di->in_batch) {
        /* pass-through: the outputs of one input go out as one message */
        int rc = gf_buf_append(&di->acc, data, len);
        gf_free(data);
        if (rc < 0)
            return gf_dist_fail(in, "out of memory");
        di->acc_n += nrec;
        return 0;
    }
    if (di->passthru) {
        gf_free(data);
        return gf_dist_fail(in,
                            "flush() emitted records: a classify stage fed "
                            "over links may only emit records for its input");
    }
    if (in->ndown == 0) {
        gf_free(data);
        return 0;
    }
    gf_edge_batch *b = gf_edge_batch_new(data, len, nrec);
    if (!b)
        return gf_dist_fail(in, "out of memory");
    di->own_seq++;
    di->own_records += nrec;
    int rc = send_all(in, b, in->producer, di->own_seq);
    gf_edge_batch_unref(b);
    return rc;
}

/* ----------------------------------------------------------- inputs -- */

/* A pass-through DATA message: process, send one output per downstream
   stage under the input's id, acknowledge when those are. */
static int passthru_data(gf_inst *in, gf_link_msg *m)
{
    struct gf_dist_inst *di = in->dist;
    di->in_batch = true;
    di->cur_origin = m->hdr.producer;
    di->cur_seq = m->hdr.seq;
    const uint8_t *pos = zmq_msg_data(&m->payload);
    di->nheld = 0;
    gf_buf_clear(&di->held);
    plugin_enter(in);
    int rc = gf_stage_process(in, pos, pos + zmq_msg_size(&m->payload),
                              m->hdr.count, NULL);
    plugin_leave(in);
    if (rc == 0 && gf_out_flush(&in->out) < 0)
        rc = gf_stage_out_failed(in);
    di->in_batch = false;
    if (rc < 0)
        return -1;
    gf_edge_batch *b = gf_edge_batch_new(di->acc.data, di->acc.len, di->acc_n);
    di->acc = (gf_buf){0};
    di->acc_n = 0;
    if (!b || chain_add(di, m->hdr.producer, m->hdr.seq, m->src,
                        (unsigned)di->nltx) < 0) {
        gf_edge_batch_unref(b);
        return gf_dist_fail(in, "out of memory");
    }
    dist_chain *c = &di->chain[di->nchain - 1];
    c->dead = di->held;
    c->ndead = di->nheld;
    di->held = (gf_buf){0};
    di->nheld = 0;
    if (di->nltx == 0) {
        /* its outputs stay in this process: done with the input now */
        write_held(in, &c->dead, c->ndead);
        di->nchain--;
        gf_link_rx_ack(di->lrx, m->src, m->hdr.producer, m->hdr.seq);
    }
    rc = send_all(in, b, m->hdr.producer, m->hdr.seq);
    gf_edge_batch_unref(b);
    return rc;
}

static int passthru_eos(gf_inst *in, gf_link_msg *m)
{
    struct gf_dist_inst *di = in->dist;
    dist_origin *o = find_origin(di, m->hdr.producer);
    debug(in, "end of stream of %" PRIu64 " (%" PRIu64 " batches) from src %zu",
          m->hdr.producer, m->hdr.aux, m->src);
    if (!o) {
        gf_dist_link_log(in,
                         "end of stream from an unexpected producer; ignored");
        return 0;
    }
    if (o->eos && o->eos_wait == 0) {
        gf_link_rx_ack(di->lrx, m->src, o->id, 0); /* forwarded and done */
        return 0;
    }
    if (chain_add(di, o->id, 0, m->src, 0) < 0)
        return gf_dist_fail(in, "out of memory");
    if (o->eos)
        return 0; /* acknowledged with the first one */
    o->eos = true;
    di->eos_left--;
    o->eos_wait = (unsigned)di->nltx;
    if (di->nltx == 0) {
        o->eos_wait = 1;
        gf_dist_on_ack(in, o->id, 0);
        return 0;
    }
    for (size_t t = 0; t < in->ndown; t++)
        if (di->ltx[t] &&
            gf_link_tx_eos(di->ltx[t], o->id, m->hdr.aux, 0, false) < 0)
            return gf_dist_fail(in, "out of memory");
    return 0;
}

/* Instance 0 of an aggregate with workers: keep sibling k's partial
   records for merge() (gf_stage_merge_partials). */
static int keep_partial(gf_inst *in, unsigned k, gf_link_msg *m)
{
    gf_merge_box *b = in->merge;
    pthread_mutex_lock(&b->lock);
    int rc = gf_buf_append(&b->parts[k], zmq_msg_data(&m->payload),
                           zmq_msg_size(&m->payload));
    if (rc == 0)
        b->counts[k] += m->hdr.count;
    pthread_mutex_unlock(&b->lock);
    return rc < 0 ? gf_dist_fail(in, "out of memory") : 0;
}

/*
 * A well-formed batch from a known producer that this instance cannot
 * take (r: gf_dedup_take's result, or GF_DEDUP_NEW after the end of
 * stream): the processes disagree about the pipeline. Not acknowledging it
 * would stall its producer for ever, so the run fails, saying why.
 */
static int refuse_batch(gf_inst *in, const gf_link_msg *m, int r)
{
    char msg[400];
    if (r == GF_DEDUP_ELSEWHERE)
        snprintf(msg, sizeof msg,
                 "batch %" PRIu64 " of producer %" PRIu64
                 " belongs to instance %u of this stage's %u, not to this "
                 "one: do all processes run the same pipeline file (the "
                 "same workers)?",
                 m->hdr.seq, m->hdr.producer,
                 gf_dedup_route(m->hdr.producer, m->hdr.seq, in->ctx.instances),
                 in->ctx.instances);
    else if (r == GF_DEDUP_UNKNOWN)
        snprintf(msg, sizeof msg,
                 "batch %" PRIu64 " of producer %" PRIu64
                 ", which is not one of this stage's origins: do all "
                 "processes run the same pipeline file?",
                 m->hdr.seq, m->hdr.producer);
    else
        snprintf(msg, sizeof msg,
                 "batch %" PRIu64 " of producer %" PRIu64
                 " came after that producer's end of stream",
                 m->hdr.seq, m->hdr.producer);
    atomic_fetch_add_explicit(&in->cnt->frames_rejected, 1,
                              memory_order_relaxed);
    return gf_dist_fail(in, msg);
}

static int stateful_data(gf_inst *in, gf_link_msg *m)
{
    struct gf_dist_inst *di = in->dist;
    int r = gf_dedup_take(di->dedup, m->hdr.producer, m->hdr.seq, m->hdr.count);
    if (r == -ENOMEM)
        return gf_dist_fail(in, "out of memory");
    if (r == GF_DEDUP_UNKNOWN || r == GF_DEDUP_ELSEWHERE)
        return refuse_batch(in, m, r);
    unsigned sib = sibling(in, m->hdr.producer);
    if (r == GF_DEDUP_NEW && sib > 0) {
        if (keep_partial(in, sib, m) < 0)
            return -1;
    } else if (r == GF_DEDUP_NEW) {
        const uint8_t *pos = zmq_msg_data(&m->payload);
        plugin_enter(in);
        int rc = gf_stage_process(in, pos, pos + zmq_msg_size(&m->payload),
                                  m->hdr.count, NULL);
        plugin_leave(in);
        if (rc < 0)
            return -1;
    } else {
        atomic_fetch_add_explicit(&in->cnt->duplicates, 1,
                                  memory_order_relaxed);
    }
    gf_link_rx_ack(in->dist->lrx, m->src, m->hdr.producer, m->hdr.seq);
    return 0;
}

static int stateful_eos(gf_inst *in, gf_link_msg *m)
{
    struct gf_dist_inst *di = in->dist;
    char why[300];
    int r = gf_dedup_eos(di->dedup, m->hdr.producer, m->hdr.aux, m->hdr.count,
                         m->hdr.seq == 1, why, sizeof why);
    if (r == -EPROTO)
        return gf_dist_fail(in, why);
    if (r == GF_DEDUP_UNKNOWN) {
        gf_dist_link_log(in,
                         "end of stream from an unexpected producer; ignored");
        return 0;
    }
    if (r == 1 && sibling(in, m->hdr.producer) > 0) {
        pthread_mutex_lock(&in->merge->lock);
        in->merge->posted++;
        pthread_mutex_unlock(&in->merge->lock);
    }
    gf_link_rx_ack(di->lrx, m->src, m->hdr.producer, 0);
    return 0;
}

/*
 * What still comes to a stateful instance whose input is complete: the
 * copies of an end of stream forwarded by the other stateless instances,
 * and batches resent after a worker seemed dead. Each is acknowledged (so
 * that its producers can finish), never processed; a new batch now fails
 * the run (refuse_batch).
 */
static int drain_late(gf_inst *in)
{
    struct gf_dist_inst *di = in->dist;
    gf_link_msg m;
    while (gf_link_rx_next(di->lrx, &m)) {
        int rc = 0;
        if (m.hdr.type == GF_FRAME_EOS) {
            rc = stateful_eos(in, &m);
        } else {
            int r = gf_dedup_take(di->dedup, m.hdr.producer, m.hdr.seq, 0);
            if (r == GF_DEDUP_DUP) {
                atomic_fetch_add_explicit(&in->cnt->duplicates, 1,
                                          memory_order_relaxed);
                gf_link_rx_ack(di->lrx, m.src, m.hdr.producer, m.hdr.seq);
            } else {
                rc = r == -ENOMEM ? gf_dist_fail(in, "out of memory")
                                  : refuse_batch(in, &m, r);
            }
        }
        zmq_msg_close(&m.payload);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static bool link_input_done(gf_inst *in)
{
    struct gf_dist_inst *di = in->dist;
    if (di->passthru)
        return di->eos_left == 0 && di->nchain == 0 && unacked(in) == 0;
    return gf_dedup_done(di->dedup);
}

/* The input loop of an instance fed over links. */
static int run_link_input(gf_inst *in)
{
    struct gf_dist_inst *di = in->dist;
    di->live_ns = gf_stats_now_ns();
    while (!link_input_done(in)) {
        gf_link_msg m;
        if (!gf_link_rx_next(di->lrx, &m)) {
            long timeout = hb_ms(in) / 8 + 1;
            if (in->out.nrec > 0 && in->batch_t0 != 0 && !di->passthru) {
                int64_t left =
                    in->batch_t0 + GF_STAGE_LINGER_NS - gf_stats_now_ns();
                if (left <= 0 && gf_out_flush(&in->out) < 0)
                    return gf_stage_out_failed(in);
            }
            if (gf_dist_service(in, timeout, false) < 0)
                return -1;
            int64_t now = gf_stats_now_ns();
            if (gf_link_rx_live(di->lrx) > 0)
                di->live_ns = now;
            else if (now - di->live_ns > wait_ms(in) * NS_PER_MS)
                return gf_dist_fail(in, "no producer has been connected for "
                                        "--wait; giving up");
            continue;
        }
        int rc;
        if (m.hdr.type == GF_FRAME_DATA)
            rc = di->passthru ? passthru_data(in, &m) : stateful_data(in, &m);
        else
            rc = di->passthru ? passthru_eos(in, &m) : stateful_eos(in, &m);
        zmq_msg_close(&m.payload);
        if (rc < 0)
            return -1;
        if (service_sometimes(in) < 0)
            return -1;
    }
    debug(in, "input complete: %" PRIu64 " records",
          (uint64_t)atomic_load(&in->cnt->in));
    di->input_done = !di->passthru;
    return 0;
}

/* The input loop of an instance fed inproc (its links are outputs). */
static int run_inproc_input(gf_inst *in)
{
    gf_edge_rx *rx = in->rx;
    while (!gf_edge_rx_done(rx)) {
        long timeout = in->dist->nltx ? hb_ms(in) / 8 + 1 : -1;
        if (in->out.nrec > 0 && in->batch_t0 != 0) {
            int64_t left =
                in->batch_t0 + GF_STAGE_LINGER_NS - gf_stats_now_ns();
            long l = left > 0 ? (long)(left / NS_PER_MS) + 1 : 0;
            if (timeout < 0 || l < timeout)
                timeout = l;
        }
        gf_edge_msg m;
        const char *why = NULL;
        int r = gf_edge_rx_recv(rx, &m, timeout, &why);
        if (r == -EPROTO)
            return gf_dist_fail(in, why);
        if (r < 0) {
            if (r != -ETERM)
                gf_dist_fail(in, zmq_strerror(-r));
            return -1;
        }
        if (r == GF_EDGE_TIMEOUT && in->out.nrec > 0 && in->batch_t0 != 0 &&
            gf_stats_now_ns() - in->batch_t0 >= GF_STAGE_LINGER_NS &&
            gf_out_flush(&in->out) < 0)
            return gf_stage_out_failed(in);
        if (r == GF_EDGE_BAD)
            in->rt.ops->log(&in->ctx, GF_LOG_WARN, why);
        if (r == GF_EDGE_DATA) {
            const uint8_t *pos = zmq_msg_data(&m.payload);
            plugin_enter(in);
            r = gf_stage_process(in, pos, pos + zmq_msg_size(&m.payload),
                                 m.hdr.count, NULL);
            plugin_leave(in);
            gf_edge_msg_close(&m);
            if (r < 0)
                return -1;
        }
        if (in->dist->nltx && gf_dist_service(in, 0, false) < 0)
            return -1;
    }
    return 0;
}

static int run_produce(gf_inst *in)
{
    const gf_plugin *pl = in->plugin;
    for (;;) {
        if (gf_run_stopping(in->run))
            return -1;
        plugin_enter(in);
        int r = pl->produce(&in->ctx, in->state, &in->out);
        plugin_leave(in);
        if (r < 0) {
            gf_stage_fail_callback(in, "produce", r);
            return -1;
        }
        if (in->out.status < 0 || gf_stage_linger(in) < 0)
            return gf_stage_out_failed(in);
        if (service_sometimes(in) < 0)
            return -1;
        if (r == GF_DONE)
            return 0;
    }
}

/* gf_out callback of partial() on instances 1..N-1 fed over links: the
   batch goes to instance 0. */
static int send_partial_batch(gf_out *out, void *arg)
{
    gf_inst *in = arg;
    struct gf_dist_inst *di = in->dist;
    size_t len;
    uint32_t nrec;
    uint8_t *data = gf_out_take(out, &len, &nrec);
    if (!data)
        return out->nrec == 0 ? 0 : -ENOMEM;
    gf_edge_batch *b = gf_edge_batch_new(data, len, nrec);
    if (!b)
        return -ENOMEM;
    pthread_mutex_lock(&di->lock);
    di->sib_seq++;
    di->sib_records += nrec;
    int rc;
    while ((rc = gf_link_tx_send(di->sib, in->producer, di->sib_seq, b)) ==
           -EAGAIN)
        if (gf_dist_service(in, hb_ms(in) / 8 + 1, false) < 0)
            break;
    pthread_mutex_unlock(&di->lock);
    gf_edge_batch_unref(b);
    return rc == 0 ? 0 : -EPIPE;
}

/* Instances 1..N-1 of an aggregate with workers fed over links: write the
   partial state to instance 0 and end that stream (acknowledged). */
static int send_partial(gf_inst *in)
{
    struct gf_dist_inst *di = in->dist;
    gf_out po;
    if (gf_out_init(&po, in->run->opts.batch_bytes, send_partial_batch, in) < 0)
        return gf_dist_fail(in, "out of memory");
    plugin_enter(in);
    int r = in->plugin->partial(&in->ctx, in->state, &po);
    plugin_leave(in);
    if (r < 0)
        gf_stage_fail_callback(in, "partial", r);
    else if (po.status < 0 || gf_out_flush(&po) < 0)
        r = gf_dist_fail(in, "sending the partial state to instance 0 failed");
    gf_out_release(&po);
    if (r < 0 || wait_acked(in) < 0)
        return -1;
    debug(in, "partial state sent: %" PRIu64 " batches, %" PRIu64 " records",
          di->sib_seq, di->sib_records);
    if (gf_link_tx_eos(di->sib, in->producer, di->sib_seq,
                       (uint32_t)di->sib_records, true) < 0)
        return gf_dist_fail(in, "out of memory");
    return wait_acked(in);
}

/* gf_stage_merge_partials's idle: keep the links alive while instance 0
   waits for the partial states of its siblings in this process. */
static int merge_idle(gf_inst *in)
{
    pthread_mutex_lock(&in->dist->lock);
    int rc = gf_dist_service(in, 0, false);
    pthread_mutex_unlock(&in->dist->lock);
    return rc;
}

/* End of stream: flush (or hand the partial state to instance 0), send the
   rest, EOS everywhere. */
static int finish(gf_inst *in)
{
    struct gf_dist_inst *di = in->dist;
    const gf_plugin *pl = in->plugin;
    bool part = in->merge && in->ctx.instance > 0;
    int rc = 0;
    if (part && di->sib) {
        rc = send_partial(in);
    } else if (in->merge) {
        plugin_enter(in); /* partial() or merge() */
        rc = part ? gf_stage_post_partial(in)
                  : gf_stage_merge_partials(in, merge_idle);
        plugin_leave(in);
    }
    if (rc < 0)
        return -1;
    gf_stage_forget_position(in);
    if (pl->flush && !part) {
        plugin_enter(in);
        int r = pl->flush(&in->ctx, in->state, &in->out);
        plugin_leave(in);
        if (r < 0) {
            gf_stage_fail_callback(in, "flush", r);
            return -1;
        }
    }
    if (gf_run_stopping(in->run))
        return -1;
    if (gf_out_flush(&in->out) < 0)
        return gf_stage_out_failed(in);
    if (!di->passthru && di->nltx > 0) {
        if (wait_acked(in) < 0)
            return -1;
        debug(in, "%" PRIu64 " batches acknowledged, end of stream",
              di->own_seq);
        for (size_t t = 0; t < in->ndown; t++)
            if (di->ltx[t] &&
                gf_link_tx_eos(di->ltx[t], in->producer, di->own_seq,
                               (uint32_t)di->own_records, true) < 0)
                return gf_dist_fail(in, "out of memory");
        if (wait_acked(in) < 0)
            return -1;
        debug(in, "end of stream acknowledged");
    }
    for (size_t d = 0; d < in->ndown; d++) {
        for (size_t i = 0; !di->ltx[d] && i < in->down[d].n; i++) {
            int rc = gf_edge_tx_eos(in->down[d].tx[i]);
            if (rc < 0) {
                if (rc != -ETERM)
                    gf_dist_fail(in, zmq_strerror(-rc));
                return -1;
            }
        }
    }
    return 0;
}

/* Wait until every consumer of this instance said its part is done
   (`ok`: that its outputs are committed): over links, and the instances
   of this process it feeds inproc. */
static int wait_downstream(gf_inst *in, bool ok)
{
    struct gf_dist_inst *di = in->dist;
    for (;;) {
        bool settled = true;
        for (size_t t = 0; t < di->ntx; t++)
            if (di->ltx[t] && !gf_link_tx_settled(di->ltx[t], ok))
                settled = false;
        for (size_t i = 0; i < di->nlocal_down; i++)
            if (atomic_load(&di->local_down[i]->dist->phase) < (ok ? 2 : 1))
                settled = false;
        if (settled)
            return 0;
        /* a local consumer's phase wakes no poll: look again soon */
        if (gf_dist_service(in, di->nlocal_down ? 20 : hb_ms(in) / 8 + 1,
                            false) < 0)
            return -1;
    }
}

/* Tell every peer at once that the run failed rather than let them time
   out, and stay connected a moment: with ZMQ_IMMEDIATE, a peer's unread
   messages are discarded when the connection goes. */
static void abort_peers(gf_inst *in)
{
    struct gf_dist_inst *di = in->dist;
    gf_link_rx_abort(di->lrx, gf_run_interrupted(in->run));
    for (size_t t = 0; t < di->ntx; t++)
        gf_link_tx_abort(di->ltx[t], gf_run_interrupted(in->run));
    if (di->lrx || di->nltx || di->sib) {
        long ms = hb_ms(in) / 8 < 300 ? hb_ms(in) / 8 : 300;
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/*
 * The end of a run across processes (gf_link.h, HEARTBEAT 2 and 3): once
 * this instance's consumers' parts are done, tell the producers it is
 * done and count it in for gf_exec; keep the links alive (and watched)
 * until gf_exec has committed this process's outputs; then wait for the
 * consumers' ok, and say ok to the producers. Returns 0 or -1 (failed).
 */
static int settle(gf_inst *in, int rc)
{
    gf_run *run = in->run;
    struct gf_dist_inst *di = in->dist;
    if (rc == 0)
        rc = wait_downstream(in, false);
    if (rc == 0) {
        debug(in, "part done");
        atomic_store(&di->phase, 1);
        if (di->lrx)
            gf_link_rx_done(di->lrx);
    }
    atomic_store(&in->cnt->end_ns, gf_stats_now_ns());
    pthread_mutex_lock(&run->lock);
    run->finished++;
    pthread_cond_signal(&run->done);
    pthread_mutex_unlock(&run->lock);
    while (rc == 0 && !atomic_load(&run->settled))
        rc = gf_dist_service(in, 20, false);
    if (rc == 0 && gf_run_stopping(run))
        rc = -1; /* a commit here failed */
    if (rc == 0)
        rc = wait_downstream(in, true);
    if (rc < 0 || gf_run_stopping(run)) {
        abort_peers(in);
        return -1;
    }
    atomic_store(&di->phase, 2);
    if (!di->lrx)
        return 0;
    debug(in, "ok: telling the producers");
    gf_link_rx_ok(di->lrx);
    /* stay until the producers have read this end's last words */
    int64_t end = gf_stats_now_ns() + hb_ms(in) * NS_PER_MS;
    const char *why;
    while (!gf_link_rx_all_bye(di->lrx) && gf_stats_now_ns() < end)
        service_links(in, 20, false, &why);
    return 0;
}

void *gf_dist_thread(void *arg)
{
    gf_inst *in = arg;
    gf_run *run = in->run;
    struct gf_dist_inst *di = in->dist;
    pthread_mutex_lock(&di->lock);
    atomic_store(&in->cnt->start_ns, gf_stats_now_ns());
    int rc = wait_ready(in);
    if (rc == 0) {
        if (in->plugin->kind == GF_KIND_INGEST)
            rc = run_produce(in);
        else if (di->lrx)
            rc = run_link_input(in);
        else
            rc = run_inproc_input(in);
    }
    if (rc == 0)
        rc = finish(in);
    if (rc == 0 && di->lrx && gf_link_rx_bad(di->lrx) > 0) {
        char msg[128];
        snprintf(msg, sizeof msg, "%" PRIu64 " bad frames were rejected",
                 gf_link_rx_bad(di->lrx));
        gf_dist_link_log(in, msg);
    }
    if (rc < 0 || gf_run_stopping(run))
        rc = -1;
    settle(in, rc);
    di->ended = true;
    pthread_mutex_unlock(&di->lock);
    return NULL;
}
