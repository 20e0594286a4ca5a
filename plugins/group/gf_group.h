/*
 * gf_group - group-by tables for aggregate plugins: records are sorted into
 * groups by the values of some fields (the stage's `by` list), each group
 * owns a fixed-size block of state, and at flush the groups come out in the
 * order every aggregate promises (DESIGN.md, metric conventions): by the
 * by-values, nil first, then false < true, numbers numerically (ints and
 * floats together), strings bytewise, anything else by its bytes.
 *
 * A key is the by-values in a canonical encoding of their own (so "朝阳区"
 * sent as fixstr or str8 is one group, and 3 and 3.0 are one group); the
 * table is open addressing over an arena of keys, growing by doubling, so
 * memory follows the number of groups, never the number of records, and a
 * lookup of an existing group allocates nothing.
 *
 * Like gfdomain this is a small static library linked into plugins, not a
 * plugin: it calls the runtime only through the gf_host table it is given.
 */
#ifndef GF_GROUP_H
#define GF_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gigflow/plugin.h>

typedef struct gf_group gf_group;

/*
 * A table keyed by the fields `by` (n names, kept by pointer: they must
 * outlive the table) with `state_size` zeroed bytes of state per group.
 * Returns NULL when memory runs out.
 */
gf_group *gf_group_new(const char *const *by, size_t n, size_t state_size);
/* Free the table and every group's state; *gp = NULL. Accepts NULL. */
void gf_group_free(gf_group **gp);

/*
 * The group of `rec` (absent fields read as nil), created with zeroed
 * state when new (*created set when not NULL). Returns its index (stable
 * for the table's life), or -1 when memory runs out.
 */
long gf_group_of(gf_group *g, const gf_host *h, const gf_record *rec,
                 bool *created);
/* The same for one value, in a table with a single by-field. */
long gf_group_of_value(gf_group *g, const gf_value *v, bool *created);

/* Number of groups. */
size_t gf_group_count(const gf_group *g);
/* The state of group i (valid until the next gf_group_of call). */
void *gf_group_state(const gf_group *g, size_t i);

/*
 * The group indexes in output order, in a malloc'd array of
 * gf_group_count() entries (the caller frees it); NULL when memory runs
 * out (or there are no groups).
 */
size_t *gf_group_sorted(const gf_group *g);
/*
 * Set the by-fields of group i, in by-order, on the record open on out.
 */
void gf_group_set_fields(const gf_group *g, size_t i, const gf_host *h,
                         gf_out *out);
/* Compare two values the way groups are ordered (<0, 0, >0). */
int gf_group_value_cmp(const gf_value *a, const gf_value *b);

#endif
