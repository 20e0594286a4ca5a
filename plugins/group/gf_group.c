/*
 * gf_group - group-by tables for aggregate plugins (see gf_group.h).
 *
 * Canonical key encoding, one item per by-field:
 *   0                         nil (also an absent field)
 *   1 b                       bool
 *   2 <int64, 8 bytes>        integer, and a float with an integral value
 *                             that fits int64 (3 and 3.0 are one group)
 *   3 <double, 8 bytes>       other float
 *   4 <u32 len> bytes         string
 *   5 <u32 len> raw           anything else: its MessagePack bytes
 */
#define _GNU_SOURCE
#include "gf_group.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { T_NIL, T_BOOL, T_INT, T_FLOAT, T_STR, T_RAW };

typedef struct entry {
    uint64_t hash;
    size_t key_off;
    uint32_t key_len;
} entry;

struct gf_group {
    const char *const *by;
    size_t nby;
    size_t state_size;
    entry *ent;
    uint8_t *states;
    size_t n, cap;  /* groups, room in ent/states */
    uint32_t *slot; /* index + 1, 0: empty */
    size_t nslot;   /* power of two */
    uint8_t *arena; /* keys laid end to end */
    size_t alen, acap;
    uint8_t *key; /* the key being built */
    size_t klen, kcap;
};

gf_group *gf_group_new(const char *const *by, size_t n, size_t state_size)
{
    gf_group *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->by = by;
    g->nby = n;
    g->state_size = state_size ? state_size : 1;
    g->nslot = 64;
    g->slot = calloc(g->nslot, sizeof *g->slot);
    /* never NULL, so that empty keys (no by-fields) need no special case */
    g->kcap = 64;
    g->key = malloc(g->kcap);
    g->acap = 1024;
    g->arena = malloc(g->acap);
    if (!g->slot || !g->key || !g->arena)
        gf_group_free(&g);
    return g;
}

void gf_group_free(gf_group **gp)
{
    gf_group *g = gp ? *gp : NULL;
    if (!g)
        return;
    free(g->ent);
    free(g->states);
    free(g->slot);
    free(g->arena);
    free(g->key);
    free(g);
    *gp = NULL;
}

static int key_put(gf_group *g, const void *p, size_t n)
{
    if (g->klen + n > g->kcap) {
        size_t cap = g->kcap ? g->kcap * 2 : 64;
        while (cap < g->klen + n)
            cap *= 2;
        uint8_t *k = realloc(g->key, cap);
        if (!k)
            return -1;
        g->key = k;
        g->kcap = cap;
    }
    memcpy(g->key + g->klen, p, n);
    g->klen += n;
    return 0;
}

static int key_value(gf_group *g, const gf_value *v)
{
    uint8_t tag;
    uint32_t len;
    switch (v->type) {
    case GF_T_NIL:
        tag = T_NIL;
        return key_put(g, &tag, 1);
    case GF_T_BOOL:
        tag = T_BOOL;
        uint8_t b = v->v.b;
        return key_put(g, &tag, 1) || key_put(g, &b, 1) ? -1 : 0;
    case GF_T_INT:
        tag = T_INT;
        return key_put(g, &tag, 1) || key_put(g, &v->v.i, 8) ? -1 : 0;
    case GF_T_FLOAT: {
        double f = v->v.f;
        if (f == f && f >= -9.2e18 && f <= 9.2e18 && f == floor(f)) {
            int64_t i = (int64_t)f;
            tag = T_INT;
            return key_put(g, &tag, 1) || key_put(g, &i, 8) ? -1 : 0;
        }
        tag = T_FLOAT;
        return key_put(g, &tag, 1) || key_put(g, &f, 8) ? -1 : 0;
    }
    case GF_T_STR:
        tag = T_STR;
        len = (uint32_t)v->v.s.len;
        return key_put(g, &tag, 1) || key_put(g, &len, 4) ||
                       key_put(g, v->v.s.ptr, len)
                   ? -1
                   : 0;
    default:
        tag = T_RAW;
        len = (uint32_t)v->raw_len;
        return key_put(g, &tag, 1) || key_put(g, &len, 4) ||
                       key_put(g, v->raw, len)
                   ? -1
                   : 0;
    }
}

