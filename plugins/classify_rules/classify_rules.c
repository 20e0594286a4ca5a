/*
 * classify_rules - tag, drop or reject records by the rules of a YAML file.
 *
 * The `rules` option names a file of the form
 *
 *   rules:
 *     - name: youth                       # optional
 *       when: {age: {min: 18, max: 35}}   # all must hold; absent = always
 *       set: {youth: true}
 *     - when: {status: test}
 *       drop: true
 *     - when: {age: {max: 15}}
 *       reject: "age below 16"
 *
 * A condition on a field is a scalar (equal), a list (equal to any), or a
 * mapping of operators: min/max (inclusive numeric range), regex (PCRE2,
 * UTF mode, JIT), exists (true: present and not nil; false: absent or nil).
 * Rules apply in file order: every matching `set` applies and later rules
 * see the fields it set; a matching `drop` or `reject` ends the record.
 * A record that survives is emitted as a byte copy plus the set fields.
 *
 * The file is compiled once (check() for `gigflow validate`, then init());
 * every problem is reported as "FILE:LINE:COL: message". Per record the
 * plugin allocates nothing: each distinct tested field is looked up at most
 * once per record, into a slot that a later `set` of the same field
 * overrides. The strings of the list conditions on a field are in one hash
 * table per field, each with the set of conditions listing it: a field's
 * value is looked up once per record, however many lists test it and
 * however long they are.
 */
#include <math.h>
#include <string.h>
#define XXH_INLINE_ALL /* short keys: let the compiler specialise */
#include <xxhash.h>

#include "classify_rules.h"

/* --- matching ---------------------------------------------------------- */

static const gf_value *field_value(rules *r, const gf_host *h,
                                   const gf_record *rec, uint32_t f)
{
    if (r->seen[f] != r->gen) {
        h->get_n(rec, r->fields[f], r->fieldlens[f], &r->vals[f]);
        r->seen[f] = r->gen;
    }
    return &r->vals[f];
}

static bool is_num(const gf_value *v)
{
    return v->type == GF_T_INT || v->type == GF_T_FLOAT;
}

static bool value_eq(const gf_value *a, const gf_value *b)
{
    if (a->type == GF_T_INT && b->type == GF_T_INT)
        return a->v.i == b->v.i;
    if (is_num(a) && is_num(b))
        return (a->type == GF_T_INT ? (long double)a->v.i : a->v.f) ==
               (b->type == GF_T_INT ? (long double)b->v.i : b->v.f);
    if ((a->type == GF_T_STR || a->type == GF_T_BIN) && b->type == GF_T_STR)
        return a->v.s.len == b->v.s.len &&
               memcmp(a->v.s.ptr, b->v.s.ptr, a->v.s.len) == 0;
    if (a->type == GF_T_BOOL && b->type == GF_T_BOOL)
        return a->v.b == b->v.b;
    return a->type == GF_T_NIL && b->type == GF_T_NIL;
}

/*
 * The conditions listing the string v, the value of field f (NULL: none).
 * Looked up once per record and field, whatever the number of list
 * conditions on the field and the length of their lists.
 */
static const uint64_t *listed_in(rules *r, uint32_t f, const gf_value *v)
{
    if (r->looked[f] != r->gen) {
        const field_strs *t = &r->strs[f];
        uint64_t h = XXH3_64bits(v->v.s.ptr, v->v.s.len);
        r->hits[f] = NULL;
        for (size_t s = h & t->mask; t->slots[s].val; s = (s + 1) & t->mask) {
            const gf_value *w = t->slots[s].val;
            if (t->slots[s].hash == h && w->v.s.len == v->v.s.len &&
                memcmp(w->v.s.ptr, v->v.s.ptr, v->v.s.len) == 0) {
                r->hits[f] = t->slots[s].conds;
                break;
            }
        }
        r->looked[f] = r->gen;
    }
    return r->hits[f];
}

