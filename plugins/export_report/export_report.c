/*
 * export_report - the district report: metric rows in, one self-contained
 * HTML page out (tables and inline SVG bar charts, printable, in Chinese or
 * English). See docs/plugins/export_report.md.
 *
 * Aggregates emit rows `kind: metric, set: <stage>, <by fields>, <metrics>`;
 * this plugin groups them by `set` into sections. With no `sections` option
 * every set becomes a section in arrival order, charted by its first
 * numeric metric against its by fields. The `sections` option (a map, in
 * file order) picks the sets, their order, and how each is shown:
 *
 *   sections:
 *     coverage: "title=各区域覆盖率 value=coverage_pct"
 *     projects: "title=关爱项目 by=category value=spend,beneficiaries"
 *     leaders:  "title=积分排行 chart=none sort=-points top=20"
 *     density:  每千名从业人员党员数          # just a title
 *
 * Keys of a spec: title, note, chart (bar|column|none), by, value,
 * columns, pct, share, labels (FIELD:LABEL,...), sort (FIELD or -FIELD),
 * top, decimals; lists are comma-separated, a value with spaces is written
 * in double quotes.
 *
 * The page is rendered at flush and written at commit() into the runtime's
 * atomic output for `path` (gf_host.output_open), which the runtime renames
 * over `path` once the whole run succeeded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gigflow/plugin.h>

#include "report.h"

#define ER_VERSION "1.0.0"
/* Nesting of arrays/maps rendered as text in a cell. */
#define ER_MAX_DEPTH 4

typedef struct er_config {
    const char *path;
    const char *title;
    const char *lang;
    const gf_strmap *sections;
    const gf_strmap *labels;
} er_config;

static const gf_option er_options[] = {
    {"path", GF_OPT_PATH, NULL, true, offsetof(er_config, path),
     "the HTML file to write (its directory must exist)"},
    {"title", GF_OPT_STRING, NULL, false, offsetof(er_config, title),
     "the report's title (default: a title in the report's language)"},
    {"lang", GF_OPT_STRING, "zh", false, offsetof(er_config, lang),
     "language of the fixed text: zh or en"},
    {"sections", GF_OPT_MAP, NULL, false, offsetof(er_config, sections),
     "set -> spec: which metric sets to show, in this order, and how "
     "(\"title=... chart=bar|column|none by=F value=F,G columns=... "
     "pct=F share=F labels=F:L,... sort=-F top=N decimals=N note=...\", "
     "or just a title); "
     "default: every set, in arrival order"},
    {"labels", GF_OPT_MAP, NULL, false, offsetof(er_config, labels),
     "field -> column label (overrides the built-in labels)"},
    {0},
};

typedef struct er_state {
    char *path;
    FILE *fp;    /* the output; NULL once written */
    rp_buf page; /* rendered at the last flush */
    bool rendered;
    rp_lang lang;
    const er_config *cfg;
    rp_spec *specs; /* one per `sections` entry, in its order */
    rp_set *sets;
    size_t nsets, capsets;
    uint64_t bad_records;
} er_state;

static int check_options(gf_ctx *ctx, const er_config *cfg, rp_lang *lang)
{
    const gf_host *h = ctx->host;
    int rc = GF_OK;
    const char *l = cfg->lang ? cfg->lang : "zh";
    if (strncmp(l, "zh", 2) == 0) {
        *lang = RP_ZH;
    } else if (strncmp(l, "en", 2) == 0) {
        *lang = RP_EN;
    } else {
        h->option_error(ctx, "lang",
                        "lang '%s' is not supported; use zh "
                        "or en",
                        l);
        rc = GF_ERROR;
    }
    if (!cfg->path || !*cfg->path || strcmp(cfg->path, "-") == 0) {
        h->option_error(ctx, "path",
                        "path must name the HTML file to "
                        "write");
        return GF_ERROR;
    }
    if (cfg->sections)
        for (size_t i = 0; i < cfg->sections->n; i++) {
            rp_spec s;
            char *msg = rp_spec_parse(cfg->sections->keys[i],
                                      cfg->sections->values[i], &s);
            if (msg) {
                h->option_error(ctx, "sections", "%s", msg);
                free(msg);
                rc = GF_ERROR;
            } else {
                rp_spec_free(&s);
            }
        }
    return rc;
}

