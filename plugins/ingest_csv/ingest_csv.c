/*
 * ingest_csv - read a CSV file (RFC 4180) into records.
 *
 * The file is read in fixed chunks into one buffer and scanned in place
 * (csv_read.c fills it, converting GB18030 where needed; csv_scan.c finds a
 * row's fields; csv_row.c types them and encodes the record), so nothing
 * is allocated per row and memory is bounded by the longest row, not by
 * the file. A row cut by the end of the buffer is moved to its front and
 * scanned again after the next read. This file holds the options, the
 * callbacks and the loop of produce() that ties those together.
 *
 * A bad row (wrong field count, unterminated quote, bytes invalid in the
 * encoding, a value not of its declared type) goes to the dead letters with
 * the file and the line it starts on; the run goes on. Every record says
 * that line to the host (set_position), so that a later stage's reject of
 * it names it too. After an
 * unterminated quote, or a row longer than CSV_MAX_ROW, the physical line
 * the row starts on is rejected and reading resumes on the next line.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gf_domain.h"
#include "ingest_csv.h"

static const gf_option csv_options[] = {
    {"path", GF_OPT_PATH, NULL, true, offsetof(csv_config, path),
     "CSV file to read; - reads standard input"},
    {"kind", GF_OPT_STRING, NULL, false, offsetof(csv_config, kind),
     "value of the field `kind` of every record (org, member, project, "
     "demand)"},
    {"delimiter", GF_OPT_STRING, ",", false, offsetof(csv_config, delimiter),
     "field separator: one byte, or \"tab\""},
    {"header", GF_OPT_BOOL, "true", false, offsetof(csv_config, header),
     "the first row names the columns; false: columns are c1..cN"},
    {"columns", GF_OPT_MAP, NULL, false, offsetof(csv_config, columns),
     "rename columns: source name -> field name, \"\" drops the column "
     "(header: false: key cN, or the Nth entry, renames column N)"},
    {"types", GF_OPT_MAP, NULL, false, offsetof(csv_config, types),
     "field -> int, float, bool or string; other fields are inferred"},
    {"encoding", GF_OPT_STRING, "auto", false, offsetof(csv_config, encoding),
     "utf-8, gb18030, or auto (BOM or valid UTF-8, else GB18030)"},
    {0},
};

/* ---- options ------------------------------------------------------------ */

static int csv_delim(const char *s)
{
    if (!s || strcmp(s, "tab") == 0)
        return s ? '\t' : ',';
    if (strlen(s) != 1 || s[0] == '"' || s[0] == '\n' || s[0] == '\r')
        return -1;
    return (unsigned char)s[0];
}

static int csv_encoding(const char *s)
{
    if (!s || strcasecmp(s, "auto") == 0)
        return ENC_UNDECIDED;
    if (strcasecmp(s, "utf-8") == 0 || strcasecmp(s, "utf8") == 0)
        return ENC_UTF8;
    if (strcasecmp(s, "gb18030") == 0 || strcasecmp(s, "gbk") == 0 ||
        strcasecmp(s, "gb2312") == 0)
        return ENC_GB18030;
    return -1;
}

static int csv_check(gf_ctx *ctx, const void *config)
{
    const csv_config *cfg = config;
    const gf_host *h = ctx->host;
    int rc = GF_OK;
    char why[128];
    if (gf_domain_check_kind(cfg->kind, why, sizeof why)) {
        h->option_error(ctx, "kind", "%s", why);
        rc = GF_ERROR;
    }
    if (csv_delim(cfg->delimiter) < 0) {
        h->option_error(ctx, "delimiter",
                        "delimiter must be one byte other "
                        "than a quote or a line end, or \"tab\"; got \"%s\"",
                        cfg->delimiter);
        rc = GF_ERROR;
    }
    if (csv_encoding(cfg->encoding) < 0) {
        h->option_error(ctx, "encoding",
                        "unknown encoding \"%s\": use utf-8, "
                        "gb18030 or auto",
                        cfg->encoding);
        rc = GF_ERROR;
    }
    for (size_t i = 0; cfg->types && i < cfg->types->n; i++)
        if (csv_type_of(cfg->types->values[i]) < 0) {
            h->option_error(ctx, "types",
                            "field %s: unknown type \"%s\": use "
                            "int, float, bool or string",
                            cfg->types->keys[i], cfg->types->values[i]);
            rc = GF_ERROR;
        }
    return rc;
}

