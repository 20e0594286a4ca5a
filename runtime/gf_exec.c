/*
 * gf_exec - running a loaded pipeline in this process (see gf_exec.h).
 *
 * This file builds the run and tears it down: the instances and their
 * contexts, the host services behind ctx->rt (logging, errors, dead
 * letters, the clock), every socket (bound and connected here, before any
 * thread starts), init(), the threads, the signal handling, and at the end
 * commit() when everything succeeded and destroy() always. The data path
 * itself is gf_stage.c.
 *
 * Signals: the first SIGINT/SIGTERM only sets a flag that ingest stages
 * poll between produce() calls; the rest of the pipeline drains without
 * processing, nothing is flushed or committed. A second signal exits at
 * once (status 130) without cleaning up. In a distributed run the flag
 * fails the links instead (gf_dist), so that the other processes stop
 * too; the process interrupted still exits 130, its peers 1: the exit
 * status is that of what came first, a failure or the interrupt.
 */
#include "gf_exec.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gf_alloc.h"
#include "gf_dist.h"
#include "gf_metrics.h"
#include "gf_output.h"
#include "gf_stage.h"

/* Signals received during the current run. A process-wide fact, hence
   file scope: signal handlers get no argument. */
static atomic_int g_signals;
/* The current run's stop flag (set before the handlers are installed), and
   whether it was already set when the first signal came: then the run's
   outcome is that failure, not the interrupt. */
static _Atomic(const atomic_bool *) g_stop;
static atomic_bool g_failed_first;
/* The run is distributed: an interrupt stops every process of it. */
static atomic_bool g_distributed;
/* This process's outputs are committed (renamed over their targets): a
   signal after that cannot undo them, and does not turn the run into an
   interrupted one unless it makes it fail (a distributed run). */
static atomic_bool g_committed;

static void on_signal(int sig)
{
    (void)sig;
    static const char first[] =
        "\ngigflow: stopping: ingest ends, nothing is committed "
        "(signal again to abort at once)\n";
    static const char first_dist[] =
        "\ngigflow: stopping: the run stops in every process, nothing is "
        "committed (signal again to abort at once)\n";
    static const char late[] =
        "\ngigflow: signal: the outputs are committed already, finishing "
        "(signal again to abort at once)\n";
    static const char again[] = "gigflow: interrupted again, aborting\n";
    bool abort_now = atomic_fetch_add(&g_signals, 1) > 0;
    if (!abort_now) {
        const atomic_bool *stop = atomic_load(&g_stop);
        atomic_store(&g_failed_first, stop && atomic_load(stop));
    }
    bool dist = atomic_load(&g_distributed);
    bool done = atomic_load(&g_committed);
    const char *msg = abort_now ? again
                      : done    ? late
                      : dist    ? first_dist
                                : first;
    size_t len = abort_now ? sizeof again - 1
                 : done    ? sizeof late - 1
                 : dist    ? sizeof first_dist - 1
                           : sizeof first - 1;
    ssize_t w = write(STDERR_FILENO, msg, len);
    (void)w;
    if (abort_now)
        _exit(GF_EXIT_INTERRUPTED);
}

/* --------------------------------------------------- host services -- */

static gf_inst *inst_of(gf_ctx *ctx)
{
    return (gf_inst *)ctx->rt;
}

