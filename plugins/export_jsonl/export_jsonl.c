/*
 * export_jsonl - write records as JSON Lines, atomically.
 *
 * Each record becomes one JSON object on its own line, rendered by the host
 * (gf_host.to_json: nested values kept, binary as base64). The file is the
 * runtime's atomic output (gf_host.output_open): renamed over the target
 * only when the whole run succeeded, so a failed run leaves no half-written
 * file. `path: -` spools to an anonymous temporary file and copies it to
 * standard output at flush.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gigflow/plugin.h>

typedef struct ejl_config {
    const char *path;
} ejl_config;

static const gf_option ejl_options[] = {
    {"path", GF_OPT_PATH, NULL, true, offsetof(ejl_config, path),
     "JSON Lines file to write; - writes standard output (at flush)"},
    {0},
};

typedef struct ejl {
    const char *path;
    FILE *fp;
    bool to_stdout;
    long spooled; /* bytes already copied to stdout */
    char *json;
    size_t json_cap;
} ejl;

static int ejl_sys_error(gf_ctx *ctx, const char *what, int err)
{
    char eb[128];
    ctx->host->error(ctx, "%s: %s", what, strerror_r(err, eb, sizeof eb));
    return GF_ERROR;
}

/* What j writes, for messages. */
static const char *ejl_name(const ejl *j)
{
    return j->to_stdout ? "the stdout spool" : j->path;
}

static void ejl_destroy(gf_ctx *ctx, void *state);

/* init(), except that a failure may leave a half-built *state. */
static int ejl_open(gf_ctx *ctx, const void *config, void **state)
{
    const ejl_config *cfg = config;
    ejl *j = calloc(1, sizeof *j);
    if (!j) {
        ctx->host->error(ctx, "out of memory");
        return GF_ERROR;
    }
    *state = j;
    j->path = cfg->path;
    if (strcmp(cfg->path, "-") != 0) {
        char err[512];
        if (!(j->fp = ctx->host->output_open(ctx, j->path, err, sizeof err))) {
            ctx->host->error(ctx, "%s", err);
            return GF_ERROR;
        }
        return GF_OK;
    }
    j->to_stdout = true;
    if (!(j->fp = tmpfile()))
        return ejl_sys_error(ctx, "a temporary file for stdout", errno);
    return GF_OK;
}

/* A failed init() frees what it built (and removes any temporary file):
   no destroy() is needed after it. */
static int ejl_init(gf_ctx *ctx, const void *config, void **state)
{
    *state = NULL;
    int rc = ejl_open(ctx, config, state);
    if (rc < 0) {
        ejl_destroy(ctx, *state);
        *state = NULL;
    }
    return rc;
}

static int ejl_process(gf_ctx *ctx, void *state, const gf_record *rec,
                       gf_out *out)
{
    (void)out;
    ejl *j = state;
    long n = ctx->host->to_json(rec, &j->json, &j->json_cap);
    if (n < 0) {
        ctx->host->error(ctx, "out of memory");
        return GF_ERROR;
    }
    if (fwrite(j->json, 1, (size_t)n, j->fp) != (size_t)n ||
        putc('\n', j->fp) == EOF)
        return ejl_sys_error(ctx, ejl_name(j), errno);
    return GF_OK;
}

static int ejl_flush(gf_ctx *ctx, void *state, gf_out *out)
{
    (void)out;
    ejl *j = state;
    if (j->fp && fflush(j->fp) != 0)
        return ejl_sys_error(ctx, ejl_name(j), errno);
    if (!j->to_stdout)
        return GF_OK;
    char buf[65536];
    size_t got;
    if (fseek(j->fp, j->spooled, SEEK_SET) != 0)
        return ejl_sys_error(ctx, "the stdout spool", errno);
    while ((got = fread(buf, 1, sizeof buf, j->fp)) > 0) {
        if (fwrite(buf, 1, got, stdout) != got)
            return ejl_sys_error(ctx, "<stdout>", errno);
        j->spooled += (long)got;
    }
    if (fflush(stdout) != 0)
        return ejl_sys_error(ctx, "<stdout>", errno);
    return GF_OK;
}

static void ejl_destroy(gf_ctx *ctx, void *state)
{
    (void)ctx;
    ejl *j = state;
    if (!j)
        return;
    if (j->fp)
        fclose(j->fp);
    free(j->json);
    free(j);
}

static const gf_plugin export_jsonl = {
    GF_PLUGIN_HEADER,
    .name = "export_jsonl",
    .kind = GF_KIND_EXPORT,
    .version = "1.0.0",
    .description = "write records as JSON Lines, atomically",
    .options = ejl_options,
    .config_size = sizeof(ejl_config),
    .init = ejl_init,
    .process = ejl_process,
    .flush = ejl_flush,
    .destroy = ejl_destroy,
};

GF_PLUGIN_DEFINE(export_jsonl)
