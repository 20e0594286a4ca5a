/*
 * gf_harness - one plugin driven without sockets, for tests (the public
 * gigflow/harness.h; the idea is GStreamer's GstHarness).
 *
 * The harness is a runner like the executor: it embeds a gf_rt whose ops
 * keep what a plugin reports (errors, config errors, dead letters in the
 * dead-letter file's JSON-lines form, drops) instead of sending it on, and
 * an output gf_out whose full batches are kept. After every callback the
 * output is flushed into the kept batches, which are checked with the same
 * validator that guards frames from the network (a plugin that writes bad
 * MessagePack fails its test, not a run), and each record gets a stable
 * gf_record view valid until gf_harness_destroy, and the source position
 * gf_out noted for it (gf_harness_position).
 *
 * Options go through gf_yaml and gf_options exactly as a pipeline's `with:`
 * does, so a test sees the same messages an operator would.
 */
#include <gigflow/harness.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gf_alloc.h"
#include "gf_buf.h"
#include "gf_deadletter.h"
#include "gf_diag.h"
#include "gf_host.h"
#include "gf_json.h"
#include "gf_loader.h"
#include "gf_mp.h"
#include "gf_options.h"
#include "gf_out.h"
#include "gf_output.h"
#include "gf_record.h"
#include "gf_srcpos.h"
#include "gf_yaml.h"

/* The name options are parsed under: messages read "<options>:1:8: ...". */
#define GF_HARNESS_OPTIONS_NAME "<options>"

struct gf_harness {
    gf_rt rt; /* first: ctx.rt points here */
    gf_ctx ctx;
    gf_loaded *lib;
    gf_ynode *tree; /* the options' YAML */
    gf_optset *opts;
    void *state;
    bool inited;

    gf_out out;        /* what the plugin emits */
    gf_out in;         /* push_json builds its record here */
    uint8_t **batches; /* kept output batches */
    size_t nbatches, capbatches;
    gf_record **recs; /* views into batches, one allocation each */
    size_t nrecs, caprecs;
    gf_srcpos *pos; /* source position of recs[i] (added by pos) */
    size_t cappos;
    gf_srcpos_table *srcpos; /* the file names of positions */
    gf_srcpos push_pos;      /* the position pushed records come from */

    char **rejects; /* dead-letter lines, without the newline */
    size_t nrejects, caprejects;
    size_t drops;

    char *error;            /* the last error, "" when none */
    gf_diag diag;           /* config errors (check/init) */
    int64_t started;        /* wall clock at new, seconds */
    gf_output_set *outputs; /* output_open/output_path files */
};

static gf_harness *of(gf_ctx *ctx)
{
    return (gf_harness *)ctx->rt;
}

static void set_error(gf_harness *h, const char *msg)
{
    char *e = gf_strdup(msg);
    if (!e)
        return; /* keep the previous message rather than none */
    gf_free(h->error);
    h->error = e;
}

/* Grow a pointer array by one slot. Returns 0 or -ENOMEM. */
static int grow(void ***v, size_t n, size_t *cap)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 16;
    void **nv = gf_realloc(*v, c * sizeof *nv);
    if (!nv)
        return -ENOMEM;
    *v = nv;
    *cap = c;
    return 0;
}

/* --- the runtime side (gf_rt_ops) -------------------------------------- */

static void h_log(gf_ctx *ctx, gf_log_level level, const char *msg)
{
    static const char *const names[] = {"error", "warning", "info", "debug"};
    if (level <= GF_LOG_WARN || getenv("GF_HARNESS_VERBOSE"))
        fprintf(stderr, "harness: %s: %s: %s\n", ctx->stage,
                names[level <= GF_LOG_DEBUG ? level : GF_LOG_DEBUG], msg);
}

static void h_error(gf_ctx *ctx, const char *msg)
{
    set_error(of(ctx), msg);
}

static void h_config_error(gf_ctx *ctx, const char *file, unsigned line,
                           unsigned col, const char *msg)
{
    gf_harness *h = of(ctx);
    gf_diag_add(&h->diag, file, line, col, "%s", msg);
    if (h->diag.n)
        set_error(h, h->diag.msgs[h->diag.n - 1]);
}