static uint64_t hash_bytes(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return h ^ (h >> 29);
}

static int grow_slots(gf_group *g)
{
    size_t nslot = g->nslot * 2;
    uint32_t *slot = calloc(nslot, sizeof *slot);
    if (!slot)
        return -1;
    for (size_t i = 0; i < g->n; i++) {
        size_t j = g->ent[i].hash & (nslot - 1);
        while (slot[j])
            j = (j + 1) & (nslot - 1);
        slot[j] = (uint32_t)(i + 1);
    }
    free(g->slot);
    g->slot = slot;
    g->nslot = nslot;
    return 0;
}

/* Find or add the key in g->key. */
static long lookup(gf_group *g, bool *created)
{
    uint64_t h = hash_bytes(g->key, g->klen);
    size_t j = h & (g->nslot - 1);
    if (created)
        *created = false;
    for (; g->slot[j]; j = (j + 1) & (g->nslot - 1)) {
        const entry *e = &g->ent[g->slot[j] - 1];
        if (e->hash == h && e->key_len == g->klen &&
            memcmp(g->arena + e->key_off, g->key, g->klen) == 0)
            return (long)(g->slot[j] - 1);
    }
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 16;
        entry *ent = realloc(g->ent, cap * sizeof *ent);
        if (!ent)
            return -1;
        g->ent = ent;
        uint8_t *st = realloc(g->states, cap * g->state_size);
        if (!st)
            return -1;
        g->states = st;
        g->cap = cap;
    }
    if (g->alen + g->klen > g->acap) {
        size_t cap = g->acap ? g->acap * 2 : 1024;
        while (cap < g->alen + g->klen)
            cap *= 2;
        uint8_t *a = realloc(g->arena, cap);
        if (!a)
            return -1;
        g->arena = a;
        g->acap = cap;
    }
    memcpy(g->arena + g->alen, g->key, g->klen);
    g->ent[g->n] = (entry){h, g->alen, (uint32_t)g->klen};
    g->alen += g->klen;
    memset(g->states + g->n * g->state_size, 0, g->state_size);
    g->slot[j] = (uint32_t)(g->n + 1);
    g->n++;
    if (created)
        *created = true;
    if (g->n * 2 > g->nslot && grow_slots(g) != 0) {
        g->n--; /* keep the table consistent: forget the new group */
        g->alen -= g->klen;
        g->slot[j] = 0;
        return -1;
    }
    return (long)(g->n - 1);
}

long gf_group_of(gf_group *g, const gf_host *h, const gf_record *rec,
                 bool *created)
{
    g->klen = 0;
    for (size_t i = 0; i < g->nby; i++) {
        gf_value v;
        if (!h->get(rec, g->by[i], &v))
            v.type = GF_T_NIL;
        if (key_value(g, &v) != 0)
            return -1;
    }
    return lookup(g, created);
}

long gf_group_of_value(gf_group *g, const gf_value *v, bool *created)
{
    g->klen = 0;
    if (key_value(g, v) != 0)
        return -1;
    return lookup(g, created);
}

size_t gf_group_count(const gf_group *g)
{
    return g->n;
}

void *gf_group_state(const gf_group *g, size_t i)
{
    return g->states + i * g->state_size;
}

/* One decoded key item; *p advances past it. */
typedef struct item {
    uint8_t tag;
    bool b;
    int64_t i;
    double f;
    const uint8_t *ptr;
    uint32_t len;
} item;

static item next_item(const uint8_t **p)
{
    item it = {.tag = **p};
    const uint8_t *q = *p + 1;
    switch (it.tag) {
    case T_BOOL:
        it.b = *q++;
        break;
    case T_INT:
        memcpy(&it.i, q, 8);
        q += 8;
        break;
    case T_FLOAT:
        memcpy(&it.f, q, 8);
        q += 8;
        break;
    case T_STR:
    case T_RAW:
        memcpy(&it.len, q, 4);
        it.ptr = q + 4;
        q += 4 + it.len;
        break;
    default:
        break;
    }
    *p = q;
    return it;
}

