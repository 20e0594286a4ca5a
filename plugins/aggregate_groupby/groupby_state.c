/*
 * groupby_state - builds aggregate_groupby's state from its options: the
 * `by` list and the `metrics` expressions (count(), count_if(F), sum(F),
 * min(F), max(F), avg(F), distinct(F), median(F)) become a table of
 * distinct fields read once per record and a layout of per-group metric
 * states. Also the arena that group states live in, and the teardown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "groupby_state.h"

#define GB_CHUNK (1u << 20)

typedef struct gb_chunk {
    struct gb_chunk *next;
} gb_chunk;

void *gb_arena_alloc(gb_arena *a, size_t size)
{
    size = (size + 7) & ~(size_t)7;
    if ((size_t)(a->end - a->cur) < size) {
        size_t n = size > GB_CHUNK / 4 ? size : GB_CHUNK;
        gb_chunk *c = calloc(1, sizeof(gb_chunk) + 8 + n);
        if (!c)
            return NULL;
        c->next = a->chunks;
        a->chunks = c;
        a->bytes += n;
        a->cur = (uint8_t *)c + ((sizeof(gb_chunk) + 7) & ~(size_t)7);
        a->end = a->cur + n;
    }
    void *p = a->cur;
    a->cur += size;
    return p;
}

static const struct {
    const char *name;
    gb_fn fn;
    size_t size;
} gb_fns[] = {
    {"count", M_COUNT, sizeof(uint64_t)},
    {"count_if", M_COUNT_IF, sizeof(uint64_t)},
    {"sum", M_SUM, sizeof(gb_acc)},
    {"min", M_MIN, sizeof(gb_ext)},
    {"max", M_MAX, sizeof(gb_ext)},
    {"avg", M_AVG, sizeof(gb_acc)},
    {"distinct", M_DISTINCT, sizeof(gb_dset)},
    {"median", M_MEDIAN, sizeof(gb_vals)},
};

static const char *skip_space(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/*
 * Parse "fn(FIELD)" into *fi (index into gb_fns) and the field's span.
 * Returns NULL, or a message (static text or written into err).
 */
static const char *parse_expr(const char *expr, size_t *fi, const char **arg,
                              size_t *arglen, char *err, size_t errlen)
{
    const char *p = skip_space(expr), *name = p;
    while ((*p >= 'a' && *p <= 'z') || *p == '_')
        p++;
    size_t namelen = (size_t)(p - name);
    if (namelen == 0)
        return "expected a function: count(), count_if(F), sum(F), "
               "min(F), max(F), avg(F), distinct(F) or median(F)";
    for (*fi = 0; *fi < sizeof gb_fns / sizeof *gb_fns; ++*fi)
        if (strlen(gb_fns[*fi].name) == namelen &&
            memcmp(gb_fns[*fi].name, name, namelen) == 0)
            break;
    if (*fi == sizeof gb_fns / sizeof *gb_fns) {
        snprintf(err, errlen,
                 "unknown function '%.*s' (expected count, "
                 "count_if, sum, min, max, avg, distinct or median)",
                 (int)namelen, name);
        return err;
    }
    p = skip_space(p);
    if (*p != '(') {
        snprintf(err, errlen, "expected '(' after '%.*s'", (int)namelen, name);
        return err;
    }
    p = skip_space(p + 1);
    *arg = p;
    while (*p && *p != ')' && *p != '(' && *p != ',')
        p++;
    const char *close = p;
    while (close > *arg && (close[-1] == ' ' || close[-1] == '\t'))
        close--;
    *arglen = (size_t)(close - *arg);
    if (*p == ',' || *p == '(') {
        snprintf(err, errlen, "%s() takes %s", gb_fns[*fi].name,
                 gb_fns[*fi].fn == M_COUNT ? "no field" : "one field name");
        return err;
    }
    if (*p != ')')
        return "missing ')'";
    if (*skip_space(p + 1)) {
        snprintf(err, errlen, "unexpected text after ')': '%s'",
                 skip_space(p + 1));
        return err;
    }
    if (gb_fns[*fi].fn == M_COUNT && *arglen) {
        snprintf(err, errlen,
                 "count() takes no field (count_if(%.*s) counts "
                 "the records where it is true)",
                 (int)*arglen, *arg);
        return err;
    }
    if (gb_fns[*fi].fn != M_COUNT && !*arglen) {
        snprintf(err, errlen, "%s() needs a field: %s(FIELD)", gb_fns[*fi].name,
                 gb_fns[*fi].name);
        return err;
    }
    return NULL;
}

static int add_field(gb_state *s, const char *name, size_t len)
{
    for (size_t i = 0; i < s->nfields; i++)
        if (s->fieldlens[i] == len && memcmp(s->fields[i], name, len) == 0)
            return (int)i;
    char *copy = gb_arena_alloc(&s->arena, len + 1);
    if (!copy)
        return -1;
    memcpy(copy, name, len);
    s->fields[s->nfields] = copy;
    s->fieldlens[s->nfields] = len;
    if (len < 64)
        s->lens |= 1ull << len;
    return (int)s->nfields++;
}

static bool reserved(const char *name)
{
    return strcmp(name, "kind") == 0 || strcmp(name, "set") == 0;
}