static void h_option_error(gf_ctx *ctx, const char *key, const char *msg)
{
    gf_harness *h = of(ctx);
    const gf_ynode *at = gf_optset_node(h->opts, key);
    gf_diag_add(&h->diag, at ? at->file : NULL, at ? at->line : 0,
                at ? at->col : 0, "option '%s': %s", key, msg);
    if (h->diag.n)
        set_error(h, h->diag.msgs[h->diag.n - 1]);
}

static int h_reject(gf_ctx *ctx, const gf_record *rec, const void *data,
                    size_t len, const char *file, uint64_t line,
                    const char *reason)
{
    gf_harness *h = of(ctx);
    gf_buf b = {0};
    if (!file && line == 0) {
        /* as a run does: an ingest's last set_position, else the
           position of the record pushed */
        gf_srcpos at =
            h->lib->desc->kind == GF_KIND_INGEST ? h->out.cur : h->push_pos;
        file = gf_srcpos_name(h->srcpos, at.file);
        line = at.line;
    }
    if (gf_deadletter_format(&b, ctx->stage, reason, rec, data, len, file, line,
                             NULL) != 0 ||
        grow((void ***)&h->rejects, h->nrejects, &h->caprejects) != 0 ||
        gf_buf_append(&b, "", 1) != 0) {
        gf_buf_free(&b);
        return -ENOMEM;
    }
    char *line_text = (char *)b.data;
    size_t n = strlen(line_text);
    if (n && line_text[n - 1] == '\n')
        line_text[n - 1] = '\0';
    h->rejects[h->nrejects++] = line_text;
    return 0;
}

static void h_drop(gf_ctx *ctx, const gf_record *rec)
{
    (void)rec;
    of(ctx)->drops++;
}

