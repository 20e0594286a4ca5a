/*
 * fuzz_rules - classify_rules files from arbitrary bytes: the plugin
 * (loaded from the search path like the runtime does) must report bad files
 * through config_error and never crash; a file that compiles is applied to
 * a few fixed records.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <gigflow/plugin.h>

#include "gf_host.h"
#include "gf_loader.h"
#include "gf_out.h"
#include "gf_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void f_log(gf_ctx *c, gf_log_level l, const char *m)
{
    (void)c;
    (void)l;
    (void)m;
}
static void f_error(gf_ctx *c, const char *m)
{
    (void)c;
    (void)m;
}
static void f_cerr(gf_ctx *c, const char *f, unsigned l, unsigned col,
                   const char *m)
{
    (void)c;
    (void)f;
    (void)l;
    (void)col;
    (void)m;
}
static void f_oerr(gf_ctx *c, const char *k, const char *m)
{
    (void)c;
    (void)k;
    (void)m;
}
static int f_reject(gf_ctx *c, const gf_record *r, const void *d, size_t n,
                    const char *f, uint64_t l, const char *why)
{
    (void)c;
    (void)r;
    (void)d;
    (void)n;
    (void)f;
    (void)l;
    (void)why;
    return 0;
}
static void f_drop(gf_ctx *c, const gf_record *r)
{
    (void)c;
    (void)r;
}
static int64_t f_now(gf_ctx *c)
{
    (void)c;
    return 0;
}
static uint64_t f_rejects(gf_ctx *c)
{
    (void)c;
    return 0;
}
static const char *f_info(gf_ctx *c, const char *k)
{
    (void)c;
    (void)k;
    return NULL;
}

static const gf_rt_ops fuzz_ops = {.log = f_log,
                                   .error = f_error,
                                   .config_error = f_cerr,
                                   .option_error = f_oerr,
                                   .reject = f_reject,
                                   .drop = f_drop,
                                   .now_ns = f_now,
                                   .run_started = f_now,
                                   .rejects_total = f_rejects,
                                   .run_info = f_info};

static int discard(gf_out *out, void *arg)
{
    (void)arg;
    gf_buf_clear(&out->batch);
    out->nrec = 0;
    return 0;
}

/* {"platform":"美团","age":20,"station":"STN-01"}, {"age":1.5}, {} */
static const uint8_t rec1[] = "\x83\xa8platform\xa6\xe7\xbe\x8e\xe5\x9b\xa2"
                              "\xa3"
                              "age\x14\xa7station\xa6STN-01";
static const uint8_t rec2[] = "\x81\xa3"
                              "age\xcb\x3f\xf8\0\0\0\0\0\0";
static const uint8_t rec3[] = "\x80";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static gf_loaded *lp;
    if (!lp) {
        char *err = NULL;
        lp = gf_loader_open("classify_rules", &err);
        if (!lp) {
            fprintf(stderr, "fuzz_rules: %s\n", err);
            abort();
        }
    }
    int fd = memfd_create("rules.yaml", 0);
    if (fd < 0 || write(fd, data, size) != (ssize_t)size)
        abort();
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    gf_rt rt = {.ops = &fuzz_ops};
    gf_ctx ctx = {
        .host = &gf_host_table, .stage = "fuzz", .instances = 1, .rt = &rt};
    const char *config = path;
    void *state = NULL;
    if (lp->desc->check(&ctx, &config) == 0 &&
        lp->desc->init(&ctx, &config, &state) == 0) {
        gf_out out;
        if (gf_out_init(&out, 1 << 16, discard, NULL) == 0) {
            const uint8_t *recs[] = {rec1, rec2, rec3};
            size_t lens[] = {sizeof rec1 - 1, sizeof rec2 - 1, 1};
            for (int i = 0; i < 3; i++) {
                gf_record r;
                gf_record_view(&r, recs[i], lens[i]);
                lp->desc->process(&ctx, state, &r, &out);
            }
            gf_out_release(&out);
        }
    }
    if (state)
        lp->desc->destroy(&ctx, state);
    close(fd);
    return 0;
}
