/*
 * ecsv_file - export_csv's output files: the runtime's atomic outputs
 * (gf_host.output_open, renamed over their targets only when the whole run
 * succeeded). With `split_by`, one file per value, STEM-VALUE.EXT, the
 * value made safe as a file name and found again through a hash of the
 * names; at most ECSV_MAX_OPEN files are open at a time, the least recently
 * used closed and reopened for appending when needed. A file's BOM and
 * header go in front of its first row.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_csv.h"

int ecsv_sys_error(gf_ctx *ctx, const char *what, int err)
{
    char eb[128];
    ctx->host->error(ctx, "%s: %s", what, strerror_r(err, eb, sizeof eb));
    return GF_ERROR;
}

/* A value as a safe piece of a file name: no '/', no "..", no control
   characters, valid UTF-8, at most ECSV_SAFE_MAX bytes. */
static char *ecsv_safe(const char *s, size_t n)
{
    char *out = malloc(n + 5), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n && (size_t)(o - out) < ECSV_SAFE_MAX;) {
        unsigned char c = (unsigned char)s[i];
        size_t k = c < 0x80                 ? 1
                   : c >= 0xc2 && c <= 0xdf ? 2
                   : c >= 0xe0 && c <= 0xef ? 3
                   : c >= 0xf0 && c <= 0xf4 ? 4
                                            : 0;
        bool ok = k > 0 && i + k <= n && (size_t)(o - out) + k <= ECSV_SAFE_MAX;
        for (size_t j = 1; ok && j < k; j++)
            ok = ((unsigned char)s[i + j] & 0xc0) == 0x80;
        if (ok && k == 1 && (c < 0x20 || c == 0x7f || c == '/' || c == '\\'))
            ok = false;
        if (ok && k == 1 && c == '.' &&
            (o == out || o[-1] == '.' || i + 1 == n))
            ok = false; /* no "..", also not with the extension's dot */
        if (!ok) {
            *o++ = '_';
            i++;
            continue;
        }
        memcpy(o, s + i, k);
        o += k;
        i += k;
    }
    if (o == out) {
        memcpy(out, "none", 4);
        o += 4;
    }
    *o = '\0';
    return out;
}

/* Open f's output: a new file, or again after it was closed (the runtime
   appends then). */
int ecsv_create(gf_ctx *ctx, ecsv *e, ecsv_file *f)
{
    char err[512];
    if (!(f->fp = ctx->host->output_open(ctx, f->final, err, sizeof err))) {
        ctx->host->error(ctx, "%s", err);
        return GF_ERROR;
    }
    e->nopen++;
    return GF_OK;
}

static void ecsv_put_header(ecsv *e, ecsv_file *f)
{
    const ecsv_cols *c = ecsv_cols_of(e, f);
    e->line.len = 0;
    if (e->cfg->bom)
        tb_put(&e->line, "\xef\xbb\xbf", 3);
    if (e->cfg->header && c->set) {
        for (size_t i = 0; i < c->n; i++) {
            if (i)
                tb_put(&e->line, &e->delim, 1);
            ecsv_cell(e, c->names[i], c->len[i]);
        }
        tb_put(&e->line, e->eol, strlen(e->eol));
    }
    f->started = true;
}

/* Write e->line (and the file's header first) to f. */
int ecsv_write(gf_ctx *ctx, ecsv *e, ecsv_file *f)
{
    if (e->line.nomem) {
        ctx->host->error(ctx, "out of memory");
        return GF_ERROR;
    }
    if (!f->fp) { /* closed to bound open files: reopen, least used out */
        if (e->nopen >= ECSV_MAX_OPEN) {
            ecsv_file *lru = NULL;
            for (size_t i = 0; i < e->nfiles; i++)
                if (e->files[i].fp &&
                    (!lru || e->files[i].last_use < lru->last_use))
                    lru = &e->files[i];
            int rc = fclose(lru->fp);
            lru->fp = NULL;
            e->nopen--;
            if (rc != 0)
                return ecsv_sys_error(ctx, lru->final, errno);
        }
        if (ecsv_create(ctx, e, f) < 0)
            return GF_ERROR;
    }
    f->last_use = ++e->clock;
    if (!f->started) {
        tbuf row = e->line;
        e->line = (tbuf){0};
        ecsv_put_header(e, f);
        size_t n = e->line.len;
        bool bad = e->line.nomem || (n && fwrite(e->line.p, 1, n, f->fp) != n);
        free(e->line.p);
        e->line = row;
        if (bad)
            return ecsv_sys_error(ctx, f->final,
                                  e->line.nomem ? ENOMEM : errno);
    }
    if (e->line.len && fwrite(e->line.p, 1, e->line.len, f->fp) != e->line.len)
        return ecsv_sys_error(ctx, f->final, errno);
    return GF_OK;
}

ecsv_file *ecsv_add_file(gf_ctx *ctx, ecsv *e, char *name)
{
    if (e->nfiles == e->capfiles) {
        size_t cap = e->capfiles ? e->capfiles * 2 : 8;
        ecsv_file *f = realloc(e->files, cap * sizeof *f);
        if (!f)
            goto fail_nomem;
        e->files = f;
        e->capfiles = cap;
    }
    ecsv_file *f = &e->files[e->nfiles];
    *f = (ecsv_file){.name = name};
    if (!name)
        f->final = strdup(e->cfg->path);
    else if (asprintf(&f->final, "%s-%s%s", e->stem, name, e->ext) < 0)
        f->final = NULL;
    if (!f->final)
        goto fail_nomem;
    e->nfiles++;
    return f;

fail_nomem:
    free(name);
    ctx->host->error(ctx, "out of memory");
    return NULL;
}

static size_t ecsv_hash(const char *s)
{
    size_t h = 14695981039346656037u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

/* The split file for a value, found or added. */
ecsv_file *ecsv_split_file(gf_ctx *ctx, ecsv *e, const gf_value *v)
{
    e->cell.len = 0;
    if (v->type != GF_T_NIL)
        tb_value(e, ctx->host, &e->cell, v);
    char *name = e->cell.nomem ? NULL : ecsv_safe(e->cell.p, e->cell.len);
    if (!name) {
        ctx->host->error(ctx, "out of memory");
        return NULL;
    }
    if (e->nfiles * 2 >= e->nslots) {
        size_t n = e->nslots ? e->nslots * 2 : 64;
        size_t *s = calloc(n, sizeof *s);
        if (!s) {
            free(name);
            ctx->host->error(ctx, "out of memory");
            return NULL;
        }
        for (size_t i = 0; i < e->nfiles; i++) {
            size_t j = ecsv_hash(e->files[i].name) & (n - 1);
            while (s[j])
                j = (j + 1) & (n - 1);
            s[j] = i + 1;
        }
        free(e->slots);
        e->slots = s;
        e->nslots = n;
    }
    size_t j = ecsv_hash(name) & (e->nslots - 1);
    for (; e->slots[j]; j = (j + 1) & (e->nslots - 1))
        if (strcmp(e->files[e->slots[j] - 1].name, name) == 0) {
            free(name);
            return &e->files[e->slots[j] - 1];
        }
    ecsv_file *f = ecsv_add_file(ctx, e, name);
    if (f)
        e->slots[j] = e->nfiles;
    return f;
}
