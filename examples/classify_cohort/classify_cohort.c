/*
 * classify_cohort - the example plugin of docs/plugins.md: a complete
 * classify plugin, built out of tree against the installed SDK with
 *
 *   cc -shared -fPIC $(pkg-config --cflags gigflow) \
 *      classify_cohort.c -o classify_cohort.so
 *
 * It reads a member's `age` and adds `cohort`: "youth" up to `max_age`
 * (default 35), "adult" above. A record whose age is not a number goes to
 * the dead letters; one without an age passes unchanged.
 */
#include <stdlib.h>

#include <gigflow/plugin.h>

/* Where the runtime stores the options (see the table below). */
struct cohort_config {
    int64_t max_age;
    const char *field;
};

/* Per-instance state: no globals, so the plugin may run as many workers. */
struct cohort {
    const gf_host *host;
    int64_t max_age;
    const char *field;
};

static const gf_option cohort_options[] = {
    {.key = "max_age",
     .type = GF_OPT_INT,
     .def = "35",
     .offset = offsetof(struct cohort_config, max_age),
     .help = "oldest age counted as youth"},
    {.key = "field",
     .type = GF_OPT_STRING,
     .def = "cohort",
     .offset = offsetof(struct cohort_config, field),
     .help = "name of the field to set"},
    {0}};

static int cohort_check(gf_ctx *ctx, const void *config)
{
    const struct cohort_config *c = config;
    if (c->max_age < 0 || c->max_age > 150) {
        ctx->host->option_error(ctx, "max_age", "must be between 0 and 150");
        return GF_ERROR;
    }
    return GF_OK;
}

static int cohort_init(gf_ctx *ctx, const void *config, void **state)
{
    const struct cohort_config *c = config;
    struct cohort *s = calloc(1, sizeof *s);
    if (!s) {
        ctx->host->error(ctx, "out of memory");
        return GF_ERROR;
    }
    s->host = ctx->host;
    s->max_age = c->max_age;
    s->field = c->field; /* owned by the runtime until destroy */
    *state = s;
    return GF_OK;
}

static int cohort_process(gf_ctx *ctx, void *state, const gf_record *rec,
                          gf_out *out)
{
    struct cohort *s = state;
    const gf_host *h = s->host;
    gf_value age;

    if (!h->get(rec, "age", &age) || age.type == GF_T_NIL)
        return h->emit(out, rec); /* nothing to classify: byte copy */
    if (age.type != GF_T_INT)
        return h->reject(ctx, rec, "field age: not an integer");

    h->begin_copy(out, rec); /* untouched fields are copied as bytes */
    h->set_str(out, s->field, age.v.i <= s->max_age ? "youth" : "adult",
               5); /* both words have 5 bytes */
    return h->end(out);
}

static void cohort_destroy(gf_ctx *ctx, void *state)
{
    (void)ctx;
    free(state);
}

static const gf_plugin cohort_plugin = {
    GF_PLUGIN_HEADER,
    .name = "classify_cohort",
    .kind = GF_KIND_CLASSIFY,
    .version = "1.0.0",
    .description = "example: add cohort youth/adult from age",
    .options = cohort_options,
    .config_size = sizeof(struct cohort_config),
    .check = cohort_check,
    .init = cohort_init,
    .process = cohort_process,
    .destroy = cohort_destroy,
};

GF_PLUGIN_DEFINE(cohort_plugin)