/* ---- rows --------------------------------------------------------------- */

/*
 * Give up on the row at start: reject the physical line it starts on (why
 * says what is wrong) and go on with the next line.
 */
static int csv_recover(gf_ctx *ctx, csv *c, const char *why)
{
    const char *s = c->buf + c->start;
    size_t n = c->end - c->start;
    const char *lf = memchr(s, '\n', n);
    size_t len = lf ? (size_t)(lf - s) : n, shown = len;
    if (shown > 0 && s[shown - 1] == '\r')
        shown--;
    shown = csv_cut(s, shown, CSV_RAW_SHOWN);
    int rc = csv_reject(ctx, c, shown, "%s", why);
    c->line++;
    if (lf)
        c->start += len + 1;
    else {
        c->start = c->end;
        c->skip_line = !(c->src_eof && c->raw_len == 0);
    }
    return rc;
}

/* ---- callbacks ---------------------------------------------------------- */

static void csv_destroy(gf_ctx *ctx, void *state);

/* init(), except that a failure may leave a half-built *state. */
static int csv_open(gf_ctx *ctx, const void *config, void **state)
{
    const csv_config *cfg = config;
    if (csv_check(ctx, config) < 0)
        return GF_ERROR;
    csv *c = calloc(1, sizeof *c);
    if (!c)
        goto fail_nomem;
    *state = c;
    c->cfg = cfg;
    c->cd = (iconv_t)-1;
    c->fd = -1;
    c->line = 1;
    if (GF_HOST_HAS(ctx->host, set_position))
        c->set_position = ctx->host->set_position;
    c->delim = (char)csv_delim(cfg->delimiter);
    c->stop[(unsigned char)c->delim] = c->stop['\n'] = c->stop['\r'] = 1;
    c->kind_len = cfg->kind ? strlen(cfg->kind) : 0;
    if (cfg->kind) {
        if (!(c->kind_mp = malloc(c->kind_len + 10)))
            goto fail_nomem;
        uint8_t *w = csv_mp_str(csv_mp_str(c->kind_mp, "kind", 4), cfg->kind,
                                c->kind_len);
        c->kind_mp_len = (size_t)(w - c->kind_mp);
    }
    c->enc = (csv_enc)csv_encoding(cfg->encoding);
    c->cap = CSV_CHUNK;
    c->cloc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    c->buf = malloc(c->cap + CSV_PAD);
    if (!c->cloc || !c->buf)
        goto fail_nomem;

    if (strcmp(cfg->path, "-") == 0) {
        c->file = "<stdin>";
        c->fd = STDIN_FILENO;
    } else {
        struct stat st;
        c->file = cfg->path;
        c->fd = open(cfg->path, O_RDONLY | O_CLOEXEC);
        c->own_fd = c->fd >= 0;
        if (c->fd < 0)
            return csv_io_error(ctx, c, errno);
        if (fstat(c->fd, &st) == 0 && S_ISDIR(st.st_mode))
            return csv_io_error(ctx, c, EISDIR);
    }
    if (c->enc == ENC_GB18030 && csv_open_iconv(ctx, c) < 0)
        return GF_ERROR;
    return GF_OK;

fail_nomem:
    ctx->host->error(ctx, "out of memory");
    return GF_ERROR;
}

/* A failed init() frees what it built: no destroy() is needed after it. */
static int csv_init(gf_ctx *ctx, const void *config, void **state)
{
    *state = NULL;
    int rc = csv_open(ctx, config, state);
    if (rc < 0) {
        csv_destroy(ctx, *state);
        *state = NULL;
    }
    return rc;
}

