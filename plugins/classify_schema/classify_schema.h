/*
 * classify_schema.h - classify_schema's own parts, shared by its three
 * files: classify_schema.c (options, callbacks, applying the changes),
 * schema_field.c (one field against its schema: problems, lists, values)
 * and schema_rules.c (rules across the fields of a record, and the fields
 * no schema knows). Not an SDK header: nothing here leaves the plugin.
 */
#ifndef CLASSIFY_SCHEMA_H
#define CLASSIFY_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gigflow/plugin.h>

#include "gf_domain.h"

#define CS_MAX_CHANGES 32   /* > fields of any schema + derived ones */
#define CS_MAX_UNKNOWN 64   /* distinct unknown field names reported */
#define CS_MAX_WARN_LOGS 20 /* strict: false - problems logged one by one */
#define CS_REASON_CAP 1024

typedef struct cs_config {
    const gf_strlist *kinds;
    bool strict;
} cs_config;

typedef enum cs_op {
    CS_SET_STR,
    CS_SET_INT,
    CS_SET_FLOAT,
    CS_SET_BOOL,
    CS_SET_NIL,
    CS_SET_LIST,
    CS_UNSET
} cs_op;

/* A change to make on the record once it is known to pass. */
typedef struct cs_change {
    const char *key;
    cs_op op;
    const char *s; /* CS_SET_STR: points to buf, a static code or the record */
    size_t len;    /* ... its length; CS_SET_LIST: offset in state->list */
    size_t list_len;
    int64_t i;
    double f;
    bool b;
    char buf[32];
} cs_change;

typedef struct cs_unknown {
    const gf_domain_schema *schema;
    char *name;
    uint64_t count;
} cs_unknown;

typedef struct cs_state {
    bool check[4]; /* per gf_domain_schemas[] entry */
    bool strict;

    /* the record being checked */
    cs_change changes[CS_MAX_CHANGES];
    size_t nchanges;
    char reason[CS_REASON_CAP]; /* problems that reject */
    size_t rlen;
    char warn[CS_REASON_CAP]; /* strict: false - problems that do not */
    size_t wlen;
    unsigned char *list; /* encoded MessagePack lists */
    size_t list_len, list_cap;

    cs_unknown unknown[CS_MAX_UNKNOWN];
    size_t nunknown;
    uint64_t unknown_other; /* names beyond CS_MAX_UNKNOWN */
    uint64_t warned;        /* records with problems kept (strict: false) */
} cs_state;

/* --- schema_field.c: one field ------------------------------------------ */

/* Quote a value for a message into out (cap bytes): at most 40 bytes of
   s, cut on a UTF-8 boundary, '"', '\\' and control bytes escaped. */
void cs_quote(char *out, size_t cap, const char *s, size_t len);
/*
 * Note a problem with field f ("field F: what"). A problem of a required
 * field, or any problem when strict, rejects the record; otherwise the
 * field is removed and the problem logged.
 */
void cs_problem(cs_state *st, const char *field, bool required, const char *fmt,
                ...) GF_PRINTF(4, 5);
/* A new change of field key (op), zeroed but for key and op; NULL when
   st->changes is full (schemas have fewer fields). */
cs_change *cs_change_add(cs_state *st, const char *key, cs_op op);
/* Is v nil, or text of nothing but white space? */
bool cs_blank(const gf_value *v);
/* Check and normalise field f whose value v is present and not blank. */
void cs_check_field(gf_ctx *ctx, cs_state *st, const gf_record *rec,
                    const gf_domain_field *f, const gf_value *v);

/* --- schema_rules.c: across fields --------------------------------------- */

/* The value field `key` will have after the changes so far: a code or a
   canonical string in *out; false when absent or removed. */
bool cs_final_str(gf_ctx *ctx, cs_state *st, const gf_record *rec,
                  const char *key, gf_str *out);
/* The rules of a member (rel and origin, form from the platform), of a
   demand (resolved after raised, status from resolved) and of an
   organisation (not its own parent), after its fields were checked. */
void cs_check_member(gf_ctx *ctx, cs_state *st, const gf_record *rec);
void cs_check_demand(gf_ctx *ctx, cs_state *st, const gf_record *rec);
void cs_check_org(gf_ctx *ctx, cs_state *st, const gf_record *rec);
/* Count the fields of rec that schema sc does not know. */
void cs_note_unknown(gf_ctx *ctx, cs_state *st, const gf_record *rec,
                     const gf_domain_schema *sc);

#endif
