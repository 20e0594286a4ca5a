/*
 * gf_srcpos - the run's table of source file names (see gf_srcpos.h).
 *
 * Names are few (one per input file) and looked up rarely: gf_out interns
 * a name when it changes, not per record, and a name is read back only
 * for a dead letter. So one mutex guards everything; a small open-
 * addressing hash (FNV-1a, linear probing, at most half full) keeps
 * interning cheap even for a run over thousands of files. The names array
 * may move when it grows, the names themselves never do.
 */
#include "gf_srcpos.h"

#include <pthread.h>
#include <stddef.h>
#include <string.h>

#include "gf_alloc.h"

#define GF_SRCPOS_SLOTS_MIN 16

struct gf_srcpos_table {
    pthread_mutex_t lock;
    char **names; /* names[i] has index i + 1 */
    uint32_t n, cap;
    uint32_t *slots; /* index, 0: empty; nslots is a power of two */
    uint32_t nslots;
};

gf_srcpos_table *gf_srcpos_table_new(void)
{
    gf_srcpos_table *t = gf_calloc(1, sizeof *t);
    if (!t)
        return NULL;
    pthread_mutex_init(&t->lock, NULL);
    return t;
}

void gf_srcpos_table_free(gf_srcpos_table **tp)
{
    gf_srcpos_table *t = tp ? *tp : NULL;
    if (!t)
        return;
    for (uint32_t i = 0; i < t->n; i++)
        gf_free(t->names[i]);
    gf_free(t->names);
    gf_free(t->slots);
    pthread_mutex_destroy(&t->lock);
    gf_free(t);
    *tp = NULL;
}

static uint32_t hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

/* Rebuild the hash with twice the slots. Returns 0 or -1. */
static int grow_slots(gf_srcpos_table *t)
{
    uint32_t n = t->nslots ? t->nslots * 2 : GF_SRCPOS_SLOTS_MIN;
    if (n < t->nslots)
        return -1;
    uint32_t *s = gf_calloc(n, sizeof *s);
    if (!s)
        return -1;
    for (uint32_t i = 0; i < t->n; i++) {
        uint32_t k = hash(t->names[i]) & (n - 1);
        while (s[k])
            k = (k + 1) & (n - 1);
        s[k] = i + 1;
    }
    gf_free(t->slots);
    t->slots = s;
    t->nslots = n;
    return 0;
}

/* Add `name` (not present) as index n + 1. Returns the index or 0. */
static uint32_t add(gf_srcpos_table *t, const char *name)
{
    if (t->n == UINT32_MAX - 1)
        return 0;
    if ((uint64_t)(t->n + 1) * 2 > t->nslots && grow_slots(t) != 0)
        return 0;
    if (t->n == t->cap) {
        uint32_t cap = t->cap ? t->cap * 2 : 8;
        char **v = gf_realloc(t->names, (size_t)cap * sizeof *v);
        if (!v)
            return 0;
        t->names = v;
        t->cap = cap;
    }
    char *copy = gf_strdup(name);
    if (!copy)
        return 0;
    t->names[t->n++] = copy;
    uint32_t k = hash(name) & (t->nslots - 1);
    while (t->slots[k])
        k = (k + 1) & (t->nslots - 1);
    t->slots[k] = t->n;
    return t->n;
}

uint32_t gf_srcpos_intern(gf_srcpos_table *t, const char *name,
                          const char **stored)
{
    if (stored)
        *stored = NULL;
    if (!t || !name)
        return 0;
    uint32_t h = hash(name), idx = 0;
    pthread_mutex_lock(&t->lock);
    if (t->nslots) {
        for (uint32_t k = h & (t->nslots - 1); t->slots[k];
             k = (k + 1) & (t->nslots - 1)) {
            uint32_t i = t->slots[k];
            if (strcmp(t->names[i - 1], name) == 0) {
                idx = i;
                break;
            }
        }
    }
    if (!idx)
        idx = add(t, name);
    if (idx && stored)
        *stored = t->names[idx - 1];
    pthread_mutex_unlock(&t->lock);
    return idx;
}

const char *gf_srcpos_name(gf_srcpos_table *t, uint32_t file)
{
    if (!t || file == 0)
        return NULL;
    const char *name = NULL;
    pthread_mutex_lock(&t->lock);
    if (file <= t->n)
        name = t->names[file - 1];
    pthread_mutex_unlock(&t->lock);
    return name;
}
