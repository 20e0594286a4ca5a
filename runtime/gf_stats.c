/*
 * gf_stats - per-instance counters, the live progress line and the final
 * summary table (see gf_stats.h). Counters of all instances live in one
 * array; a stage's instances are contiguous from first[stage].
 *
 * In a distributed run an instance may run in another process
 * (gf_stats_set_remote): its counters stay zero here, so every report
 * leaves it out rather than show zeros that look like figures, and the
 * summary says where the rest of the run went ("elsewhere: ...").
 */
#include "gf_stats.h"

#include <inttypes.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include "gf_alloc.h"
#include "gf_metrics.h"

struct gf_stats {
    size_t nstages;
    const char *const *names;
    unsigned *instances;
    size_t *first; /* index of stage i's first instance in c */
    gf_counters *c;
    unsigned char *remote; /* per instance: runs in another process */
};

int64_t gf_stats_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

gf_stats *gf_stats_new(size_t nstages, const char *const *names,
                       const unsigned *instances)
{
    gf_stats *s = gf_calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->nstages = nstages;
    s->names = names;
    s->instances = gf_calloc(nstages, sizeof *s->instances);
    s->first = gf_calloc(nstages, sizeof *s->first);
    if (!s->instances || !s->first)
        goto fail_alloc;
    size_t total = 0;
    for (size_t i = 0; i < nstages; i++) {
        s->instances[i] = instances[i];
        s->first[i] = total;
        total += instances[i];
    }
    s->c = gf_calloc(total ? total : 1, sizeof *s->c);
    s->remote = gf_calloc(total ? total : 1, 1);
    if (!s->c || !s->remote)
        goto fail_alloc;
    return s;

fail_alloc:
    gf_stats_free(&s);
    return NULL;
}

gf_counters *gf_stats_counters(gf_stats *s, size_t stage, unsigned inst)
{
    return &s->c[s->first[stage] + inst];
}

void gf_stats_set_remote(gf_stats *s, size_t stage, unsigned inst)
{
    s->remote[s->first[stage] + inst] = 1;
}

static bool is_remote(const gf_stats *s, size_t stage, unsigned inst)
{
    return s->remote[s->first[stage] + inst] != 0;
}

/* How many instances of `stage` run in this process. */
static unsigned nlocal(const gf_stats *s, size_t stage)
{
    unsigned n = 0;
    for (unsigned k = 0; k < s->instances[stage]; k++)
        n += !is_remote(s, stage, k);
    return n;
}

/*
 * The instances of `stage` that run here (want_remote false) or elsewhere
 * (true), as "#0,2" on f; nothing when that is all of them. Returns the
 * width written.
 */
static int put_instances(const gf_stats *s, size_t stage, bool want_remote,
                         FILE *f)
{
    unsigned n = nlocal(s, stage);
    if (want_remote)
        n = s->instances[stage] - n;
    if (n == s->instances[stage])
        return 0;
    int w = 0;
    for (unsigned k = 0; k < s->instances[stage]; k++) {
        if (is_remote(s, stage, k) != want_remote)
            continue;
        int r = f ? fprintf(f, "%s%u", w ? "," : "#", k)
                  : snprintf(NULL, 0, "%s%u", w ? "," : "#", k);
        w += r > 0 ? r : 0;
    }
    return w;
}

#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)

void gf_stats_sum(const gf_stats *s, size_t stage, int64_t now_ns,
                  gf_stage_stats *out)
{
    memset(out, 0, sizeof *out);
    for (unsigned k = 0; k < s->instances[stage]; k++) {
        if (is_remote(s, stage, k))
            continue;
        const gf_counters *c = &s->c[s->first[stage] + k];
        out->in += LOAD(c->in);
        out->out += LOAD(c->out);
        out->rejected += LOAD(c->rejected);
        out->dropped += LOAD(c->dropped);
        int64_t t0 = LOAD(c->start_ns), t1 = LOAD(c->end_ns);
        if (t0 == 0)
            continue;
        double secs = (double)((t1 ? t1 : now_ns) - t0) / 1e9;
        if (secs > out->seconds)
            out->seconds = secs;
    }
}

