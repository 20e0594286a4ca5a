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

#define ECSV_MAX_OPEN 64   /* split files open at once */
#define ECSV_SAFE_MAX 100  /* bytes of a value in a file name */
#define ECSV_EXTRA_NAMES 8 /* extra field names named in the warning */

typedef struct ecsv_config {
    const char *path;
    const gf_strlist *columns;
    const char *delimiter;
    bool bom;
    bool header;
    const char *split_by;
    bool crlf;
} ecsv_config;

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

typedef struct tbuf {
    char *p;
    size_t len, cap;
    bool nomem;
} tbuf;

/* A column list: names and their lengths. */
typedef struct ecsv_cols {
    char **names;
    size_t *len;
    size_t n;
    bool set; /* false until chosen (a file not yet written to) */
} ecsv_cols;

typedef struct ecsv_file {
    ecsv_cols cols; /* its own columns, when `columns` was not given */
    char *name;     /* safe split value, or NULL */
    char *final;
    FILE *fp; /* NULL while closed to bound open files */
    uint64_t rows, last_use;
    bool started; /* BOM and header written */
} ecsv_file;

typedef struct ecsv {
    const ecsv_config *cfg;
    char delim;
    const char *eol;
    unsigned char special[256]; /* bytes that force quoting */
    locale_t cloc;

    ecsv_cols given; /* the `columns` option, when given */
    gf_value *vals;  /* per column of the record being written */
    bool *present;
    size_t capvals;

    char *dir, *stem, *ext;
    ecsv_file *files;
    size_t nfiles, capfiles, nopen;
    size_t *slots; /* hash of split names -> file index + 1 */
    size_t nslots;
    uint64_t clock;
    FILE *spool;  /* path: - */
    long spooled; /* bytes of spool already on stdout */

    tbuf line, cell, json;
    uint64_t extra_records;
    char *extra[ECSV_EXTRA_NAMES];
    size_t nextra;
} ecsv;

/* ---- text --------------------------------------------------------------- */

static void tb_put(tbuf *b, const void *s, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->nomem = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void tb_int(tbuf *b, int64_t v)
{
    char t[24], *q = t + sizeof t;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do
        *--q = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0)
        *--q = '-';
    tb_put(b, q, (size_t)(t + sizeof t - q));
}

/*
 * The shortest of %.15g, %.16g, %.17g that reads back as v. Most data
 * (points, budgets) has a few decimals: v = m / 10^k exactly for a small k
 * is written by hand, which is what %.15g writes for it, without printf.
 */
static void tb_float(ecsv *e, tbuf *b, double v)
{
    static const double p10[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6};
    double a = fabs(v);
    if (a < 1e9 && (a >= 1e-4 || (v == 0 && !signbit(v)))) {
        for (int k = 0; k <= 6; k++) {
            int64_t m = llrint(v * p10[k]);
            if ((double)m / p10[k] != v)
                continue;
            uint64_t u = m < 0 ? 0 - (uint64_t)m : (uint64_t)m;
            uint64_t div = (uint64_t)p10[k];
            if (m < 0)
                tb_put(b, "-", 1);
            tb_int(b, (int64_t)(u / div));
            if (k > 0) {
                char f[8];
                uint64_t r = u % div;
                for (int i = k; i-- > 0; r /= 10)
                    f[i] = (char)('0' + r % 10);
                tb_put(b, ".", 1);
                tb_put(b, f, (size_t)k);
            }
            return;
        }
    }
    char t[40];
    locale_t old = uselocale(e->cloc);
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(t, sizeof t, "%.*g", prec, v);
        if (strtod(t, NULL) == v || v != v)
            break;
    }
    uselocale(old);
    tb_put(b, t, (size_t)n);
}

static void tb_base64(tbuf *b, const unsigned char *s, size_t n)
{
    static const char a[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        uint32_t w = (uint32_t)s[i] << 16;
        if (i + 1 < n)
            w |= (uint32_t)s[i + 1] << 8;
        if (i + 2 < n)
            w |= s[i + 2];
        char q[4] = {a[w >> 18], a[(w >> 12) & 63],
                     i + 1 < n ? a[(w >> 6) & 63] : '=',
                     i + 2 < n ? a[w & 63] : '='};
        tb_put(b, q, 4);
    }
}

/* An array or map value as JSON (host value_to_json). */
static void tb_json(ecsv *e, const gf_host *h, tbuf *b, const gf_value *v)
{
    long len = h->value_to_json(v, &e->json.p, &e->json.cap);
    if (len < 0)
        b->nomem = true;
    else
        tb_put(b, e->json.p, (size_t)len);
}

