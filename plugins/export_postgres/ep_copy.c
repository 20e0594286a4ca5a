/*
 * ep_copy - export_postgres's data path: one record into a row of the COPY
 * in progress (COPY ... FROM STDIN, text format, escaped here), a new COPY
 * when the table or the columns change, and the checks that reject a
 * record whose value cannot fit its column (text in a bigint column, a
 * number out of an int4's range, a NUL byte or invalid UTF-8) before the
 * server would fail the whole COPY.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_postgres.h"

/* --- values ------------------------------------------------------------ */

static bool ep_utf8_ok(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned char c = u[i];
        if (c < 0x80) {
            if (!c)
                return false;
            i++;
            continue;
        }
        size_t l = (c & 0xe0) == 0xc0   ? 2
                   : (c & 0xf0) == 0xe0 ? 3
                   : (c & 0xf8) == 0xf0 ? 4
                                        : 0;
        if (!l || i + l > n || c < 0xc2 || c > 0xf4)
            return false;
        for (size_t k = 1; k < l; k++)
            if ((u[i + k] & 0xc0) != 0x80)
                return false;
        if ((c == 0xe0 && u[i + 1] < 0xa0) || (c == 0xed && u[i + 1] > 0x9f) ||
            (c == 0xf0 && u[i + 1] < 0x90) || (c == 0xf4 && u[i + 1] > 0x8f))
            return false;
        i += l;
    }
    return true;
}

/* Append an integer in decimal (snprintf is slow on the hot path). */
static void ep_i64(gf_pg_buf *b, int64_t v)
{
    char tmp[24];
    char *e = tmp + sizeof tmp, *q = e;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do
        *--q = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0)
        *--q = '-';
    gf_pg_put(b, q, (size_t)(e - q));
}

/* Append text escaped for COPY's text format. */
static void ep_copy_text(gf_pg_buf *b, const char *s, size_t n)
{
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if ((unsigned char)c > '\r' && c != '\\')
            continue; /* the common case: nothing to escape */
        const char *esc = c == '\\'   ? "\\\\"
                          : c == '\n' ? "\\n"
                          : c == '\r' ? "\\r"
                          : c == '\t' ? "\\t"
                                      : NULL;
        if (!esc)
            continue;
        gf_pg_put(b, s + run, i - run);
        gf_pg_put(b, esc, 2);
        run = i + 1;
    }
    gf_pg_put(b, s + run, n - run);
}

/* A value as JSON text (host value_to_json), NUL-terminated in p->json. */
static const char *ep_json(const gf_host *h, ep *p, const gf_value *v,
                           size_t *len)
{
    long n = h->value_to_json(v, &p->json, &p->json_cap);
    if (n < 0)
        return NULL;
    *len = (size_t)n;
    return p->json;
}

static const char *ep_value_name(gf_type t)
{
    switch (t) {
    case GF_T_INT:
        return "an integer";
    case GF_T_FLOAT:
        return "a number";
    case GF_T_BOOL:
        return "a boolean";
    case GF_T_STR:
        return "a text value";
    case GF_T_BIN:
        return "a binary value";
    case GF_T_ARRAY:
        return "an array";
    case GF_T_MAP:
        return "a map";
    default:
        return "nil";
    }
}

/*
 * Append value v for column c to p->val in COPY text form. Returns 0, 1
 * when it does not fit the column (why filled), -1 when memory runs out.
 */
