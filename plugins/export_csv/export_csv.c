/*
 * export_csv - write records as CSV (RFC 4180), atomically.
 *
 * Columns are the `columns` option, or the fields of the first record in
 * their order; with `split_by` and no `columns`, each file takes the fields
 * of its own first record, so the files of different kinds of record (the
 * metric sets of several aggregates) each keep their own columns. A column
 * a record lacks is an empty cell; fields a record has beyond the columns
 * are left out; when the columns were not given, they are counted in one
 * warning at flush.
 * Cells follow gigflow's text conventions: integers as integers, floats in
 * the shortest form that reads back the same, true/false, nil empty, binary
 * as base64, arrays and maps as JSON. A cell is quoted when it holds the
 * delimiter, a quote, a line end, or starts or ends with a space.
 *
 * The files are the runtime's atomic outputs (gf_host.output_open): renamed
 * over their targets only when the whole run succeeded, so a failed run
 * leaves no half-written file. `split_by: FIELD`
 * writes one file per value, STEM-VALUE.EXT (the value made safe as a file
 * name; records without the field go to STEM-none.EXT); at most
 * ECSV_MAX_OPEN of them are open at a time. `path: -` spools to an
 * anonymous temporary file and copies it to standard output at flush.
 *
 * This file holds the options and the callbacks; ecsv_text.c writes the
 * cells, ecsv_file.c manages the files.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gigflow/plugin.h>

#include "export_csv.h"

static const gf_option ecsv_options[] = {
    {"path", GF_OPT_PATH, NULL, true, offsetof(ecsv_config, path),
     "CSV file to write; - writes standard output (at flush)"},
    {"columns", GF_OPT_LIST, NULL, false, offsetof(ecsv_config, columns),
     "fields to write, in order (default: the first record's fields)"},
    {"delimiter", GF_OPT_STRING, ",", false, offsetof(ecsv_config, delimiter),
     "field separator: one byte, or \"tab\""},
    {"bom", GF_OPT_BOOL, "false", false, offsetof(ecsv_config, bom),
     "start with a UTF-8 byte order mark (for office software)"},
    {"header", GF_OPT_BOOL, "true", false, offsetof(ecsv_config, header),
     "write the column names as the first row"},
    {"split_by", GF_OPT_STRING, NULL, false, offsetof(ecsv_config, split_by),
     "write one file per value of this field: STEM-VALUE.EXT"},
    {"crlf", GF_OPT_BOOL, "false", false, offsetof(ecsv_config, crlf),
     "end lines with CR LF instead of LF"},
    {0},
};

/* ---- callbacks ---------------------------------------------------------- */

static int ecsv_delim(const char *s)
{
    if (!s || strcmp(s, "tab") == 0)
        return s ? '\t' : ',';
    if (strlen(s) != 1 || s[0] == '"' || s[0] == '\n' || s[0] == '\r')
        return -1;
    return (unsigned char)s[0];
}

static int ecsv_check(gf_ctx *ctx, const void *config)
{
    const ecsv_config *cfg = config;
    int rc = GF_OK;
    if (ecsv_delim(cfg->delimiter) < 0) {
        ctx->host->option_error(ctx, "delimiter",
                                "delimiter must be one byte "
                                "other than a quote or a line end, or "
                                "\"tab\"; got \"%s\"",
                                cfg->delimiter);
        rc = GF_ERROR;
    }
    if (cfg->split_by && strcmp(cfg->path, "-") == 0) {
        ctx->host->option_error(ctx, "split_by",
                                "split_by writes several "
                                "files: give `path` a file name, not -");
        rc = GF_ERROR;
    }
    return rc;
}

/* Room for n columns in c, and for n values in e's per-record arrays. */
static int ecsv_set_columns(ecsv *e, ecsv_cols *c, size_t n)
{
    c->names = calloc(n ? n : 1, sizeof *c->names);
    c->len = calloc(n ? n : 1, sizeof *c->len);
    c->n = n;
    c->set = true;
    if (!c->names || !c->len)
        return -1;
    size_t want = n ? n : 1;
    if (want > e->capvals) {
        gf_value *v = realloc(e->vals, want * sizeof *v);
        if (v)
            e->vals = v;
        bool *p = realloc(e->present, want * sizeof *p);
        if (p)
            e->present = p;
        if (!v || !p)
            return -1;
        e->capvals = want;
    }
    return 0;
}

static void ecsv_cols_free(ecsv_cols *c)
{
    for (size_t i = 0; c->names && i < c->n; i++)
        free(c->names[i]);
    free(c->names);
    free(c->len);
}

static void ecsv_destroy(gf_ctx *ctx, void *state);