static int cmp_bytes(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    if (c)
        return c;
    return al < bl ? -1 : al > bl;
}

/* nil < bool < number < string < other */
static int rank_of(uint8_t tag)
{
    return tag == T_FLOAT ? T_INT : tag;
}

static int item_cmp(const item *a, const item *b)
{
    int ra = rank_of(a->tag), rb = rank_of(b->tag);
    if (ra != rb)
        return ra < rb ? -1 : 1;
    switch (ra) {
    case T_NIL:
        return 0;
    case T_BOOL:
        return (int)a->b - (int)b->b;
    case T_INT:
        if (a->tag == T_INT && b->tag == T_INT)
            return a->i < b->i ? -1 : a->i > b->i;
        {
            long double x = a->tag == T_INT ? (long double)a->i : a->f;
            long double y = b->tag == T_INT ? (long double)b->i : b->f;
            return x < y ? -1 : x > y;
        }
    default:
        return cmp_bytes(a->ptr, a->len, b->ptr, b->len);
    }
}

static int key_cmp(const void *pa, const void *pb, void *arg)
{
    const gf_group *g = arg;
    const entry *ea = &g->ent[*(const size_t *)pa];
    const entry *eb = &g->ent[*(const size_t *)pb];
    const uint8_t *a = g->arena + ea->key_off, *b = g->arena + eb->key_off;
    for (size_t i = 0; i < g->nby; i++) {
        item x = next_item(&a), y = next_item(&b);
        int c = item_cmp(&x, &y);
        if (c)
            return c;
    }
    return 0;
}

size_t *gf_group_sorted(const gf_group *g)
{
    if (g->n == 0)
        return NULL;
    size_t *idx = malloc(g->n * sizeof *idx);
    if (!idx)
        return NULL;
    for (size_t i = 0; i < g->n; i++)
        idx[i] = i;
    qsort_r(idx, g->n, sizeof *idx, key_cmp, (void *)g);
    return idx;
}

void gf_group_set_fields(const gf_group *g, size_t i, const gf_host *h,
                         gf_out *out)
{
    const uint8_t *p = g->arena + g->ent[i].key_off;
    for (size_t f = 0; f < g->nby; f++) {
        item it = next_item(&p);
        const char *key = g->by[f];
        switch (it.tag) {
        case T_NIL:
            h->set_nil(out, key);
            break;
        case T_BOOL:
            h->set_bool(out, key, it.b);
            break;
        case T_INT:
            h->set_int(out, key, it.i);
            break;
        case T_FLOAT:
            h->set_float(out, key, it.f);
            break;
        case T_STR:
            h->set_str(out, key, (const char *)it.ptr, it.len);
            break;
        default:
            h->set_raw(out, key, it.ptr, it.len);
            break;
        }
    }
}

/* A value as a key item (numbers unified as in the keys). */
static item value_item(const gf_value *v)
{
    item it = {0};
    switch (v->type) {
    case GF_T_NIL:
        it.tag = T_NIL;
        break;
    case GF_T_BOOL:
        it.tag = T_BOOL;
        it.b = v->v.b;
        break;
    case GF_T_INT:
        it.tag = T_INT;
        it.i = v->v.i;
        break;
    case GF_T_FLOAT:
        it.tag = T_FLOAT;
        it.f = v->v.f;
        break;
    case GF_T_STR:
        it.tag = T_STR;
        it.ptr = (const uint8_t *)v->v.s.ptr;
        it.len = (uint32_t)v->v.s.len;
        break;
    default:
        it.tag = T_RAW;
        it.ptr = v->raw;
        it.len = (uint32_t)v->raw_len;
        break;
    }
    return it;
}

int gf_group_value_cmp(const gf_value *a, const gf_value *b)
{
    item x = value_item(a), y = value_item(b);
    return item_cmp(&x, &y);
}
