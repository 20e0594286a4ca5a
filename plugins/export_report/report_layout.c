/*
 * report_layout.c - what export_report shows of one metric set: which
 * columns are the by fields, the values and the columns of the table
 * (from the section's spec, or guessed: the set's own by fields and its
 * numeric metrics), the rows in order after sort= (a stable merge sort)
 * and top=, and, per column, the gf_domain enumeration whose codes it
 * holds, so that codes read as labels (platform eleme -> 饿了么).
 */
#include <stdlib.h>
#include <string.h>

#include "gf_domain.h"
#include "report.h"

long rp_col_index(const rp_set *set, const char *name)
{
    for (size_t i = 0; i < set->ncols; i++)
        if (strcmp(set->cols[i], name) == 0)
            return (long)i;
    return -1;
}

static const rp_cell none_cell = {.kind = RP_NONE};

const rp_cell *rp_cell_at(const rp_row *row, long col)
{
    return col >= 0 && (size_t)col < row->n ? &row->cells[col] : &none_cell;
}

static bool is_meta(const char *col)
{
    return strcmp(col, "kind") == 0 || strcmp(col, "set") == 0;
}

/* Columns whose values name the rows (the aggregate's `by` fields). */
static const char *const dimension_names[] = {
    "level", "year", "month", "quarter", "week", "rank", "id",
};

static bool is_dimension(const rp_set *set, size_t col)
{
    const char *name = set->cols[col];
    for (size_t i = 0; i < sizeof dimension_names / sizeof *dimension_names;
         i++)
        if (strcmp(name, dimension_names[i]) == 0 ||
            (rp_ends_with(name, "_id") && strcmp(name, "id") != 0))
            return true;
    bool any = false;
    for (size_t r = 0; r < set->nrows; r++) {
        const rp_cell *c = rp_cell_at(&set->rows[r], (long)col);
        if (c->kind == RP_TEXT)
            any = true;
        else if (c->kind != RP_NONE)
            return false;
    }
    return any;
}

void rp_layout_free(rp_layout *l)
{
    free(l->by);
    free(l->values);
    free(l->cols);
    free(l->order);
    free(l->enums);
}

/*
 * Codes shown to people: fields whose values are codes of an enumeration
 * of gf_domain (docs/records.md) read in zh as their Chinese labels
 * (platform eleme -> 饿了么). `category` and `status` name the
 * enumerations of two record kinds: a column takes the one that knows all
 * its values (the most of them, failing that).
 */
static const gf_domain_item membership_items[] = {
    {"mobile_party", "流动党员", NULL, NULL},
    {"local_party", "本地党员", NULL, NULL},
    {"non_party", "非党员", NULL, NULL},
};
static const gf_domain_item cohort_items[] = {
    {"youth", "青年（35岁及以下）", NULL, NULL},
    {"adult", "36岁及以上", NULL, NULL},
};
/* classify_domain's derived fields: not in gf_domain, labelled here */
static const gf_domain_enum membership_enum = {"membership", membership_items,
                                               3};
static const gf_domain_enum cohort_enum = {"cohort", cohort_items, 2};

static const struct {
    const char *field;
    const gf_domain_enum *e[2];
} value_enums[] = {
    {"platform", {&gf_domain_platform, NULL}},
    {"form", {&gf_domain_form, NULL}},
    {"type", {&gf_domain_org_type, NULL}},
    {"org_type", {&gf_domain_org_type, NULL}},
    {"node", {&gf_domain_node, NULL}},
    {"rel", {&gf_domain_rel, NULL}},
    {"role", {&gf_domain_role, NULL}},
    {"category", {&gf_domain_project_category, &gf_domain_demand_category}},
    {"project_category", {&gf_domain_project_category, NULL}},
    {"demand_category", {&gf_domain_demand_category, NULL}},
    {"status", {&gf_domain_project_status, &gf_domain_demand_status}},
    {"project_status", {&gf_domain_project_status, NULL}},
    {"demand_status", {&gf_domain_demand_status, NULL}},
    {"membership", {&membership_enum, NULL}},
    {"cohort", {&cohort_enum, NULL}},
};

static const gf_domain_enum *column_enum(const rp_set *set, size_t col)
{
    const gf_domain_enum *best = NULL;
    size_t best_hits = 0;
    for (size_t i = 0; i < sizeof value_enums / sizeof value_enums[0]; i++) {
        if (strcmp(value_enums[i].field, set->cols[col]) != 0)
            continue;
        for (size_t k = 0; k < 2 && value_enums[i].e[k]; k++) {
            size_t hits = 0, texts = 0;
            for (size_t r = 0; r < set->nrows; r++) {
                const rp_row *row = &set->rows[r];
                const rp_cell *c = col < row->n ? &row->cells[col] : NULL;
                if (!c || c->kind != RP_TEXT)
                    continue;
                texts++;
                hits += gf_domain_enum_find(value_enums[i].e[k], c->text,
                                            strlen(c->text)) != NULL;
            }
            if (hits == texts)
                return value_enums[i].e[k];
            if (hits > best_hits) {
                best = value_enums[i].e[k];
                best_hits = hits;
            }
        }
    }
    return best;
}

/* sort context: qsort_r is not portable, so a tiny insertion-free merge
   sort over indexes with an explicit context */
typedef struct sort_ctx {
    const rp_set *set;
    long col;
    bool desc;
} sort_ctx;

