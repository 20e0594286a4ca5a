/*
 * gf_buf - a growable byte buffer, the one used everywhere in the runtime
 * (batches, JSON rendering, scratch space). Allocation goes through gf_alloc.
 */
#ifndef GF_BUF_H
#define GF_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct gf_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
} gf_buf;

/* Make room for `extra` more bytes. Returns 0, or -ENOMEM (buffer intact). */
int gf_buf_reserve(gf_buf *b, size_t extra);
/* Append bytes. Returns 0 or -ENOMEM. */
int gf_buf_append(gf_buf *b, const void *p, size_t n);
/* Append a NUL-terminated string (without the NUL). */
int gf_buf_puts(gf_buf *b, const char *s);
/* Append printf-formatted text (without the NUL). */
int gf_buf_printf(gf_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Forget the contents, keep the memory. */
static inline void gf_buf_clear(gf_buf *b)
{
    b->len = 0;
}
/* Free the memory; the buffer is empty and reusable afterwards. */
void gf_buf_free(gf_buf *b);

#endif
