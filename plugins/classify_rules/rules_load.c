/*
 * rules_load - reads a classify_rules file with libyaml and compiles it:
 * conditions into typed values, ranges and JIT-compiled PCRE2 patterns,
 * field names into a table of distinct slots. Errors carry the line and
 * column of the offending node; all of them are reported in one pass so
 * that `gigflow validate` shows every problem at once.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define XXH_INLINE_ALL /* short keys: let the compiler specialise */
#include <xxhash.h>
#include <yaml.h>

#include "classify_rules.h"

typedef struct loader {
    gf_ctx *ctx;
    const char *path;
    yaml_document_t *doc;
    rules *r;
    unsigned errors;
} loader;

/* --- memory ------------------------------------------------------------ */

/* A pool block: the link, padded so that what follows is max-aligned. */
typedef union pool_hdr {
    void *next;
    max_align_t align;
} pool_hdr;

static void *pool_alloc(rules *r, size_t size)
{
    pool_hdr *p = calloc(1, sizeof(pool_hdr) + size);
    if (!p)
        return NULL;
    p->next = r->pool;
    r->pool = p;
    return p + 1;
}

static char *pool_strdup(rules *r, const char *s, size_t len)
{
    char *d = pool_alloc(r, len + 1);
    if (d)
        memcpy(d, s, len);
    return d;
}

void cr_rules_free(rules **rp)
{
    rules *r = rp ? *rp : NULL;
    if (!r)
        return;
    for (size_t i = 0; i < r->nrules; i++)
        for (size_t j = 0; j < r->rules[i].nconds; j++)
            pcre2_code_free(r->rules[i].conds[j].re);
    pcre2_match_data_free(r->md);
    free(r->fields);
    while (r->pool) {
        pool_hdr *p = r->pool;
        r->pool = p->next;
        free(p);
    }
    free(r);
    *rp = NULL;
}

/* --- error reporting and YAML helpers ----------------------------------- */

static void lerr(loader *l, const yaml_node_t *n, const char *fmt, ...)
    GF_PRINTF(3, 4);

static void lerr(loader *l, const yaml_node_t *n, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    unsigned line = n ? (unsigned)n->start_mark.line + 1 : 0;
    unsigned col = n ? (unsigned)n->start_mark.column + 1 : 0;
    l->ctx->host->config_error(l->ctx, l->path, line, col, "%s", msg);
    l->errors++;
}

static yaml_node_t *ynode(loader *l, int id)
{
    return yaml_document_get_node(l->doc, id);
}

static const char *ytype(const yaml_node_t *n)
{
    return n->type == YAML_SCALAR_NODE     ? "a scalar"
           : n->type == YAML_SEQUENCE_NODE ? "a list"
                                           : "a mapping";
}

static const char *yscalar(const yaml_node_t *n)
{
    return n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value
                                       : NULL;
}

/* Keys must be scalars and appear once in a mapping; reports and says no. */
static bool check_key(loader *l, const yaml_node_t *map, yaml_node_pair_t *p)
{
    yaml_node_t *k = ynode(l, p->key);
    if (!yscalar(k)) {
        lerr(l, k, "a key must be a scalar, not %s", ytype(k));
        return false;
    }
    for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
        const char *other = yscalar(ynode(l, q->key));
        if (other && strcmp(other, yscalar(k)) == 0) {
            lerr(l, k, "duplicate key '%s'", yscalar(k));
            return false;
        }
    }
    return true;
}

/* Plain scalar text typed by the YAML core schema. */
static bool is_int_text(const char *s)
{
    int base = 10;
    if (*s == '-' || *s == '+')
        s++;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
        base = s[1] == 'x' ? 16 : 8;
        s += 2;
    }
    if (!*s)
        return false;
    for (; *s; s++) {
        bool ok = base == 16  ? strchr("0123456789abcdefABCDEF", *s) != NULL
                  : base == 8 ? *s >= '0' && *s <= '7'
                              : *s >= '0' && *s <= '9';
        if (!ok)
            return false;
    }
    return true;
}

