/*
 * gf_domain - the field's vocabulary, for plugins that understand records.
 *
 * gigflow's records describe party-building work among platform workers
 * (docs/records.md): organisations, members, service projects, demands.
 * This small static library holds what every domain plugin needs to agree
 * on: the enumerations (each value a stable ASCII code plus the Chinese
 * labels that office exports use), the platform -> form-of-work mapping,
 * the checks of phone numbers, GB 11643 ID numbers and dates, and the
 * schema of each record kind as a table.
 *
 * It is not a plugin and depends on nothing of gigflow: plain C over byte
 * strings (pointer + length, so it reads record views without copying).
 * All tables are constant data; nothing here allocates or keeps state, so
 * every function is safe from any thread.
 *
 * Link it from a plugin's CMakeLists.txt:
 *     gf_add_plugin(my_plugin LIBS gfdomain)
 * and `#include "gf_domain.h"`.
 */
#ifndef GF_DOMAIN_H
#define GF_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Enumerations
 * ------------------------------------------------------------------------ */

/*
 * One allowed value: its code (what records carry after classify_schema),
 * its main Chinese label, other accepted spellings separated by '|' (NULL
 * for none), and `extra`: for platforms the form-of-work code, NULL
 * elsewhere.
 */
typedef struct gf_domain_item {
    const char *code;
    const char *zh;
    const char *aliases;
    const char *extra;
} gf_domain_item;

/* A closed set of values, named for messages ("org type", "platform"). */
typedef struct gf_domain_enum {
    const char *name;
    const gf_domain_item *items;
    size_t n;
} gf_domain_enum;

extern const gf_domain_enum gf_domain_org_type; /* org.type */
extern const gf_domain_enum gf_domain_node;     /* org.node */
extern const gf_domain_enum gf_domain_platform; /* org/member.platform */
extern const gf_domain_enum gf_domain_form;     /* member.form */
extern const gf_domain_enum gf_domain_rel;      /* member.rel */
extern const gf_domain_enum gf_domain_role;     /* member.roles[] */
extern const gf_domain_enum gf_domain_project_category; /* project.category */
extern const gf_domain_enum gf_domain_project_status;   /* project.status */
extern const gf_domain_enum gf_domain_demand_category;  /* demand.category */
extern const gf_domain_enum gf_domain_demand_level; /* demand.level: "1".."5" */
extern const gf_domain_enum gf_domain_demand_status; /* demand.status */

/*
 * Find the item that [s, s+len) names: its code (ASCII case-insensitive),
 * its Chinese label or one of its aliases (exact bytes). Leading and
 * trailing ASCII white space is ignored. Returns NULL when none matches.
 */
const gf_domain_item *gf_domain_enum_find(const gf_domain_enum *e,
                                          const char *s, size_t len);
/* The same, returning the item's code, or NULL. */
const char *gf_domain_enum_code(const gf_domain_enum *e, const char *s,
                                size_t len);
/*
 * The form of work (a gf_domain_form code, "food_delivery"...) of a
 * platform given by code or label ("美团", "meituan"); NULL when unknown.
 */
const char *gf_domain_platform_form(const char *s, size_t len);

/* ------------------------------------------------------------------------
 * Checks and parsers. Each takes a byte string (not NUL-terminated) and,
 * on failure, points *why (when not NULL) at a static English phrase for
 * the message "field F: <why>".
 * ------------------------------------------------------------------------ */

#define GF_DOMAIN_PHONE_LEN 11 /* mainland mobile numbers */
#define GF_DOMAIN_ID_LEN 18    /* GB 11643 citizen ID numbers */

/*
 * A mobile phone number: 11 digits, the first '1'. Spaces and '-' between
 * digits and a leading "+86" are ignored. On success writes the 11 digits
 * and a NUL into out (GF_DOMAIN_PHONE_LEN + 1 bytes) and returns 0;
 * otherwise returns -1.
 */
int gf_domain_phone_check(const char *s, size_t len, char *out,
                          const char **why);

/*
 * The GB 11643 check character of the 17 digits at `digits17`: weights
 * 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2, sum mod 11 indexes "10X98765432".
 * Returns '\0' when one of the 17 is not a digit.
 */
char gf_domain_id_check_char(const char *digits17);

/*
 * A citizen ID number: 17 digits, a valid birth date in digits 7-14, and
 * the right check character (a lower-case 'x' is accepted). On success
 * writes the 18 characters (an upper-case X) and a NUL into out
 * (GF_DOMAIN_ID_LEN + 1 bytes) and returns 0; otherwise -1.
 */
int gf_domain_id_check(const char *s, size_t len, char *out, const char **why);

/* A calendar date, with a time of day when has_time. */
typedef struct gf_domain_date {
    int year, month, day;
    int hour, min, sec;
    bool has_time;
} gf_domain_date;

