/*
 * export_xlsx - write records into an Excel workbook (libxlsxwriter).
 *
 * One sheet per record kind, or per value of the field `sheet_by`. Each
 * sheet starts with a bold header row, frozen so it stays in view; its
 * columns are the `columns` option, or the fields in the order they first
 * appear (a later new field adds a column at the right). Numbers are
 * written as numbers (integers beyond 2^53 as text, which a double would
 * change), bools as booleans, nil as an empty cell, arrays and maps as JSON
 * text, and dates as Excel dates with a date format: the text of the date
 * fields (`established`, `joined`, `raised`, `resolved`) and any other text
 * that is exactly a valid YYYY-MM-DD or YYYY-MM-DD HH:MM[:SS]. Column
 * widths follow the content, counting CJK and other wide characters double.
 * Sheet names are made safe: none of []:*?/\, at most 31 characters,
 * unique regardless of case.
 *
 * libxlsxwriter keeps the workbook in memory until it is written, so memory
 * grows with the output (a sheet holds at most 1,048,576 rows; a record
 * beyond that is rejected). The workbook is written at commit() into the
 * runtime's atomic output for `path` (gf_host.output_path), which the
 * runtime renames over `path` once the whole run succeeded, so a failed run
 * leaves no half workbook.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <xlsxwriter.h>

#include <gigflow/plugin.h>

#define EX_SHEET_CHARS 31   /* Excel's limit on a sheet name */
#define EX_MAX_WIDTH 80.0   /* widest column set from content */
#define EX_CELL_CHARS 32767 /* Excel's limit on the text of a cell */

typedef struct ex_config {
    const char *path;
    const char *sheet_by;
    const gf_strlist *columns;
} ex_config;

static const gf_option ex_options[] = {
    {"path", GF_OPT_PATH, NULL, true, offsetof(ex_config, path),
     "workbook to write (.xlsx)"},
    {"sheet_by", GF_OPT_STRING, NULL, false, offsetof(ex_config, sheet_by),
     "one sheet per value of this field (default: per record kind)"},
    {"columns", GF_OPT_LIST, NULL, false, offsetof(ex_config, columns),
     "fields to write, in order (default: every field, as they appear)"},
    {0},
};

static const char *const ex_date_fields[] = {"established", "joined", "raised",
                                             "resolved"};

typedef struct ex_col {
    char *name;
    size_t len;
    double width; /* widest content so far, in character cells */
} ex_col;

typedef struct ex_sheet {
    char *key;  /* the kind or sheet_by value it holds */
    char *name; /* its safe sheet name */
    lxw_worksheet *ws;
    ex_col *cols;
    size_t ncols, capcols;
    uint32_t row; /* next row to write (0 is the header) */
} ex_sheet;

typedef struct ex {
    const ex_config *cfg;
    lxw_workbook *wb;
    lxw_format *bold, *date, *datetime;
    ex_sheet *sheets;
    size_t nsheets;
    size_t last;
    char *json;
    size_t json_cap;
    uint64_t records;
} ex;

static int ex_nomem(gf_ctx *ctx)
{
    ctx->host->error(ctx, "out of memory");
    return GF_ERROR;
}

/* Display width of UTF-8 text: wide (CJK, fullwidth) characters count 2. */
static double ex_width(const char *s, size_t n)
{
    double w = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        unsigned cp;
        size_t l;
        if (c < 0x80) {
            cp = c;
            l = 1;
        } else if ((c & 0xe0) == 0xc0 && i + 1 < n) {
            cp = ((c & 0x1fu) << 6) | (s[i + 1] & 0x3fu);
            l = 2;
        } else if ((c & 0xf0) == 0xe0 && i + 2 < n) {
            cp = ((c & 0x0fu) << 12) | ((s[i + 1] & 0x3fu) << 6) |
                 (s[i + 2] & 0x3fu);
            l = 3;
        } else if ((c & 0xf8) == 0xf0 && i + 3 < n) {
            cp = ((c & 0x07u) << 18) | ((s[i + 1] & 0x3fu) << 12) |
                 ((s[i + 2] & 0x3fu) << 6) | (s[i + 3] & 0x3fu);
            l = 4;
        } else {
            cp = '?';
            l = 1;
        }
        bool wide =
            (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) ||
            (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
            (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
            (cp >= 0xffe0 && cp <= 0xffe6) ||
            (cp >= 0x1f300 && cp <= 0x1faff) ||
            (cp >= 0x20000 && cp <= 0x3fffd);
        w += wide ? 2 : 1;
        i += l;
    }
    return w;
}

/* Characters (not bytes) of UTF-8 text. */
static size_t ex_chars(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xc0) != 0x80;
    return c;
}