/* A value as text, without quoting. */
static void tb_value(ecsv *e, const gf_host *h, tbuf *b, const gf_value *v)
{
    switch (v->type) {
    case GF_T_NIL:
        break;
    case GF_T_BOOL:
        tb_put(b, v->v.b ? "true" : "false", v->v.b ? 4 : 5);
        break;
    case GF_T_INT:
        tb_int(b, v->v.i);
        break;
    case GF_T_FLOAT:
        tb_float(e, b, v->v.f);
        break;
    case GF_T_STR:
        tb_put(b, v->v.s.ptr, v->v.s.len);
        break;
    case GF_T_BIN:
        tb_base64(b, (const unsigned char *)v->v.s.ptr, v->v.s.len);
        break;
    default:
        tb_json(e, h, b, v);
        break;
    }
}

/* Append one CSV cell, quoted when RFC 4180 or a space at an end needs it. */
static void ecsv_cell(ecsv *e, const char *s, size_t n)
{
    bool quote = n > 0 && (s[0] == ' ' || s[n - 1] == ' ');
    for (size_t i = 0; i < n && !quote; i++)
        quote = e->special[(unsigned char)s[i]];
    if (!quote) {
        tb_put(&e->line, s, n);
        return;
    }
    tb_put(&e->line, "\"", 1);
    for (const char *q; n > 0 && (q = memchr(s, '"', n)) != NULL;) {
        tb_put(&e->line, s, (size_t)(q + 1 - s));
        tb_put(&e->line, "\"", 1);
        n -= (size_t)(q + 1 - s);
        s = q + 1;
    }
    tb_put(&e->line, s, n);
    tb_put(&e->line, "\"", 1);
}

/* ---- files -------------------------------------------------------------- */

static int ecsv_sys_error(gf_ctx *ctx, const char *what, int err)
{
    char eb[128];
    ctx->host->error(ctx, "%s: %s", what, strerror_r(err, eb, sizeof eb));
    return GF_ERROR;
}

/* A value as a safe piece of a file name: no '/', no "..", no control
   characters, valid UTF-8, at most ECSV_SAFE_MAX bytes. */
static char *ecsv_safe(const char *s, size_t n)
{
    char *out = malloc(n + 5), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n && (size_t)(o - out) < ECSV_SAFE_MAX;) {
        unsigned char c = (unsigned char)s[i];
        size_t k = c < 0x80                 ? 1
                   : c >= 0xc2 && c <= 0xdf ? 2
                   : c >= 0xe0 && c <= 0xef ? 3
                   : c >= 0xf0 && c <= 0xf4 ? 4
                                            : 0;
        bool ok = k > 0 && i + k <= n && (size_t)(o - out) + k <= ECSV_SAFE_MAX;
        for (size_t j = 1; ok && j < k; j++)
            ok = ((unsigned char)s[i + j] & 0xc0) == 0x80;
        if (ok && k == 1 && (c < 0x20 || c == 0x7f || c == '/' || c == '\\'))
            ok = false;
        if (ok && k == 1 && c == '.' &&
            (o == out || o[-1] == '.' || i + 1 == n))
            ok = false; /* no "..", also not with the extension's dot */
        if (!ok) {
            *o++ = '_';
            i++;
            continue;
        }
        memcpy(o, s + i, k);
        o += k;
        i += k;
    }
    if (o == out) {
        memcpy(out, "none", 4);
        o += 4;
    }
    *o = '\0';
    return out;
}

/* Open f's output: a new file, or again after it was closed (the runtime
   appends then). */
static int ecsv_create(gf_ctx *ctx, ecsv *e, ecsv_file *f)
{
    char err[512];
    if (!(f->fp = ctx->host->output_open(ctx, f->final, err, sizeof err))) {
        ctx->host->error(ctx, "%s", err);
        return GF_ERROR;
    }
    e->nopen++;
    return GF_OK;
}

/* The columns of file f: the given ones, or its own. */
static ecsv_cols *ecsv_cols_of(ecsv *e, ecsv_file *f)
{
    return e->given.set ? &e->given : &f->cols;
}

