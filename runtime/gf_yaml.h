/*
 * gf_yaml - YAML documents as a small tree that remembers where every node
 * came from (file, line, column), built with libyaml. Pipeline files and
 * plugins' own files (rules) are read through it so that every error can
 * point at the offending key.
 *
 * Aliases are resolved by copying; merge keys are not supported. Scalars
 * are kept as text: typing is the reader's business (gf_options).
 */
#ifndef GF_YAML_H
#define GF_YAML_H

#include <stdbool.h>
#include <stddef.h>

#include "gf_diag.h"

typedef enum gf_ynode_type { GF_Y_SCALAR, GF_Y_SEQ, GF_Y_MAP } gf_ynode_type;

typedef struct gf_ynode gf_ynode;
struct gf_ynode {
    gf_ynode_type type;
    const char *file;   /* shared by all nodes of a document */
    unsigned line, col; /* 1-based */
    char *scalar;       /* GF_Y_SCALAR: NUL-terminated text */
    bool quoted;        /* the scalar was quoted ('x' or "x") */
    size_t n;           /* SEQ: items; MAP: pairs */
    gf_ynode **items;   /* SEQ items, or MAP values */
    gf_ynode **keys;    /* MAP keys (scalars) */
};

/* Load the first document of a file. NULL on error (added to d). */
gf_ynode *gf_yaml_load_file(const char *path, gf_diag *d);
/* Load from memory; `name` is used as the file name in positions. */
gf_ynode *gf_yaml_load_string(const char *text, size_t len, const char *name,
                              gf_diag *d);
/* The value of `key` in a MAP node, or NULL (also when map is not a MAP). */
gf_ynode *gf_ynode_get(const gf_ynode *map, const char *key);
/* The key node of `key` in a MAP node (for positions), or NULL. */
gf_ynode *gf_ynode_key(const gf_ynode *map, const char *key);
/* Free a tree (the root owns everything); *np is set to NULL. */
void gf_ynode_free(gf_ynode **np);
/* "a scalar", "a list", "a mapping": for messages. */
const char *gf_ynode_type_name(gf_ynode_type t);

#endif
