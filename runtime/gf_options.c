/*
 * gf_options - a stage's `with:` map parsed against its plugin's options
 * table (see gf_options.h). This is the one place where option values are
 * typed, so `gigflow validate`, a run and the test harness all say the same
 * thing about the same mistake.
 *
 * Every error names the option and is placed at the node that is wrong: the
 * key for an unknown option (with the closest known key as a hint, by edit
 * distance), the value for a wrong type, the stage's `plugin` key (`at`)
 * for a missing required option. Parsing goes on after an error so that one
 * run of validate shows them all.
 *
 * Strings handed to the plugin (string, path, list and map values) are
 * copies owned by the optset, which must outlive the plugin's state; the
 * YAML tree must outlive the optset (nodes are kept for option_error).
 */
#include "gf_options.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "gf_alloc.h"
#include "gf_buf.h"

struct gf_optset {
    const gf_plugin *p;
    const gf_ynode *with;
    const gf_ynode *at;
    void *config;
    void **owned; /* every allocation handed to the plugin */
    size_t nowned, capowned;
};

/* State of one parse: where errors go and how they are prefixed. */
typedef struct parse {
    gf_optset *o;
    const char *who; /* "stage 'x'" or NULL */
    const char *base_dir;
    gf_diag *d;
    int errors;
} parse;

static void perr(parse *ps, const gf_ynode *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void perr(parse *ps, const gf_ynode *at, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (ps->who)
        gf_diag_add(ps->d, at ? at->file : NULL, at ? at->line : 0,
                    at ? at->col : 0, "%s: %s", ps->who, msg);
    else
        gf_diag_add(ps->d, at ? at->file : NULL, at ? at->line : 0,
                    at ? at->col : 0, "%s", msg);
    ps->errors++;
}

/* Keep p alive as long as the optset; frees it and fails when out of room. */
static void *own(gf_optset *o, void *p)
{
    if (!p)
        return NULL;
    if (o->nowned == o->capowned) {
        size_t cap = o->capowned ? o->capowned * 2 : 8;
        void **v = gf_realloc(o->owned, cap * sizeof *v);
        if (!v) {
            gf_free(p);
            return NULL;
        }
        o->owned = v;
        o->capowned = cap;
    }
    o->owned[o->nowned++] = p;
    return p;
}

static char *own_str(gf_optset *o, const char *s)
{
    return own(o, gf_strdup(s));
}

/*
 * Edit distance with adjacent transpositions (optimal string alignment),
 * for "did you mean": 'tga' is one edit from 'tag'. Keys are short.
 */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return SIZE_MAX;
    size_t m[65][65];
    for (size_t i = 0; i <= la; i++)
        m[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        m[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t best = m[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (m[i - 1][j] + 1 < best)
                best = m[i - 1][j] + 1;
            if (m[i][j - 1] + 1 < best)
                best = m[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
                a[i - 2] == b[j - 1] && m[i - 2][j - 2] + 1 < best)
                best = m[i - 2][j - 2] + 1;
            m[i][j] = best;
        }
    }
    return m[la][lb];
}

const char *gf_options_closest(const char *key, const char *const *cands,
                               size_t n)
{
    const char *best = NULL;
    size_t bestd = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        size_t dist =
            strcasecmp(key, cands[i]) == 0 ? 0 : edit_distance(key, cands[i]);
        if (dist < bestd) {
            bestd = dist;
            best = cands[i];
        }
    }
    /* a likely typo: at most a third of the key's length edited (one edit
       for short keys, two from four letters) */
    size_t limit = strlen(key) / 3;
    if (limit < 1)
        limit = 1;
    if (limit < 2 && strlen(key) >= 4)
        limit = 2;
    return bestd <= limit ? best : NULL;
}

/* The closest option key of a table, or NULL. */
static const char *closest(const char *key, const gf_option *opts)
{
    const char *cands[64];
    size_t n = 0;
    for (const gf_option *op = opts; op && op->key && n < 64; op++)
        cands[n++] = op->key;
    return gf_options_closest(key, cands, n);
}

