/*
 * classify_schema - check every record against its kind's schema
 * (docs/records.md, the tables in gf_domain) and normalise it.
 *
 * Normalising: Chinese labels become codes (外卖 -> food_delivery), numeric
 * text becomes numbers where the schema says int/float, 是/否 and the like
 * become bools, "a;b" text becomes a list, dates take the canonical form
 * "YYYY-MM-DD[ HH:MM:SS]", phones and ID numbers lose their separators,
 * surrounding space goes and empty text becomes nil. Two fields are derived
 * when absent: member.form from the platform, demand.status from resolved.
 *
 * A record that breaks its schema goes to the dead letters with every
 * problem, "field F: reason", joined by "; ". With `strict: false` only
 * problems of required fields (and of the kind) reject; a bad optional
 * field is removed and logged instead. Fields the schema does not know are
 * kept untouched and reported, with counts, at the end of the stream.
 * Records of kind metric, and of kinds not listed in `kinds`, pass as they
 * are. Personal data (phone, ID number) never appears in a reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static const gf_option cs_options[] = {
    {"kinds", GF_OPT_LIST, NULL, false, offsetof(cs_config, kinds),
     "kinds to check (org, member, project, demand); others pass untouched. "
     "Default: all four"},
    {"strict", GF_OPT_BOOL, "true", false, offsetof(cs_config, strict),
     "true: any problem rejects the record; false: a bad optional field is "
     "removed and logged, only required fields reject"},
    {0},
};

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

/* ---- problems ----------------------------------------------------------- */

static void append(char *buf, size_t *len, const char *fmt, ...)
    GF_PRINTF(3, 4);

static void append(char *buf, size_t *len, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (*len >= CS_REASON_CAP - 1)
        return;
    va_start(ap, fmt);
    n = vsnprintf(buf + *len, CS_REASON_CAP - *len, fmt, ap);
    va_end(ap);
    if (n > 0)
        *len += (size_t)n < CS_REASON_CAP - *len ? (size_t)n
                                                 : CS_REASON_CAP - 1 - *len;
}

/* Quote a value for a message: at most 40 bytes, cut on a UTF-8
   boundary, '"', '\\' and control bytes escaped. */
static void quote(char *out, size_t cap, const char *s, size_t len)
{
    size_t o = 0, i = 0;
    bool cut = len > 40;
    if (cut) {
        len = 40;
        while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
            len--;
    }
    out[o++] = '"';
    for (; i < len && o + 6 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20 || c == 0x7f) {
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
        } else {
            out[o++] = (char)c;
        }
    }
    if ((cut || i < len) && o + 4 < cap) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o++] = '"';
    out[o] = '\0';
}

/*
 * Note a problem with field f ("field F: what"). A problem of a required
 * field, or any problem when strict, rejects the record; otherwise the
 * field is removed and the problem logged.
 */
static void problem(cs_state *st, const char *field, bool required,
                    const char *fmt, ...) GF_PRINTF(4, 5);

static void problem(cs_state *st, const char *field, bool required,
                    const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    bool fatal = required || st->strict;
    char *buf = fatal ? st->reason : st->warn;
    size_t *len = fatal ? &st->rlen : &st->wlen;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    append(buf, len, "%sfield %s: %s", *len ? "; " : "", field, msg);
    if (!fatal && st->nchanges < CS_MAX_CHANGES) {
        /* drop any earlier change of the field, then remove it */
        for (size_t i = 0; i < st->nchanges; i++)
            if (strcmp(st->changes[i].key, field) == 0)
                st->changes[i].op = CS_UNSET;
        st->changes[st->nchanges++] = (cs_change){.key = field, .op = CS_UNSET};
    }
}

static cs_change *change(cs_state *st, const char *key, cs_op op)
{
    cs_change *c;
    if (st->nchanges == CS_MAX_CHANGES)
        return NULL; /* cannot happen: schemas have fewer fields */
    c = &st->changes[st->nchanges++];
    memset(c, 0, offsetof(cs_change, buf));
    c->key = key;
    c->op = op;
    return c;
}

