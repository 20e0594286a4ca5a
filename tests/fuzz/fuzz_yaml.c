/*
 * fuzz_yaml - gf_yaml over arbitrary bytes: pipeline files and plugins'
 * rule files come from users, so no input may crash the reader, leak, or
 * expand without bound (alias bombs). Every tree that loads is walked and
 * its positions checked.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "gf_yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(const gf_ynode *n, unsigned depth)
{
    if (n->line == 0 || n->col == 0 || depth > 64)
        abort();
    if (n->type == GF_Y_SCALAR && !n->scalar)
        abort();
    for (size_t i = 0; i < n->n; i++) {
        walk(n->items[i], depth + 1);
        if (n->type == GF_Y_MAP && n->keys[i]->type != GF_Y_SCALAR)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gf_diag d = {0};
    gf_ynode *root = gf_yaml_load_string((const char *)data, size, "fuzz", &d);
    if (root)
        walk(root, 1);
    else if (d.n == 0)
        abort(); /* a failure always says why */
    gf_ynode_free(&root);
    gf_diag_free(&d);
    return 0;
}
