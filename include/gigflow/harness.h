/*
 * gigflow/harness.h - drive one plugin without sockets, for tests.
 *
 * Load a plugin, give it options as YAML text, push records as JSON, run
 * produce/flush/commit, and read what came out: records, dead letters,
 * drops and errors. Link with `pkg-config --libs gigflow`. The idea is
 * GStreamer's GstHarness.
 *
 *   gf_harness *h = gf_harness_new("classify_rules", "rules: r.yaml", NULL);
 *   gf_harness_push_json(h, "{\"kind\":\"member\",\"age\":30}");
 *   gf_harness_flush(h);
 *   char *json = gf_harness_output_json(h, 0);
 */
#ifndef GIGFLOW_HARNESS_H
#define GIGFLOW_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include <gigflow/plugin.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gf_harness gf_harness;

/*
 * Load `plugin` (a name on the search path, or a path containing '/'),
 * parse `options_yaml` (the text of a `with:` mapping; NULL or "" for none)
 * with relative paths resolved against `base_dir` (NULL: the current
 * directory), run check() and init(). Returns NULL on failure and, if err
 * is not NULL, a malloc'd message (every error, one per line).
 */
gf_harness *gf_harness_new(const char *plugin, const char *options_yaml,
                           const char *base_dir, char **err);
/* Push one record given as a JSON object. Returns the callback's result,
   or -2 when the JSON is not an object. */
int gf_harness_push_json(gf_harness *h, const char *json);
/* Push one record given as MessagePack bytes of a map. */
int gf_harness_push(gf_harness *h, const void *mp, size_t len);
/* Ingest: call produce() until GF_DONE or an error; returns the result. */
int gf_harness_produce(gf_harness *h);
/* End of stream: flush(). */
int gf_harness_flush(gf_harness *h);
/*
 * Aggregates with partial() and merge() (ABI minor 2; added by merge):
 * partial() writes this instance's state as records into the output (read
 * them with gf_harness_output, as after flush); merge() absorbs one such
 * record, e.g. the output of another harness of the same plugin and
 * options. Both return the callback's result, GF_ERROR when the plugin
 * lacks them.
 */
int gf_harness_partial(gf_harness *h);
int gf_harness_merge(gf_harness *h, const gf_record *partial);
/* commit() (0 when the plugin has none), then, when it succeeded, rename
   the files the plugin opened with output_open/output_path over their
   targets, as a run does after every stage committed. */
int gf_harness_commit(gf_harness *h);

/* Records emitted so far, and one of them (valid until destroy). */
size_t gf_harness_count(const gf_harness *h);
const gf_record *gf_harness_output(const gf_harness *h, size_t i);
/* Output record i as a JSON object; malloc'd, the caller frees. */
char *gf_harness_output_json(const gf_harness *h, size_t i);
/*
 * The source position of output record i (ABI minor 3; added by pos): what
 * an ingest said with gf_host.set_position for it, or, for a plugin that
 * processes pushed records, the position given with
 * gf_harness_set_position when it was pushed. *file (valid until destroy)
 * is NULL and *line 0 when unknown; either pointer may be NULL. Returns 0,
 * or -1 when there is no record i.
 */
int gf_harness_position(const gf_harness *h, size_t i, const char **file,
                        uint64_t *line);
/*
 * The position of the records pushed from now on, as a run gives a stage
 * the position of each input record: the records process() emits inherit
 * it, and a reject() without one of its own reports it (NULL file: none).
 * Returns 0, or a negative value when memory runs out.
 */
int gf_harness_set_position(gf_harness *h, const char *file, uint64_t line);
/* Dead letters so far, each a JSON line without its newline. */
size_t gf_harness_rejects(const gf_harness *h);
const char *gf_harness_reject(const gf_harness *h, size_t i);
/* Records dropped on purpose. */
size_t gf_harness_drops(const gf_harness *h);
/* The last error message (from host->error or config errors), or "". */
const char *gf_harness_error(const gf_harness *h);
/* The host table and context, for reading output records in tests. */
const gf_host *gf_harness_host(const gf_harness *h);
/* destroy() the plugin (without commit, if commit was not called), remove
   its uncommitted output files, unload it and free everything; *hp = NULL. */
void gf_harness_destroy(gf_harness **hp);

#ifdef __cplusplus
}
#endif

#endif
