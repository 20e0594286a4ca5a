/*
 * gf_host - the host services table handed to plugins (see gf_host.h and
 * the gf_host struct in gigflow/plugin.h).
 *
 * Record reading and writing go straight to gf_record and gf_out; the
 * conversions to gf_json. The reporting functions format their message
 * here (into a stack buffer, or a heap one for a long message) and hand the
 * text to the runner behind ctx->rt (the executor, the validator, the test
 * harness), which decides where it goes. A runner that leaves an operation
 * out gets a sensible fallback: messages on stderr, the system clock.
 */
#include "gf_host.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "gf_alloc.h"
#include "gf_json.h"
#include "gf_out.h"
#include "gf_record.h"

/* Long enough for nearly every message; longer ones go to the heap. */
#define GF_HOST_MSG 512

static const gf_rt_ops *ops_of(const gf_ctx *ctx)
{
    if (!ctx || !ctx->rt)
        return NULL;
    return ((const gf_rt *)ctx->rt)->ops;
}

/*
 * Format fmt/ap into stack[GF_HOST_MSG] or, when longer, a gf_malloc'd
 * buffer stored in *heap (free it). Never fails: out of memory truncates.
 */
GF_PRINTF(3, 0)
static const char *format_msg(char *stack, char **heap, const char *fmt,
                              va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(stack, GF_HOST_MSG, fmt, ap);
    *heap = NULL;
    if (n >= GF_HOST_MSG) {
        char *h = gf_malloc((size_t)n + 1);
        if (h) {
            vsnprintf(h, (size_t)n + 1, fmt, ap2);
            *heap = h;
        }
    } else if (n < 0) {
        snprintf(stack, GF_HOST_MSG, "(unprintable message: %s)", fmt);
    }
    va_end(ap2);
    return *heap ? *heap : stack;
}

static const char *stage_of(const gf_ctx *ctx)
{
    return ctx && ctx->stage ? ctx->stage : "?";
}

/* Where a message goes: which reporting function, and its arguments. */
typedef enum msg_kind { MSG_LOG, MSG_ERROR, MSG_CONFIG, MSG_OPTION } msg_kind;

typedef struct msg_to {
    msg_kind kind;
    gf_log_level level; /* MSG_LOG */
    const char *file;   /* MSG_CONFIG */
    unsigned line, col; /* MSG_CONFIG */
    const char *key;    /* MSG_OPTION */
} msg_to;

/*
 * Format fmt/ap and hand the text to the runner's operation for `to`, or,
 * where the runner has none, print it on stderr: the one body of log(),
 * error(), config_error() and option_error().
 */
GF_PRINTF(3, 0)
static void deliver(gf_ctx *ctx, const msg_to *to, const char *fmt, va_list ap)
{
    char stack[GF_HOST_MSG], *heap;
    const char *msg = format_msg(stack, &heap, fmt, ap);
    const gf_rt_ops *ops = ops_of(ctx);
    switch (to->kind) {
    case MSG_LOG:
        if (ops && ops->log)
            ops->log(ctx, to->level, msg);
        else
            fprintf(stderr, "stage %s: %s\n", stage_of(ctx), msg);
        break;
    case MSG_ERROR:
        if (ops && ops->error)
            ops->error(ctx, msg);
        else
            fprintf(stderr, "stage %s: %s\n", stage_of(ctx), msg);
        break;
    case MSG_CONFIG:
        if (ops && ops->config_error)
            ops->config_error(ctx, to->file, to->line, to->col, msg);
        else
            fprintf(stderr, "%s:%u:%u: %s\n", to->file ? to->file : "?",
                    to->line, to->col, msg);
        break;
    case MSG_OPTION:
        if (ops && ops->option_error)
            ops->option_error(ctx, to->key, msg);
        else
            fprintf(stderr, "stage %s: option %s: %s\n", stage_of(ctx),
                    to->key ? to->key : "?", msg);
        break;
    }
    gf_free(heap);
}

GF_PRINTF(3, 4)
static void host_log(gf_ctx *ctx, gf_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    deliver(ctx, &(msg_to){.kind = MSG_LOG, .level = level}, fmt, ap);
    va_end(ap);
}

GF_PRINTF(2, 3)
static void host_error(gf_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    deliver(ctx, &(msg_to){.kind = MSG_ERROR}, fmt, ap);
    va_end(ap);
}

GF_PRINTF(5, 6)
static void host_config_error(gf_ctx *ctx, const char *file, unsigned line,
                              unsigned col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    deliver(
        ctx,
        &(msg_to){.kind = MSG_CONFIG, .file = file, .line = line, .col = col},
        fmt, ap);
    va_end(ap);
}

