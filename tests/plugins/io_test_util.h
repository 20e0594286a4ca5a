/*
 * io_test_util.h - helpers shared by the I/O plugin tests (ingest_csv,
 * ingest_jsonl, export_csv, export_jsonl): open a plugin of the build tree
 * in the harness, compare output records and dead letters, make and clean
 * temporary directories, read whole files.
 */
#ifndef IO_TEST_UTIL_H
#define IO_TEST_UTIL_H

#include <dirent.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include <gigflow/harness.h>

#define IO_DATA GF_TEST_DATA_DIR "/io"

/* Open plugin `name` of this build with options `yaml` (paths relative to
   base). Fails the test unless it opens. */
static inline gf_harness *io_open(const char *name, const char *yaml,
                                  const char *base)
{
    char path[1024];
    char *err = NULL;
    snprintf(path, sizeof path, "%s/lib/gigflow/plugins/%s.so", GF_BUILD_DIR,
             name);
    gf_harness *h = gf_harness_new(path, yaml, base, &err);
    if (!h)
        fail_msg("%s did not open: %s", name, err ? err : "(no message)");
    free(err);
    return h;
}

/* Open plugin `name`, expecting failure; returns the malloc'd message. */
static inline char *io_open_fails(const char *name, const char *yaml,
                                  const char *base)
{
    char path[1024];
    char *err = NULL;
    snprintf(path, sizeof path, "%s/lib/gigflow/plugins/%s.so", GF_BUILD_DIR,
             name);
    gf_harness *h = gf_harness_new(path, yaml, base, &err);
    if (h) {
        gf_harness_destroy(&h);
        fail_msg("%s opened, but should have failed", name);
    }
    assert_non_null(err);
    return err;
}

/* Output record i, as JSON, equals want. */
static inline void io_expect_json(const gf_harness *h, size_t i,
                                  const char *want)
{
    char *got = gf_harness_output_json(h, i);
    assert_non_null(got);
    if (strcmp(got, want) != 0)
        fail_msg("record %zu:\n  got  %s\n  want %s", i, got, want);
    free(got);
}

/* Dead letter i carries `"line":LINE` and its text contains `part`. */
static inline void io_expect_reject(const gf_harness *h, size_t i,
                                    unsigned long long line, const char *part)
{
    const char *r = gf_harness_reject(h, i);
    char l[48];
    assert_non_null(r);
    snprintf(l, sizeof l, "\"line\":%llu", line);
    if (!strstr(r, l) || !strstr(r, part))
        fail_msg("dead letter %zu: %s\n  want %s and \"%s\"", i, r, l, part);
}

/* Output record i's source position (gf_harness_position) is file:line;
   file NULL: unknown. */
static inline void io_expect_pos(const gf_harness *h, size_t i,
                                 const char *file, unsigned long long line)
{
    const char *f = "x";
    uint64_t l = 99;
    assert_int_equal(gf_harness_position(h, i, &f, &l), 0);
    if (!(file ? f && strcmp(f, file) == 0 : f == NULL) || l != line)
        fail_msg("record %zu: position %s:%llu, want %s:%llu", i,
                 f ? f : "(none)", (unsigned long long)l,
                 file ? file : "(none)", line);
}

/* A fresh temporary directory (malloc'd path). */
static inline char *io_tmpdir(void)
{
    char *d = strdup("/tmp/gf_io_test_XXXXXX");
    assert_non_null(d);
    assert_non_null(mkdtemp(d));
    return d;
}

/* Number of entries in dir (other than . and ..); names joined by '|'
   into names (if not NULL), sorted as readdir gives them. */
static inline size_t io_dir_count(const char *dir, char *names, size_t cap)
{
    DIR *d = opendir(dir);
    size_t n = 0;
    struct dirent *e;
    assert_non_null(d);
    if (names && cap)
        names[0] = '\0';
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (names && strlen(names) + strlen(e->d_name) + 2 < cap) {
            if (n)
                strcat(names, "|");
            strcat(names, e->d_name);
        }
        n++;
    }
    closedir(d);
    return n;
}

/* Remove dir and the files in it; free the path. */
static inline void io_rmdir(char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[2048];
    if (d) {
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(dir);
    free(dir);
}

/* The whole file (malloc'd, NUL-terminated), or NULL when it is missing. */
static inline char *io_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0, got;
    char *b = malloc(cap);
    assert_non_null(b);
    while ((got = fread(b + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0) {
            cap *= 2;
            b = realloc(b, cap);
            assert_non_null(b);
        }
    }
    fclose(f);
    b[n] = '\0';
    if (len)
        *len = n;
    return b;
}

/* Write a file (fails the test on error). */
static inline void io_write(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* printf into a malloc'd string. */
static inline char *io_fmt(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static inline char *io_fmt(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    assert_true(n >= 0);
    return s;
}

#endif
