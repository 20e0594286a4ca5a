/*
 * classify_rules internals: the compiled form of a rules file, shared by
 * rules_load.c (reads and compiles the YAML) and classify_rules.c (applies
 * the rules to records).
 */
#ifndef CLASSIFY_RULES_H
#define CLASSIFY_RULES_H

#define PCRE2_CODE_UNIT_WIDTH 8

#include <pcre2.h>
#include <stdbool.h>
#include <stdint.h>

#include <gigflow/plugin.h>

typedef struct rules_config {
    const char *rules;
} rules_config;

typedef enum cond_op { OP_IN, OP_RANGE, OP_REGEX, OP_EXISTS } cond_op;

/* One test on one field; a scalar condition is an OP_IN of one value. */
typedef struct rule_cond {
    uint32_t field; /* index into rules.fields */
    cond_op op;
    const gf_value *vals; /* OP_IN */
    size_t nvals;
    /* OP_IN with string values: this condition's bit in the sets of its
       field's string table (rules.strs) */
    bool has_strs;
    uint32_t bit;
    bool has_min, has_max; /* OP_RANGE */
    long double min, max;
    pcre2_code *re; /* OP_REGEX */
    bool exists;    /* OP_EXISTS */
} rule_cond;

typedef struct rule_set {
    const char *key;
    gf_value val;
    int32_t slot; /* the field's slot when a rule tests it, else -1 */
} rule_set;

/*
 * The strings that the list conditions on one field compare with: an
 * open-addressing table (XXH3 of the bytes) from each distinct string to
 * the set of conditions listing it, a bitset of `nwords` words. One lookup
 * per record answers every list condition on the field.
 */
typedef struct str_entry {
    uint64_t hash;
    const gf_value *val; /* NULL: an empty slot */
    uint64_t *conds;     /* bit rule_cond.bit set: that condition lists it */
} str_entry;

typedef struct field_strs {
    str_entry *slots; /* NULL when no list condition on the field */
    uint32_t mask;    /* slots - 1 (a power of two minus one) */
    uint32_t nconds;  /* conditions with a bit */
    uint32_t nwords;  /* words of each bitset */
} field_strs;

typedef struct rule {
    rule_cond *conds;
    size_t nconds;
    rule_set *sets;
    size_t nsets;
    bool drop;
    const char *reject;
} rule;

/* Everything compiled from the file; allocations are chained in `pool`. */
typedef struct rules {
    void *pool;
    rule *rules;
    size_t nrules;
    const char **fields; /* distinct tested field names */
    size_t *fieldlens;
    size_t nfields, capfields;
    /* per-record state, sized at compile time */
    gf_value *vals;        /* slot per field */
    uint64_t *seen;        /* record generation a slot was filled in */
    field_strs *strs;      /* per field: its list conditions' strings */
    const uint64_t **hits; /* per slot: the conditions listing its string
                              (NULL: none) ... */
    uint64_t *looked;      /* ... valid when equal to the generation */
    uint64_t gen;
    const rule_set **pend; /* sets to write on the copy */
    size_t npend_cap;
    pcre2_match_data *md;
} rules;

/*
 * Read and compile the rules file at `path`. Every problem is reported
 * through ctx->host->config_error as FILE:LINE:COL (all of them, not only
 * the first); returns NULL when there was any, or when memory ran out
 * (reported through ctx->host->error).
 */
rules *cr_rules_load(gf_ctx *ctx, const char *path);
/* Free compiled rules; *rp = NULL. Accepts NULL. */
void cr_rules_free(rules **rp);

#endif
