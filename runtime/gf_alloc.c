/*
 * gf_alloc - the allocation hook (see gf_alloc.h). In normal runs it is a
 * thin layer over malloc; tests arm a countdown that makes allocations fail
 * so every cleanup path can be walked.
 */
#include "gf_alloc.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* < 0: disarmed; otherwise allocations left before failures start */
static _Atomic long fail_countdown = -1;

static int should_fail(void)
{
    long left = atomic_load_explicit(&fail_countdown, memory_order_relaxed);
    if (left < 0)
        return 0;
    if (left == 0)
        return 1;
    atomic_fetch_sub_explicit(&fail_countdown, 1, memory_order_relaxed);
    return 0;
}

void *gf_malloc(size_t n)
{
    return should_fail() ? NULL : malloc(n ? n : 1);
}

void *gf_calloc(size_t count, size_t size)
{
    return should_fail() ? NULL : calloc(count ? count : 1, size ? size : 1);
}

void *gf_realloc(void *p, size_t n)
{
    return should_fail() ? NULL : realloc(p, n ? n : 1);
}

void gf_free(void *p)
{
    free(p);
}

char *gf_strndup(const char *s, size_t n)
{
    char *d = gf_malloc(n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *gf_strdup(const char *s)
{
    return s ? gf_strndup(s, strlen(s)) : NULL;
}

char *gf_asprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *s = gf_malloc((size_t)n + 1);
    if (!s)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

void gf_alloc_fail_after(long n)
{
    atomic_store(&fail_countdown, n < 0 ? -1 : n);
}

void gf_alloc_fail_reset(void)
{
    atomic_store(&fail_countdown, -1);
}