/* init(), except that a failure may leave a half-built *state. */
static int ecsv_open(gf_ctx *ctx, const void *config, void **state)
{
    const ecsv_config *cfg = config;
    if (ecsv_check(ctx, config) < 0)
        return GF_ERROR;
    ecsv *e = calloc(1, sizeof *e);
    if (!e)
        goto fail_nomem;
    *state = e;
    e->cfg = cfg;
    e->delim = (char)ecsv_delim(cfg->delimiter);
    e->eol = cfg->crlf ? "\r\n" : "\n";
    e->special[(unsigned char)e->delim] = e->special['"'] = 1;
    e->special['\r'] = e->special['\n'] = 1;
    if (!(e->cloc = newlocale(LC_ALL_MASK, "C", (locale_t)0)))
        goto fail_nomem;
    if (cfg->columns) {
        if (ecsv_set_columns(e, &e->given, cfg->columns->n) < 0)
            goto fail_nomem;
        for (size_t i = 0; i < cfg->columns->n; i++) {
            e->given.names[i] = strdup(cfg->columns->items[i]);
            if (!e->given.names[i])
                goto fail_nomem;
            e->given.len[i] = strlen(e->given.names[i]);
        }
    }
    if (strcmp(cfg->path, "-") == 0) {
        ecsv_file *f = ecsv_add_file(ctx, e, NULL);
        if (!f)
            return GF_ERROR;
        if (!(e->spool = f->fp = tmpfile()))
            return ecsv_sys_error(ctx, "a temporary file for stdout", errno);
        return GF_OK;
    }
    const char *slash = strrchr(cfg->path, '/');
    const char *dot = strrchr(slash ? slash + 1 : cfg->path, '.');
    if (dot == (slash ? slash + 1 : cfg->path))
        dot = NULL; /* ".hidden" has no extension */
    e->dir =
        slash ? strndup(cfg->path, (size_t)(slash - cfg->path)) : strdup(".");
    if (e->dir && !e->dir[0]) {
        free(e->dir);
        e->dir = strdup("/");
    }
    e->stem =
        dot ? strndup(cfg->path, (size_t)(dot - cfg->path)) : strdup(cfg->path);
    e->ext = strdup(dot ? dot : "");
    if (!e->dir || !e->stem || !e->ext)
        goto fail_nomem;
    if (cfg->split_by) { /* files come with their values: check the dir now */
        struct stat st;
        if (stat(e->dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            ctx->host->error(ctx,
                             "%s: the directory %s does not exist; "
                             "create it first",
                             cfg->path, e->dir);
            return GF_ERROR;
        }
        if (access(e->dir, W_OK) != 0)
            return ecsv_sys_error(ctx, e->dir, errno);
        return GF_OK;
    }
    ecsv_file *f = ecsv_add_file(ctx, e, NULL);
    return f ? ecsv_create(ctx, e, f) : GF_ERROR;

fail_nomem:
    ctx->host->error(ctx, "out of memory");
    return GF_ERROR;
}

/* A failed init() frees what it built (and removes any temporary file):
   no destroy() is needed after it. */
static int ecsv_init(gf_ctx *ctx, const void *config, void **state)
{
    *state = NULL;
    int rc = ecsv_open(ctx, config, state);
    if (rc < 0) {
        ecsv_destroy(ctx, *state);
        *state = NULL;
    }
    return rc;
}

/* A file's first record names its columns, in its field order. */
static int ecsv_columns_from(const gf_host *h, ecsv *e, ecsv_cols *c,
                             const gf_record *rec)
{
    gf_iter it = {0};
    gf_str k;
    gf_value v;
    if (ecsv_set_columns(e, c, rec->nfields) < 0)
        return -1;
    size_t n = 0;
    while (n < rec->nfields && h->next(rec, &it, &k, &v)) {
        if (!(c->names[n] = strndup(k.ptr, k.len)))
            return -1;
        c->len[n++] = k.len;
    }
    c->n = n;
    return 0;
}

static void ecsv_note_extra(ecsv *e, gf_str k)
{
    for (size_t i = 0; i < e->nextra; i++)
        if (gf_str_eq(k, e->extra[i]))
            return;
    if (e->nextra < ECSV_EXTRA_NAMES)
        if ((e->extra[e->nextra] = strndup(k.ptr, k.len)) != NULL)
            e->nextra++;
}

static int ecsv_process(gf_ctx *ctx, void *state, const gf_record *rec,
                        gf_out *out)
{
    (void)out;
    ecsv *e = state;
    const gf_host *h = ctx->host;
    ecsv_file *f = e->nfiles ? &e->files[0] : NULL;
    if (e->cfg->split_by) {
        gf_value sv;
        h->get(rec, e->cfg->split_by, &sv); /* absent reads as nil */
        if (!(f = ecsv_split_file(ctx, e, &sv)))
            return GF_ERROR;
    }
    ecsv_cols *c = ecsv_cols_of(e, f);
    if (!c->set && ecsv_columns_from(h, e, c, rec) < 0) {
        h->error(ctx, "out of memory");
        return GF_ERROR;
    }
    memset(e->present, 0, c->n * sizeof *e->present);
    gf_iter it = {0};
    gf_str k;
    gf_value v;
    size_t guess = 0;
    bool extra = false;
    while (h->next(rec, &it, &k, &v)) {
        size_t i = guess;
        if (i >= c->n || k.len != c->len[i] ||
            memcmp(k.ptr, c->names[i], k.len) != 0)
            for (i = 0; i < c->n; i++)
                if (k.len == c->len[i] &&
                    memcmp(k.ptr, c->names[i], k.len) == 0)
                    break;
        if (i == c->n) {
            if (e->cfg->columns)
                continue; /* chosen columns: the rest is left out */
            if (!extra)
                e->extra_records++;
            extra = true;
            ecsv_note_extra(e, k);
            continue;
        }
        e->vals[i] = v;
        e->present[i] = true;
        guess = i + 1;
    }
    e->line.len = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (i)
            tb_put(&e->line, &e->delim, 1);
        if (!e->present[i])
            continue;
        if (e->vals[i].type == GF_T_STR) {
            ecsv_cell(e, e->vals[i].v.s.ptr, e->vals[i].v.s.len);
            continue;
        }
        e->cell.len = 0;
        tb_value(e, h, &e->cell, &e->vals[i]);
        ecsv_cell(e, e->cell.p, e->cell.len);
    }
    tb_put(&e->line, e->eol, strlen(e->eol));
    if (ecsv_write(ctx, e, f) < 0)
        return GF_ERROR;
    f->rows++;
    return GF_OK;
}

