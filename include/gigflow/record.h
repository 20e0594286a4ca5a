/*
 * gigflow/record.h - records as plugins see them.
 *
 * A record is one MessagePack map whose keys are strings; its `kind` field
 * says what it describes (org, member, project, demand, metric). Records
 * travel in batches: a batch is a run of MessagePack maps laid end to end.
 *
 * Reading is zero-copy: a gf_record is a view (pointer + length) into the
 * batch the runtime received, and every gf_value read from it points into the
 * same bytes. A view is valid only during the callback that received it;
 * copy what you keep (strings for group keys, for instance).
 *
 * Writing goes through a gf_out, the stage's output, owned by the runtime.
 * A plugin opens one record at a time on it (gf_host.begin or
 * gf_host.begin_copy), sets fields, and ends it (gf_host.end). begin_copy
 * starts from an existing record: untouched fields are copied byte for byte,
 * fields set again are replaced in place, new fields are appended in the
 * order set. Nothing is re-encoded.
 *
 * All functions live in the gf_host table (gigflow/plugin.h) so that plugins
 * need not link against libgigflow; this header holds the types only.
 */
#ifndef GIGFLOW_RECORD_H
#define GIGFLOW_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The type of a value read from a record. */
typedef enum gf_type {
    GF_T_NIL = 0, /* MessagePack nil; also what an absent field reads as */
    GF_T_BOOL,    /* v.b */
    GF_T_INT,     /* v.i: every MessagePack integer that fits int64_t */
    GF_T_FLOAT,   /* v.f: float32/float64, and uint64 above INT64_MAX */
    GF_T_STR,     /* v.s: UTF-8 text, not NUL-terminated */
    GF_T_BIN,     /* v.s: raw bytes */
    GF_T_ARRAY,   /* n elements; iterate with gf_host.elem */
    GF_T_MAP      /* n key/value pairs; iterate with gf_host.entry */
} gf_type;

/* A byte string that points into a record: not NUL-terminated. */
typedef struct gf_str {
    const char *ptr;
    size_t len;
} gf_str;

/*
 * One value read from a record. `raw`/`raw_len` always cover the encoded
 * MessagePack bytes of the value, so it can be copied into another record
 * with gf_host.set_value without decoding.
 */
typedef struct gf_value {
    gf_type type;
    uint32_t n; /* element count of an array, pair count of a map */
    union {
        bool b;
        int64_t i;
        double f;
        gf_str s;
    } v;
    const uint8_t *raw;
    size_t raw_len;
} gf_value;

/*
 * A record: a view of one MessagePack map inside a received batch.
 * `data`/`len` cover the whole encoded map, `nfields` is its pair count.
 * The runtime hands out records that it has already validated: a map with
 * string keys, well-formed, within the batch.
 */
typedef struct gf_record {
    const uint8_t *data;
    size_t len;
    uint32_t nfields;
} gf_record;

/*
 * Iteration state for gf_host.next (fields of a record), gf_host.elem
 * (elements of an array value) and gf_host.entry (pairs of a map value).
 * Zero-initialise it (`gf_iter it = {0};`) before the first call.
 */
typedef struct gf_iter {
    const uint8_t *pos;
    uint32_t left;
    uint32_t started;
} gf_iter;

/* The output of a stage instance: opaque, owned by the runtime. */
typedef struct gf_out gf_out;

/* Compare a gf_str with a NUL-terminated string. */
static inline bool gf_str_eq(gf_str a, const char *b)
{
    size_t i = 0;
    for (; i < a.len; i++)
        if (b[i] == '\0' || a.ptr[i] != b[i])
            return false;
    return b[i] == '\0';
}

#ifdef __cplusplus
}
#endif

#endif /* GIGFLOW_RECORD_H */
