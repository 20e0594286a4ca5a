/*
 * gf_stage - the per-instance thread loop (see gf_stage.h).
 *
 * Records are never touched here beyond handing views to the plugin:
 * a received batch stays in its ZeroMQ frame while the plugin reads it,
 * and what the plugin writes accumulates in its gf_out until the batch is
 * full (or has lingered), then moves as a whole, without a copy, to the
 * consumers.
 */
#include "gf_stage.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gf_alloc.h"
#include "gf_mp.h"
#include "gf_record.h"

void gf_run_fail(gf_run *run, const char *fmt, ...)
{
    pthread_mutex_lock(&run->lock);
    if (!atomic_load(&run->stop)) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n >= 0)
            run->error = gf_malloc((size_t)n + 1);
        if (run->error) {
            va_start(ap, fmt);
            vsnprintf(run->error, (size_t)n + 1, fmt, ap);
            va_end(ap);
        }
        atomic_store(&run->stop, true);
        zmq_ctx_shutdown(run->zctx);
    }
    pthread_mutex_unlock(&run->lock);
}

void gf_stage_fail_callback(gf_inst *in, const char *cb, int rc)
{
    if (gf_run_stopping(in->run))
        return; /* the run was already failing: this is the echo */
    if (in->errmsg)
        gf_run_fail(in->run, "stage %s: %s", in->def->name, in->errmsg);
    else
        gf_run_fail(in->run, "stage %s: %s() failed (returned %d)",
                    in->def->name, cb, rc);
}

/* A send or receive failed with `rc` (negative errno). */
static void fail_io(gf_inst *in, const char *what, int rc)
{
    if (rc == -ETERM || gf_run_stopping(in->run))
        return;
    gf_run_fail(in->run, "stage %s: %s: %s", in->def->name, what,
                zmq_strerror(-rc));
}

int gf_stage_out_failed(gf_inst *in)
{
    int st = in->out.status;
    if (!gf_run_stopping(in->run))
        gf_run_fail(in->run, "stage %s: writing a record failed: %s",
                    in->def->name, strerror(st < 0 ? -st : EINVAL));
    return -1;
}

int gf_stage_send(gf_out *out, void *arg)
{
    gf_inst *in = arg;
    size_t len;
    uint32_t nrec;
    uint8_t *data = gf_out_take(out, &len, &nrec);
    in->batch_t0 = 0;
    if (!data) {
        if (out->nrec == 0)
            return 0; /* nothing to send */
        fail_io(in, "sending a batch", -ENOMEM);
        return -ENOMEM;
    }
    atomic_fetch_add_explicit(&in->cnt->out, nrec, memory_order_relaxed);
    if (in->ndown == 0) {
        gf_free(data);
        return 0;
    }
    gf_edge_batch *b = gf_edge_batch_new(data, len, nrec);
    if (!b) {
        fail_io(in, "sending a batch", -ENOMEM);
        return -ENOMEM;
    }
    int rc = 0;
    for (size_t d = 0; d < in->ndown && rc == 0; d++) {
        gf_fanout *f = &in->down[d];
        rc = gf_edge_tx_send_any(f->tx, f->n, &f->rr, b);
        if (rc == 0)
            atomic_fetch_add_explicit(&in->cnt->batches_sent, 1,
                                      memory_order_relaxed);
        if (rc < 0) {
            const char *to = in->run->p->stages[f->stage].name;
            if (rc != -ETERM && !gf_run_stopping(in->run))
                gf_run_fail(in->run, "stage %s: sending to stage %s: %s",
                            in->def->name, to, zmq_strerror(-rc));
        }
    }
    gf_edge_batch_unref(b);
    return rc;
}

int gf_stage_linger(gf_inst *in)
{
    if (in->out.nrec == 0)
        return 0;
    int64_t now = gf_stats_now_ns();
    if (in->batch_t0 == 0) {
        in->batch_t0 = now;
        return 0;
    }
    if (now - in->batch_t0 < GF_STAGE_LINGER_NS)
        return 0;
    return gf_out_flush(&in->out);
}

static int run_ingest(gf_inst *in)
{
    const gf_plugin *pl = in->plugin;
    for (;;) {
        if (gf_run_stopping(in->run))
            return -1;
        if (gf_run_interrupted(in->run))
            return 0;
        int r = pl->produce(&in->ctx, in->state, &in->out);
        if (r < 0) {
            gf_stage_fail_callback(in, "produce", r);
            return -1;
        }
        if (in->out.status < 0 || gf_stage_linger(in) < 0)
            return gf_stage_out_failed(in);
        if (r == GF_DONE)
            return 0;
    }
}

/* The stage's `kinds` filter: does `rec` reach the plugin? */
static bool kind_wanted(const gf_stage_def *def, const gf_record *rec)
{
    gf_value kind;
    if (!gf_record_get(rec, "kind", &kind) || kind.type != GF_T_STR)
        return false;
    for (size_t i = 0; i < def->nkinds; i++)
        if (gf_str_eq(kind.v.s, def->kinds[i]))
            return true;
    return false;
}