static const char *type_words(gf_type t)
{
    switch (t) {
    case GF_T_BOOL:
        return "a bool";
    case GF_T_INT:
    case GF_T_FLOAT:
        return "a number";
    case GF_T_STR:
        return "text";
    case GF_T_BIN:
        return "binary bytes";
    case GF_T_ARRAY:
        return "a list";
    case GF_T_MAP:
        return "a map";
    case GF_T_NIL:
        return "nil";
    }
    return "?";
}

/* ---- lists -------------------------------------------------------------- */

static bool list_reserve(cs_state *st, size_t more)
{
    size_t cap = st->list_cap ? st->list_cap : 256;
    unsigned char *p;
    if (st->list_len + more <= st->list_cap)
        return true;
    while (cap < st->list_len + more)
        cap *= 2;
    p = realloc(st->list, cap);
    if (p == NULL)
        return false;
    st->list = p;
    st->list_cap = cap;
    return true;
}

/* Append a MessagePack str (codes are short ASCII). */
static void list_put_str(cs_state *st, const char *s)
{
    size_t n = strlen(s);
    if (n < 32) {
        st->list[st->list_len++] = (unsigned char)(0xa0 | n);
    } else {
        st->list[st->list_len++] = 0xd9;
        st->list[st->list_len++] = (unsigned char)n;
    }
    memcpy(st->list + st->list_len, s, n);
    st->list_len += n;
}

static bool is_list_sep(const char *p, const char *end, size_t *w)
{
    /* ; , | and the full-width ； ， 、 */
    static const char *const wide[] = {"\xef\xbc\x9b", "\xef\xbc\x8c",
                                       "\xe3\x80\x81"};
    if (*p == ';' || *p == ',' || *p == '|') {
        *w = 1;
        return true;
    }
    for (size_t i = 0; i < 3; i++)
        if (end - p >= 3 && memcmp(p, wide[i], 3) == 0) {
            *w = 3;
            return true;
        }
    return false;
}

/* Normalise a LIST field: an array of labels/codes or "a;b" text. */
static void check_list(gf_ctx *ctx, cs_state *st, const gf_record *rec,
                       const gf_domain_field *f, const gf_value *v)
{
    const char *codes[64];
    size_t n = 0, start = st->list_len;
    char q[128];
    cs_change *c;
    (void)rec;

    if (v->type == GF_T_ARRAY) {
        gf_iter it = {0};
        gf_value e;
        while (ctx->host->elem(v, &it, &e)) {
            const char *code = NULL;
            if (e.type == GF_T_STR)
                code = gf_domain_enum_code(f->values, e.v.s.ptr, e.v.s.len);
            if (code == NULL) {
                if (e.type == GF_T_STR) {
                    quote(q, sizeof q, e.v.s.ptr, e.v.s.len);
                    problem(st, f->name, f->required, "unknown %s %s",
                            f->values->name, q);
                } else {
                    problem(st, f->name, f->required,
                            "expected a list of text, got %s in it",
                            type_words(e.type));
                }
                return;
            }
            if (n < 64)
                codes[n++] = code;
        }
    } else if (v->type == GF_T_STR) {
        const char *p = v->v.s.ptr, *end = p + v->v.s.len;
        while (p < end) {
            const char *q0 = p;
            size_t w = 0;
            while (p < end && !is_list_sep(p, end, &w))
                p++;
            const char *code = NULL;
            const char *item = q0;
            size_t ilen = (size_t)(p - q0);
            while (ilen > 0 && (*item == ' ' || *item == '\t')) {
                item++;
                ilen--;
            }
            while (ilen > 0 &&
                   (item[ilen - 1] == ' ' || item[ilen - 1] == '\t'))
                ilen--;
            if (ilen > 0) {
                code = gf_domain_enum_code(f->values, item, ilen);
                if (code == NULL) {
                    quote(q, sizeof q, item, ilen);
                    problem(st, f->name, f->required, "unknown %s %s",
                            f->values->name, q);
                    return;
                }
                if (n < 64)
                    codes[n++] = code;
            }
            p += (p < end) ? w : 0;
        }
    } else {
        problem(st, f->name, f->required, "expected a list, got %s",
                type_words(v->type));
        return;
    }
    /* 64 codes of <= 32 bytes + headers */
    if (!list_reserve(st, 3 + n * 34)) {
        problem(st, f->name, f->required, "out of memory");
        return;
    }
    if (n < 16) {
        st->list[st->list_len++] = (unsigned char)(0x90 | n);
    } else {
        st->list[st->list_len++] = 0xdc;
        st->list[st->list_len++] = (unsigned char)(n >> 8);
        st->list[st->list_len++] = (unsigned char)n;
    }
    for (size_t i = 0; i < n; i++)
        list_put_str(st, codes[i]);
    /* an array already in canonical form stays as it is */
    if (v->type == GF_T_ARRAY && v->raw_len == st->list_len - start &&
        memcmp(v->raw, st->list + start, v->raw_len) == 0) {
        st->list_len = start;
        return;
    }
    c = change(st, f->name, CS_SET_LIST);
    if (c) {
        c->len = start;
        c->list_len = st->list_len - start;
    }
}