static void ecsv_put_header(ecsv *e, ecsv_file *f)
{
    const ecsv_cols *c = ecsv_cols_of(e, f);
    e->line.len = 0;
    if (e->cfg->bom)
        tb_put(&e->line, "\xef\xbb\xbf", 3);
    if (e->cfg->header && c->set) {
        for (size_t i = 0; i < c->n; i++) {
            if (i)
                tb_put(&e->line, &e->delim, 1);
            ecsv_cell(e, c->names[i], c->len[i]);
        }
        tb_put(&e->line, e->eol, strlen(e->eol));
    }
    f->started = true;
}

/* Write e->line (and the file's header first) to f. */
static int ecsv_write(gf_ctx *ctx, ecsv *e, ecsv_file *f)
{
    if (e->line.nomem) {
        ctx->host->error(ctx, "out of memory");
        return GF_ERROR;
    }
    if (!f->fp) { /* closed to bound open files: reopen, least used out */
        if (e->nopen >= ECSV_MAX_OPEN) {
            ecsv_file *lru = NULL;
            for (size_t i = 0; i < e->nfiles; i++)
                if (e->files[i].fp &&
                    (!lru || e->files[i].last_use < lru->last_use))
                    lru = &e->files[i];
            int rc = fclose(lru->fp);
            lru->fp = NULL;
            e->nopen--;
            if (rc != 0)
                return ecsv_sys_error(ctx, lru->final, errno);
        }
        if (ecsv_create(ctx, e, f) < 0)
            return GF_ERROR;
    }
    f->last_use = ++e->clock;
    if (!f->started) {
        tbuf row = e->line;
        e->line = (tbuf){0};
        ecsv_put_header(e, f);
        size_t n = e->line.len;
        bool bad = e->line.nomem || (n && fwrite(e->line.p, 1, n, f->fp) != n);
        free(e->line.p);
        e->line = row;
        if (bad)
            return ecsv_sys_error(ctx, f->final,
                                  e->line.nomem ? ENOMEM : errno);
    }
    if (e->line.len && fwrite(e->line.p, 1, e->line.len, f->fp) != e->line.len)
        return ecsv_sys_error(ctx, f->final, errno);
    return GF_OK;
}

static ecsv_file *ecsv_add_file(gf_ctx *ctx, ecsv *e, char *name)
{
    if (e->nfiles == e->capfiles) {
        size_t cap = e->capfiles ? e->capfiles * 2 : 8;
        ecsv_file *f = realloc(e->files, cap * sizeof *f);
        if (!f)
            goto fail_nomem;
        e->files = f;
        e->capfiles = cap;
    }
    ecsv_file *f = &e->files[e->nfiles];
    *f = (ecsv_file){.name = name};
    if (!name)
        f->final = strdup(e->cfg->path);
    else if (asprintf(&f->final, "%s-%s%s", e->stem, name, e->ext) < 0)
        f->final = NULL;
    if (!f->final)
        goto fail_nomem;
    e->nfiles++;
    return f;

fail_nomem:
    free(name);
    ctx->host->error(ctx, "out of memory");
    return NULL;
}

static size_t ecsv_hash(const char *s)
{
    size_t h = 14695981039346656037u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

/* The split file for a value, found or added. */
static ecsv_file *ecsv_split_file(gf_ctx *ctx, ecsv *e, const gf_value *v)
{
    e->cell.len = 0;
    if (v->type != GF_T_NIL)
        tb_value(e, ctx->host, &e->cell, v);
    char *name = e->cell.nomem ? NULL : ecsv_safe(e->cell.p, e->cell.len);
    if (!name) {
        ctx->host->error(ctx, "out of memory");
        return NULL;
    }
    if (e->nfiles * 2 >= e->nslots) {
        size_t n = e->nslots ? e->nslots * 2 : 64;
        size_t *s = calloc(n, sizeof *s);
        if (!s) {
            free(name);
            ctx->host->error(ctx, "out of memory");
            return NULL;
        }
        for (size_t i = 0; i < e->nfiles; i++) {
            size_t j = ecsv_hash(e->files[i].name) & (n - 1);
            while (s[j])
                j = (j + 1) & (n - 1);
            s[j] = i + 1;
        }
        free(e->slots);
        e->slots = s;
        e->nslots = n;
    }
    size_t j = ecsv_hash(name) & (e->nslots - 1);
    for (; e->slots[j]; j = (j + 1) & (e->nslots - 1))
        if (strcmp(e->files[e->slots[j] - 1].name, name) == 0) {
            free(name);
            return &e->files[e->slots[j] - 1];
        }
    ecsv_file *f = ecsv_add_file(ctx, e, name);
    if (f)
        e->slots[j] = e->nfiles;
    return f;
}

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
