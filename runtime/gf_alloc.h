/*
 * gf_alloc - every allocation of the runtime goes through here, so that
 * tests can make the Nth allocation fail and walk every cleanup path
 * (the idea of SQLite's test_malloc.c).
 */
#ifndef GF_ALLOC_H
#define GF_ALLOC_H

#include <stddef.h>

void *gf_malloc(size_t n);
void *gf_calloc(size_t count, size_t size);
void *gf_realloc(void *p, size_t n);
void gf_free(void *p);
char *gf_strdup(const char *s);
char *gf_strndup(const char *s, size_t n);
/* asprintf through the hook: a malloc'd string, or NULL. */
char *gf_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Tests only: after `n` more successful allocations, every allocation fails
 * until gf_alloc_fail_reset(). n < 0 disables the failure injection.
 */
void gf_alloc_fail_after(long n);
void gf_alloc_fail_reset(void);

#endif