static void unknown_option(parse *ps, const gf_ynode *key)
{
    const gf_option *opts = ps->o->p->options;
    const char *hint = closest(key->scalar, opts);
    if (hint) {
        perr(ps, key, "unknown option '%s' (did you mean '%s'?)", key->scalar,
             hint);
        return;
    }
    if (!opts || !opts->key) {
        perr(ps, key, "unknown option '%s' (plugin '%s' takes no options)",
             key->scalar, ps->o->p->name);
        return;
    }
    gf_buf b = {0};
    for (const gf_option *op = opts; op->key; op++)
        gf_buf_printf(&b, "%s%s", op == opts ? "" : ", ", op->key);
    gf_buf_append(&b, "", 1);
    perr(ps, key, "unknown option '%s' (plugin '%s' knows: %s)", key->scalar,
         ps->o->p->name, b.data ? (const char *)b.data : "");
    gf_buf_free(&b);
}

/* YAML's plain null: nothing, "~" or "null". */
static bool is_null(const gf_ynode *v)
{
    if (v->type != GF_Y_SCALAR || v->quoted)
        return false;
    const char *s = v->scalar;
    return !*s || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
           strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

static const char *expected(gf_opt_type t)
{
    switch (t) {
    case GF_OPT_STRING:
        return "a string";
    case GF_OPT_INT:
        return "an integer";
    case GF_OPT_FLOAT:
        return "a number";
    case GF_OPT_BOOL:
        return "true or false";
    case GF_OPT_PATH:
        return "a file name";
    case GF_OPT_LIST:
        return "a list of scalars";
    case GF_OPT_MAP:
        return "a mapping of scalars";
    }
    return "a value";
}

/* Parse a decimal int64 with optional sign; the whole text must be used. */
static int parse_int(const char *s, int64_t *out, bool *range)
{
    *range = false;
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    if (*p < '0' || *p > '9')
        return -1;
    for (const char *q = p; *q; q++)
        if (*q < '0' || *q > '9')
            return -1;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno == ERANGE) {
        *range = true;
        return -1;
    }
    *out = (int64_t)v;
    return 0;
}

