/*
 * export_jsonl - write records as JSON Lines, atomically.
 *
 * Each record becomes one JSON object on its own line, rendered by the host
 * (gf_host.to_json: nested values kept, binary as base64). Output goes to a
 * temporary file beside the target (".NAME.PID.N.tmp") that commit()
 * renames over it; destroy() without commit removes it, so a failed run
 * leaves no half-written file. `path: -` spools to an anonymous temporary
 * file and copies it to standard output at flush.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    char *dir;
    char *tmp; /* NULL once renamed, or for stdout */
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

/* A fresh temporary file in the target's directory. */
static int ejl_create(gf_ctx *ctx, ejl *j)
{
    const char *slash = strrchr(j->path, '/');
    const char *base = slash ? slash + 1 : j->path;
    j->dir = slash ? strndup(j->path, (size_t)(slash - j->path)) : strdup(".");
    if (j->dir && !j->dir[0]) {
        free(j->dir);
        j->dir = strdup("/");
    }
    if (!j->dir)
        return ejl_sys_error(ctx, j->path, ENOMEM);
    for (unsigned n = 0; n < 1000; n++) {
        free(j->tmp);
        if (asprintf(&j->tmp, "%s/.%s.%ld.%u.%u.tmp", j->dir, base,
                     (long)getpid(), ctx->instance, n) < 0) {
            j->tmp = NULL;
            return ejl_sys_error(ctx, j->path, ENOMEM);
        }
        int fd = open(j->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno == EEXIST)
            continue;
        if (fd < 0) {
            int err = errno;
            char eb[128];
            free(j->tmp);
            j->tmp = NULL;
            if (err == ENOENT || err == ENOTDIR)
                ctx->host->error(ctx,
                                 "%s: the directory %s does not exist; "
                                 "create it first",
                                 j->path, j->dir);
            else
                ctx->host->error(ctx, "%s: cannot create a file in %s: %s",
                                 j->path, j->dir,
                                 strerror_r(err, eb, sizeof eb));
            return GF_ERROR;
        }
        if (!(j->fp = fdopen(fd, "w"))) {
            close(fd);
            return ejl_sys_error(ctx, j->tmp, errno);
        }
        return GF_OK;
    }
    return ejl_sys_error(ctx, j->path, EEXIST);
}

static void ejl_destroy(gf_ctx *ctx, void *state);

/* init(), except that a failure may leave a half-built *state. */
static int ejl_open(gf_ctx *ctx, const void *config, void **state)
{
    const ejl_config *cfg = config;
    if (ctx->instances > 1) { /* workers would race to rename one file */
        ctx->host->error(ctx, "export_jsonl writes one file: run the stage "
                              "with workers: 1");
        return GF_ERROR;
    }
    ejl *j = calloc(1, sizeof *j);
    if (!j) {
        ctx->host->error(ctx, "out of memory");
        return GF_ERROR;
    }
    *state = j;
    j->path = cfg->path;
    if (strcmp(cfg->path, "-") != 0)
        return ejl_create(ctx, j);
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
        return ejl_sys_error(ctx, j->tmp ? j->tmp : "the stdout spool", errno);
    return GF_OK;
}

static int ejl_flush(gf_ctx *ctx, void *state, gf_out *out)
{
    (void)out;
    ejl *j = state;
    if (j->fp && fflush(j->fp) != 0)
        return ejl_sys_error(ctx, j->tmp ? j->tmp : "the stdout spool", errno);
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

static int ejl_commit(gf_ctx *ctx, void *state)
{
    ejl *j = state;
    if (!j->tmp)
        return GF_OK;
    if (fflush(j->fp) != 0 || fsync(fileno(j->fp)) != 0)
        return ejl_sys_error(ctx, j->tmp, errno);
    int rc = fclose(j->fp);
    j->fp = NULL;
    if (rc != 0)
        return ejl_sys_error(ctx, j->tmp, errno);
    if (rename(j->tmp, j->path) != 0)
        return ejl_sys_error(ctx, j->path, errno);
    free(j->tmp);
    j->tmp = NULL;
    int dfd = open(j->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
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
    if (j->tmp)
        unlink(j->tmp);
    free(j->tmp);
    free(j->dir);
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
    .commit = ejl_commit,
    .destroy = ejl_destroy,
};

GF_PLUGIN_DEFINE(export_jsonl)
