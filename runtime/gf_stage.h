/*
 * gf_stage - one stage instance of a run in this process, and the run as
 * the instances see it.
 *
 * gf_exec builds a gf_run and one gf_inst per (stage, worker), creates
 * every socket, calls init(), then starts gf_stage_thread() once per
 * instance. The thread loop is the whole data path:
 *
 *   ingest     produce() until GF_DONE (or an interrupt), then flush()
 *   others     receive batches, process() every record; when every
 *              upstream producer's EOS arrived with matching counts,
 *              flush() (not after an interrupt)
 *   both       send what is left, then EOS to every consumer instance
 *
 * A batch goes to every downstream stage and, within a stage, to one
 * instance that can take it now (gf_edge_tx_send_any). The first failure
 * anywhere (gf_run_fail) records its message and shuts the ZeroMQ context
 * down, which wakes every thread blocked in a send or receive.
 */
#ifndef GF_STAGE_H
#define GF_STAGE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <gigflow/plugin.h>

#include "gf_buf.h"
#include "gf_deadletter.h"
#include "gf_edge.h"
#include "gf_exec.h"
#include "gf_host.h"
#include "gf_out.h"
#include "gf_pii.h"
#include "gf_pipeline.h"
#include "gf_srcpos.h"
#include "gf_stats.h"

/* A batch is sent early when it has waited this long for more records. */
#define GF_STAGE_LINGER_NS (100 * 1000000LL)

/* The run, shared by every instance. */
typedef struct gf_run {
    const gf_pipeline *p;
    gf_run_opts opts;
    void *zctx;
    gf_stats *stats;
    gf_deadletter *dl;
    char *dl_path;                 /* the dead-letter file; NULL: stderr */
    const atomic_int *interrupted; /* signals received (0: none) */
    atomic_bool stop;              /* a failure: every thread stops */
    atomic_uint_fast64_t rejects;  /* dead letters, all stages */

    pthread_mutex_t lock; /* error, stderr lines, finished */
    pthread_cond_t done;  /* signalled as instances finish */
    size_t finished;      /* instances whose part is done (or failed) */
    /* set once the outputs were committed (or the run failed): distributed
       instances then tell their producers, and every thread ends */
    atomic_bool settled;
    /* this process's outputs are committed: a signal now changes nothing
       (gf_dist does not turn it into a failure of the run) */
    atomic_bool committed;
    char *error;         /* the first failure, whole line */
    bool config_failure; /* init() reported a config error */
    bool progress_shown; /* clear the progress line first */

    int64_t t0_ns;        /* monotonic start */
    int64_t started_wall; /* epoch seconds */
    char *info_inputs;    /* run_info("inputs") */
    /* distributed runs (added by dist): the ZeroMQ context of the links
       between processes (not shut down by gf_run_fail, so that a failing
       instance can still tell its peers), NULL in a one-process run */
    void *lctx;
    struct gf_security **sec; /* per stage (gf_dist): CURVE keys, NULL
                                 entries for plaintext; NULL array in a
                                 one-process run */
    /* the input files named by records' source positions (added by pos;
       gf_srcpos.h); every instance's out interns into it */
    gf_srcpos_table *srcpos;
} gf_run;

/* The sending ends towards one downstream stage. */
typedef struct gf_fanout {
    size_t stage;
    size_t n; /* the downstream stage's instances */
    gf_edge_tx **tx;
    size_t rr; /* round-robin position */
} gf_fanout;

/*
 * An aggregate stage with several workers (plugin with partial/merge):
 * instances 1..N-1 write their partial() records into parts[k] and count
 * themselves in `posted`; instance 0 waits for N-1 posts, then merge()s
 * every part before its flush(). Across processes (the stage listens),
 * the partial records come to instance 0 over links and gf_dist fills the
 * box as they arrive. Owned by instance 0 (added by merge).
 */
typedef struct gf_merge_box {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    unsigned n;      /* the stage's instances */
    unsigned posted; /* instances 1..n-1 that are done */
    gf_buf *parts;   /* per instance: partial records end to end */
    uint32_t *counts;
} gf_merge_box;

