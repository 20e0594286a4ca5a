/*
 * schema_field - classify_schema's check of one field against its entry in
 * the kind's schema (gf_domain): its type, enumeration codes (Chinese
 * labels become codes), numbers from text and their ranges, bools from
 * 是/否 and the like, lists from "a;b" text, dates in canonical form,
 * phones and ID numbers without separators. What is wrong becomes a
 * problem ("field F: reason") that rejects the record or, for an optional
 * field with `strict: false`, removes the field; what is to be normalised
 * becomes a change, applied once the whole record is known to pass.
 * Personal data (phone, ID number) never appears in a reason.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify_schema.h"

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
void cs_quote(char *out, size_t cap, const char *s, size_t len)
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
void cs_problem(cs_state *st, const char *field, bool required, const char *fmt,
                ...)
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

cs_change *cs_change_add(cs_state *st, const char *key, cs_op op)
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
                    cs_quote(q, sizeof q, e.v.s.ptr, e.v.s.len);
                    cs_problem(st, f->name, f->required, "unknown %s %s",
                               f->values->name, q);
                } else {
                    cs_problem(st, f->name, f->required,
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
                    cs_quote(q, sizeof q, item, ilen);
                    cs_problem(st, f->name, f->required, "unknown %s %s",
                               f->values->name, q);
                    return;
                }
                if (n < 64)
                    codes[n++] = code;
            }
            p += (p < end) ? w : 0;
        }
    } else {
        cs_problem(st, f->name, f->required, "expected a list, got %s",
                   type_words(v->type));
        return;
    }
    /* 64 codes of <= 32 bytes + headers */
    if (!list_reserve(st, 3 + n * 34)) {
        cs_problem(st, f->name, f->required, "out of memory");
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
    c = cs_change_add(st, f->name, CS_SET_LIST);
    if (c) {
        c->len = start;
        c->list_len = st->list_len - start;
    }
}

/* ---- one field ----------------------------------------------------------- */

bool cs_blank(const gf_value *v)
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
        cs_problem(st, f->name, f->required, "%.15g is outside %.15g..%.15g", x,
                   f->min, f->max);
}

/* Check and normalise field f whose value v is present and not blank. */
void cs_check_field(gf_ctx *ctx, cs_state *st, const gf_record *rec,
                    const gf_domain_field *f, const gf_value *v)
{
    char q[128];
    const char *why = NULL;
    cs_change *c;
    bool is_str = v->type == GF_T_STR;
    const char *s = is_str ? v->v.s.ptr : NULL;
    size_t len = is_str ? v->v.s.len : 0;

    if (is_str)
        cs_quote(q, sizeof q, s, len);
    switch (f->type) {
    case GF_DOMAIN_STR: {
        if (v->type == GF_T_INT) {
            c = cs_change_add(st, f->name, CS_SET_STR);
            if (c) {
                c->len = (size_t)snprintf(c->buf, sizeof c->buf, "%lld",
                                          (long long)v->v.i);
                c->s = c->buf;
            }
        } else if (!is_str) {
            cs_problem(st, f->name, f->required, "expected text, got %s",
                       type_words(v->type));
        } else {
            size_t a = 0, b = len;
            while (a < b && (s[a] == ' ' || s[a] == '\t'))
                a++;
            while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' ||
                             s[b - 1] == '\r' || s[b - 1] == '\n'))
                b--;
            if (a != 0 || b != len) {
                c = cs_change_add(st, f->name, CS_SET_STR);
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
                cs_problem(st, f->name, f->required, "%s is not an integer", q);
            else
                cs_problem(st, f->name, f->required,
                           "expected an integer, got %s", type_words(v->type));
            return;
        }
        range(st, f, (double)i);
        if (v->type != GF_T_INT && (c = cs_change_add(st, f->name, CS_SET_INT)))
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
                cs_problem(st, f->name, f->required, "%s is not a number", q);
            else
                cs_problem(st, f->name, f->required,
                           "expected a number, got %s", type_words(v->type));
            return;
        }
        range(st, f, x);
        if (v->type != GF_T_FLOAT &&
            (c = cs_change_add(st, f->name, CS_SET_FLOAT)))
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
                cs_problem(st, f->name, f->required,
                           "%s is not yes/no (是/否, true/false, 1/0)", q);
            else
                cs_problem(st, f->name, f->required, "expected a bool, got %s",
                           type_words(v->type));
            return;
        }
        if ((c = cs_change_add(st, f->name, CS_SET_BOOL)))
            c->b = b;
        return;
    }
    case GF_DOMAIN_DATE:
    case GF_DOMAIN_DATETIME: {
        gf_domain_date d;
        if (!is_str) {
            cs_problem(st, f->name, f->required, "expected a date, got %s",
                       type_words(v->type));
            return;
        }
        if (gf_domain_date_parse(s, len, &d, &why) != 0) {
            cs_problem(st, f->name, f->required, "%s: %s", q, why);
            return;
        }
        if (f->type == GF_DOMAIN_DATE && d.has_time) {
            if (d.hour || d.min || d.sec) {
                cs_problem(st, f->name, f->required,
                           "%s: a date without a time of day expected", q);
                return;
            }
            d.has_time = false;
        }
        if ((c = cs_change_add(st, f->name, CS_SET_STR))) {
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
                cs_problem(st, f->name, f->required, "unknown %s %s",
                           f->values->name, q);
            else
                cs_problem(st, f->name, f->required, "expected text, got %s",
                           type_words(v->type));
            return;
        }
        if (!gf_str_eq(v->v.s, code) &&
            (c = cs_change_add(st, f->name, CS_SET_STR))) {
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
            cs_problem(st, f->name, f->required, "expected text, got %s",
                       type_words(v->type));
            return;
        }
        if ((c = cs_change_add(st, f->name, CS_SET_STR)) == NULL)
            return;
        rc = phone ? gf_domain_phone_check(s, len, c->buf, &why)
                   : gf_domain_id_check(s, len, c->buf, &why);
        if (rc != 0) {
            st->nchanges--;
            cs_problem(st, f->name, f->required, "%s", why);
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
