/*
 * gf_buf - growable byte buffer (see gf_buf.h). Grows by doubling, so
 * appending n bytes one at a time costs O(n).
 */
#include "gf_buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gf_alloc.h"

int gf_buf_reserve(gf_buf *b, size_t extra)
{
    if (b->cap - b->len >= extra)
        return 0;
    size_t need = b->len + extra;
    if (need < b->len)
        return -ENOMEM; /* overflow */
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    uint8_t *d = gf_realloc(b->data, cap);
    if (!d)
        return -ENOMEM;
    b->data = d;
    b->cap = cap;
    return 0;
}

int gf_buf_append(gf_buf *b, const void *p, size_t n)
{
    if (gf_buf_reserve(b, n) != 0)
        return -ENOMEM;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

int gf_buf_puts(gf_buf *b, const char *s)
{
    return gf_buf_append(b, s, strlen(s));
}

int gf_buf_printf(gf_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -EINVAL;
    if (gf_buf_reserve(b, (size_t)n + 1) != 0)
        return -ENOMEM;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void gf_buf_free(gf_buf *b)
{
    gf_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
