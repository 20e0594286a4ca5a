/*
 * gf_host - the host services table handed to plugins (gigflow/plugin.h).
 *
 * The table's functions format messages and do the record work themselves;
 * everything that depends on who is running the plugin (the executor, the
 * validator, the test harness) goes through the gf_rt that ctx->rt points
 * to. Each runner embeds a gf_rt as the first member of its own context.
 */
#ifndef GF_HOST_H
#define GF_HOST_H

#include <gigflow/plugin.h>

#include "gf_output.h"

typedef struct gf_rt_ops {
    void (*log)(gf_ctx *ctx, gf_log_level level, const char *msg);
    void (*error)(gf_ctx *ctx, const char *msg);
    void (*config_error)(gf_ctx *ctx, const char *file, unsigned line,
                         unsigned col, const char *msg);
    void (*option_error)(gf_ctx *ctx, const char *key, const char *msg);
    /* rec is set for reject(), data/len/file/line for reject_raw() */
    int (*reject)(gf_ctx *ctx, const gf_record *rec, const void *data,
                  size_t len, const char *file, uint64_t line,
                  const char *reason);
    void (*drop)(gf_ctx *ctx, const gf_record *rec);
    int64_t (*now_ns)(gf_ctx *ctx);
    int64_t (*run_started)(gf_ctx *ctx);
    uint64_t (*rejects_total)(gf_ctx *ctx);
    const char *(*run_info)(gf_ctx *ctx, const char *key);
    /* The run's atomic outputs (gf_host.output_open/output_path), or NULL
       where there are none (the validator). */
    gf_output_set *(*outputs)(gf_ctx *ctx);
} gf_rt_ops;

typedef struct gf_rt {
    const gf_rt_ops *ops;
} gf_rt;

/* The one table; ctx->host points here. */
extern const gf_host gf_host_table;

#endif
