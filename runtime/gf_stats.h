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

#include "gf_exec.h"

typedef struct gf_counters {
    _Atomic uint64_t in, out, rejected, dropped;
    _Atomic int64_t start_ns, end_ns; /* 0: not yet */
    /* distributed runs (added by dist, read by gf_metrics): batches sent
       over links (resends included), acknowledged, marked for resending
       after an instance died; duplicates dropped; frames rejected; peers
       connected now; credit granted to this instance by its consumers */
    _Atomic uint64_t batches_sent, batches_acked, batches_resent;
    _Atomic uint64_t duplicates, bad_frames;
    _Atomic int64_t peers, credit;
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
 * Sum the instances of `stage` into *out. seconds is the longest an
 * instance ran (one still running counts until now_ns).
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
 * records/s (input records per second; output for stages without input).
 */
void gf_stats_summary(const gf_stats *s, FILE *f, int64_t now_ns);
void gf_stats_free(gf_stats **sp);

#endif