static int ep_value(const gf_host *h, ep *p, gf_pg_buf *b, const ep_table *t,
                    const ep_col *c, const gf_value *v, char *why,
                    size_t whylen)
{
    char num[40];
    const char *problem = NULL;
    if (v->type == GF_T_NIL) {
        gf_pg_put(b, "\\N", 2);
        return b->oom ? -1 : 0;
    }
    switch (c->cls) {
    case GF_PG_INT2:
    case GF_PG_INT4:
    case GF_PG_INT8: {
        int64_t i;
        if (v->type == GF_T_INT)
            i = v->v.i;
        else if (v->type == GF_T_FLOAT && v->v.f == floor(v->v.f) &&
                 fabs(v->v.f) < 9.2e18)
            i = (int64_t)v->v.f;
        else
            break;
        if ((c->cls == GF_PG_INT2 && (i < -32768 || i > 32767)) ||
            (c->cls == GF_PG_INT4 && (i < INT32_MIN || i > INT32_MAX))) {
            problem = "is out of range for";
            break;
        }
        ep_i64(b, i);
        return b->oom ? -1 : 0;
    }
    case GF_PG_FLOAT:
        if (v->type == GF_T_INT) {
            ep_i64(b, v->v.i);
        } else if (v->type == GF_T_FLOAT) {
            if (isnan(v->v.f))
                gf_pg_puts(b, "NaN");
            else if (isinf(v->v.f))
                gf_pg_puts(b, v->v.f > 0 ? "Infinity" : "-Infinity");
            else
                gf_pg_put(b, num,
                          (size_t)snprintf(num, sizeof num, "%.17g", v->v.f));
        } else {
            break;
        }
        return b->oom ? -1 : 0;
    case GF_PG_BOOL:
        if (v->type == GF_T_BOOL)
            gf_pg_put(b, v->v.b ? "t" : "f", 1);
        else if (v->type == GF_T_INT && (v->v.i == 0 || v->v.i == 1))
            gf_pg_put(b, v->v.i ? "t" : "f", 1);
        else
            break;
        return b->oom ? -1 : 0;
    case GF_PG_JSON: {
        size_t jl;
        const char *j = ep_json(h, p, v, &jl);
        if (!j)
            return -1;
        ep_copy_text(b, j, jl);
        return b->oom ? -1 : 0;
    }
    case GF_PG_BYTEA:
        if (v->type != GF_T_BIN && v->type != GF_T_STR)
            break;
        gf_pg_put(b, "\\\\x", 3);
        for (size_t i = 0; i < v->v.s.len; i++)
            gf_pg_put(b, num,
                      (size_t)snprintf(num, sizeof num, "%02x",
                                       (unsigned char)v->v.s.ptr[i]));
        return b->oom ? -1 : 0;
    case GF_PG_TEXT:
    case GF_PG_OTHER:
        switch (v->type) {
        case GF_T_STR:
            if (!ep_utf8_ok(v->v.s.ptr, v->v.s.len)) {
                snprintf(why, whylen,
                         "table %s.%s, column %s: the text "
                         "holds a NUL byte or invalid UTF-8",
                         p->cfg->schema, t->name, c->name);
                return 1;
            }
            ep_copy_text(b, v->v.s.ptr, v->v.s.len);
            return b->oom ? -1 : 0;
        case GF_T_INT:
            ep_i64(b, v->v.i);
            return b->oom ? -1 : 0;
        case GF_T_FLOAT:
            gf_pg_put(b, num,
                      (size_t)snprintf(num, sizeof num, "%.17g", v->v.f));
            return b->oom ? -1 : 0;
        case GF_T_BOOL:
            gf_pg_puts(b, v->v.b ? "true" : "false");
            return b->oom ? -1 : 0;
        case GF_T_ARRAY:
        case GF_T_MAP: {
            size_t jl;
            const char *j = ep_json(h, p, v, &jl);
            if (!j)
                return -1;
            ep_copy_text(b, j, jl);
            return b->oom ? -1 : 0;
        }
        default:
            break;
        }
        break;
    }
    snprintf(why, whylen, "table %s.%s, column %s: %s %s the %s column",
             p->cfg->schema, t->name, c->name, ep_value_name(v->type),
             problem ? problem : "does not fit", c->type);
    return 1;
}

/* --- the COPY segment -------------------------------------------------- */

static int ep_copy_error(gf_ctx *ctx, ep *p, PGresult *res);

/*
 * Collect the results of the COPY in progress (after its end, or after
 * libpq refused more data): GF_OK, EP_LOST, or GF_ERROR with the server's
 * complaint explained.
 */