static bool is_float_text(const char *s)
{
    static const char *const special[] = {".inf", "+.inf", "-.inf", ".nan",
                                          ".Inf", "+.Inf", "-.Inf", ".NaN",
                                          ".INF", "+.INF", "-.INF", ".NAN"};
    for (size_t i = 0; i < sizeof special / sizeof *special; i++)
        if (strcmp(s, special[i]) == 0)
            return true;
    bool digit = false;
    for (const char *p = s; *p; p++) {
        if (*p >= '0' && *p <= '9')
            digit = true;
        else if (!strchr(".eE+-", *p))
            return false;
    }
    char *end;
    errno = 0;
    (void)strtod(s, &end);
    return digit && *end == '\0';
}

static double parse_float(const char *s)
{
    const char *p = s + (*s == '-' || *s == '+');
    double sign = *s == '-' ? -1.0 : 1.0;
    if (p[0] == '.' && (p[1] == 'i' || p[1] == 'I'))
        return sign * INFINITY;
    if (p[0] == '.' && (p[1] == 'n' || p[1] == 'N'))
        return NAN;
    return strtod(s, NULL);
}

/* A scalar node as a typed value; strings are copied into the pool. */
static int scalar_value(loader *l, const yaml_node_t *n, gf_value *v)
{
    const char *s = (const char *)n->data.scalar.value;
    size_t len = n->data.scalar.length;
    memset(v, 0, sizeof *v);
    if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
        if (!*s || !strcmp(s, "~") || !strcmp(s, "null") ||
            !strcmp(s, "Null") || !strcmp(s, "NULL")) {
            v->type = GF_T_NIL;
            return 0;
        }
        if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE") ||
            !strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")) {
            v->type = GF_T_BOOL;
            v->v.b = s[0] == 't' || s[0] == 'T';
            return 0;
        }
        if (is_int_text(s)) {
            const char *p = s + (*s == '-' || *s == '+');
            int base = p[0] == '0' && p[1] == 'x'   ? 16
                       : p[0] == '0' && p[1] == 'o' ? 8
                                                    : 10;
            char *end;
            errno = 0;
            long long i = strtoll(base == 10 ? s : p + 2, &end, base);
            if (base != 10 && *s == '-')
                i = -i;
            if (errno == 0 && *end == '\0') {
                v->type = GF_T_INT;
                v->v.i = i;
                return 0;
            }
            if (base == 10) { /* too large for int64: a float */
                v->type = GF_T_FLOAT;
                v->v.f = strtod(s, NULL);
                return 0;
            }
        } else if (is_float_text(s)) {
            v->type = GF_T_FLOAT;
            v->v.f = parse_float(s);
            return 0;
        }
    }
    v->type = GF_T_STR;
    v->v.s.ptr = pool_strdup(l->r, s, len);
    v->v.s.len = len;
    return v->v.s.ptr ? 0 : -1;
}

/* --- compiling --------------------------------------------------------- */

static int field_index(loader *l, const char *name)
{
    rules *r = l->r;
    for (size_t i = 0; i < r->nfields; i++)
        if (strcmp(r->fields[i], name) == 0)
            return (int)i;
    if (r->nfields == r->capfields) {
        size_t cap = r->capfields ? r->capfields * 2 : 8;
        const char **f = realloc(r->fields, cap * sizeof *f);
        if (!f)
            return -1;
        r->fields = f;
        r->capfields = cap;
    }
    const char *copy = pool_strdup(r, name, strlen(name));
    if (!copy)
        return -1;
    r->fields[r->nfields] = copy;
    return (int)r->nfields++;
}

/* A number for min/max, or a reported error. */
static bool bound_value(loader *l, const char *what, const yaml_node_t *n,
                        long double *out)
{
    gf_value v;
    if (n->type != YAML_SCALAR_NODE || scalar_value(l, n, &v) < 0 ||
        (v.type != GF_T_INT && v.type != GF_T_FLOAT) ||
        (v.type == GF_T_FLOAT && isnan(v.v.f))) {
        lerr(l, n, "'%s' needs a number, not %s%s%s", what,
             n->type == YAML_SCALAR_NODE ? "'" : ytype(n),
             n->type == YAML_SCALAR_NODE ? yscalar(n) : "",
             n->type == YAML_SCALAR_NODE ? "'" : "");
        return false;
    }
    *out = v.type == GF_T_INT ? (long double)v.v.i : (long double)v.v.f;
    return true;
}

