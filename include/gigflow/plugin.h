/*
 * gigflow/plugin.h - the plugin contract.
 *
 * A gigflow plugin is a shared object (NAME.so) that exports one function,
 * gigflow_plugin(), returning a pointer to a constant gf_plugin descriptor.
 * The descriptor names the plugin, its kind, its options and its callbacks.
 * GF_PLUGIN_DEFINE() below writes the export for you.
 *
 * The runtime checks the descriptor before using it (magic, ABI major equal,
 * ABI minor not newer than the runtime's, struct_size large enough) and
 * refuses the file with one clear line otherwise.
 *
 * Life of a stage instance (one per worker):
 *
 *   check()      optional; at `gigflow validate` and before a run: checks
 *                that need no side effect (a rules file parses, a regex
 *                compiles). Reports through gf_host.config_error.
 *   init()       allocates the instance state from the parsed options.
 *   produce()    ingest only: called repeatedly; emits some records each
 *                call and returns GF_MORE, or GF_DONE at the end of input.
 *   process()    classify/aggregate/export: called once per input record.
 *   flush()      at end of stream: every upstream producer has finished.
 *                Aggregates emit their groups here; exports finish writing.
 *                The runtime may call flush more than once in future
 *                continuous runs; keep it idempotent with respect to state.
 *   partial()    optional, aggregates (with merge()): replaces flush() on
 *                every instance but 0 of an aggregate stage with
 *                `workers: N > 1`; see the descriptor below.
 *   merge()      optional, aggregates: on instance 0, once per partial
 *                record of the other instances, before its flush().
 *   commit()     optional; after every stage of the run succeeded: make the
 *                output visible (a database export commits its
 *                transaction). Files opened with gf_host.output_open or
 *                output_path need nothing here: the runtime renames them
 *                after every commit() succeeded.
 *   destroy()    last, for every init() that succeeded, also after a
 *                failure or an interrupt; an export whose commit was not
 *                called undoes what it wrote (the runtime removes the
 *                temporary files of output_open/output_path itself). When
 *                init() fails it must free what it allocated itself:
 *                destroy() is not called.
 *
 * Options are declared once, in a table of gf_option. The runtime parses the
 * pipeline's `with:` map against it (unknown key, wrong type, missing
 * required option are config errors at `file:line:col`), stores each value
 * into a zeroed config struct of `config_size` bytes at the option's
 * `offset`, and hands that struct to check() and init(). The same table is
 * what `gigflow inspect NAME` prints.
 *
 * Plugins keep no global state: everything lives in the state that init()
 * returns, so a plugin can appear twice in a pipeline and run as several
 * workers at once, each in its own thread.
 *
 * Host services (record access, writing, logging, rejecting records to the
 * dead letters, the clock) reach the plugin through the gf_host table in
 * ctx->host. The table is only ever appended to; check host->size before
 * using a member added after ABI minor 0 (GF_HOST_HAS below).
 */
#ifndef GIGFLOW_PLUGIN_H
#define GIGFLOW_PLUGIN_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <gigflow/record.h>

