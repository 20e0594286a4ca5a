/*
 * gf_json - JSON at the edges: records rendered as JSON (dead letters,
 * export_jsonl, test output) and JSON objects turned into record fields
 * (ingest_jsonl, the test harness), the latter parsed with jansson.
 */
#ifndef GF_JSON_H
#define GF_JSON_H

#include <stddef.h>

#include <gigflow/record.h>

#include "gf_buf.h"

/* Append `rec` as one JSON object (no newline). Returns 0 or -ENOMEM. */
int gf_json_record(gf_buf *b, const gf_record *rec);
/* Append `v` as JSON. Binary values become base64 strings. */
int gf_json_value(gf_buf *b, const gf_value *v);
/* Append s as a quoted JSON string; invalid UTF-8 bytes become U+FFFD. */
int gf_json_string(gf_buf *b, const char *s, size_t len);
/*
 * Add every field of the JSON object text [json, json+len) to the record
 * open on `out` (nested values kept as MessagePack arrays/maps). Returns 0,
 * or -1 with a message "column N: what is wrong" in err (errlen bytes).
 */
int gf_json_set_fields(gf_out *out, const char *json, size_t len, char *err,
                       size_t errlen);
/* The host table's to_json: see gigflow/plugin.h. */
long gf_json_to_malloc(const gf_record *rec, char **buf, size_t *cap);
/* The same for one value (gf_host.value_to_json). */
long gf_json_value_to_malloc(const gf_value *v, char **buf, size_t *cap);

#endif