static void compile_regex(loader *l, rule_cond *c, const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE) {
        lerr(l, n, "'regex' needs a pattern string, not %s", ytype(n));
        return;
    }
    int code;
    PCRE2_SIZE off;
    c->re =
        pcre2_compile(n->data.scalar.value, n->data.scalar.length,
                      PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &code, &off, NULL);
    if (!c->re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof msg);
        lerr(l, n, "regex '%s' does not compile: %s at offset %zu", yscalar(n),
             (const char *)msg, (size_t)off);
        return;
    }
    (void)pcre2_jit_compile(c->re, PCRE2_JIT_COMPLETE); /* else interpreted */
}

/* `field: {min:, max:, regex:, exists:}`: one cond per operator kind. */
static size_t compile_ops(loader *l, uint32_t field, const yaml_node_t *map,
                          rule_cond *out)
{
    size_t n = 0;
    rule_cond range = {.field = field, .op = OP_RANGE};
    const yaml_node_t *min_node = NULL;
    if (map->data.mapping.pairs.start == map->data.mapping.pairs.top)
        lerr(l, map, "empty condition: expected min, max, regex or exists");
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
         p < map->data.mapping.pairs.top; p++) {
        if (!check_key(l, map, p))
            continue;
        const yaml_node_t *k = ynode(l, p->key), *v = ynode(l, p->value);
        const char *op = yscalar(k);
        if (!strcmp(op, "min")) {
            range.has_min = bound_value(l, op, v, &range.min);
            min_node = k;
        } else if (!strcmp(op, "max")) {
            range.has_max = bound_value(l, op, v, &range.max);
        } else if (!strcmp(op, "regex")) {
            out[n] = (rule_cond){.field = field, .op = OP_REGEX};
            compile_regex(l, &out[n], v);
            n += out[n].re != NULL;
        } else if (!strcmp(op, "exists")) {
            gf_value b;
            if (v->type != YAML_SCALAR_NODE || scalar_value(l, v, &b) < 0 ||
                b.type != GF_T_BOOL) {
                lerr(l, v, "'exists' needs true or false");
                continue;
            }
            out[n++] =
                (rule_cond){.field = field, .op = OP_EXISTS, .exists = b.v.b};
        } else {
            lerr(l, k,
                 "unknown condition operator '%s' (expected min, max, "
                 "regex or exists)",
                 op);
        }
    }
    if (range.has_min && range.has_max && range.min > range.max)
        lerr(l, min_node, "min %Lg is greater than max %Lg", range.min,
             range.max);
    else if (range.has_min || range.has_max)
        out[n++] = range;
    return n;
}

/* A scalar or a list of scalars: equal to (any of) them. */
static bool compile_in(loader *l, uint32_t field, const yaml_node_t *v,
                       rule_cond *c)
{
    size_t n = v->type == YAML_SCALAR_NODE
                   ? 1
                   : (size_t)(v->data.sequence.items.top -
                              v->data.sequence.items.start);
    gf_value *vals = pool_alloc(l->r, (n ? n : 1) * sizeof *vals);
    if (!vals)
        return false;
    *c = (rule_cond){.field = field, .op = OP_IN, .vals = vals, .nvals = n};
    if (v->type == YAML_SCALAR_NODE)
        return scalar_value(l, v, &vals[0]) == 0;
    if (n == 0)
        lerr(l, v, "empty list: the condition could never hold");
    for (size_t i = 0; i < n; i++) {
        const yaml_node_t *item = ynode(l, v->data.sequence.items.start[i]);
        if (item->type != YAML_SCALAR_NODE)
            lerr(l, item, "a list of values holds scalars, not %s",
                 ytype(item));
        else if (scalar_value(l, item, &vals[i]) < 0)
            return false;
    }
    return true;
}