/* One stage instance. */
typedef struct gf_inst {
    gf_rt rt; /* first: ctx.rt points here */
    gf_run *run;
    size_t stage;
    const gf_stage_def *def;
    const gf_plugin *plugin;
    gf_ctx ctx;
    void *state;
    bool inited;
    gf_counters *cnt;
    gf_out out;
    bool out_ready;
    int64_t batch_t0; /* when the open batch got its first record */
    gf_edge_rx *rx;   /* NULL for ingest */
    size_t ndown;
    gf_fanout *down;
    uint64_t producer; /* this instance's id on its edges */
    char *errmsg;      /* the plugin's last host->error() */
    const gf_pii *pii; /* export stages: the masking policy */
    gf_buf pii_scratch;
    pthread_t thread;
    bool started;
    /* distributed runs (added by dist): whether this process runs the
       instance, and its links (gf_dist.c); false/NULL otherwise */
    bool local;
    struct gf_dist_inst *dist;
    /* aggregates with several workers (added by merge): shared by the
       stage's instances, NULL otherwise */
    gf_merge_box *merge;
    /* the source position of the input record being processed (0 when
       unknown, and outside process()): a reject() without a position of
       its own gets this one (added by pos) */
    gf_srcpos pos_in;
} gf_inst;

/* A merge box for `n` instances; NULL when memory runs out. */
gf_merge_box *gf_merge_box_new(unsigned n);
/* Free it and its parts; *bp = NULL. */
void gf_merge_box_free(gf_merge_box **bp);

/*
 * Instances 1..N-1 of an aggregate with workers, in one process: write
 * partial() into the box, then count in as posted (also on failure or
 * interrupt, so that instance 0 never waits in vain; it checks the run's
 * state itself). Returns 0, or -1 when the run is failing.
 */
int gf_stage_post_partial(gf_inst *in);

/*
 * Instance 0: wait until every other instance's partial records are in the
 * box (posted by gf_stage_post_partial, or by gf_dist as they arrive over
 * a link), then merge() them all, in instance order. While waiting,
 * idle(in) (may be NULL) is called every 100 ms at most; a negative
 * return stops the wait. Returns 0, or -1 when the run is failing.
 */
int gf_stage_merge_partials(gf_inst *in, int (*idle)(gf_inst *in));

/*
 * Count n dead letters written for instance `in` (the stage's and the
 * run's totals); past --max-rejects fail the run and return -1, else 0.
 */
int gf_stage_count_rejects(gf_inst *in, uint64_t n);

/* Thread entry: arg is a gf_inst. */
void *gf_stage_thread(void *arg);

/*
 * gf_out's on_full callback: send the batch to every downstream stage.
 * Returns 0 or a negative errno (the run is then failing).
 */
int gf_stage_send(gf_out *out, void *arg);

/*
 * Hand `count` checked records laid end to end in [pos, end) to the
 * instance's process() (masking first on export stages), then start or
 * check the linger clock. `positions` holds the records' `count` source
 * positions (read with memcpy), or is NULL when unknown (batches from
 * links): before each record, the instance's pos_in and its out's current
 * position become that record's, so what process() emits inherits it and
 * a reject() reports it. Returns 0, or -1 when the run is failing.
 * (Added by dist: shared by the inproc loop and gf_dist.)
 */
int gf_stage_process(gf_inst *in, const uint8_t *pos, const uint8_t *end,
                     uint32_t count, const gf_srcpos *positions);
/* Before flush() or partial(): their records are groups, of no one input
   record; they and their rejects get no position. */
static inline void gf_stage_forget_position(gf_inst *in)
{
    in->pos_in = (gf_srcpos){0, 0};
    in->out.cur = (gf_srcpos){0, 0};
}
/* After a callback: start the linger clock of a new batch, or send a batch
   that has waited long enough. 0 or negative. */
int gf_stage_linger(gf_inst *in);
/* A callback `cb` returned rc < 0: fail the run with the plugin's message. */
void gf_stage_fail_callback(gf_inst *in, const char *cb, int rc);
/* The output went wrong (out->status < 0): fail the run unless it is
   already failing. Returns -1. */
int gf_stage_out_failed(gf_inst *in);

/*
 * Fail the run: the first call keeps its message (printf format, a whole
 * line without newline, e.g. "stage x: what"), sets stop and wakes every
 * blocked thread. Later calls are ignored. Thread-safe.
 */
void gf_run_fail(gf_run *run, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* True when the run is failing. */
static inline bool gf_run_stopping(const gf_run *run)
{
    return atomic_load_explicit(&run->stop, memory_order_relaxed);
}

/* True after SIGINT/SIGTERM. */
static inline bool gf_run_interrupted(const gf_run *run)
{
    return atomic_load_explicit(run->interrupted, memory_order_relaxed) > 0;
}

#endif