static int ep_seg_collect(gf_ctx *ctx, ep *p, bool failed)
{
    PGresult *res, *bad = NULL;
    while ((res = PQgetResult(p->pg.conn)) != NULL) {
        if (PQresultStatus(res) == PGRES_COPY_IN) { /* still copying */
            PQclear(res);
            PQputCopyEnd(p->pg.conn, "abandoned");
            continue;
        }
        if (PQresultStatus(res) != PGRES_COMMAND_OK && !bad) {
            bad = res;
            continue;
        }
        PQclear(res);
    }
    int rc = GF_OK;
    if (bad || failed) {
        if (gf_pg_lost(&p->pg, bad) || !bad)
            rc = EP_LOST;
        else
            rc = ep_copy_error(ctx, p, bad);
    }
    PQclear(bad);
    return rc;
}

static int ep_send(gf_ctx *ctx, ep *p)
{
    if (!p->copy.len)
        return GF_OK;
    if (PQputCopyData(p->pg.conn, p->copy.p, (int)p->copy.len) != 1) {
        int rc = ep_seg_collect(ctx, p, true);
        p->seg_table = -1;
        return rc;
    }
    p->copy.len = 0;
    return GF_OK;
}

/* Explain a failed COPY: table, column (from the context), record. */
static int ep_copy_error(gf_ctx *ctx, ep *p, PGresult *res)
{
    char m[1024];
    const ep_table *t = &p->tables[p->seg_table];
    const char *cx = res ? PQresultErrorField(res, PG_DIAG_CONTEXT) : NULL;
    const char *primary =
        res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *col = cx ? strstr(cx, ", column ") : NULL;
    const char *line = cx ? strstr(cx, ", line ") : NULL;
    unsigned long long rec = 0;
    if (line)
        rec = p->seg_first + strtoull(line + 7, NULL, 10) - 1;
    int collen = col ? (int)strcspn(col + 9, ":\n") : 0;
    ctx->host->error(ctx,
                     "PostgreSQL rejected a row of table %s.%s%s%.*s: "
                     "%s (record %llu of the run)",
                     p->cfg->schema, t->name, col ? ", column " : "", collen,
                     col ? col + 9 : "",
                     primary ? primary : gf_pg_msg(&p->pg, res, m, sizeof m),
                     rec);
    return GF_ERROR;
}

/* The columns of the COPY in progress, quoted, comma-separated. */
static void seg_columns(gf_pg_buf *s, const ep *p, const ep_table *t)
{
    for (size_t i = 0; i < p->seg_n; i++) {
        const ep_col *c = &t->cols[p->seg_cols[i]];
        if (i)
            gf_pg_puts(s, ", ");
        gf_pg_ident(s, c->name, c->len);
    }
}

/* The key fields, quoted, comma-separated. */
static void key_columns(gf_pg_buf *s, const gf_strlist *key)
{
    for (size_t i = 0; i < key->n; i++) {
        if (i)
            gf_pg_puts(s, ", ");
        gf_pg_ident(s, key->items[i], strlen(key->items[i]));
    }
}

/* End the COPY in progress (upsert: merge the staging table). */
int ep_seg_end(gf_ctx *ctx, ep *p)
{
    if (p->seg_table < 0)
        return GF_OK;
    int rc = ep_send(ctx, p);
    if (rc != GF_OK)
        return rc;
    ep_table *t = &p->tables[p->seg_table];
    bool failed = PQputCopyEnd(p->pg.conn, NULL) != 1;
    rc = ep_seg_collect(ctx, p, failed);
    p->seg_table = -1;
    if (rc != GF_OK)
        return rc;
    if (p->mode != EP_UPSERT)
        return GF_OK;
    /* INSERT ... SELECT DISTINCT ON (key) ... ORDER BY key, seq DESC */
    const gf_strlist *key = p->cfg->key;
    gf_pg_buf *s = &p->sql;
    s->len = 0;
    gf_pg_puts(s, "INSERT INTO ");
    ep_table_name(s, p, t);
    gf_pg_puts(s, " (");
    seg_columns(s, p, t);
    gf_pg_puts(s, ") SELECT DISTINCT ON (");
    key_columns(s, key);
    gf_pg_puts(s, ") ");
    seg_columns(s, p, t);
    gf_pg_puts(s, " FROM pg_temp.gigflow_stage ORDER BY ");
    for (size_t i = 0; i < key->n; i++) {
        gf_pg_ident(s, key->items[i], strlen(key->items[i]));
        gf_pg_puts(s, ", ");
    }
    gf_pg_puts(s, "gigflow_seq DESC ON CONFLICT (");
    key_columns(s, key);
    gf_pg_puts(s, ") DO ");
    size_t nset = 0;
    for (size_t i = 0; i < p->seg_n; i++) {
        const ep_col *c = &t->cols[p->seg_cols[i]];
        bool is_key = false;
        for (size_t k = 0; k < key->n && !is_key; k++)
            is_key = !strcmp(key->items[k], c->name);
        if (is_key)
            continue;
        gf_pg_puts(s, nset++ ? ", " : "UPDATE SET ");
        gf_pg_ident(s, c->name, c->len);
        gf_pg_puts(s, " = EXCLUDED.");
        gf_pg_ident(s, c->name, c->len);
    }
    if (!nset)
        gf_pg_puts(s, "NOTHING");
    return ep_sql(ctx, p, NULL);
}