/* 1234 -> "1234", 12345 -> "12.3k", 1234567 -> "1.23M" */
static void human(char *buf, size_t n, uint64_t v)
{
    if (v < 10000)
        snprintf(buf, n, "%" PRIu64, v);
    else if (v < 1000000)
        snprintf(buf, n, "%.1fk", (double)v / 1e3);
    else if (v < 1000000000)
        snprintf(buf, n, "%.2fM", (double)v / 1e6);
    else
        snprintf(buf, n, "%.2fG", (double)v / 1e9);
}

void gf_stats_progress(const gf_stats *s, FILE *f, int64_t now_ns,
                       int64_t started_ns)
{
    fprintf(f, "\r\033[K%.1fs", (double)(now_ns - started_ns) / 1e9);
    for (size_t i = 0; i < s->nstages; i++) {
        if (nlocal(s, i) == 0)
            continue;
        gf_stage_stats st;
        gf_stats_sum(s, i, now_ns, &st);
        char a[32];
        fprintf(f, " | %s", s->names[i]);
        put_instances(s, i, false, f);
        if (st.in) {
            human(a, sizeof a, st.in);
            fprintf(f, " in %s", a);
        }
        if (st.out) {
            human(a, sizeof a, st.out);
            fprintf(f, " out %s", a);
        }
        if (st.rejected) {
            human(a, sizeof a, st.rejected);
            fprintf(f, " rej %s", a);
        }
        if (!st.in && !st.out && !st.rejected)
            fputs(" -", f);
    }
    fflush(f);
}

void gf_stats_progress_clear(FILE *f)
{
    fputs("\r\033[K", f);
    fflush(f);
}

void gf_stats_summary(const gf_stats *s, FILE *f, int64_t now_ns)
{
    int w = 5;
    bool elsewhere = false;
    for (size_t i = 0; i < s->nstages; i++) {
        unsigned here = nlocal(s, i);
        elsewhere |= here < s->instances[i];
        int l = (int)strlen(s->names[i]) + put_instances(s, i, false, NULL);
        if (here > 0 && l > w)
            w = l;
    }
    fprintf(f, "%-*s %12s %12s %9s %9s %9s %12s\n", w, "stage", "in", "out",
            "rejected", "dropped", "seconds", "records/s");
    for (size_t i = 0; i < s->nstages; i++) {
        if (nlocal(s, i) == 0)
            continue;
        gf_stage_stats st;
        gf_stats_sum(s, i, now_ns, &st);
        uint64_t n = st.in ? st.in : st.out;
        double rate = st.seconds > 0 ? (double)n / st.seconds : 0;
        int l = fprintf(f, "%s", s->names[i]);
        l += put_instances(s, i, false, f);
        fprintf(f,
                "%*s %12" PRIu64 " %12" PRIu64 " %9" PRIu64 " %9" PRIu64
                " %9.3f %12.0f\n",
                w > l ? w - l : 0, "", st.in, st.out, st.rejected, st.dropped,
                st.seconds, rate);
    }
    if (!elsewhere)
        return;
    fputs("elsewhere (other processes):", f);
    const char *sep = " ";
    for (size_t i = 0; i < s->nstages; i++) {
        if (nlocal(s, i) == s->instances[i])
            continue;
        fprintf(f, "%s%s", sep, s->names[i]);
        put_instances(s, i, true, f);
        sep = ", ";
    }
    fputc('\n', f);
}

/* One per-stage family: which counter, and how to write it. */
typedef struct family {
    const char *name;
    const char *help;
    size_t offset; /* of the _Atomic field in gf_counters */
    bool gauge;    /* an int64 gauge; else a uint64 counter */
} family;

#define COUNTER(f) offsetof(gf_counters, f), false
#define GAUGE(f) offsetof(gf_counters, f), true

