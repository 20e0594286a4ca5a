/*
 * report_spec.c - export_report's section specs: the text of one
 * `sections` entry ("title=... chart=bar|column|none by=F value=F,G
 * columns=... pct=F share=F labels=F:L,... sort=-F top=N decimals=N
 * note=...", or just a title) into an rp_spec, with a message naming the
 * set and the key when it is wrong. Lists are comma-separated; a value
 * with spaces is written in double quotes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

void rp_spec_free(rp_spec *s)
{
    free(s->title);
    free(s->note);
    free(s->chart);
    free(s->sort);
    char **lists[] = {s->by,    s->values,     s->columns,     s->pct,
                      s->share, s->label_keys, s->label_values};
    size_t ns[] = {s->nby,    s->nvalues, s->ncolumns, s->npct,
                   s->nshare, s->nlabels, s->nlabels};
    for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
        for (size_t i = 0; i < ns[k]; i++)
            free(lists[k][i]);
        free(lists[k]);
    }
    *s = (rp_spec){0};
}

/* Split "a,b,c" into a malloc'd list. */
static int split_list(const char *v, char ***out, size_t *n)
{
    size_t cap = 1;
    for (const char *p = v; *p; p++)
        cap += *p == ',';
    char **list = calloc(cap, sizeof *list);
    if (!list)
        return -1;
    size_t k = 0;
    const char *p = v;
    for (;;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        while (len && (*p == ' '))
            p++, len--;
        while (len && p[len - 1] == ' ')
            len--;
        if (len) {
            list[k] = strndup(p, len);
            if (!list[k++])
                goto fail;
        }
        if (!e)
            break;
        p = e + 1;
    }
    *out = list;
    *n = k;
    return 0;
fail:
    for (size_t i = 0; i < k; i++)
        free(list[i]);
    free(list);
    return -1;
}

/*
 * Split "field:label,field:label" into two parallel malloc'd lists.
 * Returns 0, -1 for memory, or 1 when an item has no ':' or an empty side
 * (*bad then points at it in v).
 */
static int split_labels(const char *v, rp_spec *s, const char **bad)
{
    char **items = NULL;
    size_t n = 0;
    if (split_list(v, &items, &n) != 0)
        return -1;
    int rc = 0;
    s->label_keys = calloc(n + 1, sizeof *s->label_keys);
    s->label_values = calloc(n + 1, sizeof *s->label_values);
    if (!s->label_keys || !s->label_values) {
        rc = -1;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        char *colon = strchr(items[i], ':');
        if (!colon || colon == items[i] || colon[1] == '\0') {
            *bad = strstr(v, items[i]);
            rc = 1;
            goto done;
        }
        size_t klen = (size_t)(colon - items[i]);
        while (klen && items[i][klen - 1] == ' ')
            klen--;
        const char *val = colon + 1;
        while (*val == ' ')
            val++;
        s->label_keys[s->nlabels] = strndup(items[i], klen);
        s->label_values[s->nlabels] = strdup(val);
        s->nlabels++; /* counted first: spec_free frees a half pair */
        if (!s->label_keys[s->nlabels - 1] ||
            !s->label_values[s->nlabels - 1]) {
            rc = -1;
            goto done;
        }
    }
done:
    for (size_t i = 0; i < n; i++)
        free(items[i]);
    free(items);
    return rc;
}

static bool is_key_char(char c)
{
    return (c >= 'a' && c <= 'z') || c == '_';
}

/* Does the text start like "key=..."? Otherwise it is a bare title. */
static bool looks_like_spec(const char *s)
{
    while (*s == ' ')
        s++;
    const char *k = s;
    while (is_key_char(*s))
        s++;
    return s > k && *s == '=';
}

static int parse_int(const char *v, long lo, long hi, int64_t *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < lo || n > hi)
        return -1;
    *out = n;
    return 0;
}

