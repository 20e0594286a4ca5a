/*
 * gf_exec - running a loaded pipeline in this process.
 *
 * One thread per stage instance; edges are ZeroMQ inproc PUSH/PULL pairs,
 * one socket per (producer instance, consumer instance) so that each
 * consumer instance gets its own end of stream with the exact count sent to
 * it. Producers spread batches over a stage's instances (a free one first),
 * and send every batch to each downstream stage (fan-out). High-water marks
 * of a few batches bound memory: a slow export slows ingest.
 *
 * A stage flushes only when every upstream instance's EOS arrived and every
 * count matched; then it passes EOS on. Exports commit only when every
 * stage finished without error. SIGINT/SIGTERM stop ingest; the rest drains,
 * nothing is committed, and the run returns GF_EXIT_INTERRUPTED.
 */
#ifndef GF_EXEC_H
#define GF_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gf_pipeline.h"

enum {
    GF_EXIT_OK = 0,
    GF_EXIT_FAILURE = 1,
    GF_EXIT_USAGE = 2,
    GF_EXIT_INTERRUPTED = 130
};

typedef struct gf_run_opts {
    size_t batch_bytes;    /* default 64 KiB */
    long long max_rejects; /* < 0: unlimited */
    bool progress;         /* live progress line on stderr */
    bool summary;          /* summary table at the end */
    /* distributed runs (added by dist): the instances this process runs,
       "NAME" or "NAME#I" (none: the whole pipeline, as one process); how
       long producers wait for their consumers (ms, 0: 60 s); how long a
       silent peer lives (ms, 0: 3 s). See gf_dist.h. */
    const char *const *place;
    size_t nplace;
    long wait_ms;
    long heartbeat_ms;
    /* Prometheus endpoint "HOST:PORT" (gf_metrics) while the run lasts,
       or NULL. (Added by the sec helper.) */
    const char *metrics_addr;
} gf_run_opts;

typedef struct gf_stage_stats {
    uint64_t in, out, rejected, dropped;
    double seconds;
} gf_stage_stats;

/*
 * Run p. stats, if not NULL, receives p->nstages entries (summed over
 * instances). Returns a GF_EXIT_* code; errors are printed on stderr.
 */
int gf_exec_run(gf_pipeline *p, const gf_run_opts *o, gf_stage_stats *stats);

#endif