static int er_check(gf_ctx *ctx, const void *config)
{
    rp_lang lang;
    return check_options(ctx, config, &lang);
}

/* --- collecting rows ------------------------------------------------------ */

static void set_free(rp_set *set)
{
    free(set->name);
    rp_spec_free(&set->spec);
    for (size_t r = 0; r < set->nrows; r++) {
        for (size_t c = 0; c < set->rows[r].n; c++)
            free(set->rows[r].cells[c].text);
        free(set->rows[r].cells);
    }
    free(set->rows);
    for (size_t c = 0; c < set->ncols; c++)
        free(set->cols[c]);
    free(set->cols);
}

static bool grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap * 2 : 8;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, n * size);
    if (!q)
        return false;
    *p = q;
    *cap = n;
    return true;
}

static rp_set *add_set(er_state *st, const char *name, size_t len)
{
    if (!grow((void **)&st->sets, &st->capsets, st->nsets + 1,
              sizeof *st->sets))
        return NULL;
    rp_set *set = &st->sets[st->nsets];
    *set = (rp_set){.spec = {.decimals = -1}};
    set->name = strndup(name, len);
    if (!set->name)
        return NULL;
    st->nsets++;
    return set;
}

static rp_set *find_set(er_state *st, gf_str name)
{
    for (size_t i = 0; i < st->nsets; i++)
        if (strlen(st->sets[i].name) == name.len &&
            memcmp(st->sets[i].name, name.ptr, name.len) == 0)
            return &st->sets[i];
    return NULL;
}

static long find_col(rp_set *set, gf_str key)
{
    for (size_t i = 0; i < set->ncols; i++)
        if (gf_str_eq(key, set->cols[i]))
            return (long)i;
    if (!grow((void **)&set->cols, &set->capcols, set->ncols + 1,
              sizeof *set->cols))
        return -1;
    set->cols[set->ncols] = strndup(key.ptr, key.len);
    if (!set->cols[set->ncols])
        return -1;
    return (long)set->ncols++;
}

/* Render a nested or odd value as text. */
static void value_text(const gf_host *h, rp_buf *b, const gf_value *v,
                       int depth)
{
    char num[64];
    gf_iter it = {0};
    gf_value x, k;
    switch (v->type) {
    case GF_T_NIL:
        return;
    case GF_T_BOOL:
        rp_puts(b, v->v.b ? "true" : "false");
        return;
    case GF_T_INT:
        snprintf(num, sizeof num, "%lld", (long long)v->v.i);
        rp_puts(b, num);
        return;
    case GF_T_FLOAT:
        snprintf(num, sizeof num, "%.15g", v->v.f);
        rp_puts(b, num);
        return;
    case GF_T_STR:
    case GF_T_BIN:
        rp_putn(b, v->v.s.ptr, v->v.s.len);
        return;
    case GF_T_ARRAY:
        if (depth >= ER_MAX_DEPTH) {
            rp_puts(b, "[…]");
            return;
        }
        rp_puts(b, "[");
        for (bool first = true; h->elem(v, &it, &x); first = false) {
            if (!first)
                rp_puts(b, ", ");
            value_text(h, b, &x, depth + 1);
        }
        rp_puts(b, "]");
        return;
    case GF_T_MAP:
        if (depth >= ER_MAX_DEPTH) {
            rp_puts(b, "{…}");
            return;
        }
        rp_puts(b, "{");
        for (bool first = true; h->entry(v, &it, &k, &x); first = false) {
            if (!first)
                rp_puts(b, ", ");
            value_text(h, b, &k, depth + 1);
            rp_puts(b, ": ");
            value_text(h, b, &x, depth + 1);
        }
        rp_puts(b, "}");
        return;
    }
}

static int to_cell(const gf_host *h, const gf_value *v, rp_cell *c)
{
    free(c->text);
    *c = (rp_cell){0};
    switch (v->type) {
    case GF_T_NIL:
        return 0;
    case GF_T_BOOL:
        c->kind = RP_BOOL;
        c->i = v->v.b;
        return 0;
    case GF_T_INT:
        c->kind = RP_INT;
        c->i = v->v.i;
        return 0;
    case GF_T_FLOAT:
        c->kind = RP_FLOAT;
        c->f = v->v.f;
        return 0;
    default: {
        rp_buf b = {0};
        rp_puts(&b, "");
        value_text(h, &b, v, 0);
        if (b.failed) {
            rp_buf_free(&b);
            return -1;
        }
        c->kind = RP_TEXT;
        c->text = b.data;
        return 0;
    }
    }
}