static bool cond_holds(rules *r, const rule_cond *c, const gf_value *v)
{
    switch (c->op) {
    case OP_IN:
        if (v->type == GF_T_STR || v->type == GF_T_BIN) {
            const uint64_t *hits =
                c->has_strs ? listed_in(r, c->field, v) : NULL;
            return hits && (hits[c->bit / 64] >> (c->bit % 64) & 1);
        }
        for (size_t i = 0; i < c->nvals; i++)
            if (value_eq(v, &c->vals[i]))
                return true;
        return false;
    case OP_RANGE: {
        if (!is_num(v))
            return false;
        long double x = v->type == GF_T_INT ? (long double)v->v.i : v->v.f;
        return !isnan(x) && (!c->has_min || x >= c->min) &&
               (!c->has_max || x <= c->max);
    }
    case OP_REGEX:
        return v->type == GF_T_STR &&
               pcre2_match(c->re, (PCRE2_SPTR)v->v.s.ptr, v->v.s.len, 0, 0,
                           r->md, NULL) >= 0;
    case OP_EXISTS:
        return (v->type != GF_T_NIL) == c->exists;
    }
    return false;
}

static void write_set(const gf_host *h, gf_out *out, const rule_set *s)
{
    switch (s->val.type) {
    case GF_T_INT:
        h->set_int(out, s->key, s->val.v.i);
        break;
    case GF_T_FLOAT:
        h->set_float(out, s->key, s->val.v.f);
        break;
    case GF_T_BOOL:
        h->set_bool(out, s->key, s->val.v.b);
        break;
    case GF_T_STR:
        h->set_str(out, s->key, s->val.v.s.ptr, s->val.v.s.len);
        break;
    default:
        h->set_nil(out, s->key);
        break;
    }
}

/* --- the plugin -------------------------------------------------------- */

static int rules_check(gf_ctx *ctx, const void *config)
{
    rules *r = cr_rules_load(ctx, ((const rules_config *)config)->rules);
    if (!r)
        return GF_ERROR;
    cr_rules_free(&r);
    return GF_OK;
}

static int rules_init(gf_ctx *ctx, const void *config, void **state)
{
    rules *r = cr_rules_load(ctx, ((const rules_config *)config)->rules);
    *state = r;
    return r ? GF_OK : GF_ERROR;
}

static int rules_process(gf_ctx *ctx, void *state, const gf_record *rec,
                         gf_out *out)
{
    rules *r = state;
    const gf_host *h = ctx->host;
    size_t npend = 0;
    r->gen++;
    for (size_t i = 0; i < r->nrules; i++) {
        const rule *ru = &r->rules[i];
        size_t j = 0;
        for (; j < ru->nconds; j++)
            if (!cond_holds(r, &ru->conds[j],
                            field_value(r, h, rec, ru->conds[j].field)))
                break;
        if (j < ru->nconds)
            continue;
        if (ru->drop) {
            h->drop(ctx, rec);
            return GF_OK;
        }
        if (ru->reject)
            return h->reject(ctx, rec, ru->reject);
        for (j = 0; j < ru->nsets; j++) {
            const rule_set *s = &ru->sets[j];
            r->pend[npend++] = s;
            if (s->slot >= 0) {
                r->vals[s->slot] = s->val;
                r->seen[s->slot] = r->gen;
                r->looked[s->slot] = 0; /* a new value: look it up again */
            }
        }
    }
    if (npend == 0)
        return h->emit(out, rec);
    h->begin_copy(out, rec);
    for (size_t j = 0; j < npend; j++)
        write_set(h, out, r->pend[j]);
    return h->end(out);
}

static void rules_destroy(gf_ctx *ctx, void *state)
{
    (void)ctx;
    rules *r = state;
    cr_rules_free(&r);
}

static const gf_option rules_options[] = {
    {.key = "rules",
     .type = GF_OPT_PATH,
     .required = true,
     .offset = offsetof(rules_config, rules),
     .help = "YAML file of rules: when (conditions) -> set / drop / reject"},
    {0}};

static const gf_plugin classify_rules_plugin = {
    GF_PLUGIN_HEADER,
    .name = "classify_rules",
    .kind = GF_KIND_CLASSIFY,
    .version = "1.0.0",
    .description = "tag, drop or reject records by the rules of a YAML file",
    .options = rules_options,
    .config_size = sizeof(rules_config),
    .check = rules_check,
    .init = rules_init,
    .process = rules_process,
    .destroy = rules_destroy,
};

GF_PLUGIN_DEFINE(classify_rules_plugin)
