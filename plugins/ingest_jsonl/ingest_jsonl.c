/*
 * ingest_jsonl - read JSON Lines: one JSON object per line, one record each.
 *
 * The file is read in chunks into one buffer; each complete line is handed
 * to the host's JSON parser (gf_host.set_json), which keeps nested arrays
 * and objects as MessagePack arrays and maps. A line longer than the buffer
 * grows it, so memory is bounded by the longest line, not by the file.
 * Blank lines are skipped, a CR before the LF is dropped, and a UTF-8 BOM
 * at the start is ignored. A line that is not a JSON object goes to the
 * dead letters with its line number and the parser's message; the run goes
 * on. Every record tells the host its line (set_position), so that a later
 * stage's reject of it names it too. With `kind`, every record's `kind` field
 * is set to it (first, and over any `kind` the line has).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gigflow/plugin.h>

#include "gf_domain.h"

#define JL_CHUNK (1u << 20)
#define JL_LINES_PER_CALL 4096

typedef struct jl_config {
    const char *path;
    const char *kind;
} jl_config;

static const gf_option jl_options[] = {
    {"path", GF_OPT_PATH, NULL, true, offsetof(jl_config, path),
     "JSON Lines file to read; - reads standard input"},
    {"kind", GF_OPT_STRING, NULL, false, offsetof(jl_config, kind),
     "value of the field `kind` of every record (org, member, project, "
     "demand)"},
    {0},
};

typedef struct jl {
    const char *file;
    const char *kind;
    size_t kind_len;
    int fd;
    bool own_fd;
    bool eof;
    bool bom_checked;
    char *buf; /* unread lines in [start, end) */
    size_t cap, start, end;
    uint64_t line; /* line number of the line at start */
} jl;

static int jl_io_error(gf_ctx *ctx, jl *j, int err)
{
    char eb[128];
    ctx->host->error(ctx, "%s: %s", j->file, strerror_r(err, eb, sizeof eb));
    return GF_ERROR;
}

/* Compact, grow when one line fills the buffer, and read more. */
static int jl_fill(gf_ctx *ctx, jl *j)
{
    if (j->start > 0) {
        memmove(j->buf, j->buf + j->start, j->end - j->start);
        j->end -= j->start;
        j->start = 0;
    }
    if (j->end == j->cap) {
        char *b = realloc(j->buf, j->cap * 2);
        if (!b) {
            ctx->host->error(ctx,
                             "%s:%llu: out of memory for a line of %zu "
                             "bytes",
                             j->file, (unsigned long long)j->line, j->end);
            return GF_ERROR;
        }
        j->buf = b;
        j->cap *= 2;
    }
    ssize_t got;
    do
        got = read(j->fd, j->buf + j->end, j->cap - j->end);
    while (got < 0 && errno == EINTR);
    if (got < 0)
        return jl_io_error(ctx, j, errno);
    j->eof = got == 0;
    j->end += (size_t)got;
    return GF_OK;
}

static bool jl_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return false;
    return true;
}

/* One line (without its LF): a record or a dead letter. */
static int jl_line(gf_ctx *ctx, jl *j, const char *s, size_t n, gf_out *out)
{
    const gf_host *h = ctx->host;
    char err[256], reason[320];
    if (n > 0 && s[n - 1] == '\r')
        n--;
    if (jl_blank(s, n))
        return GF_OK;
    h->begin(out);
    if (GF_HOST_HAS(h, set_position))
        h->set_position(out, j->file, j->line);
    if (j->kind)
        h->set_str(out, "kind", j->kind, j->kind_len);
    if (h->set_json(out, s, n, err, sizeof err) < 0) {
        snprintf(reason, sizeof reason, "line %llu: %s",
                 (unsigned long long)j->line, err);
        return h->reject_raw(ctx, s, n, j->file, j->line, reason);
    }
    if (j->kind)
        h->set_str(out, "kind", j->kind, j->kind_len);
    return h->end(out);
}

static void jl_destroy(gf_ctx *ctx, void *state);

/* init(), except that a failure may leave a half-built *state. */
static int jl_open(gf_ctx *ctx, const void *config, void **state)
{
    const jl_config *cfg = config;
    jl *j = calloc(1, sizeof *j);
    if (!j || !(j->buf = malloc(JL_CHUNK))) {
        free(j);
        ctx->host->error(ctx, "out of memory");
        return GF_ERROR;
    }
    *state = j;
    j->cap = JL_CHUNK;
    j->line = 1;
    j->kind = cfg->kind;
    j->kind_len = cfg->kind ? strlen(cfg->kind) : 0;
    if (strcmp(cfg->path, "-") == 0) {
        j->file = "<stdin>";
        j->fd = STDIN_FILENO;
        return GF_OK;
    }
    struct stat st;
    j->file = cfg->path;
    j->fd = open(cfg->path, O_RDONLY | O_CLOEXEC);
    if (j->fd < 0)
        return jl_io_error(ctx, j, errno);
    j->own_fd = true;
    if (fstat(j->fd, &st) == 0 && S_ISDIR(st.st_mode))
        return jl_io_error(ctx, j, EISDIR);
    return GF_OK;
}

/* A failed init() frees what it built: no destroy() is needed after it. */
static int jl_check(gf_ctx *ctx, const void *config)
{
    char why[128];
    if (gf_domain_check_kind(((const jl_config *)config)->kind, why,
                             sizeof why)) {
        ctx->host->option_error(ctx, "kind", "%s", why);
        return GF_ERROR;
    }
    return GF_OK;
}

static int jl_init(gf_ctx *ctx, const void *config, void **state)
{
    *state = NULL;
    int rc = jl_open(ctx, config, state);
    if (rc < 0) {
        jl_destroy(ctx, *state);
        *state = NULL;
    }
    return rc;
}

static int jl_produce(gf_ctx *ctx, void *state, gf_out *out)
{
    jl *j = state;
    int rc;
    for (unsigned lines = 0; lines < JL_LINES_PER_CALL;) {
        const char *s = j->buf + j->start;
        size_t n = j->end - j->start;
        if (!j->bom_checked && (n >= 3 || j->eof)) {
            if (n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
                j->start += 3;
            j->bom_checked = true;
            continue;
        }
        const char *lf = j->bom_checked ? memchr(s, '\n', n) : NULL;
        if (!lf && !j->eof) {
            if ((rc = jl_fill(ctx, j)) < 0)
                return rc;
            continue;
        }
        if (!lf && n == 0)
            return GF_DONE;
        size_t len = lf ? (size_t)(lf - s) : n;
        if ((rc = jl_line(ctx, j, s, len, out)) < 0)
            return rc;
        j->start += lf ? len + 1 : len;
        j->line++;
        lines++;
    }
    return GF_MORE;
}

static void jl_destroy(gf_ctx *ctx, void *state)
{
    (void)ctx;
    jl *j = state;
    if (!j)
        return;
    if (j->own_fd)
        close(j->fd);
    free(j->buf);
    free(j);
}

static const gf_plugin ingest_jsonl = {
    GF_PLUGIN_HEADER,
    .name = "ingest_jsonl",
    .kind = GF_KIND_INGEST,
    .version = "1.0.0",
    .description = "read JSON Lines (one object per line) into records",
    .options = jl_options,
    .config_size = sizeof(jl_config),
    .check = jl_check,
    .init = jl_init,
    .produce = jl_produce,
    .destroy = jl_destroy,
};

GF_PLUGIN_DEFINE(ingest_jsonl)