static int er_process(gf_ctx *ctx, void *state, const gf_record *rec,
                      gf_out *out)
{
    (void)out;
    er_state *st = state;
    const gf_host *h = ctx->host;
    gf_value kind, set;
    if (h->get(rec, "kind", &kind) &&
        (kind.type != GF_T_STR || !gf_str_eq(kind.v.s, "metric"))) {
        st->bad_records++;
        return h->reject(ctx, rec,
                         "export_report takes metric rows "
                         "(kind: metric) from aggregate stages; "
                         "this record has another kind");
    }
    if (!h->get(rec, "set", &set) || set.type != GF_T_STR || set.v.s.len == 0) {
        st->bad_records++;
        return h->reject(ctx, rec,
                         "metric row without a `set` field (the "
                         "aggregate stage's name): cannot tell "
                         "which report section it belongs to");
    }
    rp_set *s = find_set(st, set.v.s);
    if (!s) {
        if (st->cfg->sections) {
            /* not asked for: remember the name to warn once, show nothing */
            s = add_set(st, set.v.s.ptr, set.v.s.len);
            if (!s)
                goto fail_memory;
            for (size_t i = 0; i < st->cfg->sections->n && !s->listed; i++)
                s->listed = strcmp(st->cfg->sections->keys[i], s->name) == 0;
            if (!s->listed)
                h->log(ctx, GF_LOG_WARN,
                       "metric set '%s' is not listed in "
                       "`sections`; its rows are left out of the report",
                       s->name);
        } else {
            s = add_set(st, set.v.s.ptr, set.v.s.len);
            if (!s)
                goto fail_memory;
            s->listed = true;
        }
    }
    if (!s->listed)
        return GF_OK;

    if (!grow((void **)&s->rows, &s->caprows, s->nrows + 1, sizeof *s->rows))
        goto fail_memory;
    rp_row *row = &s->rows[s->nrows++];
    *row = (rp_row){0};
    gf_iter it = {0};
    gf_str key;
    gf_value val;
    while (h->next(rec, &it, &key, &val)) {
        long col = find_col(s, key);
        if (col < 0)
            goto fail_memory;
        if ((size_t)col >= row->n) {
            rp_cell *cells = realloc(row->cells, s->ncols * sizeof *cells);
            if (!cells)
                goto fail_memory;
            memset(cells + row->n, 0, (s->ncols - row->n) * sizeof *cells);
            row->cells = cells;
            row->n = s->ncols;
        }
        if (to_cell(h, &val, &row->cells[col]) != 0)
            goto fail_memory;
    }
    return GF_OK;

fail_memory:
    h->error(ctx, "out of memory while collecting report rows");
    return GF_ERROR;
}

/* --- writing -------------------------------------------------------------- */

/* Render the page into st->page (replacing an earlier one). */
static int render_report(gf_ctx *ctx, er_state *st)
{
    const gf_host *h = ctx->host;
    const er_config *cfg = st->cfg;
    size_t cap = st->nsets + (cfg->sections ? cfg->sections->n : 0) + 1;
    rp_set *shown = calloc(cap, sizeof *shown);
    if (!shown) {
        h->error(ctx, "out of memory while rendering the report");
        return GF_ERROR;
    }
    size_t n = 0;
    if (cfg->sections) {
        /* the option's order; a set listed but never seen is shown empty */
        for (size_t i = 0; i < cfg->sections->n; i++) {
            rp_set *s = NULL;
            for (size_t k = 0; k < st->nsets && !s; k++)
                if (strcmp(st->sets[k].name, cfg->sections->keys[i]) == 0)
                    s = &st->sets[k];
            shown[n] =
                s ? *s : (rp_set){.name = (char *)cfg->sections->keys[i]};
            shown[n++].spec = st->specs[i];
        }
    } else {
        for (size_t k = 0; k < st->nsets; k++)
            shown[n++] = st->sets[k];
    }
    rp_doc doc = {
        .lang = st->lang,
        .title = cfg->title,
        .sets = shown,
        .nsets = n,
        .bad_records = st->bad_records,
        .generated = -1,
        .version = ER_VERSION,
    };
    if (cfg->labels) {
        doc.label_keys = cfg->labels->keys;
        doc.label_values = cfg->labels->values;
        doc.nlabels = cfg->labels->n;
    }
    if (GF_HOST_HAS(h, rejects_total))
        doc.rejects = h->rejects_total(ctx);
    if (GF_HOST_HAS(h, run_started))
        doc.generated = h->run_started(ctx);
    if (GF_HOST_HAS(h, run_info)) {
        doc.pipeline = h->run_info(ctx, "pipeline");
        doc.inputs = h->run_info(ctx, "inputs");
        doc.dead_letters = h->run_info(ctx, "dead_letters");
    }
    rp_buf_free(&st->page);
    rp_render(&st->page, &doc);
    free(shown);
    if (st->page.failed || !st->page.data) {
        h->error(ctx, "out of memory while rendering the report");
        return GF_ERROR;
    }
    st->rendered = true;
    return GF_OK;
}