#ifdef __cplusplus
extern "C" {
#endif

/* "GFLP": first field of every descriptor. */
#define GF_PLUGIN_MAGIC 0x474c4650u
/* A change that breaks existing plugins bumps the major. */
#define GF_ABI_MAJOR 1
/* Appending a descriptor field or host function bumps the minor.
   Minor 1 added gf_host.output_open, output_path and value_to_json.
   Minor 2 added gf_plugin.partial and merge (aggregates with workers).
   Minor 3 added gf_host.set_position (source positions of records). */
#define GF_ABI_MINOR 3

/* Return values of callbacks. Errors are negative. */
#define GF_OK 0
#define GF_DONE 0 /* produce(): input is exhausted */
#define GF_MORE 1 /* produce(): call again */
#define GF_ERROR (-1)

/* The four kinds of stage. */
typedef enum gf_kind {
    GF_KIND_INGEST = 1,    /* no input; produce() emits records */
    GF_KIND_CLASSIFY = 2,  /* per record in, zero or more out; stateless */
    GF_KIND_AGGREGATE = 3, /* consumes everything, emits at flush() */
    GF_KIND_EXPORT = 4     /* consumes records, writes them somewhere */
} gf_kind;

/*
 * Option types and the C type stored at the option's offset in the config
 * struct. Strings and lists point into memory the runtime owns and keeps
 * alive until after destroy().
 */
typedef enum gf_opt_type {
    GF_OPT_STRING = 1, /* const char *            (NULL when unset)        */
    GF_OPT_INT,        /* int64_t                                          */
    GF_OPT_FLOAT,      /* double                                           */
    GF_OPT_BOOL,       /* bool                                             */
    GF_OPT_PATH,       /* const char *: a file name, made absolute against
                          the pipeline file's directory; "-" is kept as is */
    GF_OPT_LIST,       /* const gf_strlist *: a YAML sequence of scalars,
                          or a single scalar taken as a list of one        */
    GF_OPT_MAP         /* const gf_strmap *: a YAML mapping of scalars,
                          in the order written                             */
} gf_opt_type;

/* A list option's value. */
typedef struct gf_strlist {
    size_t n;
    const char *const *items;
} gf_strlist;

/* A map option's value: keys[i] maps to values[i], in file order. */
typedef struct gf_strmap {
    size_t n;
    const char *const *keys;
    const char *const *values;
} gf_strmap;

/*
 * One option. A table is an array of these ending with a zeroed entry.
 * `def` is the default as YAML scalar text ("64", "true", "utf-8"), or NULL
 * for none; an option with no default and not required reads as zero/NULL.
 */
typedef struct gf_option {
    const char *key;
    gf_opt_type type;
    const char *def;
    bool required;
    size_t offset; /* offsetof(your_config, field) */
    const char *help;
} gf_option;

typedef struct gf_host gf_host;

/*
 * The context of one stage instance, handed to every callback. The fields
 * are read-only for the plugin; `rt` is the runtime's own.
 */
typedef struct gf_ctx {
    const gf_host *host;
    const char *stage;  /* the stage's name in the pipeline file */
    unsigned instance;  /* 0 .. instances-1 */
    unsigned instances; /* the stage's `workers` */
    void *rt;
} gf_ctx;

/* Log levels for gf_host.log. */
typedef enum gf_log_level {
    GF_LOG_ERROR = 0,
    GF_LOG_WARN = 1,
    GF_LOG_INFO = 2,
    GF_LOG_DEBUG = 3
} gf_log_level;

#if defined(__GNUC__)
#define GF_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define GF_PRINTF(f, a)
#endif

/*
 * The host services table. Every function is safe to call from the
 * callback's thread; none may be kept and called after destroy().
 */
struct gf_host {
    /* sizeof(gf_host) of the runtime; members past it do not exist. */
    size_t size;
    uint16_t abi_major, abi_minor;

    /* --- reporting ----------------------------------------------------- */

    /* A message on the runtime's log, prefixed with the stage's name. */
    void (*log)(gf_ctx *ctx, gf_log_level level, const char *fmt, ...)
        GF_PRINTF(3, 4);
    /*
     * Set the message of the error that the callback is about to return
     * (a negative value). The run stops and prints "stage NAME: message".
     */
    void (*error)(gf_ctx *ctx, const char *fmt, ...) GF_PRINTF(2, 3);
    /*
     * From check() or init(): a configuration error in a file the plugin
     * reads itself (a rules file), printed as "FILE:LINE:COL: message".
     * line/col 0 mean unknown. The callback then returns GF_ERROR.
     */
    void (*config_error)(gf_ctx *ctx, const char *file, unsigned line,
                         unsigned col, const char *fmt, ...) GF_PRINTF(5, 6);
    /*
     * From check() or init(): an error about one of the plugin's own
     * options, printed at the position of that key in the pipeline file.
     */
    void (*option_error)(gf_ctx *ctx, const char *key, const char *fmt, ...)
        GF_PRINTF(3, 4);

    /* --- dead letters and counters ------------------------------------ */

    /*
     * Send a record that cannot be processed to the dead letters, with the
     * reason. The record's bytes are copied; the run goes on. Returns 0, or
     * a negative value when the run's --max-rejects is exceeded (return it
     * from the callback to stop the run).
     */
    int (*reject)(gf_ctx *ctx, const gf_record *rec, const char *reason);
    /*
     * Ingest: send raw input that never became a record (a CSV row with the
     * wrong number of fields, bytes invalid in their encoding) to the dead
     * letters with its source position (file, 1-based line; 0 = unknown).
     */
    int (*reject_raw)(gf_ctx *ctx, const void *data, size_t len,
                      const char *file, uint64_t line, const char *reason);
    /* Count a record discarded on purpose (a rule's drop). */
    void (*drop)(gf_ctx *ctx, const gf_record *rec);

    /* --- reading records ------------------------------------------------ */

    /*
     * Look up field `key` (NUL-terminated) of `rec`. Returns true and fills
     * *out when present; false when absent (*out is then GF_T_NIL).
     */
    bool (*get)(const gf_record *rec, const char *key, gf_value *out);
    /* The same with a key given by pointer and length. */
    bool (*get_n)(const gf_record *rec, const char *key, size_t key_len,
                  gf_value *out);
    /* Fields in order: returns true and the next pair, false at the end. */
    bool (*next)(const gf_record *rec, gf_iter *it, gf_str *key, gf_value *val);
    /* Elements of an array value, in order. */
    bool (*elem)(const gf_value *array, gf_iter *it, gf_value *out);
    /* Pairs of a map value, in order (keys are values: maps may hold any). */
    bool (*entry)(const gf_value *map, gf_iter *it, gf_value *key,
                  gf_value *val);

    /* --- writing records ------------------------------------------------ */

    /*
     * Open a new empty record on `out`. One record is open at a time:
     * begin(), begin_copy() or emit() while one is open discard it (the
     * way to abandon a record after an error).
     */
    void (*begin)(gf_out *out);
    /* Open a record that starts as a byte copy of `src`. */
    void (*begin_copy)(gf_out *out, const gf_record *src);
    /* Set a field (replacing one of the same key) on the open record. */
    void (*set_str)(gf_out *out, const char *key, const char *s, size_t len);
    void (*set_int)(gf_out *out, const char *key, int64_t v);
    void (*set_float)(gf_out *out, const char *key, double v);
    void (*set_bool)(gf_out *out, const char *key, bool v);
    void (*set_nil)(gf_out *out, const char *key);
    /* Set a field to a value read from any record (its bytes are copied). */
    void (*set_value)(gf_out *out, const char *key, const gf_value *v);
    /*
     * Set a field to pre-encoded MessagePack bytes holding exactly one
     * object (nested arrays and maps). The runtime checks them.
     */
    void (*set_raw)(gf_out *out, const char *key, const void *mp, size_t len);
    /* Remove a field from the open record (from the copy, or one set). */
    void (*unset)(gf_out *out, const char *key);
    /*
     * Close the open record and queue it for sending. Returns 0, or a
     * negative value when the run is stopping (return it from the callback).
     */
    int (*end)(gf_out *out);
    /* Emit `rec` unchanged: a byte copy. Same return as end(). */
    int (*emit)(gf_out *out, const gf_record *rec);

    /* --- conversions --------------------------------------------------- */

    /*
     * Write `rec` as one JSON object (UTF-8, no newline) into *buf, a
     * malloc'd buffer of *cap bytes that is grown with realloc as needed
     * (start with NULL/0; free it when done). Returns the length, or a
     * negative value when memory runs out.
     */
    long (*to_json)(const gf_record *rec, char **buf, size_t *cap);
    /*
     * Add every field of the JSON object text [json, json+len) to the
     * record open on `out`; nested arrays and objects are kept as
     * MessagePack arrays and maps. Returns 0, or -1 with a message such as
     * "column 17: expected ':'" written into err (errlen bytes).
     */
    int (*set_json)(gf_out *out, const char *json, size_t len, char *err,
                    size_t errlen);

    /* --- time ---------------------------------------------------------- */

    /* The run's clock in nanoseconds (monotonic; plugins never read time
       themselves, so that future continuous runs can drive it). */
    int64_t (*now_ns)(gf_ctx *ctx);
    /* The wall-clock time of the run's start, seconds since the epoch. */
    int64_t (*run_started)(gf_ctx *ctx);

    /* --- the run ------------------------------------------------------- */

    /* Records sent to the dead letters so far in this run, all stages. */
    uint64_t (*rejects_total)(gf_ctx *ctx);
    /*
     * Facts about the run, NULL when unknown: "pipeline" (the pipeline
     * file), "name" (its name), "inputs" (the `path` option of each ingest
     * stage, joined with ", "), "dead_letters" (the file the run's dead
     * letters go to; NULL when none). The string lives until destroy().
     */
    const char *(*run_info)(gf_ctx *ctx, const char *key);

    /* --- atomic outputs (ABI minor 1) ---------------------------------- */

    /*
     * Open `path` for writing as this run's output: returns a FILE* on a
     * temporary file beside it (".NAME.PID.N.tmp" in the same directory, so
     * the rename is atomic; created 0666 & ~umask), or NULL with a message
     * for host->error written into err (errlen bytes): the directory is
     * missing, the target exists and is not a regular file, another stage
     * writes the same path. The runtime renames every such file over its
     * target only after every stage of the run succeeded (after all
     * commit() calls), fsyncing the file and its directory, and removes
     * them on failure or interrupt: nothing is visible before, and a failed
     * run leaves an existing target as it was. The plugin fclose()s the
     * stream or leaves it open (the runtime flushes it at commit and closes
     * it at the end); write nothing after your commit(). Opening the same
     * path again after fclose() appends to the same temporary file (a way
     * to bound open files). Only exports from init() on; the validator and
     * check() have no outputs.
     */
    FILE *(*output_open)(gf_ctx *ctx, const char *path, char *err,
                         size_t errlen);
    /*
     * For libraries that write by file name (libxlsxwriter): creates the
     * temporary file and returns its path (valid until destroy()) for the
     * library to write, with the same commit and removal rules; NULL with a
     * message in err on failure.
     */
    const char *(*output_path)(gf_ctx *ctx, const char *path, char *err,
                               size_t errlen);

    /* --- conversions (ABI minor 1) ------------------------------------- */

    /*
     * Write one value as JSON text (the rendering of to_json: nested
     * arrays and maps kept, binary as base64) into *buf, a malloc'd buffer
     * of *cap bytes grown with realloc (start with NULL/0; free it when
     * done), NUL-terminated. Returns the length, or a negative value when
     * memory runs out.
     */
    long (*value_to_json)(const gf_value *v, char **buf, size_t *cap);

    /* --- source positions (ABI minor 3) -------------------------------- */

    /*
     * Ingest: say where the record open on `out` (or, when none is open,
     * the next one ended or emitted) starts in the input: `file` as the
     * plugin names it in its messages (the `path` option, "<stdin>"), and
     * the 1-based line (0: unknown; NULL file: unknown file). The position
     * holds for every record after it until the next call, so call it once
     * per record. The runtime keeps it beside the record, not in it: when
     * any later stage of the same process rejects that record, or a record
     * made from it, with reject(), its dead letter carries this "file" and
     * "line". Positions do not travel between processes. `file` is copied
     * on first sight, and the string passed last is recognised by its
     * address: pass the same string for every record of a file (the
     * `path` option: a pointer comparison per record), and do not
     * overwrite it in place with another file's name (pass another string,
     * or it reads as the old name). Older hosts lack it: check
     * GF_HOST_HAS(host, set_position).
     */
    void (*set_position)(gf_out *out, const char *file, uint64_t line);
};

/* Does host table `h` have `member` (added after ABI minor 0)? */
#define GF_HOST_HAS(h, member)                                                 \
    ((h)->size >= offsetof(gf_host, member) + sizeof((h)->member) &&           \
     (h)->member != NULL)

/*
 * The descriptor. Fill it with designated initialisers; fields added in
 * later minors go after `destroy`, and `struct_size` tells the runtime how
 * much of it your plugin knows.
 */
typedef struct gf_plugin {
    uint32_t magic;       /* GF_PLUGIN_MAGIC */
    uint16_t abi_major;   /* GF_ABI_MAJOR */
    uint16_t abi_minor;   /* GF_ABI_MINOR */
    uint32_t struct_size; /* sizeof(gf_plugin) */

    const char *name; /* equals the file name without ".so" */
    gf_kind kind;
    const char *version;     /* the plugin's own version, e.g. "1.0.0" */
    const char *description; /* one line for `gigflow inspect` */

    const gf_option *options; /* ends with a zeroed entry; may be NULL */
    size_t config_size;       /* size of the struct options are stored in */

    int (*check)(gf_ctx *ctx, const void *config);              /* optional */
    int (*init)(gf_ctx *ctx, const void *config, void **state); /* required */
    int (*produce)(gf_ctx *ctx, void *state, gf_out *out);      /* ingest */
    int (*process)(gf_ctx *ctx, void *state, const gf_record *rec,
                   gf_out *out); /* classify/aggr/export */
    int (*flush)(gf_ctx *ctx, void *state, gf_out *out); /* optional */
    int (*commit)(gf_ctx *ctx, void *state);             /* optional */
    void (*destroy)(gf_ctx *ctx, void *state);           /* required */

    /* --- ABI minor 2: aggregates with several workers ------------------- */

    /*
     * An aggregate stage may have `workers: N > 1` only when its plugin
     * sets both of these (and struct_size covers them). Upstream then
     * spreads records over the N instances; each process()es its share.
     * At end of stream every instance but 0 calls partial() instead of
     * flush(): it writes its whole state as records on `out` (any fields,
     * e.g. `_key`, `_m`; they never leave the stage: the runtime hands them
     * to instance 0, not downstream). Once every other instance has done
     * so, instance 0 calls merge() once per such record, in instance
     * order, then flush() as usual: downstream sees one set of groups.
     * Both return GF_OK or a negative value (with host->error) to fail the
     * run. merge() reads `partial` only during the call.
     */
    int (*partial)(gf_ctx *ctx, void *state, gf_out *out); /* optional */
    int (*merge)(gf_ctx *ctx, void *state,
                 const gf_record *partial); /* optional */
} gf_plugin;

/* Does descriptor `d` have partial() and merge() (ABI minor 2)? */
#define GF_PLUGIN_CAN_MERGE(d)                                                 \
    ((d)->struct_size >= offsetof(gf_plugin, merge) + sizeof((d)->merge) &&    \
     (d)->partial != NULL && (d)->merge != NULL)

/* The symbol every plugin exports. */
#define GF_PLUGIN_SYMBOL "gigflow_plugin"
typedef const gf_plugin *(*gf_plugin_fn)(void);

#if defined(__GNUC__)
#define GF_EXPORT __attribute__((visibility("default")))
#else
#define GF_EXPORT
#endif

/* Export `desc` (a const gf_plugin) as this .so's descriptor. */
#define GF_PLUGIN_DEFINE(desc)                                                 \
    GF_EXPORT const gf_plugin *gigflow_plugin(void);                           \
    GF_EXPORT const gf_plugin *gigflow_plugin(void)                            \
    {                                                                          \
        return &(desc);                                                        \
    }

/* Header fields of a descriptor for this SDK: magic, ABI and struct size. */
#define GF_PLUGIN_HEADER                                                       \
    .magic = GF_PLUGIN_MAGIC, .abi_major = GF_ABI_MAJOR,                       \
    .abi_minor = GF_ABI_MINOR, .struct_size = sizeof(gf_plugin)

#ifdef __cplusplus
}
#endif

#endif /* GIGFLOW_PLUGIN_H */