static int compile_when(loader *l, rule *ru, const yaml_node_t *when)
{
    if (when->type != YAML_MAPPING_NODE) {
        lerr(l, when, "'when' needs a mapping of field: condition, not %s",
             ytype(when));
        return 0;
    }
    size_t cap = 0;
    for (yaml_node_pair_t *p = when->data.mapping.pairs.start;
         p < when->data.mapping.pairs.top; p++)
        cap += 3; /* at most range, regex, exists per field */
    ru->conds = pool_alloc(l->r, (cap ? cap : 1) * sizeof *ru->conds);
    if (!ru->conds)
        return -1;
    for (yaml_node_pair_t *p = when->data.mapping.pairs.start;
         p < when->data.mapping.pairs.top; p++) {
        if (!check_key(l, when, p))
            continue;
        int f = field_index(l, yscalar(ynode(l, p->key)));
        if (f < 0)
            return -1;
        const yaml_node_t *v = ynode(l, p->value);
        if (v->type == YAML_MAPPING_NODE)
            ru->nconds +=
                compile_ops(l, (uint32_t)f, v, ru->conds + ru->nconds);
        else if (!compile_in(l, (uint32_t)f, v, &ru->conds[ru->nconds++]))
            return -1;
    }
    return 0;
}

static int compile_set(loader *l, rule *ru, const yaml_node_t *set)
{
    if (set->type != YAML_MAPPING_NODE) {
        lerr(l, set, "'set' needs a mapping of field: value, not %s",
             ytype(set));
        return 0;
    }
    size_t n =
        (size_t)(set->data.mapping.pairs.top - set->data.mapping.pairs.start);
    ru->sets = pool_alloc(l->r, (n ? n : 1) * sizeof *ru->sets);
    if (!ru->sets)
        return -1;
    if (n == 0)
        lerr(l, set, "'set' is empty");
    for (yaml_node_pair_t *p = set->data.mapping.pairs.start;
         p < set->data.mapping.pairs.top; p++) {
        if (!check_key(l, set, p))
            continue;
        const yaml_node_t *k = ynode(l, p->key), *v = ynode(l, p->value);
        if (v->type != YAML_SCALAR_NODE) {
            lerr(l, v, "field '%s' can be set to a scalar, not %s", yscalar(k),
                 ytype(v));
            continue;
        }
        rule_set *s = &ru->sets[ru->nsets++];
        s->key = pool_strdup(l->r, yscalar(k), strlen(yscalar(k)));
        if (!s->key || scalar_value(l, v, &s->val) < 0)
            return -1;
    }
    return 0;
}

static int compile_rule(loader *l, rule *ru, const yaml_node_t *n)
{
    if (n->type != YAML_MAPPING_NODE) {
        lerr(l, n, "a rule is a mapping (when, set, drop, reject), not %s",
             ytype(n));
        return 0;
    }
    const yaml_node_t *reject_node = NULL, *set_node = NULL;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
         p < n->data.mapping.pairs.top; p++) {
        if (!check_key(l, n, p))
            continue;
        const yaml_node_t *k = ynode(l, p->key), *v = ynode(l, p->value);
        const char *key = yscalar(k);
        gf_value b;
        if (!strcmp(key, "name")) {
            if (v->type != YAML_SCALAR_NODE)
                lerr(l, v, "'name' needs a string, not %s", ytype(v));
        } else if (!strcmp(key, "when")) {
            if (compile_when(l, ru, v) < 0)
                return -1;
        } else if (!strcmp(key, "set")) {
            set_node = k;
            if (compile_set(l, ru, v) < 0)
                return -1;
        } else if (!strcmp(key, "drop")) {
            if (v->type != YAML_SCALAR_NODE || scalar_value(l, v, &b) < 0 ||
                b.type != GF_T_BOOL)
                lerr(l, v, "'drop' needs true or false");
            else
                ru->drop = b.v.b;
        } else if (!strcmp(key, "reject")) {
            reject_node = k;
            if (v->type != YAML_SCALAR_NODE || !*yscalar(v))
                lerr(l, v, "'reject' needs the reason as a string");
            else if (!(ru->reject = pool_strdup(l->r, yscalar(v),
                                                v->data.scalar.length)))
                return -1;
        } else {
            lerr(l, k,
                 "unknown key '%s' in a rule (expected name, when, "
                 "set, drop or reject)",
                 key);
        }
    }
    if (ru->drop && reject_node)
        lerr(l, reject_node, "a rule either drops or rejects, not both");
    else if (set_node && (ru->drop || reject_node))
        lerr(l, set_node, "'set' has no effect on a record the rule %s",
             ru->drop ? "drops" : "rejects");
    else if (!set_node && !ru->drop && !reject_node)
        lerr(l, n, "rule has no action: give it set, drop: true or reject");
    return 0;
}