static int ecsv_flush(gf_ctx *ctx, void *state, gf_out *out)
{
    (void)out;
    ecsv *e = state;
    if (e->extra_records > 0) {
        char names[256] = "";
        size_t n = 0;
        for (size_t i = 0; i < e->nextra && n < sizeof names; i++)
            n += (size_t)snprintf(names + n, sizeof names - n, "%s%s",
                                  i ? ", " : "", e->extra[i]);
        ctx->host->log(ctx, GF_LOG_WARN,
                       "%llu records had fields that are not "
                       "columns of %s; left out: %s%s",
                       (unsigned long long)e->extra_records, e->cfg->path,
                       names, e->nextra == ECSV_EXTRA_NAMES ? ", ..." : "");
        e->extra_records = 0;
    }
    for (size_t i = 0; i < e->nfiles; i++) {
        ecsv_file *f = &e->files[i];
        e->line.len = 0;
        if (!f->started && ecsv_write(ctx, e, f) < 0)
            return GF_ERROR;
        if (f->fp && fflush(f->fp) != 0)
            return ecsv_sys_error(ctx, f->final, errno);
    }
    if (e->spool) {
        FILE *sp = e->spool;
        char buf[65536];
        size_t got;
        if (fflush(sp) != 0 || fseek(sp, e->spooled, SEEK_SET) != 0)
            return ecsv_sys_error(ctx, "the stdout spool", errno);
        while ((got = fread(buf, 1, sizeof buf, sp)) > 0) {
            if (fwrite(buf, 1, got, stdout) != got)
                return ecsv_sys_error(ctx, "<stdout>", errno);
            e->spooled += (long)got;
        }
        if (fflush(stdout) != 0)
            return ecsv_sys_error(ctx, "<stdout>", errno);
    }
    return GF_OK;
}

static void ecsv_destroy(gf_ctx *ctx, void *state)
{
    (void)ctx;
    ecsv *e = state;
    if (!e)
        return;
    for (size_t i = 0; i < e->nfiles; i++) {
        ecsv_file *f = &e->files[i];
        if (f->fp && f->fp != e->spool)
            fclose(f->fp);
        free(f->final);
        free(f->name);
        ecsv_cols_free(&f->cols);
    }
    if (e->spool)
        fclose(e->spool);
    ecsv_cols_free(&e->given);
    for (size_t i = 0; i < e->nextra; i++)
        free(e->extra[i]);
    if (e->cloc)
        freelocale(e->cloc);
    free(e->vals);
    free(e->present);
    free(e->files);
    free(e->slots);
    free(e->dir);
    free(e->stem);
    free(e->ext);
    free(e->line.p);
    free(e->cell.p);
    free(e->json.p);
    free(e);
}

static const gf_plugin export_csv = {
    GF_PLUGIN_HEADER,
    .name = "export_csv",
    .kind = GF_KIND_EXPORT,
    .version = "1.0.0",
    .description = "write records as CSV, atomically; optionally one file "
                   "per value of a field",
    .options = ecsv_options,
    .config_size = sizeof(ecsv_config),
    .check = ecsv_check,
    .init = ecsv_init,
    .process = ecsv_process,
    .flush = ecsv_flush,
    .destroy = ecsv_destroy,
};

GF_PLUGIN_DEFINE(export_csv)