/* ---- one field ----------------------------------------------------------- */

static bool blank(const gf_value *v)
{
    if (v->type == GF_T_NIL)
        return true;
    if (v->type != GF_T_STR)
        return false;
    for (size_t i = 0; i < v->v.s.len; i++)
        if (v->v.s.ptr[i] != ' ' && v->v.s.ptr[i] != '\t' &&
            v->v.s.ptr[i] != '\r' && v->v.s.ptr[i] != '\n')
            return false;
    return true;
}

static void range(cs_state *st, const gf_domain_field *f, double x)
{
    if (f->min <= f->max && (x < f->min || x > f->max))
        problem(st, f->name, f->required, "%.15g is outside %.15g..%.15g", x,
                f->min, f->max);
}

/* Check and normalise field f whose value v is present and not blank. */
static void check_field(gf_ctx *ctx, cs_state *st, const gf_record *rec,
                        const gf_domain_field *f, const gf_value *v)
{
    char q[128];
    const char *why = NULL;
    cs_change *c;
    bool is_str = v->type == GF_T_STR;
    const char *s = is_str ? v->v.s.ptr : NULL;
    size_t len = is_str ? v->v.s.len : 0;

    if (is_str)
        quote(q, sizeof q, s, len);
    switch (f->type) {
    case GF_DOMAIN_STR: {
        if (v->type == GF_T_INT) {
            c = change(st, f->name, CS_SET_STR);
            if (c) {
                c->len = (size_t)snprintf(c->buf, sizeof c->buf, "%lld",
                                          (long long)v->v.i);
                c->s = c->buf;
            }
        } else if (!is_str) {
            problem(st, f->name, f->required, "expected text, got %s",
                    type_words(v->type));
        } else {
            size_t a = 0, b = len;
            while (a < b && (s[a] == ' ' || s[a] == '\t'))
                a++;
            while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' ||
                             s[b - 1] == '\r' || s[b - 1] == '\n'))
                b--;
            if (a != 0 || b != len) {
                c = change(st, f->name, CS_SET_STR);
                if (c) {
                    c->s = s + a;
                    c->len = b - a;
                }
            }
        }
        return;
    }
    case GF_DOMAIN_INT: {
        int64_t i;
        if (v->type == GF_T_INT) {
            i = v->v.i;
        } else if (v->type == GF_T_FLOAT && v->v.f > -9e18 && v->v.f < 9e18 &&
                   v->v.f == (double)(int64_t)v->v.f) {
            i = (int64_t)v->v.f;
        } else if (is_str && gf_domain_int_parse(s, len, &i) == 0) {
            /* numeric text */
        } else if (is_str && f->values &&
                   gf_domain_enum_code(f->values, s, len)) {
            i = atoi(gf_domain_enum_code(f->values, s, len));
        } else {
            if (is_str)
                problem(st, f->name, f->required, "%s is not an integer", q);
            else
                problem(st, f->name, f->required, "expected an integer, got %s",
                        type_words(v->type));
            return;
        }
        range(st, f, (double)i);
        if (v->type != GF_T_INT && (c = change(st, f->name, CS_SET_INT)))
            c->i = i;
        return;
    }
    case GF_DOMAIN_FLOAT: {
        double x;
        if (v->type == GF_T_FLOAT) {
            x = v->v.f;
        } else if (v->type == GF_T_INT) {
            x = (double)v->v.i;
        } else if (is_str && gf_domain_float_parse(s, len, &x) == 0) {
            /* numeric text */
        } else {
            if (is_str)
                problem(st, f->name, f->required, "%s is not a number", q);
            else
                problem(st, f->name, f->required, "expected a number, got %s",
                        type_words(v->type));
            return;
        }
        range(st, f, x);
        if (v->type != GF_T_FLOAT && (c = change(st, f->name, CS_SET_FLOAT)))
            c->f = x;
        return;
    }
    case GF_DOMAIN_BOOL: {
        bool b;
        if (v->type == GF_T_BOOL)
            return;
        if (v->type == GF_T_INT && (v->v.i == 0 || v->v.i == 1)) {
            b = v->v.i == 1;
        } else if (!is_str || gf_domain_bool_parse(s, len, &b) != 0) {
            if (is_str)
                problem(st, f->name, f->required,
                        "%s is not yes/no (是/否, true/false, 1/0)", q);
            else
                problem(st, f->name, f->required, "expected a bool, got %s",
                        type_words(v->type));
            return;
        }
        if ((c = change(st, f->name, CS_SET_BOOL)))
            c->b = b;
        return;
    }
    case GF_DOMAIN_DATE:
    case GF_DOMAIN_DATETIME: {
        gf_domain_date d;
        if (!is_str) {
            problem(st, f->name, f->required, "expected a date, got %s",
                    type_words(v->type));
            return;
        }
        if (gf_domain_date_parse(s, len, &d, &why) != 0) {
            problem(st, f->name, f->required, "%s: %s", q, why);
            return;
        }
        if (f->type == GF_DOMAIN_DATE && d.has_time) {
            if (d.hour || d.min || d.sec) {
                problem(st, f->name, f->required,
                        "%s: a date without a time of day expected", q);
                return;
            }
            d.has_time = false;
        }
        if ((c = change(st, f->name, CS_SET_STR))) {
            c->len = gf_domain_date_format(&d, c->buf);
            c->s = c->buf;
            if (c->len == len && memcmp(c->buf, s, len) == 0)
                st->nchanges--; /* already canonical */
        }
        return;
    }
    case GF_DOMAIN_ENUM: {
        const char *code =
            is_str ? gf_domain_enum_code(f->values, s, len) : NULL;
        if (code == NULL) {
            if (is_str)
                problem(st, f->name, f->required, "unknown %s %s",
                        f->values->name, q);
            else
                problem(st, f->name, f->required, "expected text, got %s",
                        type_words(v->type));
            return;
        }
        if (!gf_str_eq(v->v.s, code) && (c = change(st, f->name, CS_SET_STR))) {
            c->s = code;
            c->len = strlen(code);
        }
        return;
    }
    case GF_DOMAIN_LIST:
        check_list(ctx, st, rec, f, v);
        return;
    case GF_DOMAIN_PHONE:
    case GF_DOMAIN_ID_NUMBER: {
        /* personal data: the value never appears in a message */
        char num[32];
        bool phone = f->type == GF_DOMAIN_PHONE;
        int rc;
        if (v->type == GF_T_INT && v->v.i > 0) {
            len = (size_t)snprintf(num, sizeof num, "%lld", (long long)v->v.i);
            s = num;
        } else if (!is_str) {
            problem(st, f->name, f->required, "expected text, got %s",
                    type_words(v->type));
            return;
        }
        if ((c = change(st, f->name, CS_SET_STR)) == NULL)
            return;
        rc = phone ? gf_domain_phone_check(s, len, c->buf, &why)
                   : gf_domain_id_check(s, len, c->buf, &why);
        if (rc != 0) {
            st->nchanges--;
            problem(st, f->name, f->required, "%s", why);
            return;
        }
        c->s = c->buf;
        c->len = strlen(c->buf);
        if (is_str && c->len == len && memcmp(c->buf, s, len) == 0)
            st->nchanges--;
        return;
    }
    }
}

