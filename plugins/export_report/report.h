/*
 * report.h - the pieces of export_report shared by its files:
 * export_report.c (the plugin: options, collecting rows, writing the file),
 * report_spec.c (the `sections` specs), report_buf.c (the text buffer and
 * HTML escaping), report_format.c (numbers and labels), report_layout.c
 * (a section's columns and rows), report_html.c (the page) and
 * report_svg.c (the charts).
 *
 * The model is small on purpose: metric sets are few and short (a row per
 * district, per category, per level), so rows are copied into plain C
 * structures when they arrive and the page is rendered once, at flush.
 */
#ifndef EXPORT_REPORT_H
#define EXPORT_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* --- a growable text buffer (report_buf.c) -------------------------------- */

typedef struct rp_buf {
    char *data;
    size_t len, cap;
    bool failed; /* an allocation failed; the text is incomplete */
} rp_buf;

void rp_puts(rp_buf *b, const char *s);
void rp_putn(rp_buf *b, const char *s, size_t n);
void rp_printf(rp_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Append s (n bytes) with & < > " ' escaped; invalid UTF-8 bytes and
   control characters become U+FFFD. */
void rp_escape(rp_buf *b, const char *s, size_t n);
void rp_escape_str(rp_buf *b, const char *s);
void rp_buf_free(rp_buf *b);

/* --- cells, rows, sets ---------------------------------------------------- */

typedef enum rp_kind {
    RP_NONE = 0, /* absent or nil */
    RP_INT,
    RP_FLOAT,
    RP_BOOL,
    RP_TEXT /* strings, and anything else rendered as text */
} rp_kind;

typedef struct rp_cell {
    rp_kind kind;
    int64_t i;  /* RP_INT; RP_BOOL (0/1) */
    double f;   /* RP_FLOAT */
    char *text; /* RP_TEXT, malloc'd */
} rp_cell;

/* A cell's number (ints and floats), for charts and sorting. */
bool rp_cell_number(const rp_cell *c, double *out);

typedef struct rp_row {
    rp_cell *cells; /* one per column of its set; columns added later
                       than the row read as RP_NONE */
    size_t n;
} rp_row;

/* What the `sections` option says about one set (all optional). */
typedef struct rp_spec {
    char *title;
    char *note;
    char *chart; /* "bar" (default), "column", "none" */
    char **by;   /* label fields */
    size_t nby;
    char **values; /* charted metrics */
    size_t nvalues;
    char **columns; /* table columns, in order */
    size_t ncolumns;
    char **pct; /* metrics that are percentages (0..100) */
    size_t npct;
    char **share; /* metrics that are shares (0..1), shown as percentages */
    size_t nshare;
    char **label_keys; /* labels=F:L,...: this section's own labels */
    char **label_values;
    size_t nlabels;
    char *sort;   /* field, "-field" for descending */
    int64_t top;  /* keep the first N rows after sorting; 0 = all */
    int decimals; /* decimals of floats; -1 = default (1) */
} rp_spec;

typedef struct rp_set {
    char *name;
    rp_spec spec; /* from the option, or zeroed (defaults) */
    bool listed;  /* named in `sections` */
    char **cols;  /* every field seen, first-seen order */
    size_t ncols, capcols;
    rp_row *rows;
    size_t nrows, caprows;
} rp_set;

/* --- section specs (report_spec.c) ---------------------------------------- */

/* Parse one `sections` entry (set: its key, text: its spec) into *s.
   Returns NULL, or a malloc'd message naming the set and what is wrong;
   on failure *s holds nothing to free. */
char *rp_spec_parse(const char *set, const char *text, rp_spec *s);
/* Free what *s holds and zero it. */
void rp_spec_free(rp_spec *s);

/* Languages of the fixed text. */
typedef enum rp_lang { RP_ZH = 0, RP_EN = 1 } rp_lang;

/* Everything the page needs. */
typedef struct rp_doc {
    rp_lang lang;
    const char *title;             /* NULL: the language's default */
    const char *const *label_keys; /* `labels` option, field -> label */
    const char *const *label_values;
    size_t nlabels;
    rp_set *sets;
    size_t nsets;
    uint64_t rejects;     /* dead letters in the run so far */
    uint64_t bad_records; /* records this stage refused */
    int64_t generated;    /* run start, seconds since the epoch; <0 unknown */
    const char *pipeline; /* may be NULL */
    const char *inputs;   /* may be NULL */
    const char *dead_letters; /* the run's dead-letter file, may be NULL */
    const char *version;      /* the plugin's version */
} rp_doc;

/* Render the whole page into b. */
void rp_render(rp_buf *b, const rp_doc *doc);

/* --- formatting (report_format.c) ----------------------------------------- */

/* How a metric's numbers read. */
typedef enum rp_unit {
    RP_PLAIN = 0, /* a count, an amount: 12,345 or 12.3 */
    RP_PCT,       /* a percentage 0..100: 87.5% */
    RP_SHARE      /* a share 0..1, shown as a percentage: 0.875 -> 87.5% */
} rp_unit;

/*
 * The unit of `field` in a set: named in pct= or share=; otherwise fields
 * named *_pct, *_percent are percentages and `coverage`, *_share, *_rate
 * are shares; everything else is plain.
 */
rp_unit rp_unit_of(const rp_spec *spec, const char *field);
/* A cell as display text (escaped HTML not included): thousands
   separators, `decimals` for floats, one decimal and '%' for percentages
   and shares (a share is multiplied by 100). */
void rp_format(rp_buf *b, const rp_cell *c, rp_unit unit, int decimals,
               rp_lang lang);
/* Does s end with suffix? */
bool rp_ends_with(const char *s, const char *suffix);
/* The display label of a field: the section's labels= (spec may be NULL),
   the `labels` option, the built-in table, the name itself. */
const char *rp_label(const rp_doc *doc, const rp_spec *spec, const char *field);

/* --- a section's layout (report_layout.c) --------------------------------- */

/* Resolved view of one section: the columns to show, by and values. */
typedef struct rp_layout {
    long *by; /* column indexes */
    size_t nby;
    long *values;
    size_t nvalues;
    long *cols;
    size_t ncols;
    size_t *order; /* row indexes after sort and top */
    size_t nrows;
    /* per column of the set: the enumeration its codes belong to, or NULL */
    const struct gf_domain_enum **enums;
} rp_layout;

/* Resolve the layout of one set (its spec, or guessed); free it with
   rp_layout_free(). False when memory runs out, *l then holding nothing. */
bool rp_layout_make(const rp_set *set, rp_layout *l);
void rp_layout_free(rp_layout *l);
/* Is column col one of the layout's by fields? */
bool rp_layout_is_by(const rp_layout *l, long col);
/* The index of the column named name in set, or -1. */
long rp_col_index(const rp_set *set, const char *name);
/* The cell of row at column col; an absent one (col < 0 or past the row)
   reads as RP_NONE. */
const rp_cell *rp_cell_at(const rp_row *row, long col);
/* Order of two cells in a sort (<0, 0, >0): numbers numerically before
   everything else, text bytewise, other cells by their kind. */
int rp_cmp_cells(const rp_cell *a, const rp_cell *b);

/* --- charts (report_svg.c) ------------------------------------------------ */

typedef struct rp_bar {
    const char *label; /* display text, not escaped */
    double value;
    bool has_value;         /* false: not a number, drawn as a gap */
    const char *value_text; /* formatted, not escaped */
} rp_bar;

typedef struct rp_chart {
    const char *id;    /* unique in the page, for aria ids */
    const char *title; /* the chart's <title> */
    const char *desc;  /* the chart's <desc> */
    bool columns;      /* vertical columns instead of horizontal bars */
    rp_unit unit;      /* percentages and shares: axis ticks get '%' */
    rp_lang lang;
    const rp_bar *bars;
    size_t n;
} rp_chart;

/* Append one inline <svg> chart. */
void rp_svg_chart(rp_buf *b, const rp_chart *chart);

#endif