static int ex_digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/*
 * Whether s is a valid YYYY-MM-DD[ HH:MM[:SS]] (in a date field also with
 * '/' between the parts, as office software writes it); fills *dt.
 */
static bool ex_parse_date(const char *s, size_t n, bool date_field,
                          lxw_datetime *dt, bool *has_time)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if ((n != 10 && n != 16 && n != 19) || s[4] != s[7] ||
        (s[4] != '-' && !(date_field && s[4] == '/')))
        return false;
    memset(dt, 0, sizeof *dt);
    dt->year = ex_digits(s, 4);
    dt->month = ex_digits(s + 5, 2);
    dt->day = ex_digits(s + 8, 2);
    if (dt->year < 1900 || dt->month < 1 || dt->month > 12 || dt->day < 1)
        return false;
    bool leap =
        (dt->year % 4 == 0 && dt->year % 100 != 0) || dt->year % 400 == 0;
    if (dt->day > mdays[dt->month - 1] + (dt->month == 2 && leap))
        return false;
    *has_time = n > 10;
    if (n == 10)
        return true;
    if ((s[10] != ' ' && s[10] != 'T') || s[13] != ':')
        return false;
    dt->hour = ex_digits(s + 11, 2);
    dt->min = ex_digits(s + 14, 2);
    if (dt->hour < 0 || dt->hour > 23 || dt->min < 0 || dt->min > 59)
        return false;
    if (n == 19) {
        int sec = ex_digits(s + 17, 2);
        if (s[16] != ':' || sec < 0 || sec > 59)
            return false;
        dt->sec = sec;
    }
    return true;
}

static int ex_check(gf_ctx *ctx, const void *config)
{
    const ex_config *cfg = config;
    if (!strcmp(cfg->path, "-")) {
        ctx->host->option_error(ctx, "path",
                                "a workbook cannot be written "
                                "to standard output: give a file name");
        return GF_ERROR;
    }
    if (cfg->columns && cfg->columns->n > LXW_COL_MAX) {
        ctx->host->option_error(ctx, "columns",
                                "at most %d columns fit a "
                                "sheet",
                                LXW_COL_MAX);
        return GF_ERROR;
    }
    return GF_OK;
}

static int ex_setup(gf_ctx *ctx, const void *config, void **state)
{
    const ex_config *cfg = config;
    if (ex_check(ctx, config) < 0)
        return GF_ERROR;
    ex *x = calloc(1, sizeof *x);
    if (!x)
        return ex_nomem(ctx);
    *state = x;
    x->cfg = cfg;
    char err[512];
    const char *tmp = ctx->host->output_path(ctx, cfg->path, err, sizeof err);
    if (!tmp) {
        ctx->host->error(ctx, "%s", err);
        return GF_ERROR;
    }
    if (!(x->wb = workbook_new(tmp)))
        return ex_nomem(ctx);
    x->bold = workbook_add_format(x->wb);
    x->date = workbook_add_format(x->wb);
    x->datetime = workbook_add_format(x->wb);
    if (!x->bold || !x->date || !x->datetime)
        return ex_nomem(ctx);
    format_set_bold(x->bold);
    format_set_num_format(x->date, "yyyy-mm-dd");
    format_set_num_format(x->datetime, "yyyy-mm-dd hh:mm:ss");
    return GF_OK;
}