/* ---- rules across fields --------------------------------------------------
 */

/* The value field `key` will have after the changes so far: a code or a
   canonical string, or NULL when absent/removed. */
static bool final_str(gf_ctx *ctx, cs_state *st, const gf_record *rec,
                      const char *key, gf_str *out)
{
    gf_value v;
    for (size_t i = st->nchanges; i-- > 0;) {
        const cs_change *c = &st->changes[i];
        if (strcmp(c->key, key) != 0)
            continue;
        if (c->op == CS_SET_STR) {
            out->ptr = c->s;
            out->len = c->len;
            return true;
        }
        return false; /* unset, nil */
    }
    if (!ctx->host->get(rec, key, &v) || blank(&v) || v.type != GF_T_STR)
        return false;
    out->ptr = v.v.s.ptr;
    out->len = v.v.s.len;
    return true;
}

static bool final_bool(gf_ctx *ctx, cs_state *st, const gf_record *rec,
                       const char *key)
{
    gf_value v;
    for (size_t i = st->nchanges; i-- > 0;)
        if (strcmp(st->changes[i].key, key) == 0)
            return st->changes[i].op == CS_SET_BOOL && st->changes[i].b;
    return ctx->host->get(rec, key, &v) && v.type == GF_T_BOOL && v.v.b;
}