/*
 * Parse "YYYY-MM-DD" or "YYYY-MM-DD HH:MM[:SS]". Also accepted, as office
 * software writes them: '/' or '.' instead of '-', one-digit months and
 * days ("2024/3/5"), 'T' instead of the space, one-digit hours. Checks
 * the calendar (leap years), years 1900..2100. Returns 0 and fills *d, or
 * -1.
 */
int gf_domain_date_parse(const char *s, size_t len, gf_domain_date *d,
                         const char **why);
/*
 * Write d canonically: "YYYY-MM-DD", or "YYYY-MM-DD HH:MM:SS" when
 * has_time, into out (at least 20 bytes). Returns the length.
 */
size_t gf_domain_date_format(const gf_domain_date *d, char *out);
/* Seconds since 1970-01-01 00:00 of d (no time zone: local time of the
   records), for comparisons and durations. */
int64_t gf_domain_date_seconds(const gf_domain_date *d);

/*
 * A yes/no value: 是/否, 有/无, true/false, yes/no, y/n, t/f, 1/0 (ASCII
 * case-insensitive), and the 政治面貌 column's words (中共党员, 党员,
 * 中共预备党员, 预备党员 -> true; 群众, 共青团员, 团员, 非党员 -> false).
 * Surrounding space is ignored. Returns 0 and sets *out, or -1.
 */
int gf_domain_bool_parse(const char *s, size_t len, bool *out);
/*
 * A decimal integer ("30", "-2", " 1,200 ", "30.0"): surrounding space and
 * ',' thousands separators are ignored; a fraction of zero is accepted.
 * Returns 0 and sets *out, or -1 (also on overflow).
 */
int gf_domain_int_parse(const char *s, size_t len, int64_t *out);
/* A decimal number ("12.5", "1,200.00", "1e3"), finite. 0 or -1. */
int gf_domain_float_parse(const char *s, size_t len, double *out);

/* ------------------------------------------------------------------------
 * Schemas: one table per record kind (docs/records.md is written from it).
 * ------------------------------------------------------------------------ */

typedef enum gf_domain_type {
    GF_DOMAIN_STR = 1,  /* text; an integer is accepted and made text */
    GF_DOMAIN_INT,      /* integer; numeric text accepted */
    GF_DOMAIN_FLOAT,    /* number; numeric text accepted */
    GF_DOMAIN_BOOL,     /* bool; 是/否, true/false, 1/0 accepted */
    GF_DOMAIN_DATE,     /* "YYYY-MM-DD" */
    GF_DOMAIN_DATETIME, /* "YYYY-MM-DD" or "YYYY-MM-DD HH:MM:SS" */
    GF_DOMAIN_ENUM,     /* one code of `values` (labels accepted) */
    GF_DOMAIN_LIST,     /* array of codes of `values`; "a;b" or "a,b" text */
    GF_DOMAIN_PHONE,    /* text, gf_domain_phone_check */
    GF_DOMAIN_ID_NUMBER /* text, gf_domain_id_check */
} gf_domain_type;

/*
 * One field. For INT with `values` (demand.level), the codes are the
 * decimal numbers and labels are accepted. `min`/`max` bound INT and FLOAT
 * values when min <= max. `zh` is the usual Chinese column header (the
 * first of '|'-separated ones), `help` a short English meaning.
 */
typedef struct gf_domain_field {
    const char *name;
    gf_domain_type type;
    bool required;
    const gf_domain_enum *values;
    double min, max;
    const char *zh;
    const char *help;
} gf_domain_field;

typedef struct gf_domain_schema {
    const char *kind;              /* "org", "member", "project", "demand" */
    const char *zh;                /* 组织, 成员, 项目, 需求 */
    const gf_domain_field *fields; /* `kind` itself is not listed */
    size_t n;
} gf_domain_schema;

/* The four schemas, in the order org, member, project, demand. */
extern const gf_domain_schema gf_domain_schemas[];
extern const size_t gf_domain_nschemas;

/* The schema of kind [s, s+len), or NULL (also for "metric"). */
const gf_domain_schema *gf_domain_schema_find(const char *s, size_t len);

/*
 * An ingest's `kind` option (NULL: not set) is a record kind: NULL, or
 * into why[n] "\"memer\" is not a record kind: org, member, project or
 * demand" (for host->option_error). Records of another kind would pass
 * every `kinds:` filter by.
 */
const char *gf_domain_check_kind(const char *kind, char *why, size_t n);
/* The field `name` of a schema, or NULL. */
const gf_domain_field *gf_domain_schema_field(const gf_domain_schema *sc,
                                              const char *name, size_t len);
/* The field whose Chinese header (any of `zh`'s) or name is [s, s+len). */
const gf_domain_field *
gf_domain_schema_field_by_label(const gf_domain_schema *sc, const char *s,
                                size_t len);
/* "string", "int", "float", "bool", "date", "datetime", "enum", "list",
   "phone", "id_number". */
const char *gf_domain_type_name(gf_domain_type t);

#ifdef __cplusplus
}
#endif

#endif /* GF_DOMAIN_H */