/* A safe, unique sheet name for key (malloc'd). */
static char *ex_sheet_name(const ex *x, const char *key, size_t len)
{
    char *s = malloc(len + 16);
    if (!s)
        return NULL;
    size_t n = 0, chars = 0;
    for (size_t i = 0; i < len && chars < EX_SHEET_CHARS;) {
        unsigned char c = (unsigned char)key[i];
        size_t l = c < 0x80             ? 1
                   : (c & 0xe0) == 0xc0 ? 2
                   : (c & 0xf0) == 0xe0 ? 3
                   : (c & 0xf8) == 0xf0 ? 4
                                        : 1;
        if (i + l > len)
            break;
        if (l == 1 && (strchr("[]:*?/\\", c) || c < 0x20 || c >= 0x80))
            s[n++] = '_';
        else {
            memcpy(s + n, key + i, l);
            n += l;
        }
        i += l;
        chars++;
    }
    s[n] = '\0';
    while (n && s[n - 1] == '\'') /* no apostrophe at either end */
        s[--n] = '\0';
    if (s[0] == '\'')
        s[0] = '_';
    if (!n || !strcasecmp(s, "history"))
        strcpy(s, n ? "history_" : "none");
    for (unsigned k = 2;; k++) {
        bool taken = false;
        for (size_t i = 0; i < x->nsheets && !taken; i++)
            taken = !strcasecmp(x->sheets[i].name, s);
        if (!taken)
            return s;
        /* NAME~K: the base cut back so that it stays within 31 characters */
        char suf[16];
        int sl = snprintf(suf, sizeof suf, "~%u", k);
        char *tilde = k > 2 ? strrchr(s, '~') : NULL;
        n = tilde ? (size_t)(tilde - s) : strlen(s);
        while (n && ex_chars(s, n) + (size_t)sl > EX_SHEET_CHARS) {
            n--;
            while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
                n--;
        }
        memcpy(s + n, suf, (size_t)sl + 1);
    }
}

static long ex_add_col(ex_sheet *sh, const char *name, size_t len,
                       lxw_format *bold)
{
    if (sh->ncols == LXW_COL_MAX)
        return -2;
    if (sh->ncols == sh->capcols) {
        size_t cap = sh->capcols ? sh->capcols * 2 : 16;
        ex_col *c = realloc(sh->cols, cap * sizeof *c);
        if (!c)
            return -1;
        sh->cols = c;
        sh->capcols = cap;
    }
    ex_col *c = &sh->cols[sh->ncols];
    if (!(c->name = strndup(name, len)))
        return -1;
    c->len = len;
    c->width = ex_width(name, len) * 1.1 + 1; /* bold is wider */
    lxw_error rc =
        worksheet_write_string(sh->ws, 0, (lxw_col_t)sh->ncols, c->name, bold);
    if (rc != LXW_NO_ERROR) {
        free(c->name);
        return -1;
    }
    return (long)sh->ncols++;
}

static long ex_find_col(const ex_sheet *sh, const char *name, size_t len)
{
    for (size_t i = 0; i < sh->ncols; i++)
        if (sh->cols[i].len == len && !memcmp(sh->cols[i].name, name, len))
            return (long)i;
    return -1;
}

/* The sheet for key (created on first use). */
static ex_sheet *ex_sheet_get(gf_ctx *ctx, ex *x, const char *key, size_t len,
                              int *rc)
{
    *rc = GF_OK;
    if (x->nsheets) {
        ex_sheet *s = &x->sheets[x->last];
        if (strlen(s->key) == len && !memcmp(s->key, key, len))
            return s;
    }
    for (size_t i = 0; i < x->nsheets; i++)
        if (strlen(x->sheets[i].key) == len &&
            !memcmp(x->sheets[i].key, key, len)) {
            x->last = i;
            return &x->sheets[i];
        }
    ex_sheet *ss = realloc(x->sheets, (x->nsheets + 1) * sizeof *ss);
    if (!ss)
        goto nomem;
    x->sheets = ss;
    ex_sheet *s = &ss[x->nsheets];
    memset(s, 0, sizeof *s);
    s->key = strndup(key, len);
    s->name = ex_sheet_name(x, key, len);
    if (!s->key || !s->name) {
        free(s->key);
        free(s->name);
        goto nomem;
    }
    if (!(s->ws = workbook_add_worksheet(x->wb, s->name))) {
        ctx->host->error(ctx, "%s: cannot add the sheet '%s'", x->cfg->path,
                         s->name);
        free(s->key);
        free(s->name);
        *rc = GF_ERROR;
        return NULL;
    }
    x->last = x->nsheets++;
    s->row = 1;
    worksheet_freeze_panes(s->ws, 1, 0);
    const gf_strlist *cols = x->cfg->columns;
    for (size_t i = 0; cols && i < cols->n; i++)
        if (ex_add_col(s, cols->items[i], strlen(cols->items[i]), x->bold) < 0)
            goto nomem;
    return s;
nomem:
    *rc = ex_nomem(ctx);
    return NULL;
}

