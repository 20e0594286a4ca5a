/*
 * gf_diag - collected "FILE:LINE:COL: message" diagnostics (gf_diag.h).
 * Running out of memory while reporting drops the message rather than
 * failing the caller: the run is already failing.
 */
#include "gf_diag.h"

#include <stdarg.h>
#include <stdio.h>

#include "gf_alloc.h"
#include "gf_buf.h"

void gf_diag_add(gf_diag *d, const char *file, unsigned line, unsigned col,
                 const char *fmt, ...)
{
    gf_buf b = {0};
    if (file && line && col)
        gf_buf_printf(&b, "%s:%u:%u: ", file, line, col);
    else if (file && line)
        gf_buf_printf(&b, "%s:%u: ", file, line);
    else if (file)
        gf_buf_printf(&b, "%s: ", file);

    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || gf_buf_reserve(&b, (size_t)n + 1) != 0)
        goto fail_format;
    va_start(ap, fmt);
    vsnprintf((char *)b.data + b.len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b.len += (size_t)n;

    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 8;
        char **m = gf_realloc(d->msgs, cap * sizeof *m);
        if (!m)
            goto fail_format;
        d->msgs = m;
        d->cap = cap;
    }
    d->msgs[d->n++] = (char *)b.data; /* NUL-terminated by vsnprintf */
    return;

fail_format:
    gf_buf_free(&b);
}

void gf_diag_print(const gf_diag *d, FILE *f)
{
    for (size_t i = 0; i < d->n; i++)
        fprintf(f, "%s\n", d->msgs[i]);
}

void gf_diag_free(gf_diag *d)
{
    for (size_t i = 0; i < d->n; i++)
        gf_free(d->msgs[i]);
    gf_free(d->msgs);
    d->msgs = NULL;
    d->n = d->cap = 0;
}
