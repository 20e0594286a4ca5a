/*
 * synth_helpers.h - shared by the tests of ingest_synth, classify_domain,
 * aggregate_coverage and aggregate_topk: build harnesses, chain one
 * harness's output into another, dump records as a JSON array into a
 * scratch directory, and compute expected figures independently with the
 * sqlite3 shell (its JSON functions and readfile()).
 *
 * Every function asserts through cmocka and returns only on success.
 */
#ifndef SYNTH_HELPERS_H
#define SYNTH_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <gigflow/harness.h>

/* A harness that must start; prints the error otherwise. */
static inline gf_harness *th_new(const char *plugin, const char *yaml)
{
    char *err = NULL;
    gf_harness *h = gf_harness_new(plugin, yaml, NULL, &err);
    if (!h)
        fprintf(stderr, "gf_harness_new(%s, %s): %s\n", plugin,
                yaml ? yaml : "", err ? err : "?");
    free(err);
    assert_non_null(h);
    return h;
}

/* A harness that must refuse to start; returns its error (caller frees). */
static inline char *th_refused(const char *plugin, const char *yaml)
{
    char *err = NULL;
    gf_harness *h = gf_harness_new(plugin, yaml, NULL, &err);
    if (h)
        fprintf(stderr, "options accepted but should not be: %s\n", yaml);
    assert_null(h);
    assert_non_null(err);
    return err;
}

/* Run an ingest harness to the end. */
static inline void th_produce(gf_harness *h)
{
    assert_int_equal(gf_harness_produce(h), GF_DONE);
}

/* Push every output record of `from` into `to`; all must be accepted. */
static inline void th_chain(gf_harness *from, gf_harness *to)
{
    size_t n = gf_harness_count(from);
    for (size_t i = 0; i < n; i++) {
        const gf_record *r = gf_harness_output(from, i);
        assert_int_equal(gf_harness_push(to, r->data, r->len), 0);
    }
}

/* A fresh scratch directory (malloc'd path). */
static inline char *th_tmpdir(void)
{
    char *d = strdup("/tmp/gf_synth_test_XXXXXX");
    assert_non_null(d);
    assert_non_null(mkdtemp(d));
    return d;
}

static inline void th_rmdir(char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(dir);
}

/* "dir/name" (malloc'd). */
static inline char *th_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    assert_non_null(p);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* Write output records [from, count) of h as one JSON array. */
static inline void th_write_json(gf_harness *h, const char *path)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputc('[', f);
    size_t n = gf_harness_count(h);
    for (size_t i = 0; i < n; i++) {
        char *j = gf_harness_output_json(h, i);
        assert_non_null(j);
        fprintf(f, "%s%s\n", i ? "," : "", j);
        free(j);
    }
    fputs("]\n", f);
    assert_int_equal(fclose(f), 0);
}

/* Read a whole stream into a malloc'd string. */
static inline char *th_slurp(FILE *f)
{
    size_t len = 0, cap = 4096;
    char *s = malloc(cap);
    assert_non_null(s);
    size_t n;
    while ((n = fread(s + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 2) {
            cap *= 2;
            s = realloc(s, cap);
            assert_non_null(s);
        }
    }
    s[len] = '\0';
    return s;
}

/*
 * Run `sql` in a fresh sqlite3 shell (working directory `dir`, so that
 * readfile('x.json') finds files there); returns its standard output,
 * '|'-separated columns, one row a line (malloc'd).
 */
static inline char *th_sql(const char *dir, const char *sql)
{
    char *script = th_path(dir, "q.sql");
    FILE *f = fopen(script, "w");
    assert_non_null(f);
    fputs(sql, f);
    assert_int_equal(fclose(f), 0);
    size_t n = strlen(dir) * 2 + 128;
    char *cmd = malloc(n);
    assert_non_null(cmd);
    snprintf(cmd, n,
             "cd '%s' && sqlite3 -batch -bail -noheader :memory: < q.sql", dir);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char *out = th_slurp(p);
    int rc = pclose(p);
    if (rc != 0)
        fprintf(stderr, "sqlite3 failed (%d) on:\n%s\n", rc, sql);
    assert_int_equal(rc, 0);
    free(cmd);
    free(script);
    return out;
}

/* Append printf text to a growing malloc'd string. */
static inline void th_cat(char **s, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline void th_cat(char **s, size_t *len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *t = realloc(*s, *len + (size_t)n + 1);
    assert_non_null(t);
    va_start(ap, fmt);
    vsnprintf(t + *len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    *s = t;
    *len += (size_t)n;
}

/* Field access on output record i. */
static inline bool th_get(gf_harness *h, size_t i, const char *key, gf_value *v)
{
    return gf_harness_host(h)->get(gf_harness_output(h, i), key, v);
}

static inline bool th_str_is(gf_harness *h, size_t i, const char *key,
                             const char *want)
{
    gf_value v;
    return th_get(h, i, key, &v) && v.type == GF_T_STR &&
           gf_str_eq(v.v.s, want);
}

/* The text of a field as a NUL-terminated copy in buf ("" when absent). */
static inline const char *th_text(gf_harness *h, size_t i, const char *key,
                                  char *buf, size_t cap)
{
    gf_value v;
    buf[0] = '\0';
    if (!th_get(h, i, key, &v))
        return buf;
    switch (v.type) {
    case GF_T_STR:
        snprintf(buf, cap, "%.*s", (int)v.v.s.len, v.v.s.ptr);
        break;
    case GF_T_INT:
        snprintf(buf, cap, "%lld", (long long)v.v.i);
        break;
    case GF_T_FLOAT:
        snprintf(buf, cap, "%.6f", v.v.f);
        break;
    case GF_T_BOOL:
        snprintf(buf, cap, "%d", v.v.b ? 1 : 0);
        break;
    default:
        break;
    }
    return buf;
}

/* Assert two texts are equal, printing both in full when they differ. */
static inline void th_same(const char *what, const char *got, const char *want)
{
    if (strcmp(got, want) != 0)
        fprintf(stderr, "%s differs.\n--- plugin:\n%s\n--- expected:\n%s\n",
                what, got, want);
    assert_string_equal(got, want);
}

#endif