/* Print a whole line on stderr, below the progress line if one is shown. */
static void say(gf_run *run, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void say(gf_run *run, const char *fmt, ...)
{
    pthread_mutex_lock(&run->lock);
    if (run->progress_shown)
        gf_stats_progress_clear(stderr);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    pthread_mutex_unlock(&run->lock);
}

static void rt_log(gf_ctx *ctx, gf_log_level level, const char *msg)
{
    static const char *const names[] = {"error: ", "warning: ", "", ""};
    if (level == GF_LOG_DEBUG && !getenv("GIGFLOW_DEBUG"))
        return;
    unsigned l = (unsigned)level < 4 ? (unsigned)level : 3;
    say(inst_of(ctx)->run, "stage %s: %s%s", ctx->stage, names[l], msg);
}

static void rt_error(gf_ctx *ctx, const char *msg)
{
    gf_inst *in = inst_of(ctx);
    char *m = gf_strdup(msg);
    if (!m)
        return;
    gf_free(in->errmsg);
    in->errmsg = m;
}

static void rt_config_error(gf_ctx *ctx, const char *file, unsigned line,
                            unsigned col, const char *msg)
{
    gf_inst *in = inst_of(ctx);
    if (file && line && col)
        say(in->run, "%s:%u:%u: %s", file, line, col, msg);
    else if (file && line)
        say(in->run, "%s:%u: %s", file, line, msg);
    else if (file)
        say(in->run, "%s: %s", file, msg);
    else
        say(in->run, "stage %s: %s", ctx->stage, msg);
    in->run->config_failure = true;
}

static void rt_option_error(gf_ctx *ctx, const char *key, const char *msg)
{
    gf_inst *in = inst_of(ctx);
    const gf_ynode *n =
        in->def->opts ? gf_optset_node(in->def->opts, key) : NULL;
    if (!n)
        n = in->def->node;
    if (n)
        say(in->run, "%s:%u:%u: stage %s: option %s: %s", n->file, n->line,
            n->col, ctx->stage, key, msg);
    else
        say(in->run, "stage %s: option %s: %s", ctx->stage, key, msg);
    in->run->config_failure = true;
}

static int rt_reject(gf_ctx *ctx, const gf_record *rec, const void *data,
                     size_t len, const char *file, uint64_t line,
                     const char *reason)
{
    gf_inst *in = inst_of(ctx);
    gf_run *run = in->run;
    if (!run->dl)
        return -1; /* after the run: nowhere to put it */
    if (!file && line == 0) {
        /* none of its own: where the record came from. An ingest's is
           what it said last (set_position), a consumer's that of the
           input record it is processing. */
        gf_srcpos at =
            in->plugin->kind == GF_KIND_INGEST ? in->out.cur : in->pos_in;
        file = gf_srcpos_name(run->srcpos, at.file);
        line = at.line;
    }
    if (in->dist) {
        /* across processes, a stateless stage's rejects wait for the
           acknowledgement of the batch they came in */
        int held = gf_dist_hold_reject(in, reason, rec, data, len, file, line);
        if (held != 0)
            return held < 0 ? held : 0;
    }
    int rc = gf_deadletter_write(run->dl, ctx->stage, reason, rec, data, len,
                                 file, line);
    if (rc < 0) {
        gf_run_fail(run, "stage %s: cannot write the dead letters: %s",
                    ctx->stage, strerror(-rc));
        return rc;
    }
    return gf_stage_count_rejects(in, 1);
}

static void rt_drop(gf_ctx *ctx, const gf_record *rec)
{
    (void)rec;
    atomic_fetch_add_explicit(&inst_of(ctx)->cnt->dropped, 1,
                              memory_order_relaxed);
}

static int64_t rt_now_ns(gf_ctx *ctx)
{
    (void)ctx;
    return gf_stats_now_ns();
}

static int64_t rt_run_started(gf_ctx *ctx)
{
    return inst_of(ctx)->run->started_wall;
}

static uint64_t rt_rejects_total(gf_ctx *ctx)
{
    return atomic_load(&inst_of(ctx)->run->rejects);
}

static const char *rt_run_info(gf_ctx *ctx, const char *key)
{
    gf_run *run = inst_of(ctx)->run;
    if (strcmp(key, "pipeline") == 0)
        return run->p->file;
    if (strcmp(key, "name") == 0)
        return run->p->name;
    if (strcmp(key, "inputs") == 0)
        return run->info_inputs;
    if (strcmp(key, "dead_letters") == 0) /* NULL: they go to stderr */
        return run->dl_path;
    return NULL;
}

static gf_output_set *rt_outputs(gf_ctx *ctx);

static const gf_rt_ops exec_ops = {
    .log = rt_log,
    .error = rt_error,
    .config_error = rt_config_error,
    .option_error = rt_option_error,
    .reject = rt_reject,
    .drop = rt_drop,
    .now_ns = rt_now_ns,
    .run_started = rt_run_started,
    .rejects_total = rt_rejects_total,
    .run_info = rt_run_info,
    .outputs = rt_outputs,
};

/* ------------------------------------------------------------ set-up -- */

/* Everything a run owns, so that one function can take it apart. */
typedef struct exec_state {
    gf_run run;
    size_t ninst;
    gf_inst *inst;
    size_t *first; /* stage -> index of its first instance */
    gf_pii **pii;  /* stage -> policy (export stages) */
    const char **names;
    unsigned *workers;
    unsigned char *local;   /* distributed: instance runs here; else NULL */
    gf_dist_keeper *keeper; /* distributed: services links during callbacks */
    gf_metrics *metrics;    /* --metrics-addr, or NULL */
    gf_output_set *outputs; /* the exports' files, renamed after commit() */
} exec_state;

static gf_output_set *rt_outputs(gf_ctx *ctx)
{
    /* run is exec_state's first member */
    return ((exec_state *)(void *)inst_of(ctx)->run)->outputs;
}

static void endpoint(char *buf, size_t n, const exec_state *x, size_t stage,
                     unsigned inst)
{
    snprintf(buf, n, "inproc://gigflow-%p-%zu-%u", (const void *)x, stage,
             inst);
}

/* The `path` option of ingest stages, joined with ", ". */
static char *collect_inputs(const gf_pipeline *p)
{
    gf_buf b = {0};
    for (size_t i = 0; i < p->nstages; i++) {
        const gf_stage_def *s = &p->stages[i];
        const gf_plugin *pl = s->lib->desc;
        if (pl->kind != GF_KIND_INGEST || !pl->options || !s->opts)
            continue;
        for (const gf_option *o = pl->options; o->key; o++) {
            if (strcmp(o->key, "path") != 0 ||
                (o->type != GF_OPT_PATH && o->type != GF_OPT_STRING))
                continue;
            const char *v;
            memcpy(&v, (const char *)gf_optset_config(s->opts) + o->offset,
                   sizeof v);
            if (!v)
                continue;
            if ((b.len && gf_buf_puts(&b, ", ") < 0) || gf_buf_puts(&b, v) < 0)
                goto fail_alloc;
        }
    }
    if (b.len == 0)
        return NULL;
    if (gf_buf_append(&b, "", 1) < 0)
        goto fail_alloc;
    return (char *)b.data;

fail_alloc:
    gf_buf_free(&b);
    return NULL;
}

/* Create the receiving end of every non-ingest instance. */
static int make_receivers(exec_state *x)
{
    const gf_pipeline *p = x->run.p;
    char ep[96];
    for (size_t s = 0; s < p->nstages; s++) {
        const gf_stage_def *d = &p->stages[s];
        if (d->nfrom == 0)
            continue;
        size_t nprod = 0;
        for (size_t f = 0; f < d->nfrom; f++)
            nprod += p->stages[d->from[f]].workers;
        uint64_t *ids = gf_calloc(nprod, sizeof *ids);
        if (!ids)
            return -ENOMEM;
        size_t k = 0;
        for (size_t f = 0; f < d->nfrom; f++)
            for (unsigned w = 0; w < p->stages[d->from[f]].workers; w++)
                ids[k++] = x->inst[x->first[d->from[f]] + w].producer;
        int rc = 0;
        for (unsigned w = 0; w < d->workers && rc == 0; w++) {
            gf_inst *in = &x->inst[x->first[s] + w];
            endpoint(ep, sizeof ep, x, s, w);
            in->rx = gf_edge_rx_new(x->run.zctx, ep, ids, nprod);
            if (!in->rx)
                rc = errno ? -errno : -ENOMEM;
        }
        gf_free(ids);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Create the sending ends of every instance towards its consumers. */
static int make_senders(exec_state *x)
{
    const gf_pipeline *p = x->run.p;
    char ep[96];
    for (size_t i = 0; i < x->ninst; i++) {
        gf_inst *in = &x->inst[i];
        const gf_stage_def *d = in->def;
        if (d->nto == 0)
            continue;
        in->down = gf_calloc(d->nto, sizeof *in->down);
        if (!in->down)
            return -ENOMEM;
        in->ndown = d->nto;
        for (size_t t = 0; t < d->nto; t++) {
            gf_fanout *f = &in->down[t];
            f->stage = d->to[t];
            unsigned n = p->stages[f->stage].workers;
            f->tx = gf_calloc(n, sizeof *f->tx);
            if (!f->tx)
                return -ENOMEM;
            f->n = n;
            f->rr = in->ctx.instance % n; /* start spread out */
            for (unsigned w = 0; w < f->n; w++) {
                endpoint(ep, sizeof ep, x, f->stage, w);
                f->tx[w] = gf_edge_tx_new(x->run.zctx, ep, in->producer);
                if (!f->tx[w])
                    return errno ? -errno : -ENOMEM;
            }
        }
    }
    return 0;
}

/* Distributed: which instances run here (x->local), and the links'
   context. Usage errors set *code and return -1. */
static int make_placement(exec_state *x, int *code)
{
    const gf_pipeline *p = x->run.p;
    size_t total = 0;
    size_t *first = gf_calloc(p->nstages, sizeof *first);
    if (!first)
        goto fail_alloc;
    for (size_t s = 0; s < p->nstages; s++) {
        first[s] = total;
        total += p->stages[s].workers;
    }
    x->local = gf_calloc(total ? total : 1, 1);
    if (!x->local)
        goto fail_alloc;
    char *err = NULL;
    int rc = gf_dist_place(p, x->run.opts.place, x->run.opts.nplace, first,
                           x->local, &err);
    gf_free(first);
    first = NULL;
    if (rc < 0) {
        fprintf(stderr, "gigflow run: %s\n", err ? err : "out of memory");
        gf_free(err);
        *code = GF_EXIT_USAGE;
        return -1;
    }
    x->run.lctx = zmq_ctx_new();
    if (!x->run.lctx) {
        fprintf(stderr, "gigflow: cannot create the ZeroMQ context: %s\n",
                zmq_strerror(errno));
        return -1;
    }
    zmq_ctx_set(x->run.lctx, ZMQ_MAX_SOCKETS, 65536);
    return 0;

fail_alloc:
    gf_free(first);
    fprintf(stderr, "gigflow: out of memory\n");
    return -1;
}

/* Allocate the instances and fill their contexts. */
static int make_instances(exec_state *x)
{
    const gf_pipeline *p = x->run.p;
    x->first = gf_calloc(p->nstages, sizeof *x->first);
    x->pii = gf_calloc(p->nstages, sizeof *x->pii);
    x->names = gf_calloc(p->nstages, sizeof *x->names);
    x->workers = gf_calloc(p->nstages, sizeof *x->workers);
    if (!x->first || !x->pii || !x->names || !x->workers)
        return -ENOMEM;
    size_t total = 0;
    for (size_t s = 0; s < p->nstages; s++) {
        x->first[s] = total;
        total += p->stages[s].workers;
        x->names[s] = p->stages[s].name;
        x->workers[s] = p->stages[s].workers;
    }
    x->run.stats = gf_stats_new(p->nstages, x->names, x->workers);
    x->inst = gf_calloc(total, sizeof *x->inst);
    if (!x->run.stats || !x->inst)
        return -ENOMEM;
    x->ninst = total;
    for (size_t s = 0; s < p->nstages; s++) {
        const gf_stage_def *d = &p->stages[s];
        gf_merge_box *box = NULL; /* aggregates with several workers */
        if (d->workers > 1 && d->lib->desc->kind == GF_KIND_AGGREGATE &&
            GF_PLUGIN_CAN_MERGE(d->lib->desc)) {
            box = gf_merge_box_new(d->workers);
            if (!box)
                return -ENOMEM;
            x->inst[x->first[s]].merge = box; /* owner, freed first */
        }
        for (unsigned w = 0; w < d->workers; w++) {
            size_t i = x->first[s] + w;
            gf_inst *in = &x->inst[i];
            in->rt.ops = &exec_ops;
            in->run = &x->run;
            in->stage = s;
            in->def = d;
            in->plugin = d->lib->desc;
            in->producer = i + 1;
            in->local = x->local ? x->local[i] != 0 : true;
            in->cnt = gf_stats_counters(x->run.stats, s, w);
            if (!in->local)
                gf_stats_set_remote(x->run.stats, s, w);
            in->merge = box;
            in->ctx = (gf_ctx){
                .host = &gf_host_table,
                .stage = d->name,
                .instance = w,
                .instances = d->workers,
                .rt = &in->rt,
            };
        }
    }
    return 0;
}

/* A scrape of --metrics-addr: every stage's counters and the run's. */
static void render_run(gf_buf *b, void *arg)
{
    exec_state *x = arg;
    int64_t now = gf_stats_now_ns();
    gf_stats_prometheus(x->run.stats, b, now);
    gf_metrics_gauge(b, "gigflow_run_healthy",
                     "1 while the run goes well, 0 once a stage failed.", NULL,
                     NULL, gf_run_stopping(&x->run) ? 0 : 1);
    gf_metrics_gauge(b, "gigflow_run_seconds", "Seconds since the run began.",
                     NULL, NULL, (double)(now - x->run.t0_ns) / 1e9);
}

/* The metrics endpoint, when asked for; it reads the stats. */
static int start_metrics(exec_state *x)
{
    gf_run *run = &x->run;
    if (!run->opts.metrics_addr)
        return 0;
    char *err = NULL;
    x->metrics = gf_metrics_start(run->opts.metrics_addr, render_run, x, &err);
    if (!x->metrics) {
        gf_run_fail(run, "gigflow: %s", err ? err : "out of memory");
        run->config_failure = true;
        gf_free(err);
        return -1;
    }
    const char *addr = run->opts.metrics_addr;
    size_t len = strlen(addr);
    if (len >= 2 && strcmp(addr + len - 2, ":0") == 0) /* a port picked */
        fprintf(stderr, "gigflow: metrics on port %u (%.*s:%u/metrics)\n",
                gf_metrics_port(x->metrics), (int)(len - 2), addr,
                gf_metrics_port(x->metrics));
    return 0;
}

/* Masking policies of export stages. */
static int make_pii(exec_state *x)
{
    const gf_pipeline *p = x->run.p;
    for (size_t s = 0; s < p->nstages; s++) {
        const gf_stage_def *d = &p->stages[s];
        if (d->lib->desc->kind != GF_KIND_EXPORT || d->pii_mode == GF_PII_OFF)
            continue;
        bool here = false;
        for (unsigned w = 0; w < d->workers; w++)
            here |= x->inst[x->first[s] + w].local;
        if (!here)
            continue;
        char *err = NULL;
        x->pii[s] = gf_pii_new(d->pii_mode, d->pii_key_file, &err);
        if (!x->pii[s]) {
            gf_run_fail(&x->run, "stage %s: %s", d->name,
                        err ? err : "cannot set up personal data masking");
            gf_free(err);
            return -1;
        }
        for (unsigned w = 0; w < d->workers; w++)
            x->inst[x->first[s] + w].pii = x->pii[s];
    }
    return 0;
}

/*
 * Exports create the directories their output paths need: every path
 * option of an export stage names something the stage writes. A path that
 * exists and is no regular file (/dev/null, a directory) is refused
 * (gf_output_prepare): the export would replace it.
 */
static int make_output_dirs(exec_state *x)
{
    const gf_pipeline *p = x->run.p;
    for (size_t s = 0; s < p->nstages; s++) {
        const gf_stage_def *d = &p->stages[s];
        const gf_plugin *pl = d->lib->desc;
        if (pl->kind != GF_KIND_EXPORT || !pl->options || !d->opts)
            continue;
        const char *cfg = gf_optset_config(d->opts);
        for (const gf_option *o = pl->options; o->key; o++) {
            if (o->type != GF_OPT_PATH)
                continue;
            const char *path = *(const char *const *)(cfg + o->offset);
            char err[512];
            if (path && strcmp(path, "-") != 0 &&
                gf_output_prepare(path, err, sizeof err) < 0) {
                gf_run_fail(&x->run, "stage %s: %s", d->name, err);
                return -1;
            }
        }
    }
    return 0;
}

/* init() every instance, upstream first. */
static int init_all(exec_state *x)
{
    const gf_pipeline *p = x->run.p;
    for (size_t k = 0; k < p->nstages; k++) {
        size_t s = p->order[k];
        for (unsigned w = 0; w < p->stages[s].workers; w++) {
            gf_inst *in = &x->inst[x->first[s] + w];
            if (!in->local)
                continue;
            const void *cfg =
                in->def->opts ? gf_optset_config(in->def->opts) : NULL;
            int rc = in->plugin->init(&in->ctx, cfg, &in->state);
            if (rc < 0) {
                if (in->errmsg)
                    gf_run_fail(&x->run, "stage %s: %s", in->def->name,
                                in->errmsg);
                else
                    gf_run_fail(&x->run,
                                "stage %s: init() failed (returned %d)",
                                in->def->name, rc);
                return -1;
            }
            in->inited = true;
            if (gf_out_init(&in->out, x->run.opts.batch_bytes,
                            in->dist ? gf_dist_send : gf_stage_send, in) < 0)
                return -ENOMEM;
            in->out.srcpos = x->run.srcpos;
            in->out_ready = true;
        }
    }
    return 0;
}

/* Start one thread per instance with SIGINT/SIGTERM blocked in them, so
   that the main thread takes the signals. */
static int start_threads(exec_state *x)
{
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int rc = 0;
    for (size_t i = 0; i < x->ninst; i++) {
        if (!x->inst[i].local)
            continue;
        rc = -pthread_create(&x->inst[i].thread, NULL,
                             x->inst[i].dist ? gf_dist_thread : gf_stage_thread,
                             &x->inst[i]);
        if (rc < 0) {
            gf_run_fail(&x->run, "cannot start a thread: %s", strerror(-rc));
            break;
        }
        x->inst[i].started = true;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

/* Wait until every thread's part is done (or failed), drawing the progress
   line meanwhile. The threads of a distributed run stay until
   join_threads: they keep their links alive while this process commits. */
static void wait_threads(exec_state *x)
{
    gf_run *run = &x->run;
    size_t started = 0;
    for (size_t i = 0; i < x->ninst; i++)
        started += x->inst[i].started;
    pthread_mutex_lock(&run->lock);
    while (run->finished < started) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 250 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&run->done, &run->lock, &ts);
        if (x->metrics)
            gf_metrics_set_healthy(x->metrics, !atomic_load(&run->stop));
        if (run->opts.progress && run->finished < started) {
            gf_stats_progress(run->stats, stderr, gf_stats_now_ns(),
                              run->t0_ns);
            run->progress_shown = true;
        }
    }
    if (run->progress_shown)
        gf_stats_progress_clear(stderr);
    run->progress_shown = false;
    pthread_mutex_unlock(&run->lock);
}

/* The outputs are committed (or the run failed): let the threads end. */
static void join_threads(exec_state *x)
{
    atomic_store(&x->run.settled, true);
    for (size_t i = 0; i < x->ninst; i++)
        if (x->inst[i].started)
            pthread_join(x->inst[i].thread, NULL);
}

/* commit() every instance, upstream first. */
static void commit_all(exec_state *x)
{
    const gf_pipeline *p = x->run.p;
    for (size_t k = 0; k < p->nstages; k++) {
        size_t s = p->order[k];
        for (unsigned w = 0; w < p->stages[s].workers; w++) {
            gf_inst *in = &x->inst[x->first[s] + w];
            if (!in->inited || !in->plugin->commit)
                continue;
            int rc = in->plugin->commit(&in->ctx, in->state);
            if (rc < 0) {
                if (in->errmsg)
                    gf_run_fail(&x->run, "stage %s: %s", in->def->name,
                                in->errmsg);
                else
                    gf_run_fail(&x->run,
                                "stage %s: commit() failed (returned %d)",
                                in->def->name, rc);
                return;
            }
        }
    }
}

static void teardown(exec_state *x)
{
    /* first: a scrape reads the stats and the stage names freed below */
    gf_metrics_stop(&x->metrics);
    for (size_t i = 0; i < x->ninst; i++) {
        gf_inst *in = &x->inst[i];
        if (in->inited)
            in->plugin->destroy(&in->ctx, in->state);
        if (in->merge && in->ctx.instance == 0)
            gf_merge_box_free(&in->merge);
        if (in->out_ready)
            gf_out_release(&in->out);
        for (size_t d = 0; d < in->ndown; d++) {
            for (size_t w = 0; w < in->down[d].n; w++)
                gf_edge_tx_destroy(&in->down[d].tx[w]);
            gf_free(in->down[d].tx);
        }
        gf_free(in->down);
        gf_edge_rx_destroy(&in->rx);
        gf_dist_teardown(in);
        gf_buf_free(&in->pii_scratch);
        gf_free(in->errmsg);
    }
    gf_output_free(&x->outputs); /* after destroy(): plugins may fclose */
    gf_free(x->inst);
    if (x->pii)
        for (size_t s = 0; s < x->run.p->nstages; s++)
            gf_pii_free(&x->pii[s]);
    gf_free(x->pii);
    gf_free(x->first);
    gf_free(x->names);
    gf_free(x->workers);
    gf_free(x->local);
    gf_stats_free(&x->run.stats);
    if (x->run.zctx)
        zmq_ctx_term(x->run.zctx);
    if (x->run.lctx)
        zmq_ctx_term(x->run.lctx);
    gf_dist_free_security(&x->run);
    gf_srcpos_table_free(&x->run.srcpos);
    gf_free(x->run.info_inputs);
    gf_free(x->run.error);
    pthread_cond_destroy(&x->run.done);
    pthread_mutex_destroy(&x->run.lock);
}

int gf_exec_run(gf_pipeline *p, const gf_run_opts *o, gf_stage_stats *stats)
{
    if (stats)
        memset(stats, 0, p->nstages * sizeof *stats);
    exec_state *x = gf_calloc(1, sizeof *x);
    if (!x) {
        fprintf(stderr, "gigflow: out of memory\n");
        return GF_EXIT_FAILURE;
    }
    gf_run *run = &x->run;
    run->p = p;
    run->opts = *o;
    if (run->opts.batch_bytes == 0)
        run->opts.batch_bytes = 64 * 1024;
    run->opts.progress = o->progress && isatty(STDERR_FILENO);
    run->interrupted = &g_signals;
    atomic_store(&g_signals, 0);
    atomic_store(&g_failed_first, false);
    atomic_store(&g_committed, false);
    atomic_store(&g_distributed, o->nplace > 0);
    atomic_store(&g_stop, &run->stop);
    pthread_mutex_init(&run->lock, NULL);
    pthread_cond_init(&run->done, NULL);
    run->t0_ns = gf_stats_now_ns();
    run->started_wall = (int64_t)time(NULL);

    int code = GF_EXIT_FAILURE;
    struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    run->zctx = zmq_ctx_new();
    if (!run->zctx) {
        fprintf(stderr, "gigflow: cannot create the ZeroMQ context: %s\n",
                zmq_strerror(errno));
        goto done;
    }
    zmq_ctx_set(run->zctx, ZMQ_MAX_SOCKETS, 65536);
    errno = 0;
    if (p->dead_letters && strcmp(p->dead_letters, "-") != 0) {
        /* each process of a distributed run writes a file of its own */
        run->dl_path = o->nplace
                           ? gf_dist_own_path(p->dead_letters, o->place[0])
                           : gf_strdup(p->dead_letters);
        if (!run->dl_path) {
            fprintf(stderr, "gigflow: out of memory\n");
            goto done;
        }
    }
    run->dl = gf_deadletter_open(run->dl_path ? run->dl_path : "-");
    if (!run->dl) {
        fprintf(stderr, "gigflow: cannot open the dead-letter file %s: %s\n",
                run->dl_path ? run->dl_path : "-",
                strerror(errno ? errno : ENOMEM));
        goto done;
    }
    run->info_inputs = collect_inputs(p);
    run->srcpos = gf_srcpos_table_new();
    if (!run->srcpos) {
        fprintf(stderr, "gigflow: out of memory\n");
        goto done;
    }

    int rc = o->nplace ? make_placement(x, &code) : 0;
    if (rc < 0)
        goto done;
    rc = make_instances(x);
    if (rc == 0 && x->local) {
        char *err = NULL;
        rc = gf_dist_setup(run, x->inst, x->ninst, x->first, &err);
        if (rc < 0) {
            run->config_failure = rc == -2;
            gf_run_fail(run, "gigflow: %s", err ? err : "out of memory");
            rc = -1;
        }
        gf_free(err);
    } else {
        if (rc == 0)
            rc = make_receivers(x);
        if (rc == 0)
            rc = make_senders(x);
    }
    if (rc < 0 && !gf_run_stopping(run))
        gf_run_fail(run, "gigflow: cannot set up the run: %s",
                    zmq_strerror(-rc));
    if (rc == 0)
        rc = make_pii(x);
    if (rc == 0 && !(x->outputs = gf_output_new()))
        rc = -ENOMEM;
    if (rc == 0)
        rc = make_output_dirs(x) < 0 ? -1 : init_all(x);
    if (rc < 0 && !gf_run_stopping(run))
        gf_run_fail(run, "gigflow: cannot set up the run: out of memory");
    if (rc == 0)
        rc = start_metrics(x);
    if (rc == 0)
        start_threads(x);
    if (rc == 0 && x->local &&
        !(x->keeper = gf_dist_keeper_start(run, x->inst, x->ninst)))
        gf_run_fail(run, "cannot start a thread: %s", strerror(errno));
    wait_threads(x);
    if (x->metrics)
        gf_metrics_set_healthy(x->metrics, !gf_run_stopping(run));

    if (!gf_run_stopping(run) && atomic_load(&g_signals) == 0) {
        /* the dead letters are complete before any output appears */
        if (gf_deadletter_close(&run->dl) < 0)
            gf_run_fail(run, "gigflow: cannot write the dead-letter file %s",
                        run->dl_path ? run->dl_path : "(stderr)");
        else
            commit_all(x);
        char err[512];
        if (!gf_run_stopping(run) &&
            gf_output_commit(x->outputs, err, sizeof err) < 0)
            gf_run_fail(run, "gigflow: %s", err);
        else if (!gf_run_stopping(run)) {
            atomic_store(&g_committed, true);
            atomic_store(&run->committed, true);
        }
    }
    join_threads(x);
    gf_dist_keeper_stop(&x->keeper);
    /* an interrupt wins over the failures it caused (a distributed run
       fails its links on purpose), not over one that came before it; one
       after the commit of a run that then ends well changes nothing */
    bool interrupted = atomic_load(&g_signals) > 0 &&
                       !atomic_load(&g_failed_first) &&
                       !(atomic_load(&g_committed) && !gf_run_stopping(run));
    if (gf_run_stopping(run) && !interrupted) {
        fprintf(stderr, "%s\n",
                run->error ? run->error : "gigflow: out of memory");
        code = run->config_failure ? GF_EXIT_USAGE : GF_EXIT_FAILURE;
    } else if (interrupted) {
        if (run->error)
            fprintf(stderr, "%s\n", run->error);
        fprintf(stderr, "interrupted\n");
        code = GF_EXIT_INTERRUPTED;
    } else {
        code = GF_EXIT_OK;
        if (run->opts.summary && run->stats)
            gf_stats_summary(run->stats, stderr, gf_stats_now_ns());
        uint64_t rejects = atomic_load(&run->rejects);
        if (run->opts.summary && rejects > 0)
            fprintf(stderr, "%" PRIu64 " record%s rejected: see %s\n", rejects,
                    rejects == 1 ? "" : "s",
                    run->dl_path ? run->dl_path
                                 : "the dead letters above (stderr)");
    }
    if (stats && run->stats)
        for (size_t s = 0; s < p->nstages; s++)
            gf_stats_sum(run->stats, s, gf_stats_now_ns(), &stats[s]);

done:
    teardown(x);
    gf_deadletter_close(&run->dl);
    gf_free(run->dl_path);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    atomic_store(&g_stop, NULL);
    gf_free(x);
    return code;
}