/* Start a COPY of the segment columns into table ti. */
static int ep_seg_start(gf_ctx *ctx, ep *p, long ti)
{
    ep_table *t = &p->tables[ti];
    gf_pg_buf *s = &p->sql;
    int rc;
    if (p->mode == EP_UPSERT) {
        s->len = 0;
        gf_pg_puts(s, "DROP TABLE IF EXISTS pg_temp.gigflow_stage; CREATE "
                      "TEMP TABLE gigflow_stage ON COMMIT DROP AS SELECT ");
        for (size_t i = 0; i < p->seg_n; i++) {
            gf_pg_ident(s, t->cols[p->seg_cols[i]].name,
                        t->cols[p->seg_cols[i]].len);
            gf_pg_puts(s, ", ");
        }
        gf_pg_puts(s, "0::bigint AS gigflow_seq FROM ");
        ep_table_name(s, p, t);
        gf_pg_puts(s, " WITH NO DATA");
        if ((rc = ep_sql(ctx, p, NULL)) != GF_OK)
            return rc;
    }
    s->len = 0;
    gf_pg_puts(s, "COPY ");
    if (p->mode == EP_UPSERT)
        gf_pg_puts(s, "pg_temp.gigflow_stage");
    else
        ep_table_name(s, p, t);
    gf_pg_puts(s, " (");
    seg_columns(s, p, t);
    if (p->mode == EP_UPSERT)
        gf_pg_puts(s, ", gigflow_seq");
    gf_pg_puts(s, ") FROM STDIN");
    if (s->oom)
        return ep_nomem(ctx);
    char m[1024];
    PGresult *res = PQexec(p->pg.conn, s->p);
    if (!res || PQresultStatus(res) != PGRES_COPY_IN) {
        if (gf_pg_lost(&p->pg, res)) {
            PQclear(res);
            return EP_LOST;
        }
        ctx->host->error(ctx, "PostgreSQL: %s (in: %.200s)",
                         gf_pg_msg(&p->pg, res, m, sizeof m), s->p);
        PQclear(res);
        return GF_ERROR;
    }
    PQclear(res);
    p->seg_table = ti;
    p->seg_first = p->rows;
    p->seg_rows = 0;
    return GF_OK;
}

/* --- writing one record ------------------------------------------------ */

static int ep_reject(gf_ctx *ctx, ep *p, const gf_record *rec, const char *why)
{
    char reason[1200];
    if (p->replaying) /* rejected already the first time */
        return GF_OK;
    snprintf(reason, sizeof reason, "record %llu: %s",
             (unsigned long long)p->rows, why);
    return ctx->host->reject(ctx, rec, reason);
}

/*
 * Whether the segment in progress can take this record as it is: the same
 * table, and its columns cover the record's fields (upsert: are exactly
 * them, in order). Fills p->slot with the record's value per column.
 */
