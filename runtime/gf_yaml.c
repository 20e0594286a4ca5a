/*
 * gf_yaml - a YAML document read with libyaml's event parser into a small
 * tree of gf_ynode that keeps the 1-based line and column of every node
 * (see gf_yaml.h).
 *
 * The tree is built from events with an explicit stack, so deep nesting
 * costs heap, not C stack; depth is bounded all the same (GF_YAML_MAX_DEPTH)
 * because the consumers walk the tree recursively. Anchors are recorded as
 * their node completes, and an alias is replaced by a deep copy of its
 * anchored node. Copies are counted: a "billion laughs" document (aliases of
 * aliases) would otherwise turn a few hundred bytes into gigabytes, so more
 * than GF_YAML_MAX_ALIAS_NODES copied nodes is an error. A mapping key that
 * appears twice is an error at its second occurrence, since YAML says so
 * and a silently lost option is the worst kind of config bug.
 *
 * Ownership: the root node is allocated with room for the file name behind
 * it, and every node's `file` points there; freeing the root frees it all.
 */
#include "gf_yaml.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "gf_alloc.h"
#include "gf_buf.h"

/* Deepest nesting accepted (a mapping at the top is depth 1). */
#define GF_YAML_MAX_DEPTH 64
/* Most nodes an document may create by expanding aliases. */
#define GF_YAML_MAX_ALIAS_NODES 100000

typedef struct anchor {
    char *name;
    gf_ynode *node;
} anchor;

/* A collection being built: its node and the key waiting for a value. */
typedef struct frame {
    gf_ynode *node;
    size_t cap;
    gf_ynode *key; /* MAP: key read, value not yet */
    char *anchor;  /* to record when the collection ends */
} frame;

typedef struct builder {
    const char *name; /* file name for messages */
    gf_diag *d;
    const char *file; /* the root's copy, once the root exists */
    gf_ynode *root;
    frame stack[GF_YAML_MAX_DEPTH];
    size_t depth;
    anchor *anchors;
    size_t nanchors, capanchors;
    size_t alias_nodes;
    bool failed;
} builder;

const char *gf_ynode_type_name(gf_ynode_type t)
{
    switch (t) {
    case GF_Y_SCALAR:
        return "a scalar";
    case GF_Y_SEQ:
        return "a list";
    case GF_Y_MAP:
        return "a mapping";
    }
    return "a node";
}

static void node_free_rec(gf_ynode *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n; i++) {
        if (n->items)
            node_free_rec(n->items[i]);
        if (n->keys)
            node_free_rec(n->keys[i]);
    }
    gf_free(n->items);
    gf_free(n->keys);
    gf_free(n->scalar);
    gf_free(n);
}

void gf_ynode_free(gf_ynode **np)
{
    if (!np || !*np)
        return;
    node_free_rec(*np);
    *np = NULL;
}

/* A new node; the first one (the root) carries the file name behind it. */
static gf_ynode *node_new(builder *b, gf_ynode_type t, yaml_mark_t m)
{
    gf_ynode *n;
    if (!b->root && b->depth == 0) {
        size_t len = strlen(b->name);
        n = gf_calloc(1, sizeof *n + len + 1);
        if (!n)
            return NULL;
        char *f = (char *)(n + 1);
        memcpy(f, b->name, len + 1);
        b->file = f;
    } else {
        n = gf_calloc(1, sizeof *n);
        if (!n)
            return NULL;
    }
    n->type = t;
    n->file = b->file;
    n->line = (unsigned)m.line + 1;
    n->col = (unsigned)m.column + 1;
    return n;
}