static int parse_float(const char *s, double *out)
{
    if (!*s || (*s != '-' && *s != '+' && *s != '.' && (*s < '0' || *s > '9')))
        return -1; /* no "nan", "inf", leading spaces */
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (*end || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static int parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on"};
    static const char *const no[] = {"false", "no", "off"};
    for (size_t i = 0; i < 3; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

char *gf_options_resolve_path(const char *path, const char *base_dir)
{
    if (strcmp(path, "-") == 0 || path[0] == '/')
        return gf_strdup(path);
    while (path[0] == '.' && path[1] == '/')
        path += 2;
    if (base_dir && base_dir[0] == '/')
        return gf_asprintf("%s%s%s", base_dir,
                           base_dir[strlen(base_dir) - 1] == '/' ? "" : "/",
                           path);
    char *cwd = getcwd(NULL, 0);
    if (!cwd)
        return NULL;
    char *r;
    if (base_dir && *base_dir)
        r = gf_asprintf("%s/%s/%s", cwd, base_dir, path);
    else
        r = gf_asprintf("%s/%s", cwd, path);
    free(cwd);
    return r;
}

/* A scalar value of a scalar-typed option into *dst. */
static void set_scalar(parse *ps, const gf_option *op, const gf_ynode *v,
                       void *dst)
{
    gf_optset *o = ps->o;
    if (v->type != GF_Y_SCALAR) {
        perr(ps, v, "option '%s': expected %s, got %s", op->key,
             expected(op->type), gf_ynode_type_name(v->type));
        return;
    }
    const char *s = v->scalar;
    switch (op->type) {
    case GF_OPT_STRING: {
        const char *c = own_str(o, s);
        if (!c)
            goto fail_mem;
        memcpy(dst, &c, sizeof c);
        return;
    }
    case GF_OPT_PATH: {
        if (!*s) {
            perr(ps, v, "option '%s': expected a file name, got ''", op->key);
            return;
        }
        const char *c = own(o, gf_options_resolve_path(s, ps->base_dir));
        if (!c)
            goto fail_mem;
        memcpy(dst, &c, sizeof c);
        return;
    }
    case GF_OPT_INT: {
        int64_t i;
        bool range;
        if (parse_int(s, &i, &range) != 0) {
            if (range)
                perr(ps, v,
                     "option '%s': integer out of range (-2^63 .. 2^63-1), "
                     "got '%s'",
                     op->key, s);
            else
                perr(ps, v, "option '%s': expected an integer, got '%s'",
                     op->key, s);
            return;
        }
        memcpy(dst, &i, sizeof i);
        return;
    }
    case GF_OPT_FLOAT: {
        double f;
        if (parse_float(s, &f) != 0) {
            perr(ps, v, "option '%s': expected a number, got '%s'", op->key, s);
            return;
        }
        memcpy(dst, &f, sizeof f);
        return;
    }
    case GF_OPT_BOOL: {
        bool b;
        if (parse_bool(s, &b) != 0) {
            perr(ps, v,
                 "option '%s': expected true or false (or yes/no, on/off), "
                 "got '%s'",
                 op->key, s);
            return;
        }
        memcpy(dst, &b, sizeof b);
        return;
    }
    default:
        return;
    }
fail_mem:
    perr(ps, v, "option '%s': out of memory", op->key);
}

static void set_list(parse *ps, const gf_option *op, const gf_ynode *v,
                     void *dst)
{
    gf_optset *o = ps->o;
    if (v->type == GF_Y_MAP) {
        perr(ps, v, "option '%s': expected a list of scalars, got a mapping",
             op->key);
        return;
    }
    size_t n = v->type == GF_Y_SEQ ? v->n : 1;
    gf_strlist *l = own(o, gf_calloc(1, sizeof *l));
    const char **items = own(o, gf_calloc(n, sizeof *items));
    if (!l || !items)
        goto fail_mem;
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        const gf_ynode *it = v->type == GF_Y_SEQ ? v->items[i] : v;
        if (it->type != GF_Y_SCALAR) {
            perr(ps, it, "option '%s': list items must be scalars, got %s",
                 op->key, gf_ynode_type_name(it->type));
            bad++;
            continue;
        }
        if (!(items[i] = own_str(o, it->scalar)))
            goto fail_mem;
    }
    if (bad)
        return;
    l->n = n;
    l->items = items;
    const gf_strlist *c = l;
    memcpy(dst, &c, sizeof c);
    return;
fail_mem:
    perr(ps, v, "option '%s': out of memory", op->key);
}

static void set_map(parse *ps, const gf_option *op, const gf_ynode *v,
                    void *dst)
{
    gf_optset *o = ps->o;
    if (v->type != GF_Y_MAP) {
        perr(ps, v, "option '%s': expected a mapping of scalars, got %s",
             op->key, v->type == GF_Y_SCALAR ? "a scalar" : "a list");
        return;
    }
    gf_strmap *m = own(o, gf_calloc(1, sizeof *m));
    const char **keys = own(o, gf_calloc(v->n, sizeof *keys));
    const char **vals = own(o, gf_calloc(v->n, sizeof *vals));
    if (!m || !keys || !vals)
        goto fail_mem;
    int bad = 0;
    for (size_t i = 0; i < v->n; i++) {
        const gf_ynode *it = v->items[i];
        if (it->type != GF_Y_SCALAR) {
            perr(ps, it,
                 "option '%s': the value of '%s' must be a scalar, "
                 "got %s",
                 op->key, v->keys[i]->scalar, gf_ynode_type_name(it->type));
            bad++;
            continue;
        }
        keys[i] = own_str(o, v->keys[i]->scalar);
        vals[i] = own_str(o, it->scalar);
        if (!keys[i] || !vals[i])
            goto fail_mem;
    }
    if (bad)
        return;
    m->n = v->n;
    m->keys = keys;
    m->values = vals;
    const gf_strmap *c = m;
    memcpy(dst, &c, sizeof c);
    return;
fail_mem:
    perr(ps, v, "option '%s': out of memory", op->key);
}

size_t gf_options_value_size(gf_opt_type t)
{
    switch (t) {
    case GF_OPT_INT:
        return sizeof(int64_t);
    case GF_OPT_FLOAT:
        return sizeof(double);
    case GF_OPT_BOOL:
        return sizeof(bool);
    default:
        return sizeof(void *);
    }
}

static void set_value(parse *ps, const gf_option *op, const gf_ynode *v)
{
    if (op->offset + gf_options_value_size(op->type) > ps->o->p->config_size) {
        perr(ps, v,
             "option '%s': plugin '%s' stores it outside its "
             "config_size (a bug in the plugin)",
             op->key, ps->o->p->name);
        return;
    }
    void *dst = (char *)ps->o->config + op->offset;
    if (op->type == GF_OPT_LIST)
        set_list(ps, op, v, dst);
    else if (op->type == GF_OPT_MAP)
        set_map(ps, op, v, dst);
    else
        set_scalar(ps, op, v, dst);
}

/* Apply an option's default; a bad default is the plugin's bug. */
static void set_default(parse *ps, const gf_option *op, const gf_ynode *at)
{
    gf_diag dd = {0};
    gf_ynode *tree = NULL;
    gf_ynode lit = {.type = GF_Y_SCALAR,
                    .file = at ? at->file : NULL,
                    .line = at ? at->line : 0,
                    .col = at ? at->col : 0,
                    .scalar = (char *)(uintptr_t)op->def,
                    .quoted = true};
    const gf_ynode *v = &lit;
    if (op->type == GF_OPT_LIST || op->type == GF_OPT_MAP) {
        tree = gf_yaml_load_string(op->def, strlen(op->def), "default", &dd);
        if (!tree) {
            perr(ps, at,
                 "plugin '%s': the default of option '%s' is not "
                 "valid YAML (a bug in the plugin)",
                 ps->o->p->name, op->key);
            goto done;
        }
        if (op->type == GF_OPT_LIST && is_null(tree))
            goto done; /* "" or "~": no list */
        tree->file = lit.file;
        tree->line = lit.line;
        tree->col = lit.col;
        v = tree;
    }
    set_value(ps, op, v);
done:
    if (tree)
        tree->file = NULL;
    gf_ynode_free(&tree);
    gf_diag_free(&dd);
}

static const gf_option *find_option(const gf_plugin *p, const char *key)
{
    for (const gf_option *op = p->options; op && op->key; op++)
        if (strcmp(op->key, key) == 0)
            return op;
    return NULL;
}

gf_optset *gf_options_parse_for(const gf_plugin *p, const gf_ynode *with,
                                const gf_ynode *at, const char *base_dir,
                                const char *who, gf_diag *d)
{
    gf_optset *o = gf_calloc(1, sizeof *o);
    if (!o) {
        gf_diag_add(d, NULL, 0, 0, "out of memory parsing options");
        return NULL;
    }
    o->p = p;
    o->at = at;
    o->config = gf_calloc(1, p->config_size ? p->config_size : 1);
    parse ps = {.o = o, .who = who, .base_dir = base_dir, .d = d};
    if (!o->config) {
        perr(&ps, at, "out of memory parsing options");
        goto fail_parse;
    }
    if (with && is_null(with))
        with = NULL; /* `with:` with nothing after it */
    if (with && with->type != GF_Y_MAP) {
        perr(&ps, with, "'with' must be a mapping of option: value, got %s",
             gf_ynode_type_name(with->type));
        with = NULL;
    }
    o->with = with;

    for (size_t i = 0; with && i < with->n; i++) {
        const gf_ynode *k = with->keys[i], *v = with->items[i];
        const gf_option *op = find_option(p, k->scalar);
        if (!op) {
            unknown_option(&ps, k);
            continue;
        }
        if (is_null(v)) {
            perr(&ps, k,
                 "option '%s' has no value (give one, or remove the key to "
                 "use the default)",
                 op->key);
            continue;
        }
        set_value(&ps, op, v);
    }
    for (const gf_option *op = p->options; op && op->key; op++) {
        if (gf_ynode_get(with, op->key))
            continue;
        if (op->required) {
            if (op->help && *op->help)
                perr(&ps, at, "missing required option '%s' (%s)", op->key,
                     op->help);
            else
                perr(&ps, at, "missing required option '%s'", op->key);
        } else if (op->def) {
            set_default(&ps, op, at);
        }
    }
    if (ps.errors)
        goto fail_parse;
    return o;

fail_parse:
    gf_optset_free(&o);
    return NULL;
}

gf_optset *gf_options_parse(const gf_plugin *p, const gf_ynode *with,
                            const gf_ynode *at, const char *base_dir,
                            gf_diag *d)
{
    return gf_options_parse_for(p, with, at, base_dir, NULL, d);
}

const void *gf_optset_config(const gf_optset *o)
{
    return o ? o->config : NULL;
}

const gf_ynode *gf_optset_node(const gf_optset *o, const char *key)
{
    if (!o)
        return NULL;
    const gf_ynode *k = key ? gf_ynode_key(o->with, key) : NULL;
    return k ? k : o->at;
}

void gf_optset_free(gf_optset **op)
{
    if (!op || !*op)
        return;
    gf_optset *o = *op;
    for (size_t i = 0; i < o->nowned; i++)
        gf_free(o->owned[i]);
    gf_free(o->owned);
    gf_free(o->config);
    gf_free(o);
    *op = NULL;
}