static void check_member(gf_ctx *ctx, cs_state *st, const gf_record *rec)
{
    gf_str rel, origin, platform, form;
    bool has_rel = final_str(ctx, st, rec, "rel", &rel);
    bool has_origin = final_str(ctx, st, rec, "origin", &origin);
    bool party = final_bool(ctx, st, rec, "party");
    cs_change *c;

    if (has_rel && !party)
        problem(st, "rel", false,
                "only for party members (party is false or absent)");
    else if (has_rel && gf_str_eq(rel, "mobile") && !has_origin)
        problem(st, "origin", false,
                "missing: a mobile party member needs the origin "
                "organisation");
    if (has_origin && !(party && has_rel && gf_str_eq(rel, "mobile")))
        problem(st, "origin", false, "only for mobile party members");
    if (!final_str(ctx, st, rec, "form", &form) &&
        final_str(ctx, st, rec, "platform", &platform)) {
        const char *code = gf_domain_platform_form(platform.ptr, platform.len);
        if (code && (c = change(st, "form", CS_SET_STR))) {
            c->s = code;
            c->len = strlen(code);
        }
    }
}

static void check_demand(gf_ctx *ctx, cs_state *st, const gf_record *rec)
{
    gf_str raised, resolved, status;
    gf_domain_date a, b;
    bool has_resolved = final_str(ctx, st, rec, "resolved", &resolved);
    bool has_status;
    cs_change *c;

    if (has_resolved && final_str(ctx, st, rec, "raised", &raised) &&
        gf_domain_date_parse(raised.ptr, raised.len, &a, NULL) == 0 &&
        gf_domain_date_parse(resolved.ptr, resolved.len, &b, NULL) == 0 &&
        gf_domain_date_seconds(&b) < gf_domain_date_seconds(&a)) {
        problem(st, "resolved", false, "before raised");
        has_resolved = final_str(ctx, st, rec, "resolved", &resolved);
    }
    has_status = final_str(ctx, st, rec, "status", &status);
    if (has_status && has_resolved &&
        (gf_str_eq(status, "open") || gf_str_eq(status, "in_progress"))) {
        problem(st, "status", false, "\"%.*s\" but resolved is set",
                (int)status.len, status.ptr);
        has_status = final_str(ctx, st, rec, "status", &status);
    }
    if (!has_status && (c = change(st, "status", CS_SET_STR))) {
        c->s = has_resolved ? "resolved" : "open";
        c->len = strlen(c->s);
    }
}

static void check_org(gf_ctx *ctx, cs_state *st, const gf_record *rec)
{
    gf_str id, parent;
    if (final_str(ctx, st, rec, "id", &id) &&
        final_str(ctx, st, rec, "parent_id", &parent) && id.len == parent.len &&
        memcmp(id.ptr, parent.ptr, id.len) == 0)
        problem(st, "parent_id", false, "the organisation is its own parent");
}