/* Record the first error only: later ones are usually its echoes. */
static void fail(builder *b, unsigned line, unsigned col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void fail(builder *b, unsigned line, unsigned col, const char *fmt, ...)
{
    if (b->failed)
        return;
    b->failed = true;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    gf_diag_add(b->d, b->name, line, col, "%s", msg);
}

static void fail_oom(builder *b)
{
    fail(b, 0, 0, "out of memory while reading YAML");
}

/* Deep copy of an anchored node for an alias; counts copied nodes. */
static gf_ynode *node_copy(builder *b, const gf_ynode *src)
{
    if (++b->alias_nodes > GF_YAML_MAX_ALIAS_NODES)
        return NULL;
    gf_ynode *n = gf_calloc(1, sizeof *n);
    if (!n)
        return NULL;
    *n = *src;
    n->scalar = NULL;
    n->items = NULL;
    n->keys = NULL;
    n->n = 0;
    if (src->scalar && !(n->scalar = gf_strdup(src->scalar)))
        goto fail_node;
    if (src->n) {
        n->items = gf_calloc(src->n, sizeof *n->items);
        if (!n->items)
            goto fail_node;
        if (src->type == GF_Y_MAP) {
            n->keys = gf_calloc(src->n, sizeof *n->keys);
            if (!n->keys)
                goto fail_node;
        }
        for (size_t i = 0; i < src->n; i++) {
            n->n = i + 1; /* so a failure frees what is there */
            if (!(n->items[i] = node_copy(b, src->items[i])))
                goto fail_node;
            if (src->keys && !(n->keys[i] = node_copy(b, src->keys[i])))
                goto fail_node;
        }
    }
    return n;

fail_node:
    node_free_rec(n);
    return NULL;
}

static int anchor_add(builder *b, char *name, gf_ynode *node)
{
    if (b->nanchors == b->capanchors) {
        size_t cap = b->capanchors ? b->capanchors * 2 : 8;
        anchor *a = gf_realloc(b->anchors, cap * sizeof *a);
        if (!a)
            return -ENOMEM;
        b->anchors = a;
        b->capanchors = cap;
    }
    /* a later anchor of the same name shadows the earlier one */
    b->anchors[b->nanchors].name = name;
    b->anchors[b->nanchors].node = node;
    b->nanchors++;
    return 0;
}

static const gf_ynode *anchor_find(const builder *b, const char *name)
{
    for (size_t i = b->nanchors; i-- > 0;)
        if (strcmp(b->anchors[i].name, name) == 0)
            return b->anchors[i].node;
    return NULL;
}

static char *dup_anchor(builder *b, const yaml_char_t *a)
{
    if (!a)
        return NULL;
    char *s = gf_strdup((const char *)a);
    if (!s)
        fail_oom(b);
    return s;
}

/*
 * Attach a finished node to the collection on top of the stack (or make it
 * the root). Takes ownership of n in every case.
 */
static void attach(builder *b, gf_ynode *n)
{
    if (b->depth == 0) {
        if (b->root)
            node_free_rec(n); /* cannot happen: one node per document */
        else
            b->root = n;
        return;
    }
    frame *f = &b->stack[b->depth - 1];
    gf_ynode *c = f->node;
    if (c->type == GF_Y_MAP && !f->key) {
        if (n->type != GF_Y_SCALAR) {
            fail(b, n->line, n->col, "a mapping key must be a scalar, not %s",
                 gf_ynode_type_name(n->type));
            node_free_rec(n);
            return;
        }
        for (size_t i = 0; i < c->n; i++) {
            if (strcmp(c->keys[i]->scalar, n->scalar) == 0) {
                fail(b, n->line, n->col,
                     "duplicate key '%.200s' (first at line %u, column %u)",
                     n->scalar, c->keys[i]->line, c->keys[i]->col);
                node_free_rec(n);
                return;
            }
        }
        f->key = n;
        return;
    }
    if (c->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 4;
        gf_ynode **items = gf_realloc(c->items, cap * sizeof *items);
        if (!items)
            goto fail_mem;
        c->items = items;
        if (c->type == GF_Y_MAP) {
            gf_ynode **keys = gf_realloc(c->keys, cap * sizeof *keys);
            if (!keys)
                goto fail_mem;
            c->keys = keys;
        }
        f->cap = cap;
    }
    c->items[c->n] = n;
    if (c->type == GF_Y_MAP) {
        c->keys[c->n] = f->key;
        f->key = NULL;
    }
    c->n++;
    return;

fail_mem:
    fail_oom(b);
    node_free_rec(n);
}

static void on_scalar(builder *b, const yaml_event_t *e)
{
    const char *v = (const char *)e->data.scalar.value;
    size_t len = e->data.scalar.length;
    unsigned line = (unsigned)e->start_mark.line + 1;
    unsigned col = (unsigned)e->start_mark.column + 1;
    if (memchr(v, '\0', len)) {
        fail(b, line, col, "a scalar holds a NUL character");
        return;
    }
    gf_ynode *n = node_new(b, GF_Y_SCALAR, e->start_mark);
    if (!n || !(n->scalar = gf_strndup(v, len))) {
        node_free_rec(n);
        fail_oom(b);
        return;
    }
    n->quoted = e->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                e->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    if (e->data.scalar.anchor) {
        char *a = dup_anchor(b, e->data.scalar.anchor);
        if (!a || anchor_add(b, a, n) != 0) {
            gf_free(a);
            node_free_rec(n);
            fail_oom(b);
            return;
        }
    }
    attach(b, n);
}

static void on_start(builder *b, const yaml_event_t *e, gf_ynode_type t,
                     const yaml_char_t *anchor_name)
{
    unsigned line = (unsigned)e->start_mark.line + 1;
    unsigned col = (unsigned)e->start_mark.column + 1;
    if (b->depth == GF_YAML_MAX_DEPTH) {
        fail(b, line, col, "nesting deeper than %d levels", GF_YAML_MAX_DEPTH);
        return;
    }
    gf_ynode *n = node_new(b, t, e->start_mark);
    if (!n) {
        fail_oom(b);
        return;
    }
    frame *f = &b->stack[b->depth++];
    memset(f, 0, sizeof *f);
    f->node = n;
    if (anchor_name && !(f->anchor = dup_anchor(b, anchor_name)))
        return;
}

static void on_end(builder *b)
{
    if (b->depth == 0)
        return;
    frame *f = &b->stack[--b->depth];
    gf_ynode *n = f->node;
    node_free_rec(f->key); /* only left over after an error */
    f->key = NULL;
    if (f->anchor) {
        if (anchor_add(b, f->anchor, n) != 0) {
            gf_free(f->anchor);
            node_free_rec(n);
            fail_oom(b);
            return;
        }
        f->anchor = NULL;
    }
    attach(b, n);
}

static void on_alias(builder *b, const yaml_event_t *e)
{
    const char *name = (const char *)e->data.alias.anchor;
    unsigned line = (unsigned)e->start_mark.line + 1;
    unsigned col = (unsigned)e->start_mark.column + 1;
    const gf_ynode *src = anchor_find(b, name);
    if (!src) {
        fail(b, line, col,
             "alias '*%s' refers to no anchor defined before it (an anchor "
             "cannot be used inside itself)",
             name);
        return;
    }
    if (!b->root && b->depth == 0) {
        fail(b, line, col, "a document cannot be only an alias");
        return;
    }
    gf_ynode *n = node_copy(b, src);
    if (!n) {
        if (b->alias_nodes > GF_YAML_MAX_ALIAS_NODES) {
            fail(b, line, col,
                 "aliases expand to more than %d nodes; refusing (an alias "
                 "expansion bomb?)",
                 GF_YAML_MAX_ALIAS_NODES);
        } else {
            fail_oom(b);
        }
        return;
    }
    n->line = line;
    n->col = col;
    attach(b, n);
}

static void parser_error(builder *b, const yaml_parser_t *p)
{
    const char *problem = p->problem ? p->problem : "cannot parse";
    unsigned line = (unsigned)p->problem_mark.line + 1;
    unsigned col = (unsigned)p->problem_mark.column + 1;
    if (p->error == YAML_MEMORY_ERROR) {
        fail_oom(b);
        return;
    }
    if (p->error == YAML_READER_ERROR) {
        /* reader errors have a byte offset, not a mark */
        fail(b, 0, 0, "invalid text at byte %zu: %s", p->problem_offset,
             problem);
        return;
    }
    if (p->context)
        fail(b, line, col, "YAML syntax: %s %s (line %u, column %u)", problem,
             p->context, (unsigned)p->context_mark.line + 1,
             (unsigned)p->context_mark.column + 1);
    else
        fail(b, line, col, "YAML syntax: %s", problem);
}

static void builder_cleanup(builder *b)
{
    while (b->depth > 0) {
        frame *f = &b->stack[--b->depth];
        node_free_rec(f->key);
        gf_free(f->anchor);
        if (f->node == b->root)
            b->root = NULL;
        node_free_rec(f->node);
    }
    for (size_t i = 0; i < b->nanchors; i++)
        gf_free(b->anchors[i].name);
    gf_free(b->anchors);
}

gf_ynode *gf_yaml_load_string(const char *text, size_t len, const char *name,
                              gf_diag *d)
{
    builder b = {.name = name ? name : "<string>", .d = d};
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        gf_diag_add(d, b.name, 0, 0, "out of memory while reading YAML");
        return NULL;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    bool done = false;
    while (!done && !b.failed) {
        yaml_event_t e;
        if (!yaml_parser_parse(&p, &e)) {
            parser_error(&b, &p);
            break;
        }
        switch (e.type) {
        case YAML_DOCUMENT_END_EVENT:
        case YAML_STREAM_END_EVENT:
            done = true; /* only the first document is read */
            break;
        case YAML_SCALAR_EVENT:
            on_scalar(&b, &e);
            break;
        case YAML_SEQUENCE_START_EVENT:
            on_start(&b, &e, GF_Y_SEQ, e.data.sequence_start.anchor);
            break;
        case YAML_MAPPING_START_EVENT:
            on_start(&b, &e, GF_Y_MAP, e.data.mapping_start.anchor);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            on_end(&b);
            break;
        case YAML_ALIAS_EVENT:
            on_alias(&b, &e);
            break;
        default:
            break;
        }
        yaml_event_delete(&e);
    }
    yaml_parser_delete(&p);

    if (!b.failed && !b.root) {
        /* an empty stream reads as an empty plain scalar (YAML's null) */
        yaml_mark_t m = {0, 0, 0};
        gf_ynode *n = node_new(&b, GF_Y_SCALAR, m);
        if (!n || !(n->scalar = gf_strdup(""))) {
            node_free_rec(n);
            fail_oom(&b);
        } else {
            b.root = n;
        }
    }
    if (b.failed) {
        builder_cleanup(&b);
        node_free_rec(b.root);
        return NULL;
    }
    builder_cleanup(&b);
    return b.root;
}

gf_ynode *gf_yaml_load_file(const char *path, gf_diag *d)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        gf_diag_add(d, path, 0, 0, "cannot open: %s", strerror(errno));
        return NULL;
    }
    gf_buf buf = {0};
    char chunk[16384];
    size_t got;
    gf_ynode *root = NULL;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (gf_buf_append(&buf, chunk, got) != 0) {
            gf_diag_add(d, path, 0, 0, "out of memory while reading");
            goto fail_read;
        }
    }
    if (ferror(f)) {
        gf_diag_add(d, path, 0, 0, "cannot read: %s", strerror(errno));
        goto fail_read;
    }
    root = gf_yaml_load_string(buf.data ? (const char *)buf.data : "", buf.len,
                               path, d);
fail_read:
    gf_buf_free(&buf);
    fclose(f);
    return root;
}

gf_ynode *gf_ynode_get(const gf_ynode *map, const char *key)
{
    if (!map || map->type != GF_Y_MAP)
        return NULL;
    for (size_t i = 0; i < map->n; i++)
        if (strcmp(map->keys[i]->scalar, key) == 0)
            return map->items[i];
    return NULL;
}

gf_ynode *gf_ynode_key(const gf_ynode *map, const char *key)
{
    if (!map || map->type != GF_Y_MAP)
        return NULL;
    for (size_t i = 0; i < map->n; i++)
        if (strcmp(map->keys[i]->scalar, key) == 0)
            return map->keys[i];
    return NULL;
}