/* Check `by`; fields 0..nby-1. Returns the number of errors, or -1. */
static int compile_by(gf_ctx *ctx, gb_state *s, const gf_strlist *by)
{
    int errors = 0;
    for (size_t i = 0; by && i < by->n; i++) {
        const char *f = by->items[i];
        if (!*f) {
            ctx->host->option_error(ctx, "by",
                                    "item %zu is empty: give a "
                                    "field name",
                                    i + 1);
            errors++;
        } else if (reserved(f)) {
            ctx->host->option_error(ctx, "by",
                                    "cannot group by '%s': the "
                                    "output record's own '%s' field would "
                                    "hide it",
                                    f, f);
            errors++;
        } else if (add_field(s, f, strlen(f)) < 0) {
            return -1;
        } else if (s->nfields == s->nby) {
            ctx->host->option_error(ctx, "by", "field '%s' is listed twice", f);
            errors++;
        }
        s->nby = s->nfields;
    }
    return errors;
}

static int compile_metrics(gf_ctx *ctx, gb_state *s, const gf_strmap *m)
{
    int errors = 0;
    char err[256];
    if (!m || m->n == 0) {
        ctx->host->option_error(ctx, "metrics",
                                "give at least one metric, "
                                "e.g. `metrics: {n: count()}`");
        return 1;
    }
    for (size_t i = 0; i < m->n; i++) {
        const char *name = m->keys[i], *arg = NULL, *msg;
        size_t fi = 0, arglen = 0;
        bool clash = reserved(name);
        for (size_t b = 0; b < s->nby; b++)
            clash |= strcmp(s->fields[b], name) == 0;
        for (size_t j = 0; j < i; j++)
            clash |= strcmp(m->keys[j], name) == 0;
        if (clash) {
            ctx->host->option_error(ctx, "metrics",
                                    "metric '%s': the name "
                                    "is taken (kind, set, a by field or "
                                    "another metric)",
                                    name);
            errors++;
            continue;
        }
        msg = parse_expr(m->values[i], &fi, &arg, &arglen, err, sizeof err);
        if (msg) {
            ctx->host->option_error(ctx, "metrics", "metric '%s': '%s': %s",
                                    name, m->values[i], msg);
            errors++;
            continue;
        }
        gb_metric *mt = &s->metrics[s->nmetrics++];
        mt->name = name;
        mt->fn = gb_fns[fi].fn;
        mt->off = s->group_size;
        s->group_size += (gb_fns[fi].size + 7) & ~(size_t)7;
        if (mt->fn == M_COUNT)
            continue;
        int f = add_field(s, arg, arglen);
        if (f < 0)
            return -1;
        mt->field = (uint32_t)f;
        if (mt->fn == M_SUM || mt->fn == M_MIN || mt->fn == M_MAX ||
            mt->fn == M_AVG || mt->fn == M_MEDIAN)
            s->numeric[f] = true;
    }
    return errors;
}

gb_state *gb_state_new(gf_ctx *ctx, const gb_config *cfg)
{
    size_t nby = cfg->by ? cfg->by->n : 0;
    size_t nm = cfg->metrics ? cfg->metrics->n : 0;
    size_t maxf = nby + nm + 1;
    gb_state *s = calloc(1, sizeof *s);
    if (!s)
        goto fail_memory;
    s->fields = calloc(maxf, sizeof *s->fields);
    s->fieldlens = calloc(maxf, sizeof *s->fieldlens);
    s->numeric = calloc(maxf, sizeof *s->numeric);
    s->vals = calloc(maxf, sizeof *s->vals);
    s->found = calloc(maxf, sizeof *s->found);
    s->metrics = calloc(nm + 1, sizeof *s->metrics);
    if (!s->fields || !s->fieldlens || !s->numeric || !s->vals || !s->found ||
        !s->metrics)
        goto fail_state;
    s->group_size = (sizeof(gb_group) + 7) & ~(size_t)7;
    int e1 = compile_by(ctx, s, cfg->by);
    int e2 = e1 < 0 ? -1 : compile_metrics(ctx, s, cfg->metrics);
    if (e1 < 0 || e2 < 0)
        goto fail_state;
    if (e1 || e2) {
        gb_state_free(&s);
        return NULL;
    }
    return s;
fail_state:
    gb_state_free(&s);
fail_memory:
    ctx->host->error(ctx, "out of memory");
    return NULL;
}

void gb_state_free(gb_state **sp)
{
    gb_state *s = sp ? *sp : NULL;
    if (!s)
        return;
    for (size_t i = 0; i < s->nmetrics; i++) {
        const gb_metric *m = &s->metrics[i];
        if (m->fn != M_DISTINCT && m->fn != M_MEDIAN)
            continue;
        for (size_t g = 0; g < s->ngroups; g++) {
            void *st = (uint8_t *)s->groups[g] + m->off;
            if (m->fn == M_DISTINCT)
                free(((gb_dset *)st)->tab);
            else
                free(((gb_vals *)st)->v);
        }
    }
    while (s->arena.chunks) {
        gb_chunk *c = s->arena.chunks;
        s->arena.chunks = c->next;
        free(c);
    }
    free(s->fields);
    free(s->fieldlens);
    free(s->numeric);
    free(s->vals);
    free(s->found);
    free(s->metrics);
    free(s->slots);
    free(s->groups);
    free(s->key.p);
    free(s->scratch.p);
    free(s);
    *sp = NULL;
}