char *rp_spec_parse(const char *set, const char *text, rp_spec *s)
{
    char msg[512];
    *s = (rp_spec){.decimals = -1};
    if (!looks_like_spec(text)) {
        s->title = strdup(text);
        return s->title ? NULL : strdup("out of memory");
    }
    const char *p = text;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        const char *k = p;
        while (is_key_char(*p))
            p++;
        size_t klen = (size_t)(p - k);
        if (klen == 0 || *p != '=') {
            snprintf(msg, sizeof msg,
                     "section '%s': expected key=value at "
                     "'%.40s'",
                     set, k);
            goto fail;
        }
        p++;
        char *val;
        if (*p == '"') {
            const char *e = strchr(p + 1, '"');
            if (!e) {
                snprintf(msg, sizeof msg,
                         "section '%s': unterminated quote "
                         "in '%.*s'",
                         set, (int)klen, k);
                goto fail;
            }
            val = strndup(p + 1, (size_t)(e - p - 1));
            p = e + 1;
        } else {
            const char *e = p;
            while (*e && *e != ' ' && *e != '\t')
                e++;
            val = strndup(p, (size_t)(e - p));
            p = e;
        }
        if (!val) {
            rp_spec_free(s);
            return strdup("out of memory");
        }
#define KEY(name) (klen == strlen(name) && strncmp(k, name, klen) == 0)
        int rc = 0;
        char **str = NULL;
        if (KEY("title"))
            str = &s->title;
        else if (KEY("note"))
            str = &s->note;
        else if (KEY("sort"))
            str = &s->sort;
        else if (KEY("chart")) {
            if (strcmp(val, "bar") && strcmp(val, "column") &&
                strcmp(val, "none")) {
                snprintf(msg, sizeof msg,
                         "section '%s': chart=%.40s; use "
                         "bar, column or none",
                         set, val);
                free(val);
                goto fail;
            }
            str = &s->chart;
        } else if (KEY("by"))
            rc = split_list(val, &s->by, &s->nby);
        else if (KEY("value") || KEY("values"))
            rc = split_list(val, &s->values, &s->nvalues);
        else if (KEY("columns"))
            rc = split_list(val, &s->columns, &s->ncolumns);
        else if (KEY("pct"))
            rc = split_list(val, &s->pct, &s->npct);
        else if (KEY("share"))
            rc = split_list(val, &s->share, &s->nshare);
        else if (KEY("labels") || KEY("label")) {
            const char *bad = NULL;
            if (s->nlabels) {
                snprintf(msg, sizeof msg,
                         "section '%s': labels= given twice; list every "
                         "field:label in one labels=",
                         set);
                free(val);
                goto fail;
            }
            rc = split_labels(val, s, &bad);
            if (rc == 1) {
                snprintf(msg, sizeof msg,
                         "section '%s': labels=... '%.40s' is not "
                         "field:label",
                         set, bad ? bad : val);
                free(val);
                goto fail;
            }
        } else if (KEY("top") || KEY("decimals")) {
            int64_t n;
            bool top = KEY("top");
            if (parse_int(val, 0, top ? INT_MAX : 6, &n) != 0) {
                snprintf(msg, sizeof msg,
                         "section '%s': %.*s=%.40s is not "
                         "a number from 0 to %d",
                         set, (int)klen, k, val, top ? INT_MAX : 6);
                free(val);
                goto fail;
            }
            if (top)
                s->top = n;
            else
                s->decimals = (int)n;
        } else {
            snprintf(msg, sizeof msg,
                     "section '%s': unknown key '%.*s'; "
                     "known: title note chart by value columns pct share "
                     "labels sort top decimals",
                     set, (int)klen, k);
            free(val);
            goto fail;
        }
#undef KEY
        if (str) {
            free(*str);
            *str = val;
        } else {
            free(val);
        }
        if (rc != 0) {
            rp_spec_free(s);
            return strdup("out of memory");
        }
    }
    return NULL;
fail:
    rp_spec_free(s);
    return strdup(msg);
}