/* Count the fields of rec that schema sc does not know. */
static void note_unknown(gf_ctx *ctx, cs_state *st, const gf_record *rec,
                         const gf_domain_schema *sc)
{
    gf_iter it = {0};
    gf_str key;
    gf_value v;

    while (ctx->host->next(rec, &it, &key, &v)) {
        size_t i;
        if (gf_str_eq(key, "kind") || (key.len > 0 && key.ptr[0] == '_') ||
            gf_domain_schema_field(sc, key.ptr, key.len))
            continue;
        for (i = 0; i < st->nunknown; i++)
            if (st->unknown[i].schema == sc &&
                gf_str_eq(key, st->unknown[i].name))
                break;
        if (i == st->nunknown) {
            char *name;
            if (i == CS_MAX_UNKNOWN || (name = malloc(key.len + 1)) == NULL) {
                st->unknown_other++;
                continue;
            }
            memcpy(name, key.ptr, key.len);
            name[key.len] = '\0';
            st->unknown[i] = (cs_unknown){sc, name, 0};
            st->nunknown++;
        }
        st->unknown[i].count++;
    }
}

/* ---- callbacks ------------------------------------------------------------
 */

static int cs_check(gf_ctx *ctx, const void *config)
{
    const cs_config *cfg = config;
    int rc = GF_OK;

    for (size_t i = 0; cfg->kinds && i < cfg->kinds->n; i++) {
        const char *k = cfg->kinds->items[i];
        if (gf_domain_schema_find(k, strlen(k)) == NULL) {
            ctx->host->option_error(ctx, "kinds",
                                    "unknown kind \"%s\": expected org, "
                                    "member, project or demand",
                                    k);
            rc = GF_ERROR;
        }
    }
    return rc;
}

static int cs_init(gf_ctx *ctx, const void *config, void **state)
{
    const cs_config *cfg = config;
    cs_state *st;

    if (cs_check(ctx, config) != GF_OK)
        return GF_ERROR;
    st = calloc(1, sizeof *st);
    if (st == NULL) {
        ctx->host->error(ctx, "out of memory");
        return GF_ERROR;
    }
    st->strict = cfg->strict;
    for (size_t k = 0; k < gf_domain_nschemas; k++)
        st->check[k] = cfg->kinds == NULL || cfg->kinds->n == 0;
    for (size_t i = 0; cfg->kinds && i < cfg->kinds->n; i++) {
        const char *k = cfg->kinds->items[i];
        st->check[gf_domain_schema_find(k, strlen(k)) - gf_domain_schemas] =
            true;
    }
    *state = st;
    return GF_OK;
}

static int apply(gf_ctx *ctx, cs_state *st, const gf_record *rec, gf_out *out)
{
    const gf_host *h = ctx->host;

    if (st->nchanges == 0)
        return h->emit(out, rec);
    h->begin_copy(out, rec);
    for (size_t i = 0; i < st->nchanges; i++) {
        const cs_change *c = &st->changes[i];
        switch (c->op) {
        case CS_SET_STR:
            h->set_str(out, c->key, c->s, c->len);
            break;
        case CS_SET_INT:
            h->set_int(out, c->key, c->i);
            break;
        case CS_SET_FLOAT:
            h->set_float(out, c->key, c->f);
            break;
        case CS_SET_BOOL:
            h->set_bool(out, c->key, c->b);
            break;
        case CS_SET_NIL:
            h->set_nil(out, c->key);
            break;
        case CS_SET_LIST:
            h->set_raw(out, c->key, st->list + c->len, c->list_len);
            break;
        case CS_UNSET:
            h->unset(out, c->key);
            break;
        }
    }
    return h->end(out);
}