static int csv_produce(gf_ctx *ctx, void *state, gf_out *out)
{
    csv *c = state;
    int rc;
    for (unsigned rows = 0; rows < CSV_ROWS_PER_CALL;) {
        bool eof = c->src_eof && c->raw_len == 0;
        if (c->skip_line) {
            const char *s = c->buf + c->start;
            const char *lf = memchr(s, '\n', c->end - c->start);
            c->start = lf ? (size_t)(lf + 1 - c->buf) : c->end;
            c->skip_line = !lf;
        }
        if (c->start == c->end && eof)
            return GF_DONE;
        if (c->skip_line ||
            (!c->bom_checked && c->end - c->start < 3 && !eof)) {
            if ((rc = csv_fill(ctx, c)) < 0)
                return rc;
            continue;
        }
        if (!c->bom_checked) {
            if (c->end - c->start >= 3 &&
                memcmp(c->buf + c->start, "\xef\xbb\xbf", 3) == 0) {
                c->start += 3;
                if (c->enc == ENC_UNDECIDED)
                    c->enc = ENC_UTF8; /* a BOM says UTF-8 */
            }
            c->bom_checked = true;
            continue;
        }
        csv_row r = {0};
        char why[128];
        switch (csv_scan(c, eof, &r)) {
        case ROW_MORE:
            if ((rc = csv_fill(ctx, c)) < 0)
                return rc;
            if (rc == 1) {
                snprintf(why, sizeof why,
                         "row longer than 64 MiB, in field "
                         "%zu (an unterminated quote?)",
                         c->nf + 1);
                if ((rc = csv_recover(ctx, c, why)) < 0)
                    return rc;
                rows++;
            }
            continue;
        case ROW_NOMEM:
            ctx->host->error(ctx, "out of memory");
            return GF_ERROR;
        case ROW_UNTERMINATED:
            snprintf(why, sizeof why, "unterminated quote in field %zu",
                     r.bad_field);
            if (!c->have_cols && c->cfg->header) {
                ctx->host->error(ctx, "%s:%llu: the header has an %s", c->file,
                                 (unsigned long long)c->line, why);
                return GF_ERROR;
            }
            if ((rc = csv_recover(ctx, c, why)) < 0)
                return rc;
            rows++;
            continue;
        case ROW_AFTER_QUOTE:
            if (!c->have_cols && c->cfg->header) {
                ctx->host->error(ctx,
                                 "%s:%llu: the header has text after the "
                                 "closing quote of field %zu",
                                 c->file, (unsigned long long)c->line,
                                 r.bad_field);
                return GF_ERROR;
            }
            rc = csv_reject(ctx, c, r.content,
                            "text after the closing quote "
                            "of field %zu",
                            r.bad_field);
            break;
        default:
            rc = csv_emit_row(ctx, c, &r, out);
            break;
        }
        if (rc < 0)
            return rc;
        c->start += r.used;
        c->line += r.lines;
        rows++;
    }
    return GF_MORE;
}

static void csv_destroy(gf_ctx *ctx, void *state)
{
    (void)ctx;
    csv *c = state;
    if (!c)
        return;
    if (c->own_fd)
        close(c->fd);
    if (c->cd != (iconv_t)-1)
        iconv_close(c->cd);
    if (c->cloc)
        freelocale(c->cloc);
    for (size_t i = 0; i < c->ncols; i++) {
        free(c->cols[i].name);
        free(c->cols[i].key);
    }
    free(c->rec);
    free(c->kind_mp);
    free(c->cols);
    free(c->f);
    free(c->esc);
    free(c->raw);
    free(c->buf);
    free(c);
}

static const gf_plugin ingest_csv = {
    GF_PLUGIN_HEADER,
    .name = "ingest_csv",
    .kind = GF_KIND_INGEST,
    .version = "1.0.0",
    .description = "read CSV (RFC 4180; UTF-8 or GB18030) into records",
    .options = csv_options,
    .config_size = sizeof(csv_config),
    .check = csv_check,
    .init = csv_init,
    .produce = csv_produce,
    .destroy = csv_destroy,
};

GF_PLUGIN_DEFINE(ingest_csv)