static bool ep_seg_fits(const gf_host *h, ep *p, long ti, const gf_record *rec,
                        gf_value *vals, size_t nv)
{
    if (p->seg_table != ti)
        return false;
    const ep_table *t = &p->tables[ti];
    if (p->mode == EP_UPSERT && nv != p->seg_n)
        return false;
    for (size_t i = 0; i < p->seg_n; i++)
        p->slot[i] = NULL;
    gf_iter it = {0};
    gf_str k;
    size_t fi = 0, hint = 0;
    while (fi < nv && h->next(rec, &it, &k, &vals[fi])) {
        size_t j = hint < p->seg_n ? hint : 0, tries = 0;
        for (; tries < p->seg_n; tries++, j = (j + 1) % p->seg_n) {
            const ep_col *c = &t->cols[p->seg_cols[j]];
            if (c->len == k.len && !memcmp(c->name, k.ptr, k.len))
                break;
        }
        if (tries == p->seg_n || p->slot[j] ||
            (p->mode == EP_UPSERT && j != fi))
            return false;
        p->slot[j] = &vals[fi];
        hint = j + 1;
        fi++;
    }
    return true;
}

int ep_write(gf_ctx *ctx, ep *p, const gf_record *rec, bool *kept)
{
    const gf_host *h = ctx->host;
    char why[1024];
    int rc;
    *kept = false;
    const char *tname = p->cfg->table;
    size_t tlen = tname ? strlen(tname) : 0;
    if (!tname) {
        gf_value kv;
        if (!h->get(rec, "kind", &kv) || kv.type != GF_T_STR || !kv.v.s.len ||
            memchr(kv.v.s.ptr, '\0', kv.v.s.len))
            return ep_reject(ctx, p, rec,
                             "no table: the record has no text "
                             "field kind (or set the option table)");
        tname = kv.v.s.ptr;
        tlen = kv.v.s.len;
        gf_value sv; /* metric rows: one table per set, as export_sqlite */
        if (gf_str_eq(kv.v.s, "metric") && h->get(rec, "set", &sv) &&
            sv.type == GF_T_STR && sv.v.s.len > 0 &&
            !memchr(sv.v.s.ptr, '\0', sv.v.s.len)) {
            tname = sv.v.s.ptr;
            tlen = sv.v.s.len;
        }
    }
    if (rec->nfields == 0)
        return ep_reject(ctx, p, rec, "the record has no fields to write");
    if (tlen > EP_NAME_MAX)
        return ep_reject(ctx, p, rec,
                         "the table name is longer than the "
                         "63 bytes PostgreSQL keeps");
    if (p->mode == EP_UPSERT)
        for (size_t i = 0; i < p->cfg->key->n; i++) {
            gf_value kv;
            if (!h->get(rec, p->cfg->key->items[i], &kv) ||
                kv.type == GF_T_NIL) {
                snprintf(why, sizeof why,
                         "the key field %s is missing "
                         "(mode upsert)",
                         p->cfg->key->items[i]);
                return ep_reject(ctx, p, rec, why);
            }
        }
    size_t nv = rec->nfields;
    gf_value vals_small[64];
    gf_value *vals = nv <= 64 ? vals_small : malloc(nv * sizeof *vals);
    if (!vals)
        return ep_nomem(ctx);
    long ti = p->seg_table >= 0 &&
                      !strncmp(p->tables[p->seg_table].name, tname, tlen) &&
                      p->tables[p->seg_table].name[tlen] == '\0'
                  ? p->seg_table
                  : ep_table_index(ctx, p, tname, tlen);
    if (ti < 0) {
        rc = (int)ti;
        goto done;
    }
    if (!ep_seg_fits(h, p, ti, rec, vals, nv)) {
        ep_table *t = &p->tables[ti];
        /* names a segment holds were checked when it started */
        gf_iter fit = {0};
        gf_str fk;
        gf_value fv;
        while (h->next(rec, &fit, &fk, &fv))
            if (!fk.len || fk.len > EP_NAME_MAX ||
                memchr(fk.ptr, '\0', fk.len)) {
                snprintf(why, sizeof why,
                         "the field name '%.*s' cannot be "
                         "a column: empty, over 63 bytes or with a NUL byte",
                         (int)(fk.len > 80 ? 80 : fk.len), fk.ptr);
                rc = ep_reject(ctx, p, rec, why);
                goto done;
            }
        if ((rc = ep_seg_end(ctx, p)) != GF_OK)
            goto done;
        if (!t->known && (rc = ep_table_open(ctx, p, t)) != GF_OK)
            goto done;
        /* a misfit in an existing column rejects before any DDL */
        gf_iter it = {0};
        gf_str k;
        gf_value v;
        while (h->next(rec, &it, &k, &v)) {
            long c = ep_find_col(t, k.ptr, k.len);
            if (c < 0)
                continue;
            p->val.len = 0;
            int vr =
                ep_value(h, p, &p->val, t, &t->cols[c], &v, why, sizeof why);
            if (vr < 0) {
                rc = ep_nomem(ctx);
                goto done;
            }
            if (vr > 0) {
                rc = ep_reject(ctx, p, rec, why);
                goto done;
            }
        }
        if ((rc = ep_ensure_columns(ctx, p, t, rec)) != GF_OK)
            goto done;
        if (p->mode == EP_UPSERT && !t->indexed) {
            rc = ep_reject(ctx, p, rec, "no UNIQUE index over the key");
            goto done;
        }
        /* the segment's columns: all of the table's, or the record's */
        size_t want = p->mode == EP_UPSERT ? nv : t->ncols;
        if (want > p->seg_cap) {
            size_t *sc = realloc(p->seg_cols, want * sizeof *sc);
            const gf_value **sl = realloc(p->slot, want * sizeof *sl);
            if (sc)
                p->seg_cols = sc;
            if (sl)
                p->slot = sl;
            if (!sc || !sl) {
                rc = ep_nomem(ctx);
                goto done;
            }
            p->seg_cap = p->slot_cap = want;
        }
        p->seg_n = 0;
        if (p->mode == EP_UPSERT) {
            memset(&it, 0, sizeof it);
            while (h->next(rec, &it, &k, &v)) {
                long c = ep_find_col(t, k.ptr, k.len);
                for (size_t i = 0; i < p->seg_n; i++)
                    if (p->seg_cols[i] == (size_t)c) {
                        rc = ep_reject(ctx, p, rec,
                                       "a field name appears "
                                       "twice");
                        goto done;
                    }
                p->seg_cols[p->seg_n++] = (size_t)c;
            }
        } else {
            for (size_t i = 0; i < t->ncols; i++)
                p->seg_cols[p->seg_n++] = i;
        }
        if ((rc = ep_seg_start(ctx, p, ti)) != GF_OK)
            goto done;
        if (!ep_seg_fits(h, p, ti, rec, vals, nv)) {
            rc = ep_reject(ctx, p, rec, "a field name appears twice");
            goto done;
        }
    }

    /* the row, checked whole before any of it is sent */
    ep_table *t = &p->tables[ti];
    size_t mark = p->copy.len;
    for (size_t i = 0; i < p->seg_n; i++) {
        if (i)
            gf_pg_put(&p->copy, "\t", 1);
        if (!p->slot[i]) {
            gf_pg_put(&p->copy, "\\N", 2);
            continue;
        }
        int vr = ep_value(h, p, &p->copy, t, &t->cols[p->seg_cols[i]],
                          p->slot[i], why, sizeof why);
        if (vr != 0) {
            p->copy.len = mark;
            rc = vr < 0 ? ep_nomem(ctx) : ep_reject(ctx, p, rec, why);
            goto done;
        }
    }
    if (p->mode == EP_UPSERT) {
        char seq[32];
        gf_pg_put(&p->copy, seq,
                  (size_t)snprintf(seq, sizeof seq, "\t%llu",
                                   (unsigned long long)++p->seq));
    }
    gf_pg_put(&p->copy, "\n", 1);
    if (p->copy.oom) {
        rc = ep_nomem(ctx);
        goto done;
    }
    if (!p->replaying && (rc = ep_keep(ctx, p, rec)) != GF_OK)
        goto done;
    *kept = true;
    p->seg_rows++;
    rc = p->copy.len >= EP_SEND_BYTES ? ep_send(ctx, p) : GF_OK;
done:
    if (vals != vals_small)
        free(vals);
    return rc;
}