/* A value as JSON text (host value_to_json), NUL-terminated in x->json. */
static const char *ex_json(const gf_host *h, ex *x, const gf_value *v,
                           size_t *len)
{
    long n = h->value_to_json(v, &x->json, &x->json_cap);
    if (n < 0)
        return NULL;
    *len = (size_t)n;
    return x->json;
}

static bool ex_is_date_field(const char *k, size_t n)
{
    for (size_t i = 0; i < sizeof ex_date_fields / sizeof *ex_date_fields; i++)
        if (strlen(ex_date_fields[i]) == n && !memcmp(ex_date_fields[i], k, n))
            return true;
    return false;
}

static int ex_reject(gf_ctx *ctx, ex *x, const gf_record *rec, const char *why)
{
    char reason[600];
    snprintf(reason, sizeof reason, "record %llu: %s",
             (unsigned long long)x->records, why);
    return ctx->host->reject(ctx, rec, reason);
}

static int ex_process(gf_ctx *ctx, void *state, const gf_record *rec,
                      gf_out *out)
{
    (void)out;
    ex *x = state;
    const gf_host *h = ctx->host;
    char why[512], num[32];
    int rc;
    x->records++;
    gf_value sv;
    const char *key = "records";
    size_t klen = 7;
    bool have = h->get(rec, x->cfg->sheet_by ? x->cfg->sheet_by : "kind", &sv);
    if (have && sv.type == GF_T_STR) {
        key = sv.v.s.ptr;
        klen = sv.v.s.len;
    } else if (have && sv.type == GF_T_INT) {
        klen = (size_t)snprintf(num, sizeof num, "%lld", (long long)sv.v.i);
        key = num;
    } else if (x->cfg->sheet_by) {
        key = "none";
        klen = 4;
    }
    ex_sheet *s = ex_sheet_get(ctx, x, key, klen, &rc);
    if (!s)
        return rc;
    if (s->row >= LXW_ROW_MAX) {
        snprintf(why, sizeof why, "sheet %s is full (%d rows)", s->name,
                 LXW_ROW_MAX);
        return ex_reject(ctx, x, rec, why);
    }
    gf_iter it = {0};
    gf_str k;
    gf_value v;
    while (h->next(rec, &it, &k, &v))
        if (v.type == GF_T_STR && v.v.s.len > EX_CELL_CHARS &&
            ex_chars(v.v.s.ptr, v.v.s.len) > EX_CELL_CHARS) {
            snprintf(why, sizeof why,
                     "field %.*s: text longer than the "
                     "%d characters a cell holds",
                     (int)k.len, k.ptr, EX_CELL_CHARS);
            return ex_reject(ctx, x, rec, why);
        }
    memset(&it, 0, sizeof it);
    lxw_row_t row = s->row++;
    while (h->next(rec, &it, &k, &v)) {
        long c = ex_find_col(s, k.ptr, k.len);
        if (c < 0 && x->cfg->columns)
            continue; /* not asked for */
        if (c < 0 && (c = ex_add_col(s, k.ptr, k.len, x->bold)) == -1)
            return ex_nomem(ctx);
        if (c < 0)
            continue; /* the sheet has no more columns */
        lxw_col_t col = (lxw_col_t)c;
        double w = 0;
        lxw_error e = LXW_NO_ERROR;
        switch (v.type) {
        case GF_T_NIL:
            break;
        case GF_T_BOOL:
            e = worksheet_write_boolean(s->ws, row, col, v.v.b, NULL);
            w = 5;
            break;
        case GF_T_INT:
            w = snprintf(num, sizeof num, "%lld", (long long)v.v.i);
            if (v.v.i > (1ll << 53) || v.v.i < -(1ll << 53))
                e = worksheet_write_string(s->ws, row, col, num, NULL);
            else
                e = worksheet_write_number(s->ws, row, col, (double)v.v.i,
                                           NULL);
            break;
        case GF_T_FLOAT:
            w = snprintf(num, sizeof num, "%.10g", v.v.f);
            e = worksheet_write_number(s->ws, row, col, v.v.f, NULL);
            break;
        case GF_T_STR: {
            lxw_datetime dt;
            bool has_time;
            if (ex_parse_date(v.v.s.ptr, v.v.s.len,
                              ex_is_date_field(k.ptr, k.len), &dt, &has_time)) {
                e = worksheet_write_datetime(s->ws, row, col, &dt,
                                             has_time ? x->datetime : x->date);
                w = has_time ? 19 : 10;
                break;
            }
            char *t = strndup(v.v.s.ptr, v.v.s.len);
            if (!t)
                return ex_nomem(ctx);
            e = worksheet_write_string(s->ws, row, col, t, NULL);
            w = ex_width(v.v.s.ptr, v.v.s.len);
            free(t);
            break;
        }
        default: {
            size_t jl;
            const char *j = ex_json(h, x, &v, &jl);
            if (!j)
                return ex_nomem(ctx);
            if (v.type == GF_T_BIN && jl >= 2) { /* base64, unquoted */
                x->json[jl - 1] = '\0';
                j++;
                jl -= 2;
            }
            e = worksheet_write_string(s->ws, row, col, j, NULL);
            w = ex_width(j, jl);
        }
        }
        if (e != LXW_NO_ERROR) {
            snprintf(why, sizeof why, "sheet %s, column %s: %s", s->name,
                     s->cols[col].name, lxw_strerror(e));
            return ex_reject(ctx, x, rec, why);
        }
        if (w > s->cols[col].width)
            s->cols[col].width = w;
    }
    return GF_OK;
}