static int compile_doc(loader *l)
{
    yaml_node_t *root = yaml_document_get_root_node(l->doc);
    if (!root) {
        lerr(l, NULL, "the file is empty: expected 'rules:' and a list");
        return 0;
    }
    if (root->type != YAML_MAPPING_NODE) {
        lerr(l, root, "expected a mapping with 'rules:', not %s", ytype(root));
        return 0;
    }
    const yaml_node_t *list = NULL;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
         p < root->data.mapping.pairs.top; p++) {
        if (!check_key(l, root, p))
            continue;
        if (strcmp(yscalar(ynode(l, p->key)), "rules") == 0)
            list = ynode(l, p->value);
        else
            lerr(l, ynode(l, p->key), "unknown key '%s' (expected 'rules')",
                 yscalar(ynode(l, p->key)));
    }
    if (!list) {
        lerr(l, root, "missing 'rules:' (a list of rules)");
        return 0;
    }
    if (list->type != YAML_SEQUENCE_NODE) {
        lerr(l, list, "'rules' needs a list of rules, not %s", ytype(list));
        return 0;
    }
    size_t n = (size_t)(list->data.sequence.items.top -
                        list->data.sequence.items.start);
    l->r->rules = pool_alloc(l->r, (n ? n : 1) * sizeof(rule));
    if (!l->r->rules)
        return -1;
    for (size_t i = 0; i < n; i++) {
        l->r->nrules++;
        if (compile_rule(l, &l->r->rules[i],
                         ynode(l, list->data.sequence.items.start[i])) < 0)
            return -1;
    }
    return 0;
}

/* The entry of string v in t (hash h): its own, or the empty slot where
   it belongs. */
static str_entry *strs_slot(field_strs *t, uint64_t h, const gf_value *v)
{
    size_t s = h & t->mask;
    while (t->slots[s].val &&
           !(t->slots[s].hash == h && t->slots[s].val->v.s.len == v->v.s.len &&
             memcmp(t->slots[s].val->v.s.ptr, v->v.s.ptr, v->v.s.len) == 0))
        s = (s + 1) & t->mask;
    return &t->slots[s];
}

/*
 * Give every list condition with strings a bit in its field's table, then
 * fill the tables: each distinct string with the set of conditions that
 * list it.
 */
static int build_strs(rules *r)
{
    size_t *nstr = pool_alloc(r, (r->nfields + 1) * sizeof *nstr);
    r->strs = pool_alloc(r, (r->nfields + 1) * sizeof *r->strs);
    if (!nstr || !r->strs)
        return -1;
    for (size_t i = 0; i < r->nrules; i++)
        for (size_t j = 0; j < r->rules[i].nconds; j++) {
            rule_cond *c = &r->rules[i].conds[j];
            size_t n = 0;
            for (size_t k = 0; c->op == OP_IN && k < c->nvals; k++)
                n += c->vals[k].type == GF_T_STR;
            if (n == 0)
                continue;
            c->has_strs = true;
            c->bit = r->strs[c->field].nconds++;
            nstr[c->field] += n;
        }
    for (size_t f = 0; f < r->nfields; f++) {
        field_strs *t = &r->strs[f];
        size_t cap = 8;
        if (t->nconds == 0)
            continue;
        while (cap < 2 * nstr[f])
            cap *= 2;
        t->mask = (uint32_t)(cap - 1);
        t->nwords = (t->nconds + 63) / 64;
        if (!(t->slots = pool_alloc(r, cap * sizeof *t->slots)))
            return -1;
    }
    for (size_t i = 0; i < r->nrules; i++)
        for (size_t j = 0; j < r->rules[i].nconds; j++) {
            const rule_cond *c = &r->rules[i].conds[j];
            field_strs *t = &r->strs[c->field];
            for (size_t k = 0; c->has_strs && k < c->nvals; k++) {
                const gf_value *v = &c->vals[k];
                if (v->type != GF_T_STR)
                    continue;
                uint64_t h = XXH3_64bits(v->v.s.ptr, v->v.s.len);
                str_entry *e = strs_slot(t, h, v);
                if (!e->val) {
                    e->conds = pool_alloc(r, t->nwords * sizeof *e->conds);
                    if (!e->conds)
                        return -1;
                    e->hash = h;
                    e->val = v;
                }
                e->conds[c->bit / 64] |= 1ull << (c->bit % 64);
            }
        }
    return 0;
}