static int cs_process(gf_ctx *ctx, void *state, const gf_record *rec,
                      gf_out *out)
{
    cs_state *st = state;
    const gf_host *h = ctx->host;
    const gf_domain_schema *sc;
    gf_value kind, v;
    char q[128];

    st->nchanges = st->rlen = st->wlen = st->list_len = 0;
    st->reason[0] = st->warn[0] = '\0';
    if (!h->get(rec, "kind", &kind) || blank(&kind))
        return h->reject(ctx, rec, "field kind: missing");
    if (kind.type != GF_T_STR)
        return h->reject(ctx, rec, "field kind: expected text");
    if (gf_str_eq(kind.v.s, "metric"))
        return h->emit(out, rec);
    sc = gf_domain_schema_find(kind.v.s.ptr, kind.v.s.len);
    if (sc == NULL) {
        char reason[192];
        quote(q, sizeof q, kind.v.s.ptr, kind.v.s.len);
        snprintf(reason, sizeof reason,
                 "field kind: unknown kind %s (org, member, project, demand, "
                 "metric)",
                 q);
        return h->reject(ctx, rec, reason);
    }
    if (!st->check[sc - gf_domain_schemas])
        return h->emit(out, rec);

    for (size_t i = 0; i < sc->n; i++) {
        const gf_domain_field *f = &sc->fields[i];
        bool present = h->get(rec, f->name, &v);
        if (!present || blank(&v)) {
            if (f->required)
                problem(st, f->name, true, "missing");
            else if (present && v.type != GF_T_NIL)
                change(st, f->name, CS_SET_NIL);
            continue;
        }
        check_field(ctx, st, rec, f, &v);
    }
    if (sc == &gf_domain_schemas[0])
        check_org(ctx, st, rec);
    else if (sc == &gf_domain_schemas[1])
        check_member(ctx, st, rec);
    else if (sc == &gf_domain_schemas[3])
        check_demand(ctx, st, rec);
    note_unknown(ctx, st, rec, sc);

    if (st->rlen > 0)
        return h->reject(ctx, rec, st->reason);
    if (st->wlen > 0) {
        if (st->warned < CS_MAX_WARN_LOGS) {
            gf_str id = {"?", 1};
            final_str(ctx, st, rec, "id", &id);
            h->log(ctx, GF_LOG_WARN, "%s %.*s: %s (removed; strict: false)",
                   sc->kind, (int)(id.len > 64 ? 64 : id.len), id.ptr,
                   st->warn);
        }
        st->warned++;
    }
    return apply(ctx, st, rec, out);
}

static int cs_flush(gf_ctx *ctx, void *state, gf_out *out)
{
    cs_state *st = state;
    (void)out;

    for (size_t i = 0; i < st->nunknown; i++) {
        if (st->unknown[i].count == 0)
            continue;
        ctx->host->log(ctx, GF_LOG_WARN,
                       "%s: field \"%s\" is not in the schema, kept as is "
                       "(%llu record%s)",
                       st->unknown[i].schema->kind, st->unknown[i].name,
                       (unsigned long long)st->unknown[i].count,
                       st->unknown[i].count == 1 ? "" : "s");
        st->unknown[i].count = 0;
    }
    if (st->unknown_other > 0)
        ctx->host->log(ctx, GF_LOG_WARN,
                       "%llu more fields not in the schema, kept as is",
                       (unsigned long long)st->unknown_other);
    if (st->warned > CS_MAX_WARN_LOGS)
        ctx->host->log(ctx, GF_LOG_WARN,
                       "%llu records in all had bad optional fields removed "
                       "(strict: false)",
                       (unsigned long long)st->warned);
    st->unknown_other = 0;
    st->warned = 0;
    return GF_OK;
}

static void cs_destroy(gf_ctx *ctx, void *state)
{
    cs_state *st = state;
    (void)ctx;
    if (st == NULL)
        return;
    for (size_t i = 0; i < st->nunknown; i++)
        free(st->unknown[i].name);
    free(st->list);
    free(st);
}

static const gf_plugin cs_plugin = {
    GF_PLUGIN_HEADER,
    .name = "classify_schema",
    .kind = GF_KIND_CLASSIFY,
    .version = "1.0.0",
    .description = "check records against their kind's schema; labels to "
                   "codes, text to numbers, bools, lists and dates",
    .options = cs_options,
    .config_size = sizeof(cs_config),
    .check = cs_check,
    .init = cs_init,
    .process = cs_process,
    .flush = cs_flush,
    .destroy = cs_destroy,
};

GF_PLUGIN_DEFINE(cs_plugin)