/* Hand every record of a received batch to process(). */
int gf_stage_process(gf_inst *in, const uint8_t *pos, const uint8_t *end,
                     uint32_t count)
{
    atomic_fetch_add_explicit(&in->cnt->in, count, memory_order_relaxed);
    atomic_fetch_add_explicit(&in->cnt->batches_received, 1,
                              memory_order_relaxed);
    if (gf_run_interrupted(in->run))
        return 0; /* draining: nothing will be committed */
    const gf_plugin *pl = in->plugin;
    gf_record rec;
    while (gf_mp_batch_next(&pos, end, &rec)) {
        if (in->def->nkinds && !kind_wanted(in->def, &rec)) {
            /* not for this plugin: uncounted in `in`; a classify stage
               passes it on unchanged, the others have no output for it */
            atomic_fetch_sub_explicit(&in->cnt->in, 1, memory_order_relaxed);
            if (pl->kind == GF_KIND_CLASSIFY && gf_out_emit(&in->out, &rec) < 0)
                return gf_stage_out_failed(in);
            continue;
        }
        const gf_record *r = &rec;
        gf_record masked;
        if (in->pii && gf_pii_apply(in->pii, &rec, &in->pii_scratch, &masked))
            r = &masked;
        int rc = pl->process(&in->ctx, in->state, r, &in->out);
        if (rc < 0) {
            gf_stage_fail_callback(in, "process", rc);
            return -1;
        }
        if (gf_run_stopping(in->run))
            return -1;
        if (in->out.status < 0)
            return gf_stage_out_failed(in);
        if (gf_run_interrupted(in->run))
            return 0; /* the rest of the batch drains unprocessed */
    }
    return gf_stage_linger(in) < 0 ? gf_stage_out_failed(in) : 0;
}

/* Hand every record of a received batch to process(). */
static int process_batch(gf_inst *in, gf_edge_msg *m)
{
    const uint8_t *pos = zmq_msg_data(&m->payload);
    return gf_stage_process(in, pos, pos + zmq_msg_size(&m->payload),
                            m->hdr.count);
}

static int run_consumer(gf_inst *in)
{
    gf_edge_rx *rx = in->rx;
    while (!gf_edge_rx_done(rx)) {
        long timeout = -1;
        if (in->out.nrec > 0 && in->batch_t0 != 0) {
            int64_t left =
                in->batch_t0 + GF_STAGE_LINGER_NS - gf_stats_now_ns();
            timeout = left > 0 ? (long)(left / 1000000) + 1 : 0;
        }
        gf_edge_msg m;
        const char *why = NULL;
        int r = gf_edge_rx_recv(rx, &m, timeout, &why);
        if (r == -EPROTO) {
            gf_run_fail(in->run, "stage %s: %s", in->def->name, why);
            return -1;
        }
        if (r < 0) {
            fail_io(in, "receiving", r);
            return -1;
        }
        switch (r) {
        case GF_EDGE_TIMEOUT:
            if (gf_out_flush(&in->out) < 0)
                return gf_stage_out_failed(in);
            break;
        case GF_EDGE_BAD:
            atomic_fetch_add_explicit(&in->cnt->frames_rejected, 1,
                                      memory_order_relaxed);
            in->rt.ops->log(&in->ctx, GF_LOG_WARN, why);
            break;
        case GF_EDGE_EOS:
            break;
        case GF_EDGE_DATA:
            r = process_batch(in, &m);
            gf_edge_msg_close(&m);
            if (r < 0)
                return -1;
            break;
        }
    }
    return 0;
}

/* End of stream for this instance: flush, send the rest, then EOS. */
static int finish(gf_inst *in)
{
    const gf_plugin *pl = in->plugin;
    if (pl->flush && !gf_run_interrupted(in->run)) {
        int r = pl->flush(&in->ctx, in->state, &in->out);
        if (r < 0) {
            gf_stage_fail_callback(in, "flush", r);
            return -1;
        }
    }
    if (gf_run_stopping(in->run))
        return -1;
    if (gf_out_flush(&in->out) < 0)
        return gf_stage_out_failed(in);
    for (size_t d = 0; d < in->ndown; d++) {
        for (size_t i = 0; i < in->down[d].n; i++) {
            int rc = gf_edge_tx_eos(in->down[d].tx[i]);
            if (rc < 0) {
                fail_io(in, "sending end of stream", rc);
                return -1;
            }
        }
    }
    return 0;
}

void *gf_stage_thread(void *arg)
{
    gf_inst *in = arg;
    gf_run *run = in->run;
    atomic_store(&in->cnt->start_ns, gf_stats_now_ns());
    int rc =
        in->plugin->kind == GF_KIND_INGEST ? run_ingest(in) : run_consumer(in);
    if (rc == 0)
        finish(in);
    atomic_store(&in->cnt->end_ns, gf_stats_now_ns());

    pthread_mutex_lock(&run->lock);
    run->finished++;
    pthread_cond_signal(&run->done);
    pthread_mutex_unlock(&run->lock);
    return NULL;
}