/* Per-record buffers, string tables, and the slots that sets override. */
static int prepare(rules *r)
{
    if (build_strs(r) < 0)
        return -1;
    size_t nsets = 0;
    for (size_t i = 0; i < r->nrules; i++) {
        for (size_t j = 0; j < r->rules[i].nsets; j++) {
            rule_set *s = &r->rules[i].sets[j];
            s->slot = -1;
            for (size_t f = 0; f < r->nfields; f++)
                if (strcmp(r->fields[f], s->key) == 0)
                    s->slot = (int32_t)f;
        }
        nsets += r->rules[i].nsets;
    }
    r->fieldlens = pool_alloc(r, (r->nfields + 1) * sizeof *r->fieldlens);
    for (size_t f = 0; r->fieldlens && f < r->nfields; f++)
        r->fieldlens[f] = strlen(r->fields[f]);
    r->vals = pool_alloc(r, (r->nfields + 1) * sizeof *r->vals);
    r->seen = pool_alloc(r, (r->nfields + 1) * sizeof *r->seen);
    r->hits = pool_alloc(r, (r->nfields + 1) * sizeof *r->hits);
    r->looked = pool_alloc(r, (r->nfields + 1) * sizeof *r->looked);
    r->pend = pool_alloc(r, (nsets + 1) * sizeof *r->pend);
    r->npend_cap = nsets;
    r->md = pcre2_match_data_create(1, NULL);
    return r->fieldlens && r->vals && r->seen && r->hits && r->looked &&
                   r->pend && r->md
               ? 0
               : -1;
}

/*
 * Load and compile `path`. Every problem goes to host->config_error; NULL
 * when there was any (or memory ran out).
 */
rules *cr_rules_load(gf_ctx *ctx, const char *path)
{
    rules *r = calloc(1, sizeof *r);
    if (!r) {
        ctx->host->error(ctx, "out of memory");
        return NULL;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        ctx->host->config_error(ctx, path, 0, 0,
                                "cannot open the rules "
                                "file: %s",
                                strerror(errno));
        goto fail_rules;
    }
    yaml_parser_t parser;
    yaml_document_t doc;
    loader l = {.ctx = ctx, .path = path, .doc = &doc, .r = r};
    int rc = -1;
    if (!yaml_parser_initialize(&parser)) {
        ctx->host->error(ctx, "out of memory");
        goto fail_file;
    }
    yaml_parser_set_input_file(&parser, f);
    if (!yaml_parser_load(&parser, &doc)) {
        ctx->host->config_error(
            ctx, path, (unsigned)parser.problem_mark.line + 1,
            (unsigned)parser.problem_mark.column + 1, "YAML: %s%s%s",
            parser.problem ? parser.problem : "error",
            parser.context ? " " : "", parser.context ? parser.context : "");
        goto fail_parser;
    }
    rc = compile_doc(&l);
    if (rc == 0 && l.errors == 0)
        rc = prepare(r);
    if (rc < 0)
        ctx->host->error(ctx, "out of memory reading %s", path);
    yaml_document_delete(&doc);
fail_parser:
    yaml_parser_delete(&parser);
fail_file:
    fclose(f);
    if (rc == 0 && l.errors == 0)
        return r;
fail_rules:
    cr_rules_free(&r);
    return NULL;
}