static const family families[] = {
    {"gigflow_records_in_total", "Records a stage received.", COUNTER(in)},
    {"gigflow_records_out_total", "Records a stage emitted.", COUNTER(out)},
    {"gigflow_records_rejected_total",
     "Records a stage rejected to the dead letters.", COUNTER(rejected)},
    {"gigflow_records_dropped_total",
     "Records a stage dropped on purpose (filters).", COUNTER(dropped)},
    {"gigflow_batches_sent_total",
     "Batches (DATA frames) a stage sent downstream.", COUNTER(batches_sent)},
    {"gigflow_batches_received_total", "Batches a stage received.",
     COUNTER(batches_received)},
    {"gigflow_batches_acked_total",
     "Batches a stage sent that a consumer acknowledged.",
     COUNTER(batches_acked)},
    {"gigflow_batches_resent_total",
     "Batches a stage sent again (no acknowledgement, consumer lost).",
     COUNTER(batches_resent)},
    {"gigflow_duplicates_dropped_total",
     "Batches a stage received again and dropped (same producer and "
     "sequence).",
     COUNTER(duplicates)},
    {"gigflow_frames_rejected_total",
     "Invalid frames a stage refused (bad header, length or MessagePack).",
     COUNTER(frames_rejected)},
    {"gigflow_peers_connected",
     "Peers (other processes) a stage is "
     "connected to.",
     GAUGE(peers)},
    {"gigflow_credit",
     "Batches a stage may still send before it waits for "
     "credit.",
     GAUGE(credit)},
};

void gf_stats_prometheus(const gf_stats *s, gf_buf *b, int64_t now_ns)
{
    for (size_t k = 0; k < sizeof families / sizeof *families; k++) {
        const family *f = &families[k];
        for (size_t i = 0; i < s->nstages; i++) {
            if (nlocal(s, i) == 0)
                continue;
            uint64_t sum = 0;
            int64_t gsum = 0;
            for (unsigned w = 0; w < s->instances[i]; w++) {
                if (is_remote(s, i, w))
                    continue;
                const char *c = (const char *)&s->c[s->first[i] + w];
                if (f->gauge)
                    gsum += LOAD(*(const _Atomic int64_t *)(c + f->offset));
                else
                    sum += LOAD(*(const _Atomic uint64_t *)(c + f->offset));
            }
            if (f->gauge)
                gf_metrics_gauge(b, f->name, f->help, "stage", s->names[i],
                                 (double)gsum);
            else
                gf_metrics_counter(b, f->name, f->help, "stage", s->names[i],
                                   sum);
        }
    }
    for (size_t i = 0; i < s->nstages; i++)
        if (nlocal(s, i) > 0)
            gf_metrics_gauge(b, "gigflow_stage_instances",
                             "Instances (workers) of a stage in this process.",
                             "stage", s->names[i], nlocal(s, i));
    for (size_t i = 0; i < s->nstages; i++) {
        if (nlocal(s, i) == 0)
            continue;
        unsigned running = 0;
        for (unsigned w = 0; w < s->instances[i]; w++) {
            const gf_counters *c = &s->c[s->first[i] + w];
            running += LOAD(c->start_ns) != 0 && LOAD(c->end_ns) == 0;
        }
        gf_metrics_gauge(b, "gigflow_stage_running",
                         "Instances of a stage running now.", "stage",
                         s->names[i], running);
    }
    for (size_t i = 0; i < s->nstages; i++) {
        if (nlocal(s, i) == 0)
            continue;
        gf_stage_stats st;
        gf_stats_sum(s, i, now_ns, &st);
        gf_metrics_gauge(b, "gigflow_stage_seconds",
                         "Seconds a stage has run (its longest instance).",
                         "stage", s->names[i], st.seconds);
    }
}

void gf_stats_free(gf_stats **sp)
{
    if (!sp || !*sp)
        return;
    gf_stats *s = *sp;
    gf_free(s->c);
    gf_free(s->remote);
    gf_free(s->first);
    gf_free(s->instances);
    gf_free(s);
    *sp = NULL;
}