int rp_cmp_cells(const rp_cell *a, const rp_cell *b)
{
    double x, y;
    bool nx = rp_cell_number(a, &x), ny = rp_cell_number(b, &y);
    if (nx && ny)
        return x < y ? -1 : x > y ? 1 : 0;
    if (nx != ny)
        return nx ? -1 : 1; /* numbers before the rest */
    if (a->kind == RP_TEXT && b->kind == RP_TEXT)
        return strcmp(a->text, b->text);
    return (int)a->kind - (int)b->kind;
}

static int cmp_rows(const sort_ctx *sc, size_t a, size_t b)
{
    const rp_cell *x = rp_cell_at(&sc->set->rows[a], sc->col);
    const rp_cell *y = rp_cell_at(&sc->set->rows[b], sc->col);
    /* absent values go last either way */
    if ((x->kind == RP_NONE) != (y->kind == RP_NONE))
        return x->kind == RP_NONE ? 1 : -1;
    int c = rp_cmp_cells(x, y);
    return sc->desc ? -c : c;
}

static void merge_sort(const sort_ctx *sc, size_t *v, size_t *tmp, size_t n)
{
    if (n < 2)
        return;
    size_t h = n / 2;
    merge_sort(sc, v, tmp, h);
    merge_sort(sc, v + h, tmp, n - h);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = cmp_rows(sc, v[j], v[i]) < 0 ? v[j++] : v[i++];
    while (i < h)
        tmp[k++] = v[i++];
    while (j < n)
        tmp[k++] = v[j++];
    memcpy(v, tmp, n * sizeof *v);
}

bool rp_layout_make(const rp_set *set, rp_layout *l)
{
    const rp_spec *sp = &set->spec;
    size_t n = set->ncols + sp->nby + sp->nvalues + sp->ncolumns + 1;
    *l = (rp_layout){0};
    l->by = calloc(n, sizeof *l->by);
    l->values = calloc(n, sizeof *l->values);
    l->cols = calloc(n, sizeof *l->cols);
    l->order = calloc(set->nrows + 1, sizeof *l->order);
    l->enums = calloc(set->ncols + 1, sizeof *l->enums);
    size_t *tmp = calloc(set->nrows + 1, sizeof *tmp);
    if (!l->by || !l->values || !l->cols || !l->order || !l->enums || !tmp) {
        free(tmp);
        rp_layout_free(l);
        return false;
    }
    for (size_t c = 0; c < set->ncols; c++)
        l->enums[c] = column_enum(set, c);

    /* by fields: named, or the leading dimension-like columns */
    if (sp->nby) {
        for (size_t i = 0; i < sp->nby; i++) {
            long c = rp_col_index(set, sp->by[i]);
            if (c >= 0)
                l->by[l->nby++] = c;
        }
    } else {
        for (size_t c = 0; c < set->ncols; c++) {
            if (is_meta(set->cols[c]))
                continue;
            if (!is_dimension(set, c))
                break;
            l->by[l->nby++] = (long)c;
        }
    }
    /* table columns: named, or every field but kind and set */
    if (sp->ncolumns) {
        for (size_t i = 0; i < sp->ncolumns; i++) {
            long c = rp_col_index(set, sp->columns[i]);
            if (c >= 0)
                l->cols[l->ncols++] = c;
        }
    } else {
        for (size_t c = 0; c < set->ncols; c++)
            if (!is_meta(set->cols[c]))
                l->cols[l->ncols++] = (long)c;
    }
    /* charted values: named, or the first numeric column not a by field */
    if (sp->nvalues) {
        for (size_t i = 0; i < sp->nvalues; i++) {
            long c = rp_col_index(set, sp->values[i]);
            if (c >= 0)
                l->values[l->nvalues++] = c;
        }
    } else {
        for (size_t c = 0; c < set->ncols && !l->nvalues; c++) {
            bool skip = is_meta(set->cols[c]);
            for (size_t k = 0; k < l->nby; k++)
                skip = skip || l->by[k] == (long)c;
            double d;
            for (size_t r = 0; r < set->nrows && !skip; r++)
                if (rp_cell_number(rp_cell_at(&set->rows[r], (long)c), &d)) {
                    l->values[l->nvalues++] = (long)c;
                    break;
                }
        }
    }
    /* rows: arrival order (the aggregate's order), groups without a
       by-value ("not given") last; or sorted; then top N */
    size_t k = 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t r = 0; r < set->nrows; r++) {
            bool nil = false;
            for (size_t b = 0; b < l->nby && !nil; b++)
                nil = rp_cell_at(&set->rows[r], l->by[b])->kind == RP_NONE;
            if (nil == (pass == 1))
                l->order[k++] = r;
        }
    l->nrows = set->nrows;
    if (sp->sort && *sp->sort) {
        bool desc = sp->sort[0] == '-';
        long c = rp_col_index(set, sp->sort + (desc || sp->sort[0] == '+'));
        if (c >= 0) {
            sort_ctx sc = {set, c, desc};
            merge_sort(&sc, l->order, tmp, l->nrows);
        }
    }
    if (sp->top > 0 && (uint64_t)sp->top < l->nrows)
        l->nrows = (size_t)sp->top;
    free(tmp);
    return true;
}

bool rp_layout_is_by(const rp_layout *l, long col)
{
    for (size_t k = 0; k < l->nby; k++)
        if (l->by[k] == col)
            return true;
    return false;
}