GF_PRINTF(3, 4)
static void host_option_error(gf_ctx *ctx, const char *key, const char *fmt,
                              ...)
{
    va_list ap;
    va_start(ap, fmt);
    deliver(ctx, &(msg_to){.kind = MSG_OPTION, .key = key}, fmt, ap);
    va_end(ap);
}

/* reject() and reject_raw(): rec for the one, data/len/file/line for the
   other. */
static int reject_any(gf_ctx *ctx, const gf_record *rec, const void *data,
                      size_t len, const char *file, uint64_t line,
                      const char *reason)
{
    const gf_rt_ops *ops = ops_of(ctx);
    if (!reason)
        reason = "rejected";
    if (ops && ops->reject)
        return ops->reject(ctx, rec, data, len, file, line, reason);
    fprintf(stderr, "stage %s: rejected: %s\n", stage_of(ctx), reason);
    return 0;
}

static int host_reject(gf_ctx *ctx, const gf_record *rec, const char *reason)
{
    return reject_any(ctx, rec, NULL, 0, NULL, 0, reason);
}

static int host_reject_raw(gf_ctx *ctx, const void *data, size_t len,
                           const char *file, uint64_t line, const char *reason)
{
    return reject_any(ctx, NULL, data, len, file, line, reason);
}

static void host_drop(gf_ctx *ctx, const gf_record *rec)
{
    const gf_rt_ops *ops = ops_of(ctx);
    if (ops && ops->drop)
        ops->drop(ctx, rec);
}

static int64_t host_now_ns(gf_ctx *ctx)
{
    const gf_rt_ops *ops = ops_of(ctx);
    if (ops && ops->now_ns)
        return ops->now_ns(ctx);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t host_run_started(gf_ctx *ctx)
{
    const gf_rt_ops *ops = ops_of(ctx);
    if (ops && ops->run_started)
        return ops->run_started(ctx);
    return (int64_t)time(NULL);
}

static uint64_t host_rejects_total(gf_ctx *ctx)
{
    const gf_rt_ops *ops = ops_of(ctx);
    return ops && ops->rejects_total ? ops->rejects_total(ctx) : 0;
}

static const char *host_run_info(gf_ctx *ctx, const char *key)
{
    const gf_rt_ops *ops = ops_of(ctx);
    return ops && ops->run_info && key ? ops->run_info(ctx, key) : NULL;
}

/* The runner's output set, or NULL with a message in err. */
static gf_output_set *outputs_of(gf_ctx *ctx, char *err, size_t errlen)
{
    const gf_rt_ops *ops = ops_of(ctx);
    gf_output_set *s = ops && ops->outputs ? ops->outputs(ctx) : NULL;
    if (!s && err && errlen)
        snprintf(err, errlen,
                 "no outputs can be opened here (only an "
                 "export, from init() on)");
    return s;
}

static FILE *host_output_open(gf_ctx *ctx, const char *path, char *err,
                              size_t errlen)
{
    if (!err)
        errlen = 0;
    gf_output_set *s = outputs_of(ctx, err, errlen);
    return s ? gf_output_open(s, ctx, stage_of(ctx), path, err, errlen) : NULL;
}

static const char *host_output_path(gf_ctx *ctx, const char *path, char *err,
                                    size_t errlen)
{
    if (!err)
        errlen = 0;
    gf_output_set *s = outputs_of(ctx, err, errlen);
    return s ? gf_output_path(s, ctx, stage_of(ctx), path, err, errlen) : NULL;
}

const gf_host gf_host_table = {
    .size = sizeof(gf_host),
    .abi_major = GF_ABI_MAJOR,
    .abi_minor = GF_ABI_MINOR,

    .log = host_log,
    .error = host_error,
    .config_error = host_config_error,
    .option_error = host_option_error,

    .reject = host_reject,
    .reject_raw = host_reject_raw,
    .drop = host_drop,

    .get = gf_record_get,
    .get_n = gf_record_get_n,
    .next = gf_record_next,
    .elem = gf_value_elem,
    .entry = gf_value_entry,

    .begin = gf_out_begin,
    .begin_copy = gf_out_begin_copy,
    .set_str = gf_out_set_str,
    .set_int = gf_out_set_int,
    .set_float = gf_out_set_float,
    .set_bool = gf_out_set_bool,
    .set_nil = gf_out_set_nil,
    .set_value = gf_out_set_value,
    .set_raw = gf_out_set_raw,
    .unset = gf_out_unset,
    .end = gf_out_end,
    .emit = gf_out_emit,

    .to_json = gf_json_to_malloc,
    .set_json = gf_json_set_fields,

    .now_ns = host_now_ns,
    .run_started = host_run_started,

    .rejects_total = host_rejects_total,
    .run_info = host_run_info,

    .output_open = host_output_open,
    .output_path = host_output_path,

    .value_to_json = gf_json_value_to_malloc,

    .set_position = gf_out_set_position,
};
