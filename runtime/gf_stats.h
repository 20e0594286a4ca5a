/*
 * gf_stats - the counters of a run: per stage instance, records in, out,
 * rejected and dropped, and when the instance started and finished.
 * Each counter is written by its instance's thread and read by the main
 * thread (the live progress line), hence relaxed atomics.
 *
 * The progress line is one line rewritten in place on a terminal; the
 * summary is a table printed once at the end of the run.
 */
#ifndef GF_STATS_H
#define GF_STATS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "gf_buf.h"
#include "gf_exec.h"

typedef struct gf_counters {
    _Atomic uint64_t in, out, rejected, dropped;
    _Atomic int64_t start_ns, end_ns; /* 0: not yet */
    /*
     * Appended by the sec helper for the metrics endpoint. The executor
     * fills batches_sent/received and frames_rejected; the distributed
     * transport fills the rest (and the first three on its edges).
     */
    _Atomic uint64_t batches_sent;     /* DATA frames sent downstream */
    _Atomic uint64_t batches_received; /* DATA frames taken in */
    _Atomic uint64_t batches_acked;    /* sent batches acknowledged */
    /* sent again: the peer was lost, or no ACK came for a heartbeat */
    _Atomic uint64_t batches_resent;
    _Atomic uint64_t duplicates;      /* received again, dropped by
                                         (producer, sequence) */
    _Atomic uint64_t frames_rejected; /* invalid frames refused */
    _Atomic int64_t peers;            /* gauge: peers connected now */
    _Atomic int64_t credit;           /* gauge: credit (batches this
                                         instance may still send) */
} gf_counters;

typedef struct gf_stats gf_stats;

/* Monotonic clock in nanoseconds. */
int64_t gf_stats_now_ns(void);

/*
 * Counters for `nstages` stages named `names` (borrowed: they must outlive
 * the stats), stage i having instances[i] instances. NULL when out of memory.
 */
gf_stats *gf_stats_new(size_t nstages, const char *const *names,
                       const unsigned *instances);
/* The counters of one instance. */
gf_counters *gf_stats_counters(gf_stats *s, size_t stage, unsigned inst);
/*
 * Distributed runs: instance `inst` of `stage` runs in another process.
 * Its counters are left out of every sum and report below: the progress
 * line and the summary show only the instances that run here (a stage
 * of which only some do is named with them, "sector#0"), the summary ends
 * with a line naming the rest ("elsewhere (other processes): members,
 * sector#1"), and the Prometheus exposition has no sample for a stage
 * none of whose instances run here. (Added by the ux helper.)
 */
void gf_stats_set_remote(gf_stats *s, size_t stage, unsigned inst);
/*
 * Sum the instances of `stage` that run here into *out. seconds is the
 * longest an instance ran (one still running counts until now_ns).
 */
void gf_stats_sum(const gf_stats *s, size_t stage, int64_t now_ns,
                  gf_stage_stats *out);
/* Rewrite the progress line on f (a terminal): elapsed time, then each
   stage's count. */
void gf_stats_progress(const gf_stats *s, FILE *f, int64_t now_ns,
                       int64_t started_ns);
/* Erase the progress line. */
void gf_stats_progress_clear(FILE *f);
/*
 * Print the summary table: stage, in, out, rejected, dropped, seconds,
 * records/s (input records per second; output for stages without input);
 * in a distributed run, only what runs here, then the "elsewhere" line.
 */
void gf_stats_summary(const gf_stats *s, FILE *f, int64_t now_ns);
/*
 * Append the Prometheus exposition of every stage's counters to b (through
 * gf_metrics): per stage (label `stage`, summed over instances) the
 * counters gigflow_records_{in,out,rejected,dropped}_total,
 * gigflow_batches_{sent,received,acked,resent}_total,
 * gigflow_duplicates_dropped_total, gigflow_frames_rejected_total, and the
 * gauges gigflow_peers_connected, gigflow_credit, gigflow_stage_instances,
 * gigflow_stage_running (instances started, not finished) and
 * gigflow_stage_seconds. Any thread. (Added by the sec helper.) Stages
 * that run only in other processes have no samples; the others count the
 * instances that run here (see gf_stats_set_remote).
 */
void gf_stats_prometheus(const gf_stats *s, gf_buf *b, int64_t now_ns);
void gf_stats_free(gf_stats **sp);

#endif
