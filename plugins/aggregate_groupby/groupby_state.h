/*
 * aggregate_groupby internals: the per-instance state (options compiled
 * into metrics and a field table, the group hash table, the arena that
 * holds group state) shared by groupby_state.c (building it from the
 * options, freeing it), groupby_table.c (keys, groups, metrics),
 * groupby_merge.c (partial states and their merge) and aggregate_groupby.c
 * (the plugin's callbacks).
 */
#ifndef GROUPBY_STATE_H
#define GROUPBY_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gigflow/plugin.h>

typedef struct gb_config {
    const gf_strlist *by;
    const gf_strmap *metrics;
} gb_config;

typedef enum gb_fn {
    M_COUNT,
    M_COUNT_IF,
    M_SUM,
    M_MIN,
    M_MAX,
    M_AVG,
    M_DISTINCT,
    M_MEDIAN
} gb_fn;

/* One metric: its state lives at `off` bytes into every group. */
typedef struct gb_metric {
    const char *name;
    gb_fn fn;
    uint32_t field; /* index into gb_state.fields (unused by count()) */
    size_t off;
} gb_metric;

/* Per-group metric states. */
typedef struct gb_acc { /* sum, avg */
    uint64_t n;
    int64_t i;
    double f;
    bool is_float;
} gb_acc;

typedef struct gb_ext { /* min, max */
    bool has, is_float;
    int64_t i;
    double f;
} gb_ext;

typedef struct gb_dent {
    uint64_t hash;
    const uint8_t *key; /* encoded value, in the arena */
    uint32_t len;
} gb_dent;

typedef struct gb_dset { /* distinct: open addressing, power-of-2 cap */
    uint32_t n, cap;
    gb_dent *tab;
} gb_dset;

typedef struct gb_vals { /* median: every value */
    size_t n, cap;
    double *v;
} gb_vals;

/* A group: this header, the metric states, then the encoded key. */
typedef struct gb_group {
    uint8_t *key;
    uint32_t key_len;
} gb_group;

typedef struct gb_slot {
    uint64_t hash;
    gb_group *g;
} gb_slot;

typedef struct gb_buf {
    uint8_t *p;
    size_t len, cap;
} gb_buf;

/* Bump allocator in chunks; everything is freed at once. */
typedef struct gb_arena {
    void *chunks;
    uint8_t *cur, *end;
    size_t bytes; /* chunk bytes allocated, for reports */
} gb_arena;

typedef struct gb_state {
    gb_arena arena;
    /* fields read per record: by fields first (0..nby-1), then metric
       arguments not among them */
    const char **fields;
    size_t *fieldlens;
    bool *numeric; /* a sum/min/max/avg/median argument */
    size_t nfields, nby;
    gf_value *vals;
    bool *found;   /* per field: seen in the record being read */
    uint64_t lens; /* bit n set: some field name is n bytes long (n < 64) */
    gb_metric *metrics;
    size_t nmetrics;
    size_t group_size; /* header + metric states, 8-aligned */
    /* the groups */
    gb_slot *slots;
    size_t cap;
    gb_group **groups; /* in order of appearance; sorted at flush */
    size_t ngroups, capgroups;
    gb_buf key, scratch;
    char msg[256]; /* the last reject reason */
} gb_state;

/* Zeroed, 8-aligned memory from the arena; NULL when memory runs out. */
void *gb_arena_alloc(gb_arena *a, size_t size);
/*
 * Build the state from the options; problems go to host->option_error at
 * `by` or `metrics` (all of them); NULL when there was any or memory ran
 * out (reported through host->error). The hash table is not yet allocated.
 */
gb_state *gb_state_new(gf_ctx *ctx, const gb_config *cfg);
/* Free the state and every group's sets and values; *sp = NULL. */
void gb_state_free(gb_state **sp);

/* --- groupby_table.c: keys, groups, metrics ------------------------- */

/* Make room for `more` bytes in b; -1 when memory runs out. */
int gb_buf_reserve(gb_buf *b, size_t more);
/* Decode one value at *p (advanced); STR values point into the key. */
gf_value gb_key_decode(const uint8_t **p);
/* qsort() order of gb_group pointers: by their by-values (nil < bools <
   numbers < strings < bytes < arrays < maps). */
int gb_group_cmp(const void *pa, const void *pb);
/* Allocate or double the hash table; -1 when memory runs out. */
int gb_table_grow(gb_state *s);
/* The group of the key in s->key, created when new; NULL: out of memory. */
gb_group *gb_group_find(gb_state *s);
/* The record read into s->vals (by fields first) into its group: the key
   encoded into s->key, the group found or created, each metric added;
   -1 when memory runs out. Called once per record: the per-record work
   stays in this file, where the compiler can inline it. */
int gb_table_add(gb_state *s);
/* Set metric m of group g as a field of the record being built in out. */
void gb_metric_emit(const gf_host *h, gf_out *out, const gb_metric *m,
                    gb_group *g);
/* The states' parts that merge() adds to: a number to a min/max, an
   encoded value to a distinct set, a value to a median's list; -1 when
   memory runs out. */
void gb_ext_add(gb_ext *e, const gf_value *v, bool is_max);
int gb_dset_add_encoded(gb_state *s, gb_dset *d, const uint8_t *enc,
                        size_t len);
int gb_vals_add(gb_vals *m, double x);

/* --- groupby_merge.c: several workers ------------------------------ */

/* partial(): one record per group, `_key` and `_m` (the metric states). */
int gb_partial(gf_ctx *ctx, void *state, gf_out *out);
/* merge(): fold one partial record into this instance's groups. */
int gb_merge(gf_ctx *ctx, void *state, const gf_record *partial);

#endif
