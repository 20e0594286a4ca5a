/*
 * gf_diag - a list of diagnostics "FILE:LINE:COL: message", collected while
 * a pipeline is loaded and validated, printed together at the end so the
 * operator sees every error of a file in one go.
 */
#ifndef GF_DIAG_H
#define GF_DIAG_H

#include <stddef.h>
#include <stdio.h>

typedef struct gf_diag {
    size_t n;
    size_t cap;
    char *
        *msgs; /* each "FILE:LINE:COL: message" (":LINE:COL" left out when 0) */
} gf_diag;

/* Add one diagnostic. file may be NULL (then the message stands alone). */
void gf_diag_add(gf_diag *d, const char *file, unsigned line, unsigned col,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Print every diagnostic, one per line. */
void gf_diag_print(const gf_diag *d, FILE *f);
/* Free the messages; the list is empty and reusable afterwards. */
void gf_diag_free(gf_diag *d);

#endif