static int er_flush(gf_ctx *ctx, void *state, gf_out *out)
{
    (void)out;
    return render_report(ctx, state);
}

static int er_commit(gf_ctx *ctx, void *state)
{
    er_state *st = state;
    if (!st->fp)
        return GF_OK; /* committed already */
    if (!st->rendered && render_report(ctx, st) != GF_OK)
        return GF_ERROR;
    bool bad = fwrite(st->page.data, 1, st->page.len, st->fp) != st->page.len;
    bad |= fclose(st->fp) != 0;
    st->fp = NULL;
    if (bad) {
        ctx->host->error(ctx, "cannot write %s: %s", st->path, strerror(errno));
        return GF_ERROR;
    }
    return GF_OK;
}

static void er_destroy(gf_ctx *ctx, void *state)
{
    (void)ctx;
    er_state *st = state;
    if (!st)
        return;
    if (st->fp)
        fclose(st->fp);
    rp_buf_free(&st->page);
    free(st->path);
    for (size_t i = 0; i < st->nsets; i++)
        set_free(&st->sets[i]);
    free(st->sets);
    for (size_t i = 0; st->specs && i < st->cfg->sections->n; i++)
        rp_spec_free(&st->specs[i]);
    free(st->specs);
    free(st);
}

static int er_init(gf_ctx *ctx, const void *config, void **state)
{
    const er_config *cfg = config;
    rp_lang lang;
    if (er_check(ctx, cfg) != GF_OK || check_options(ctx, cfg, &lang) != GF_OK)
        return GF_ERROR;
    er_state *st = calloc(1, sizeof *st);
    if (!st)
        goto fail_memory;
    st->cfg = cfg;
    st->lang = lang;
    st->path = strdup(cfg->path);
    if (!st->path)
        goto fail_state;
    if (cfg->sections) {
        st->specs = calloc(cfg->sections->n + 1, sizeof *st->specs);
        if (!st->specs)
            goto fail_state;
        for (size_t i = 0; i < cfg->sections->n; i++) {
            char *msg = rp_spec_parse(cfg->sections->keys[i],
                                      cfg->sections->values[i], &st->specs[i]);
            if (msg) { /* check_options parsed it already: memory */
                free(msg);
                goto fail_state;
            }
        }
    }
    char err[512];
    if (!(st->fp = ctx->host->output_open(ctx, cfg->path, err, sizeof err))) {
        ctx->host->option_error(ctx, "path", "%s", err);
        er_destroy(ctx, st);
        return GF_ERROR;
    }
    *state = st;
    return GF_OK;

fail_state:
    er_destroy(ctx, st);
fail_memory:
    ctx->host->error(ctx, "out of memory");
    return GF_ERROR;
}

static const gf_plugin er_plugin = {
    GF_PLUGIN_HEADER,
    .name = "export_report",
    .kind = GF_KIND_EXPORT,
    .version = ER_VERSION,
    .description = "metric rows -> one self-contained HTML report with "
                   "tables and SVG charts",
    .options = er_options,
    .config_size = sizeof(er_config),
    .check = er_check,
    .init = er_init,
    .process = er_process,
    .flush = er_flush,
    .commit = er_commit,
    .destroy = er_destroy,
};

GF_PLUGIN_DEFINE(er_plugin)