static int64_t h_now_ns(gf_ctx *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t h_run_started(gf_ctx *ctx)
{
    return of(ctx)->started;
}

static uint64_t h_rejects_total(gf_ctx *ctx)
{
    return of(ctx)->nrejects;
}

static const char *h_run_info(gf_ctx *ctx, const char *key)
{
    if (strcmp(key, "name") == 0 || strcmp(key, "pipeline") == 0)
        return "harness";
    /* "inputs", "dead_letters": none; the harness keeps dead letters in
       memory (gf_harness_reject) */
    (void)ctx;
    return NULL;
}

static gf_output_set *h_outputs(gf_ctx *ctx)
{
    return of(ctx)->outputs;
}

static const gf_rt_ops harness_ops = {
    .log = h_log,
    .error = h_error,
    .config_error = h_config_error,
    .option_error = h_option_error,
    .reject = h_reject,
    .drop = h_drop,
    .now_ns = h_now_ns,
    .run_started = h_run_started,
    .rejects_total = h_rejects_total,
    .run_info = h_run_info,
    .outputs = h_outputs,
};

/* --- output ------------------------------------------------------------ */

/*
 * on_full: keep an exact-size copy of the batch, after checking every record
 * in it, and clear it; the runtime's batch buffer is reused, so a test that
 * pushes records one by one keeps no 64 KiB per record.
 */
static int keep_batch(gf_out *out, void *arg)
{
    gf_harness *h = arg;
    size_t len = out->batch.len;
    uint32_t nrec = out->nrec;
    if (len == 0)
        return 0;
    const char *why = NULL;
    if (gf_mp_check_batch(out->batch.data, len, nrec, &why) != 0) {
        char msg[256];
        snprintf(msg, sizeof msg,
                 "the plugin's output is not valid records: %s", why);
        set_error(h, msg);
        gf_buf_clear(&out->batch);
        return -EINVAL;
    }
    uint8_t *data = gf_malloc(len);
    if (!data ||
        grow((void ***)&h->batches, h->nbatches, &h->capbatches) != 0) {
        gf_free(data);
        set_error(h, "out of memory keeping the output");
        return -ENOMEM;
    }
    memcpy(data, out->batch.data, len);
    gf_buf_clear(&out->batch);
    h->batches[h->nbatches++] = data;
    const uint8_t *pos = data, *end = data + len;
    gf_record r;
    for (uint32_t k = 0; gf_mp_batch_next(&pos, end, &r); k++) {
        gf_record *c = gf_malloc(sizeof *c);
        if (!c || grow((void ***)&h->recs, h->nrecs, &h->caprecs) != 0) {
            gf_free(c);
            set_error(h, "out of memory keeping the output");
            return -ENOMEM;
        }
        if (h->nrecs == h->cappos) {
            size_t cap = h->caprecs;
            gf_srcpos *p = gf_realloc(h->pos, cap * sizeof *p);
            if (!p) {
                gf_free(c);
                set_error(h, "out of memory keeping the output");
                return -ENOMEM;
            }
            h->pos = p;
            h->cappos = cap;
        }
        *c = r;
        /* the positions array holds one entry per record, or none */
        h->pos[h->nrecs] = k < out->npos ? out->pos[k] : (gf_srcpos){0, 0};
        h->recs[h->nrecs++] = c;
    }
    return 0;
}

/* After a callback: move what it emitted into the kept output. */
static int collect(gf_harness *h, int rc)
{
    int f = gf_out_flush(&h->out);
    if (rc >= 0 && f < 0)
        return f;
    if (rc >= 0 && h->out.status < 0)
        return h->out.status;
    return rc;
}

/* --- life -------------------------------------------------------------- */

/* Every message of a failed new(), one per line, malloc'd. */
static char *all_errors(gf_harness *h, const char *extra)
{
    gf_buf b = {0};
    for (size_t i = 0; i < h->diag.n; i++)
        gf_buf_printf(&b, "%s%s", b.len ? "\n" : "", h->diag.msgs[i]);
    if (extra && *extra &&
        !(h->diag.n && strcmp(h->diag.msgs[h->diag.n - 1], extra) == 0))
        gf_buf_printf(&b, "%s%s", b.len ? "\n" : "", extra);
    if (gf_buf_append(&b, "", 1) != 0) {
        gf_buf_free(&b);
        return NULL;
    }
    /* hand out plain malloc memory: the caller frees with free() */
    char *s = strdup((const char *)b.data);
    gf_buf_free(&b);
    return s;
}

GF_EXPORT gf_harness *gf_harness_new(const char *plugin,
                                     const char *options_yaml,
                                     const char *base_dir, char **err)
{
    if (err)
        *err = NULL;
    gf_harness *h = gf_calloc(1, sizeof *h);
    if (!h) {
        if (err)
            *err = strdup("out of memory");
        return NULL;
    }
    h->rt.ops = &harness_ops;
    h->started = (int64_t)time(NULL);
    h->error = gf_strdup("");
    char *lerr = NULL;
    if (!h->error || !(h->outputs = gf_output_new()) ||
        !(h->srcpos = gf_srcpos_table_new()) ||
        gf_out_init(&h->out, 64 * 1024, keep_batch, h) != 0 ||
        gf_out_init(&h->in, 4096, NULL, NULL) != 0) {
        gf_diag_add(&h->diag, NULL, 0, 0, "out of memory");
        goto fail_new;
    }
    h->out.srcpos = h->srcpos;
    h->lib = strchr(plugin, '/') ? gf_loader_open_path(plugin, &lerr)
                                 : gf_loader_open(plugin, &lerr);
    if (!h->lib) {
        gf_diag_add(&h->diag, NULL, 0, 0, "%s",
                    lerr ? lerr : "cannot load the plugin");
        gf_free(lerr);
        goto fail_new;
    }
    const gf_plugin *desc = h->lib->desc;
    h->ctx.host = &gf_host_table;
    h->ctx.stage = desc->name;
    h->ctx.instance = 0;
    h->ctx.instances = 1;
    h->ctx.rt = h;

    const gf_ynode *with = NULL;
    if (options_yaml && *options_yaml) {
        h->tree = gf_yaml_load_string(options_yaml, strlen(options_yaml),
                                      GF_HARNESS_OPTIONS_NAME, &h->diag);
        if (!h->tree)
            goto fail_new;
        with = h->tree;
    }
    h->opts = gf_options_parse(desc, with, NULL, base_dir, &h->diag);
    if (!h->opts)
        goto fail_new;
    const void *config = gf_optset_config(h->opts);
    if (desc->check && desc->check(&h->ctx, config) < 0) {
        if (h->diag.n == 0)
            gf_diag_add(&h->diag, NULL, 0, 0, "%s: check() failed%s%s",
                        desc->name, *h->error ? ": " : "", h->error);
        goto fail_new;
    }
    if (desc->init(&h->ctx, config, &h->state) < 0) {
        if (h->diag.n == 0)
            gf_diag_add(&h->diag, NULL, 0, 0, "%s: init() failed%s%s",
                        desc->name, *h->error ? ": " : "", h->error);
        goto fail_new;
    }
    h->inited = true;
    return h;

fail_new:
    if (err)
        *err = all_errors(h, NULL);
    gf_harness_destroy(&h);
    return NULL;
}

/* Run process() on one validated record. */
static int process(gf_harness *h, const gf_record *rec)
{
    const gf_plugin *desc = h->lib->desc;
    if (!desc->process) {
        set_error(h, "this plugin takes no input (an ingest plugin: use "
                     "gf_harness_produce)");
        return GF_ERROR;
    }
    h->out.cur = h->push_pos; /* what process() emits inherits it */
    int rc = collect(h, desc->process(&h->ctx, h->state, rec, &h->out));
    h->out.cur = (gf_srcpos){0, 0};
    return rc;
}

GF_EXPORT int gf_harness_push_json(gf_harness *h, const char *json)
{
    gf_out *in = &h->in;
    gf_buf_clear(&in->batch);
    in->nrec = in->npos = 0;
    char why[200];
    gf_out_begin(in);
    int rc = gf_json_set_fields(in, json, strlen(json), why, sizeof why);
    if (rc != 0) {
        char msg[300];
        snprintf(msg, sizeof msg, "push_json: %s", why);
        set_error(h, msg);
        gf_out_end(in); /* close it; the bytes are cleared next time */
        return -2;
    }
    rc = gf_out_end(in);
    if (rc != 0) {
        set_error(h, "push_json: out of memory");
        return rc;
    }
    gf_record rec;
    gf_record_view(&rec, in->batch.data, in->batch.len);
    return process(h, &rec);
}

GF_EXPORT int gf_harness_push(gf_harness *h, const void *mp, size_t len)
{
    const char *why = NULL;
    if (!mp || gf_mp_check_batch(mp, len, 1, &why) != 0) {
        char msg[200];
        snprintf(msg, sizeof msg, "push: not one MessagePack map: %s",
                 why ? why : "no bytes");
        set_error(h, msg);
        return -2;
    }
    gf_record rec;
    gf_record_view(&rec, mp, len);
    return process(h, &rec);
}

GF_EXPORT int gf_harness_produce(gf_harness *h)
{
    const gf_plugin *desc = h->lib->desc;
    if (!desc->produce) {
        set_error(h, "this plugin has no produce() (not an ingest plugin: "
                     "push records instead)");
        return GF_ERROR;
    }
    int rc;
    do
        rc = collect(h, desc->produce(&h->ctx, h->state, &h->out));
    while (rc == GF_MORE);
    return rc;
}

GF_EXPORT int gf_harness_flush(gf_harness *h)
{
    const gf_plugin *desc = h->lib->desc;
    h->out.cur = (gf_srcpos){0, 0}; /* groups: of no one input record */
    if (!desc->flush)
        return collect(h, GF_OK);
    return collect(h, desc->flush(&h->ctx, h->state, &h->out));
}

GF_EXPORT int gf_harness_partial(gf_harness *h)
{
    const gf_plugin *desc = h->lib->desc;
    if (!GF_PLUGIN_CAN_MERGE(desc)) {
        set_error(h, "this plugin has no partial() and merge() (ABI minor 2)");
        return GF_ERROR;
    }
    return collect(h, desc->partial(&h->ctx, h->state, &h->out));
}

GF_EXPORT int gf_harness_merge(gf_harness *h, const gf_record *partial)
{
    const gf_plugin *desc = h->lib->desc;
    if (!GF_PLUGIN_CAN_MERGE(desc)) {
        set_error(h, "this plugin has no partial() and merge() (ABI minor 2)");
        return GF_ERROR;
    }
    if (!partial) {
        set_error(h, "merge: no record");
        return -2;
    }
    return collect(h, desc->merge(&h->ctx, h->state, partial));
}

GF_EXPORT int gf_harness_commit(gf_harness *h)
{
    const gf_plugin *desc = h->lib->desc;
    int rc = desc->commit ? desc->commit(&h->ctx, h->state) : GF_OK;
    char err[512];
    if (rc >= 0 && gf_output_commit(h->outputs, err, sizeof err) < 0) {
        set_error(h, err);
        rc = GF_ERROR;
    }
    return rc;
}

GF_EXPORT size_t gf_harness_count(const gf_harness *h)
{
    return h->nrecs;
}

GF_EXPORT const gf_record *gf_harness_output(const gf_harness *h, size_t i)
{
    return i < h->nrecs ? h->recs[i] : NULL;
}

GF_EXPORT char *gf_harness_output_json(const gf_harness *h, size_t i)
{
    if (i >= h->nrecs)
        return NULL;
    gf_buf b = {0};
    if (gf_json_record(&b, h->recs[i]) != 0 || gf_buf_append(&b, "", 1) != 0) {
        gf_buf_free(&b);
        return NULL;
    }
    char *s = strdup((const char *)b.data); /* the caller free()s it */
    gf_buf_free(&b);
    return s;
}

GF_EXPORT int gf_harness_position(const gf_harness *h, size_t i,
                                  const char **file, uint64_t *line)
{
    if (file)
        *file = NULL;
    if (line)
        *line = 0;
    if (i >= h->nrecs)
        return -1;
    if (file)
        *file = gf_srcpos_name(h->srcpos, h->pos[i].file);
    if (line)
        *line = h->pos[i].line;
    return 0;
}

GF_EXPORT int gf_harness_set_position(gf_harness *h, const char *file,
                                      uint64_t line)
{
    uint32_t f = 0;
    if (file && !(f = gf_srcpos_intern(h->srcpos, file, NULL))) {
        set_error(h, "set_position: out of memory");
        return -ENOMEM;
    }
    h->push_pos.file = f;
    h->push_pos.line = line <= UINT32_MAX ? (uint32_t)line : 0;
    return 0;
}

GF_EXPORT size_t gf_harness_rejects(const gf_harness *h)
{
    return h->nrejects;
}

GF_EXPORT const char *gf_harness_reject(const gf_harness *h, size_t i)
{
    return i < h->nrejects ? h->rejects[i] : NULL;
}

GF_EXPORT size_t gf_harness_drops(const gf_harness *h)
{
    return h->drops;
}

GF_EXPORT const char *gf_harness_error(const gf_harness *h)
{
    return h->error ? h->error : "";
}

GF_EXPORT const gf_host *gf_harness_host(const gf_harness *h)
{
    (void)h;
    return &gf_host_table;
}

GF_EXPORT void gf_harness_destroy(gf_harness **hp)
{
    if (!hp || !*hp)
        return;
    gf_harness *h = *hp;
    if (h->inited)
        h->lib->desc->destroy(&h->ctx, h->state);
    gf_output_free(&h->outputs); /* after destroy(): it may fclose */
    gf_out_release(&h->out);
    gf_out_release(&h->in);
    for (size_t i = 0; i < h->nrecs; i++)
        gf_free(h->recs[i]);
    gf_free(h->recs);
    gf_free(h->pos);
    for (size_t i = 0; i < h->nbatches; i++)
        gf_free(h->batches[i]);
    gf_free(h->batches);
    for (size_t i = 0; i < h->nrejects; i++)
        gf_free(h->rejects[i]);
    gf_free(h->rejects);
    gf_optset_free(&h->opts);
    gf_ynode_free(&h->tree);
    gf_loader_close(&h->lib);
    gf_diag_free(&h->diag);
    gf_srcpos_table_free(&h->srcpos);
    gf_free(h->error);
    gf_free(h);
    *hp = NULL;
}