static int ex_commit(gf_ctx *ctx, void *state)
{
    ex *x = state;
    if (!x->nsheets) { /* a workbook needs a sheet: an empty one */
        int rc;
        if (!ex_sheet_get(ctx, x, x->cfg->sheet_by ? "none" : "records",
                          x->cfg->sheet_by ? 4 : 7, &rc))
            return rc;
    }
    for (size_t i = 0; i < x->nsheets; i++) {
        ex_sheet *s = &x->sheets[i];
        for (size_t c = 0; c < s->ncols; c++) {
            double w = s->cols[c].width + 2;
            worksheet_set_column(s->ws, (lxw_col_t)c, (lxw_col_t)c,
                                 w > EX_MAX_WIDTH ? EX_MAX_WIDTH : w, NULL);
        }
    }
    lxw_error e = workbook_close(x->wb);
    x->wb = NULL;
    if (e != LXW_NO_ERROR) {
        ctx->host->error(ctx, "%s: writing the workbook failed: %s",
                         x->cfg->path, lxw_strerror(e));
        return GF_ERROR;
    }
    return GF_OK;
}

static void ex_destroy(gf_ctx *ctx, void *state)
{
    (void)ctx;
    ex *x = state;
    if (!x)
        return;
    if (x->wb)
        lxw_workbook_free(x->wb);
    for (size_t i = 0; i < x->nsheets; i++) {
        for (size_t c = 0; c < x->sheets[i].ncols; c++)
            free(x->sheets[i].cols[c].name);
        free(x->sheets[i].cols);
        free(x->sheets[i].key);
        free(x->sheets[i].name);
    }
    free(x->sheets);
    free(x->json);
    free(x);
}

/* The runtime calls destroy() only after a successful init(): undo here. */
static int ex_init(gf_ctx *ctx, const void *config, void **state)
{
    int rc = ex_setup(ctx, config, state);
    if (rc < 0) {
        ex_destroy(ctx, *state);
        *state = NULL;
    }
    return rc;
}

static const gf_plugin export_xlsx = {
    GF_PLUGIN_HEADER,
    .name = "export_xlsx",
    .kind = GF_KIND_EXPORT,
    .version = "1.0.0",
    .description = "write records into an Excel workbook, a sheet per kind",
    .options = ex_options,
    .config_size = sizeof(ex_config),
    .check = ex_check,
    .init = ex_init,
    .process = ex_process,
    .commit = ex_commit,
    .destroy = ex_destroy,
};

GF_PLUGIN_DEFINE(export_xlsx)
