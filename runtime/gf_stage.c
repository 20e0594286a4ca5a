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
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

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
    gf_srcpos *pos;
    uint8_t *data = gf_out_take_pos(out, &len, &nrec, &pos);
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
        gf_free(pos);
        return 0;
    }
    gf_edge_batch *b = gf_edge_batch_new_pos(data, len, nrec, pos);
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
                     uint32_t count, const gf_srcpos *positions)
{
    atomic_fetch_add_explicit(&in->cnt->in, count, memory_order_relaxed);
    atomic_fetch_add_explicit(&in->cnt->batches_received, 1,
                              memory_order_relaxed);
    if (gf_run_interrupted(in->run))
        return 0; /* draining: nothing will be committed */
    const gf_plugin *pl = in->plugin;
    gf_record rec;
    gf_stage_forget_position(in);
    for (uint32_t k = 0; gf_mp_batch_next(&pos, end, &rec); k++) {
        if (positions && k < count) {
            memcpy(&in->pos_in, positions + k, sizeof in->pos_in);
            in->out.cur = in->pos_in;
        }
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
            break; /* the rest of the batch drains unprocessed */
    }
    gf_stage_forget_position(in);
    if (gf_run_interrupted(in->run))
        return 0;
    return gf_stage_linger(in) < 0 ? gf_stage_out_failed(in) : 0;
}

/* Hand every record of a received batch to process(). */
static int process_batch(gf_inst *in, gf_edge_msg *m)
{
    const uint8_t *pos = zmq_msg_data(&m->payload);
    return gf_stage_process(in, pos, pos + zmq_msg_size(&m->payload),
                            m->hdr.count, gf_edge_msg_positions(m));
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

gf_merge_box *gf_merge_box_new(unsigned n)
{
    gf_merge_box *b = gf_calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->parts = gf_calloc(n, sizeof *b->parts);
    b->counts = gf_calloc(n, sizeof *b->counts);
    if (!b->parts || !b->counts) {
        gf_free(b->parts);
        gf_free(b->counts);
        gf_free(b);
        return NULL;
    }
    b->n = n;
    pthread_mutex_init(&b->lock, NULL);
    pthread_cond_init(&b->cond, NULL);
    return b;
}

void gf_merge_box_free(gf_merge_box **bp)
{
    gf_merge_box *b = bp ? *bp : NULL;
    if (!b)
        return;
    for (unsigned k = 0; k < b->n; k++)
        gf_buf_free(&b->parts[k]);
    gf_free(b->parts);
    gf_free(b->counts);
    pthread_cond_destroy(&b->cond);
    pthread_mutex_destroy(&b->lock);
    gf_free(b);
    *bp = NULL;
}

/* gf_out callback of partial(): move the batch into this instance's part. */
static int collect_part(gf_out *out, void *arg)
{
    gf_inst *in = arg;
    gf_merge_box *b = in->merge;
    size_t len;
    uint32_t nrec;
    uint8_t *data = gf_out_take(out, &len, &nrec);
    if (!data)
        return out->nrec == 0 ? 0 : -ENOMEM;
    int rc = gf_buf_append(&b->parts[in->ctx.instance], data, len);
    gf_free(data);
    if (rc < 0)
        return -ENOMEM;
    b->counts[in->ctx.instance] += nrec;
    return 0;
}

int gf_stage_count_rejects(gf_inst *in, uint64_t n)
{
    gf_run *run = in->run;
    atomic_fetch_add_explicit(&in->cnt->rejected, n, memory_order_relaxed);
    uint64_t total = atomic_fetch_add(&run->rejects, n) + n;
    if (run->opts.max_rejects >= 0 && total > (uint64_t)run->opts.max_rejects) {
        gf_run_fail(run,
                    "stage %s: too many rejected records: %" PRIu64
                    " rejected, more than --max-rejects %lld",
                    in->def->name, total, run->opts.max_rejects);
        return -1;
    }
    return 0;
}

int gf_stage_post_partial(gf_inst *in)
{
    gf_merge_box *b = in->merge;
    int rc = 0;
    if (!gf_run_interrupted(in->run) && !gf_run_stopping(in->run)) {
        gf_out po;
        if (gf_out_init(&po, in->run->opts.batch_bytes, collect_part, in) < 0) {
            gf_run_fail(in->run, "stage %s: out of memory", in->def->name);
            rc = -1;
        } else {
            int r = in->plugin->partial(&in->ctx, in->state, &po);
            if (r < 0) {
                gf_stage_fail_callback(in, "partial", r);
                rc = -1;
            } else if (po.status < 0 || gf_out_flush(&po) < 0) {
                if (!gf_run_stopping(in->run))
                    gf_run_fail(in->run,
                                "stage %s: writing a partial record failed",
                                in->def->name);
                rc = -1;
            }
            gf_out_release(&po);
        }
    }
    pthread_mutex_lock(&b->lock);
    b->posted++;
    pthread_cond_broadcast(&b->cond);
    pthread_mutex_unlock(&b->lock);
    return rc;
}

int gf_stage_merge_partials(gf_inst *in, int (*idle)(gf_inst *in))
{
    gf_merge_box *b = in->merge;
    pthread_mutex_lock(&b->lock);
    while (b->posted < b->n - 1 && !gf_run_stopping(in->run)) {
        if (idle) {
            pthread_mutex_unlock(&b->lock);
            int rc = idle(in);
            pthread_mutex_lock(&b->lock);
            if (rc < 0)
                break;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100 * 1000000L; /* to notice a failing run */
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&b->cond, &b->lock, &ts);
    }
    pthread_mutex_unlock(&b->lock);
    if (gf_run_stopping(in->run))
        return -1;
    for (unsigned k = 1; k < b->n; k++) {
        const uint8_t *pos = b->parts[k].data;
        const uint8_t *end = pos + b->parts[k].len;
        gf_record rec;
        uint32_t seen = 0;
        while (pos && gf_mp_batch_next(&pos, end, &rec)) {
            int r = in->plugin->merge(&in->ctx, in->state, &rec);
            if (r < 0) {
                gf_stage_fail_callback(in, "merge", r);
                return -1;
            }
            seen++;
        }
        if (seen != b->counts[k]) {
            gf_run_fail(in->run,
                        "stage %s: instance %u's partial records are "
                        "damaged (%u of %u read)",
                        in->def->name, k, seen, b->counts[k]);
            return -1;
        }
        gf_buf_free(&b->parts[k]);
    }
    return 0;
}

/* End of stream for this instance: flush, send the rest, then EOS. */
static int finish(gf_inst *in)
{
    const gf_plugin *pl = in->plugin;
    if (in->merge && in->ctx.instance > 0) {
        if (gf_stage_post_partial(in) < 0)
            return -1;
    } else if (in->merge && !gf_run_interrupted(in->run)) {
        if (gf_stage_merge_partials(in, NULL) < 0)
            return -1;
    }
    gf_stage_forget_position(in);
    if (pl->flush && !gf_run_interrupted(in->run) &&
        !(in->merge && in->ctx.instance > 0)) {
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
    else if (in->merge && in->ctx.instance > 0) {
        pthread_mutex_lock(&in->merge->lock); /* instance 0 stops waiting */
        in->merge->posted++;
        pthread_cond_broadcast(&in->merge->cond);
        pthread_mutex_unlock(&in->merge->lock);
    }
    atomic_store(&in->cnt->end_ns, gf_stats_now_ns());

    pthread_mutex_lock(&run->lock);
    run->finished++;
    pthread_cond_signal(&run->done);
    pthread_mutex_unlock(&run->lock);
    return NULL;
}
