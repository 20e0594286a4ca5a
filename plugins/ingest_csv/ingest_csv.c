/*
 * ingest_csv - read a CSV file (RFC 4180) into records.
 *
 * The file is read in fixed chunks into one buffer and scanned in place:
 * fields are views into the buffer (quoted fields with doubled quotes are
 * unescaped into a second, reused buffer), so nothing is allocated per row
 * and memory is bounded by the longest row, not by the file. A row cut by
 * the end of the buffer is moved to its front and scanned again after the
 * next read. Delimiters and line ends are found 64 bytes at a time (SSE2
 * compares giving one bit per byte, where available; eight bytes at a time
 * otherwise), so that a field costs a shift and a count of zero bits.
 *
 * Text is UTF-8 inside gigflow. `encoding: gb18030` converts with glibc
 * iconv while reading, carrying a multibyte sequence split between two
 * reads over to the next; bytes invalid in GB18030 become 0xFF, which no
 * UTF-8 text contains, so the UTF-8 check every row gets finds them.
 * `encoding: auto` reads UTF-8 while the input is ASCII and decides at the
 * first chunk holding other bytes: a BOM, or text whose well-formed UTF-8
 * sequences outnumber its bad bytes (a stray GBK row is not enough to flip
 * a UTF-8 file), stays UTF-8,
 * anything else is GB18030 from there on.
 *
 * A bad row (wrong field count, unterminated quote, bytes invalid in the
 * encoding, a value not of its declared type) goes to the dead letters with
 * the file and the line it starts on; the run goes on. After an
 * unterminated quote, or a row longer than CSV_MAX_ROW, the physical line
 * the row starts on is rejected and reading resumes on the next line.
 *
 * Values: an empty cell is an absent field; `types` fixes a field's type,
 * other cells are inferred: integers (no leading zeros, within int64),
 * decimals (digits '.' digits), true/false, else text. Numbers are parsed
 * by hand without the locale; long decimals fall back to strtod_l in the
 * "C" locale.
 *
 * With `header: false` columns are named c1..cN; a `columns` key cN renames
 * column N, any other key renames the column at its position in the map.
 * A column renamed to "" is dropped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <gigflow/plugin.h>

#define CSV_CHUNK (1u << 20)    /* the read buffer */
#define CSV_MAX_ROW (64u << 20) /* the longest row held in memory */
#define CSV_ROWS_PER_CALL 4096  /* rows handled per produce() */
#define CSV_RAW_SHOWN 4096      /* bytes of an over-long line rejected */
#define CSV_PAD 16              /* spare bytes after buffers: mp_copy() */

typedef struct csv_config {
    const char *path;
    const char *kind;
    const char *delimiter;
    bool header;
    const gf_strmap *columns;
    const gf_strmap *types;
    const char *encoding;
} csv_config;

static const gf_option csv_options[] = {
    {"path", GF_OPT_PATH, NULL, true, offsetof(csv_config, path),
     "CSV file to read; - reads standard input"},
    {"kind", GF_OPT_STRING, NULL, false, offsetof(csv_config, kind),
     "value of the field `kind` of every record (org, member, project, "
     "demand)"},
    {"delimiter", GF_OPT_STRING, ",", false, offsetof(csv_config, delimiter),
     "field separator: one byte, or \"tab\""},
    {"header", GF_OPT_BOOL, "true", false, offsetof(csv_config, header),
     "the first row names the columns; false: columns are c1..cN"},
    {"columns", GF_OPT_MAP, NULL, false, offsetof(csv_config, columns),
     "rename columns: source name -> field name, \"\" drops the column "
     "(header: false: key cN, or the Nth entry, renames column N)"},
    {"types", GF_OPT_MAP, NULL, false, offsetof(csv_config, types),
     "field -> int, float, bool or string; other fields are inferred"},
    {"encoding", GF_OPT_STRING, "auto", false, offsetof(csv_config, encoding),
     "utf-8, gb18030, or auto (BOM or valid UTF-8, else GB18030)"},
    {0},
};

typedef enum csv_type {
    CT_INFER,
    CT_INT,
    CT_FLOAT,
    CT_BOOL,
    CT_STRING
} csv_type;
typedef enum csv_enc { ENC_UNDECIDED, ENC_UTF8, ENC_GB18030 } csv_enc;
enum { ROW_OK, ROW_MORE, ROW_UNTERMINATED, ROW_AFTER_QUOTE, ROW_NOMEM };

static const char *const csv_type_names[] = {"", "int", "float", "bool",
                                             "string"};

typedef struct csv_col {
    char *name;   /* the field name */
    uint8_t *key; /* the name encoded as a MessagePack string */
    size_t key_len;
    csv_type type;
    bool skip; /* named `kind` while the `kind` option is set, or
                  named again by a later column */
} csv_col;

typedef struct csv_field {
    const char *p; /* into buf; NULL: at esc + off */
    size_t off, len;
} csv_field;

typedef struct csv_val {
    csv_type t;
    union {
        int64_t i;
        double f;
        bool b;
    } u;
} csv_val;

/* Where a scanned row ends. */
typedef struct csv_row {
    size_t used;      /* bytes including the line end */
    size_t content;   /* bytes without it */
    uint64_t lines;   /* line ends inside and after the row */
    size_t bad_field; /* 1-based, for ROW_UNTERMINATED / ROW_AFTER_QUOTE */
} csv_row;

typedef struct csv {
    const csv_config *cfg;
    const char *file;
    int fd;
    bool own_fd;
    char delim;
    unsigned char stop[256]; /* bytes that end an unquoted field */
    csv_enc enc;
    iconv_t cd;
    locale_t cloc;
    size_t kind_len;

    char *buf; /* decoded UTF-8; unscanned bytes in [start, end) */
    size_t cap, start, end;
    const char *stops_blk; /* csv_find_stop's block, or NULL ... */
    uint64_t stops;        /* ... and where its stops are */
    char *raw;             /* GB18030: bytes read, not yet converted */
    size_t raw_len, raw_cap;
    bool src_eof; /* read() returned 0 */
    bool bom_checked;
    bool skip_line; /* discarding the rest of an over-long line */
    uint64_t line;  /* line the next row starts on */

    csv_col *cols;
    size_t ncols;
    bool have_cols;
    csv_field *f; /* fields of the row being scanned */
    size_t nf, fcap;
    char *esc; /* unescaped quoted fields of that row */
    size_t esc_len, esc_cap;
    uint8_t *rec; /* the record being encoded */
    size_t rec_cap;
    uint8_t *kind_mp; /* "kind" and its value, encoded */
    size_t kind_mp_len;
    size_t keys_len; /* all column keys, encoded */
} csv;

/* ---- options ------------------------------------------------------------ */

static int csv_delim(const char *s)
{
    if (!s || strcmp(s, "tab") == 0)
        return s ? '\t' : ',';
    if (strlen(s) != 1 || s[0] == '"' || s[0] == '\n' || s[0] == '\r')
        return -1;
    return (unsigned char)s[0];
}

static int csv_encoding(const char *s)
{
    if (!s || strcasecmp(s, "auto") == 0)
        return ENC_UNDECIDED;
    if (strcasecmp(s, "utf-8") == 0 || strcasecmp(s, "utf8") == 0)
        return ENC_UTF8;
    if (strcasecmp(s, "gb18030") == 0 || strcasecmp(s, "gbk") == 0 ||
        strcasecmp(s, "gb2312") == 0)
        return ENC_GB18030;
    return -1;
}

static int csv_type_of(const char *s)
{
    for (int t = CT_INT; t <= CT_STRING; t++)
        if (strcmp(s, csv_type_names[t]) == 0)
            return t;
    return -1;
}

static int csv_check(gf_ctx *ctx, const void *config)
{
    const csv_config *cfg = config;
    const gf_host *h = ctx->host;
    int rc = GF_OK;
    if (csv_delim(cfg->delimiter) < 0) {
        h->option_error(ctx, "delimiter",
                        "delimiter must be one byte other "
                        "than a quote or a line end, or \"tab\"; got \"%s\"",
                        cfg->delimiter);
        rc = GF_ERROR;
    }
    if (csv_encoding(cfg->encoding) < 0) {
        h->option_error(ctx, "encoding",
                        "unknown encoding \"%s\": use utf-8, "
                        "gb18030 or auto",
                        cfg->encoding);
        rc = GF_ERROR;
    }
    for (size_t i = 0; cfg->types && i < cfg->types->n; i++)
        if (csv_type_of(cfg->types->values[i]) < 0) {
            h->option_error(ctx, "types",
                            "field %s: unknown type \"%s\": use "
                            "int, float, bool or string",
                            cfg->types->keys[i], cfg->types->values[i]);
            rc = GF_ERROR;
        }
    return rc;
}

/* ---- bytes -------------------------------------------------------------- */

/*
 * Offset of the first byte of s that is not valid UTF-8, or n. With
 * trunc_ok, a sequence cut off by the end of s counts as valid.
 */
static size_t csv_utf8_bad(const char *str, size_t n, bool trunc_ok)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80) {
            uint64_t w;
            while (i + 8 <= n &&
                   (memcpy(&w, s + i, 8), (w & 0x8080808080808080ull) == 0))
                i += 8;
            while (i < n && s[i] < 0x80)
                i++;
            continue;
        }
        if (c >= 0xe1 && c <= 0xef && c != 0xed && i + 2 < n &&
            (s[i + 1] & 0xc0) == 0x80 && (s[i + 2] & 0xc0) == 0x80) {
            i += 3; /* the common case: CJK and most of the BMP */
            continue;
        }
        size_t k;
        unsigned lo = 0x80, hi = 0xbf;
        if (c >= 0xc2 && c <= 0xdf)
            k = 1;
        else if (c >= 0xe0 && c <= 0xef) {
            k = 2;
            if (c == 0xe0)
                lo = 0xa0;
            else if (c == 0xed)
                hi = 0x9f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            k = 3;
            if (c == 0xf0)
                lo = 0x90;
            else if (c == 0xf4)
                hi = 0x8f;
        } else
            return i;
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= n)
                return trunc_ok ? n : i;
            unsigned d = s[i + j];
            if (d < (j == 1 ? lo : 0x80) || d > (j == 1 ? hi : 0xbf))
                return i;
        }
        i += k + 1;
    }
    return n;
}

/* Cut n bytes of s down to at most max without splitting a UTF-8 char. */
static size_t csv_cut(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
        max--;
    return max;
}

/* ---- values ------------------------------------------------------------- */

static bool csv_parse_int(const char *p, size_t n, bool strict, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (i < n && (p[i] == '-' || (!strict && p[i] == '+')))
        neg = p[i++] == '-';
    if (i == n || (strict && p[i] == '0' && n - i > 1))
        return false;
    uint64_t v = 0;
    if (n - i <= 19) { /* 19 digits cannot overflow 64 bits */
        for (; i < n; i++) {
            unsigned d = (unsigned)(unsigned char)p[i] - '0';
            if (d > 9)
                return false;
            v = v * 10 + d;
        }
    }
    for (; i < n; i++) {
        unsigned d = (unsigned)(unsigned char)p[i] - '0';
        if (d > 9 || __builtin_mul_overflow(v, 10, &v) ||
            __builtin_add_overflow(v, d, &v))
            return false;
    }
    if (v > (uint64_t)INT64_MAX + neg)
        return false;
    if (neg)
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    else
        *out = (int64_t)v;
    return true;
}

static const double csv_pow10[] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/*
 * A decimal number. strict (inference): -?(0|[1-9]d*).d+ only. Otherwise
 * (a declared float): optional sign, digits with an optional point, an
 * optional exponent. Up to 15 significant digits and a power of ten within
 * 1e22 are exact in a double, so m / 10^k is correctly rounded (Clinger's
 * fast path); anything else goes to strtod_l in the C locale.
 */
static bool csv_parse_dec(csv *c, const char *p, size_t n, bool strict,
                          double *out)
{
    size_t i = 0, digits = 0, frac = 0, sig = 0;
    bool neg = false;
    uint64_t m = 0;
    int64_t ex = 0;
    if (i < n && (p[i] == '-' || (!strict && p[i] == '+')))
        neg = p[i++] == '-';
    size_t int_start = i;
    for (; i < n && p[i] >= '0' && p[i] <= '9'; i++, digits++)
        if (sig || p[i] != '0') {
            sig++;
            if (sig <= 19)
                m = m * 10 + (uint64_t)(p[i] - '0');
        }
    if (strict && (digits == 0 || (p[int_start] == '0' && digits > 1)))
        return false;
    if (i < n && p[i] == '.') {
        for (i++; i < n && p[i] >= '0' && p[i] <= '9'; i++, frac++)
            if (sig || p[i] != '0') {
                sig++;
                if (sig <= 19)
                    m = m * 10 + (uint64_t)(p[i] - '0');
            }
        if (frac == 0 && (strict || digits == 0))
            return false;
    } else if (strict || digits == 0) {
        return false;
    }
    if (!strict && i < n && (p[i] == 'e' || p[i] == 'E')) {
        size_t j = i + 1;
        bool eneg = false;
        if (j < n && (p[j] == '-' || p[j] == '+'))
            eneg = p[j++] == '-';
        if (j == n)
            return false;
        for (; j < n && p[j] >= '0' && p[j] <= '9'; j++)
            if (ex < 100000)
                ex = ex * 10 + (p[j] - '0');
        if (eneg)
            ex = -ex;
        i = j;
    }
    if (i != n)
        return false;
    int64_t e10 = ex - (int64_t)frac;
    if (sig <= 15 && e10 >= -22 && e10 <= 22) {
        double d = (double)m;
        d = e10 < 0 ? d / csv_pow10[-e10] : d * csv_pow10[e10];
        *out = neg ? -d : d;
        return true;
    }
    char tmp[128];
    if (n >= sizeof tmp)
        return false;
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    *out = strtod_l(tmp, NULL, c->cloc);
    return true;
}

/* 1 true, 0 false, -1 neither. Lenient (declared bool) adds 1 and 0. */
static int csv_parse_bool(const char *p, size_t n, bool lenient)
{
    if (n == 4 && (p[0] | 0x20) == 't' && (p[1] | 0x20) == 'r' &&
        (p[2] | 0x20) == 'u' && (p[3] | 0x20) == 'e')
        return 1;
    if (n == 5 && (p[0] | 0x20) == 'f' && (p[1] | 0x20) == 'a' &&
        (p[2] | 0x20) == 'l' && (p[3] | 0x20) == 's' && (p[4] | 0x20) == 'e')
        return 0;
    if (lenient && n == 1 && (p[0] == '1' || p[0] == '0'))
        return p[0] == '1';
    return -1;
}

/* Type one cell. Returns false when it does not fit its declared type. */
static bool csv_value(csv *c, csv_type t, const char *p, size_t n, csv_val *v)
{
    int b;
    if (t == CT_INFER) {
        unsigned char ch = (unsigned char)p[0];
        v->t = CT_STRING;
        if ((ch >= '0' && ch <= '9') || ch == '-') {
            if (csv_parse_int(p, n, true, &v->u.i))
                v->t = CT_INT;
            else if (csv_parse_dec(c, p, n, true, &v->u.f))
                v->t = CT_FLOAT;
        } else if ((ch | 0x20) == 't' || (ch | 0x20) == 'f') {
            if ((b = csv_parse_bool(p, n, false)) >= 0) {
                v->t = CT_BOOL;
                v->u.b = b;
            }
        }
        return true;
    }
    v->t = t;
    if (t == CT_STRING)
        return true;
    while (n > 0 && (p[0] == ' ' || p[0] == '\t'))
        p++, n--;
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    if (t == CT_INT)
        return csv_parse_int(p, n, false, &v->u.i);
    if (t == CT_FLOAT) {
        int64_t i;
        if (csv_parse_int(p, n, false, &i)) {
            v->u.f = (double)i;
            return true;
        }
        return csv_parse_dec(c, p, n, false, &v->u.f);
    }
    if ((b = csv_parse_bool(p, n, true)) < 0)
        return false;
    v->u.b = b;
    return true;
}

/* ---- encoding ----------------------------------------------------------- */

/*
 * Records are encoded here as MessagePack maps and handed over whole with
 * gf_host.emit (a byte copy): keys are encoded once per column, and no
 * per-field call or duplicate-key search is paid per row. Columns never
 * repeat a key (csv_set_columns skips all but the last of a name).
 */
/* v as `bytes` (1, 2, 4 or 8) big-endian bytes; each size spelt out so
   that the compiler writes it as one swap and one store. */
static inline uint8_t *mp_be(uint8_t *w, uint64_t v, unsigned bytes)
{
    switch (bytes) {
    case 1:
        w[0] = (uint8_t)v;
        break;
    case 2:
        w[0] = (uint8_t)(v >> 8), w[1] = (uint8_t)v;
        break;
    case 4:
        w[0] = (uint8_t)(v >> 24), w[1] = (uint8_t)(v >> 16);
        w[2] = (uint8_t)(v >> 8), w[3] = (uint8_t)v;
        break;
    default:
        w[0] = (uint8_t)(v >> 56), w[1] = (uint8_t)(v >> 48);
        w[2] = (uint8_t)(v >> 40), w[3] = (uint8_t)(v >> 32);
        w[4] = (uint8_t)(v >> 24), w[5] = (uint8_t)(v >> 16);
        w[6] = (uint8_t)(v >> 8), w[7] = (uint8_t)v;
        break;
    }
    return w + bytes;
}

/*
 * Copy n bytes in blocks of CSV_PAD: a fixed-size copy is a load and a
 * store, where one of variable size is a call or a branch per size. It
 * reads and writes up to CSV_PAD - 1 bytes past the n: every buffer a cell
 * or a key is read from is allocated with CSV_PAD spare bytes (whatever
 * they hold is never used), and the record buffer keeps as many spare,
 * overwritten by what is written next.
 */
static inline uint8_t *mp_copy(uint8_t *w, const void *src, size_t n)
{
    const uint8_t *s = src;
    for (size_t i = 0; i < n; i += CSV_PAD)
        memcpy(w + i, s + i, CSV_PAD);
    return w + n;
}

/* The header of a string of n bytes. */
static inline uint8_t *mp_str_hdr(uint8_t *w, size_t n)
{
    if (n < 32)
        *w++ = (uint8_t)(0xa0 | n);
    else if (n <= 0xff)
        *w++ = 0xd9, *w++ = (uint8_t)n;
    else if (n <= 0xffff)
        *w++ = 0xda, w = mp_be(w, n, 2);
    else
        *w++ = 0xdb, w = mp_be(w, n, 4);
    return w;
}

/* A string from anywhere (names, options). */
static uint8_t *mp_str(uint8_t *w, const char *s, size_t n)
{
    w = mp_str_hdr(w, n);
    memcpy(w, s, n);
    return w + n;
}

static uint8_t *mp_int(uint8_t *w, int64_t v)
{
    if (v >= -32 && v <= 127) {
        *w++ = (uint8_t)v;
        return w;
    }
    if (v >= 0) {
        uint64_t u = (uint64_t)v;
        if (u <= 0xff)
            return *w++ = 0xcc, mp_be(w, u, 1);
        if (u <= 0xffff)
            return *w++ = 0xcd, mp_be(w, u, 2);
        if (u <= 0xffffffffu)
            return *w++ = 0xce, mp_be(w, u, 4);
        return *w++ = 0xcf, mp_be(w, u, 8);
    }
    if (v >= INT8_MIN)
        return *w++ = 0xd0, mp_be(w, (uint64_t)v, 1);
    if (v >= INT16_MIN)
        return *w++ = 0xd1, mp_be(w, (uint64_t)v, 2);
    if (v >= INT32_MIN)
        return *w++ = 0xd2, mp_be(w, (uint64_t)v, 4);
    return *w++ = 0xd3, mp_be(w, (uint64_t)v, 8);
}

static uint8_t *mp_float(uint8_t *w, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    *w++ = 0xcb;
    return mp_be(w, u, 8);
}

/* A map header for n pairs: always 5 bytes reserved, fixed up at the end. */
static size_t mp_map_hdr(uint8_t *rec, size_t n)
{
    if (n < 16) {
        rec[4] = (uint8_t)(0x80 | n);
        return 4;
    }
    if (n <= 0xffff) {
        rec[2] = 0xde;
        mp_be(rec + 3, n, 2);
        return 2;
    }
    rec[0] = 0xdf;
    mp_be(rec + 1, n, 4);
    return 0;
}

/* ---- scanning ----------------------------------------------------------- */

static __attribute__((noinline)) int csv_grow_fields(csv *c)
{
    size_t cap = c->fcap ? c->fcap * 2 : 64;
    csv_field *f = realloc(c->f, cap * sizeof *f);
    if (!f)
        return -1;
    c->f = f;
    c->fcap = cap;
    return 0;
}

static inline int csv_add_field(csv *c, const char *p, size_t off, size_t len)
{
    if (c->nf == c->fcap && csv_grow_fields(c) < 0)
        return -1;
    c->f[c->nf++] = (csv_field){p, off, len};
    return 0;
}

static int csv_esc_add(csv *c, const char *p, size_t n)
{
    if (c->esc_len + n > c->esc_cap) {
        size_t cap = c->esc_cap ? c->esc_cap : 4096;
        while (cap < c->esc_len + n)
            cap *= 2;
        char *e = realloc(c->esc, cap + CSV_PAD);
        if (!e)
            return -1;
        c->esc = e;
        c->esc_cap = cap;
    }
    memcpy(c->esc + c->esc_len, p, n);
    c->esc_len += n;
    return 0;
}

static uint64_t csv_count_nl(const char *a, const char *b)
{
    uint64_t n = 0;
    while (a < b && (a = memchr(a, '\n', (size_t)(b - a))) != NULL) {
        n++;
        a++;
    }
    return n;
}

/* A row ends at q (its line end is `nl_len` bytes long). */
static int csv_row_end(csv_row *r, const char *s, const char *q, size_t nl_len,
                       uint64_t lines)
{
    r->content = (size_t)(q - s);
    r->used = r->content + nl_len;
    r->lines = lines + (nl_len > 0 && q[nl_len - 1] == '\n');
    return ROW_OK;
}

/* A byte of w is zero: the lowest such byte has its top bit set. */
#define CSV_ZERO_BYTE(w)                                                       \
    (((w)-0x0101010101010101ull) & ~(w)&0x8080808080808080ull)

#if defined(__SSE2__)
/*
 * Bit i set when byte i of the 64 at p is a delimiter, CR or LF: four
 * 16-byte compares against each. Computed once per block and then read
 * field by field, so that a field costs a shift and a count of zeros
 * rather than a loop over its bytes.
 */
static uint64_t csv_block_stops(const csv *c, const char *p)
{
    const __m128i d = _mm_set1_epi8(c->delim), lf = _mm_set1_epi8('\n'),
                  cr = _mm_set1_epi8('\r');
    uint64_t bits = 0;
    for (int i = 0; i < 4; i++) {
        __m128i v =
            _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * i));
        __m128i hit = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(v, d), _mm_cmpeq_epi8(v, lf)),
            _mm_cmpeq_epi8(v, cr));
        bits |= (uint64_t)(uint16_t)_mm_movemask_epi8(hit) << (16 * i);
    }
    return bits;
}
#endif

/* The first delimiter, CR or LF in [q, e), or e. */
static inline const char *csv_find_stop(csv *c, const char *q, const char *e)
{
#if defined(__SSE2__)
    /* 64-byte blocks counted from the start of the buffer, each scanned
       once (the one last used is cached); a block reaching past e is left
       to the loops below */
    for (;;) {
        size_t off = (size_t)(q - c->buf) & 63;
        const char *blk = q - off;
        if (e - blk < 64)
            break;
        if (blk != c->stops_blk) {
            c->stops_blk = blk;
            c->stops = csv_block_stops(c, blk);
        }
        uint64_t m = c->stops >> off;
        if (m)
            return q + __builtin_ctzll(m);
        q = blk + 64;
    }
#endif
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ /* lowest address = low bits */
    const uint64_t ones = 0x0101010101010101ull;
    const uint64_t d = ones * (unsigned char)c->delim;
    const uint64_t lf = ones * '\n', cr = ones * '\r';
    for (; e - q >= 8; q += 8) {
        uint64_t w;
        memcpy(&w, q, 8);
        uint64_t hit = CSV_ZERO_BYTE(w ^ d) | CSV_ZERO_BYTE(w ^ lf) |
                       CSV_ZERO_BYTE(w ^ cr);
        if (hit)
            return q + (__builtin_ctzll(hit) >> 3);
    }
#endif
    while (q < e && !c->stop[(unsigned char)*q])
        q++;
    return q;
}

/*
 * Scan one row at buf[start..end) into c->f. ROW_MORE: the row goes on
 * past `end` and more input exists. At EOF the row ends at `end`.
 */
static int csv_scan(csv *c, bool eof, csv_row *r)
{
    const char *s = c->buf + c->start, *e = c->buf + c->end, *p = s;
    uint64_t nl = 0;
    c->nf = 0;
    c->esc_len = 0;
    for (;;) {
        if (p == e) {
            if (!eof)
                return ROW_MORE;
            if (csv_add_field(c, p, 0, 0) < 0)
                return ROW_NOMEM;
            return csv_row_end(r, s, p, 0, nl);
        }
        if (*p == '"') {
            const char *seg = p + 1, *q = seg;
            bool esc = false;
            size_t off = 0;
            for (;;) {
                const char *qt = memchr(q, '"', (size_t)(e - q));
                if (!qt || (qt + 1 == e && !eof)) {
                    if (!eof)
                        return ROW_MORE;
                    r->bad_field = c->nf + 1;
                    return ROW_UNTERMINATED;
                }
                if (qt + 1 < e && qt[1] == '"') {
                    if (!esc)
                        off = c->esc_len;
                    esc = true;
                    if (csv_esc_add(c, seg, (size_t)(qt + 1 - seg)) < 0)
                        return ROW_NOMEM;
                    q = seg = qt + 2;
                    continue;
                }
                nl += csv_count_nl(p + 1, qt);
                int rc = esc ? csv_esc_add(c, seg, (size_t)(qt - seg)) : 0;
                if (rc == 0)
                    rc = esc ? csv_add_field(c, NULL, off, c->esc_len - off)
                             : csv_add_field(c, seg, 0, (size_t)(qt - seg));
                if (rc < 0)
                    return ROW_NOMEM;
                p = qt + 1;
                break;
            }
            if (p == e)
                return csv_row_end(r, s, p, 0, nl);
            if (*p == c->delim) {
                p++;
                continue;
            }
            if (*p == '\n')
                return csv_row_end(r, s, p, 1, nl);
            if (*p == '\r' && p + 1 == e && !eof)
                return ROW_MORE;
            if (*p == '\r' && (p + 1 == e || p[1] == '\n'))
                return csv_row_end(r, s, p, p + 1 == e ? 1 : 2, nl);
            /* the row runs to the end of this physical line */
            const char *lf = memchr(p, '\n', (size_t)(e - p));
            if (!lf && !eof)
                return ROW_MORE;
            r->bad_field = c->nf;
            if (!lf)
                csv_row_end(r, s, e, 0, nl);
            else
                csv_row_end(r, s, lf - (lf > p && lf[-1] == '\r'),
                            1 + (lf > p && lf[-1] == '\r'), nl);
            return ROW_AFTER_QUOTE;
        }
        const char *q = p;
        for (;;) {
            q = csv_find_stop(c, q, e);
            if (q == e) {
                if (!eof)
                    return ROW_MORE;
                if (csv_add_field(c, p, 0, (size_t)(q - p)) < 0)
                    return ROW_NOMEM;
                return csv_row_end(r, s, q, 0, nl);
            }
            if (*q == c->delim || *q == '\n')
                break;
            if (q + 1 == e && !eof) /* '\r': is a '\n' next? */
                return ROW_MORE;
            if (q + 1 == e || q[1] == '\n')
                break;
            q++; /* a lone CR is data */
        }
        if (csv_add_field(c, p, 0, (size_t)(q - p)) < 0)
            return ROW_NOMEM;
        if (*q == c->delim) {
            p = q + 1;
            continue;
        }
        return csv_row_end(r, s, q, *q == '\n' || q + 1 == e ? 1 : 2, nl);
    }
}

/* ---- reading ------------------------------------------------------------ */

static int csv_io_error(gf_ctx *ctx, csv *c, int err)
{
    char eb[128];
    ctx->host->error(ctx, "%s: %s", c->file, strerror_r(err, eb, sizeof eb));
    return GF_ERROR;
}

/* read() into p, up to n bytes; 0 at end of file. */
static ssize_t csv_read_fd(csv *c, char *p, size_t n)
{
    ssize_t got;
    do
        got = read(c->fd, p, n);
    while (got < 0 && errno == EINTR);
    if (got == 0)
        c->src_eof = true;
    return got;
}

/* GB18030 -> UTF-8 from raw into buf[end..cap). */
static void csv_convert(csv *c)
{
    char *in = c->raw, *outp = c->buf + c->end;
    size_t inleft = c->raw_len, outleft = c->cap - c->end;
    while (inleft > 0 && outleft >= 4) {
        if (iconv(c->cd, &in, &inleft, &outp, &outleft) != (size_t)-1)
            break;
        if (errno == E2BIG)
            break;
        if (errno == EINVAL && !c->src_eof)
            break; /* a sequence split by the read: wait for the rest */
        *outp++ = (char)0xff; /* invalid: marked for the row check */
        outleft--;
        in++;
        inleft--;
    }
    memmove(c->raw, in, inleft);
    c->raw_len = inleft;
    c->end = (size_t)(outp - c->buf);
}

static int csv_open_iconv(gf_ctx *ctx, csv *c)
{
    c->cd = iconv_open("UTF-8", "GB18030");
    if (c->cd == (iconv_t)-1)
        return csv_io_error(ctx, c, errno);
    c->raw_cap = c->cap > CSV_CHUNK ? c->cap : CSV_CHUNK;
    if (!(c->raw = malloc(c->raw_cap))) {
        ctx->host->error(ctx, "out of memory");
        return GF_ERROR;
    }
    c->enc = ENC_GB18030;
    return GF_OK;
}

/*
 * Does [p, p+n) read as UTF-8? Count the well-formed multibyte sequences
 * and the bytes that start none: UTF-8 text is all of the first kind, and
 * an office export in UTF-8 that carries one row pasted from a GBK source
 * still has far more of them; GB18030 text is almost all of the second
 * kind (its byte pairs rarely happen to form UTF-8 sequences). So: UTF-8
 * when the sequences outnumber the bad bytes. A sequence cut by the end of
 * the chunk counts as neither when more input follows (trunc_ok).
 */
static bool csv_looks_utf8(const char *p, size_t n, bool trunc_ok)
{
    const unsigned char *s = (const unsigned char *)p;
    size_t good = 0, bad = 0;
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t k = c < 0x80   ? 0
                   : c < 0xc2 ? SIZE_MAX
                   : c < 0xe0 ? 1
                   : c < 0xf0 ? 2
                   : c < 0xf5 ? 3
                              : SIZE_MAX;
        if (k == 0) {
            i++;
            continue;
        }
        size_t j = 1;
        while (k != SIZE_MAX && j <= k && i + j < n &&
               (s[i + j] & 0xc0) == 0x80)
            j++;
        if (k != SIZE_MAX && j == k + 1) {
            good++;
            i += j;
        } else if (k != SIZE_MAX && i + j == n && trunc_ok) {
            break; /* cut by the chunk's end */
        } else {
            bad++;
            i++;
        }
    }
    return good > bad;
}

/* encoding: auto, still undecided: look at fresh bytes [from, end). */
static int csv_decide(gf_ctx *ctx, csv *c, size_t from)
{
    const char *p = c->buf + from;
    size_t n = c->end - from, k = 0;
    while (k < n && (unsigned char)p[k] < 0x80)
        k++;
    if (k == n)
        return GF_OK;
    if (csv_looks_utf8(p + k, n - k, !c->src_eof)) {
        c->enc = ENC_UTF8;
        return GF_OK;
    }
    if (csv_open_iconv(ctx, c) < 0)
        return GF_ERROR;
    memcpy(c->raw, p + k, n - k);
    c->raw_len = n - k;
    c->end = from + k;
    csv_convert(c);
    ctx->host->log(ctx, GF_LOG_INFO, "%s: not UTF-8, reading it as GB18030",
                   c->file);
    return GF_OK;
}

/*
 * Compact the buffer and read more. Returns 0 (bytes added, or end of
 * input reached), 1 when the row at start already fills CSV_MAX_ROW, or
 * GF_ERROR.
 */
static int csv_fill(gf_ctx *ctx, csv *c)
{
    c->stops_blk = NULL; /* the bytes move */
    if (c->start > 0) {
        memmove(c->buf, c->buf + c->start, c->end - c->start);
        c->end -= c->start;
        c->start = 0;
    }
    if (c->cap - c->end < 16) {
        if (c->cap >= CSV_MAX_ROW)
            return 1;
        char *b = realloc(c->buf, c->cap * 2 + CSV_PAD);
        if (!b) {
            ctx->host->error(ctx, "out of memory");
            return GF_ERROR;
        }
        c->buf = b;
        c->cap *= 2;
    }
    size_t before = c->end;
    while (c->end == before && !(c->src_eof && c->raw_len == 0)) {
        if (c->enc != ENC_GB18030) {
            ssize_t got = csv_read_fd(c, c->buf + c->end, c->cap - c->end);
            if (got < 0)
                return csv_io_error(ctx, c, errno);
            c->end += (size_t)got;
            if (c->enc == ENC_UNDECIDED && csv_decide(ctx, c, before) < 0)
                return GF_ERROR;
            continue;
        }
        if (!c->src_eof && c->raw_len < 16) {
            ssize_t got =
                csv_read_fd(c, c->raw + c->raw_len, c->raw_cap - c->raw_len);
            if (got < 0)
                return csv_io_error(ctx, c, errno);
            c->raw_len += (size_t)got;
        }
        csv_convert(c);
    }
    return GF_OK;
}

/* ---- rows --------------------------------------------------------------- */

static int csv_reject(gf_ctx *ctx, csv *c, size_t len, const char *fmt, ...)
    GF_PRINTF(4, 5);
static int csv_reject(gf_ctx *ctx, csv *c, size_t len, const char *fmt, ...)
{
    char reason[512];
    int n = snprintf(reason, sizeof reason,
                     "line %llu: ", (unsigned long long)c->line);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason + n, sizeof reason - (size_t)n, fmt, ap);
    va_end(ap);
    return ctx->host->reject_raw(ctx, c->buf + c->start, len, c->file, c->line,
                                 reason);
}

/*
 * Give up on the row at start: reject the physical line it starts on (why
 * says what is wrong) and go on with the next line.
 */
static int csv_recover(gf_ctx *ctx, csv *c, const char *why)
{
    const char *s = c->buf + c->start;
    size_t n = c->end - c->start;
    const char *lf = memchr(s, '\n', n);
    size_t len = lf ? (size_t)(lf - s) : n, shown = len;
    if (shown > 0 && s[shown - 1] == '\r')
        shown--;
    shown = csv_cut(s, shown, CSV_RAW_SHOWN);
    int rc = csv_reject(ctx, c, shown, "%s", why);
    c->line++;
    if (lf)
        c->start += len + 1;
    else {
        c->start = c->end;
        c->skip_line = !(c->src_eof && c->raw_len == 0);
    }
    return rc;
}

/* Is key "cN" (N a column number)? */
static bool csv_is_cn(const char *key)
{
    if (key[0] != 'c' || key[1] < '1' || key[1] > '9')
        return false;
    for (key += 2; *key; key++)
        if (*key < '0' || *key > '9')
            return false;
    return true;
}

static int csv_set_columns(gf_ctx *ctx, csv *c, bool from_header)
{
    const gf_host *h = ctx->host;
    const gf_strmap *map = c->cfg->columns, *types = c->cfg->types;
    size_t n = c->nf;
    c->cols = calloc(n, sizeof *c->cols);
    if (!c->cols)
        goto fail_nomem;
    c->ncols = n;
    for (size_t i = 0; i < n; i++) {
        const csv_field *f = &c->f[i];
        char *src = from_header && f->len > 0 ? strndup(f->p, f->len) : NULL;
        if (!src && asprintf(&src, "c%zu", i + 1) < 0)
            goto fail_nomem;
        const char *name = src;
        for (size_t k = 0; map && k < map->n; k++)
            if (strcmp(map->keys[k], src) == 0 ||
                (!from_header && k == i && !csv_is_cn(map->keys[k])))
                name = map->values[k];
        c->cols[i].name = name == src ? src : strdup(name);
        if (name != src)
            free(src);
        if (!c->cols[i].name)
            goto fail_nomem;
        c->cols[i].skip = name[0] == '\0' || /* renamed to "": dropped */
                          (c->cfg->kind && strcmp(name, "kind") == 0);
        size_t nl = strlen(name);
        if (!(c->cols[i].key = calloc(1, nl + 5 + CSV_PAD)))
            goto fail_nomem;
        c->cols[i].key_len =
            (size_t)(mp_str(c->cols[i].key, name, nl) - c->cols[i].key);
        c->keys_len += c->cols[i].key_len;
        for (size_t k = 0; types && k < types->n; k++)
            if (strcmp(types->keys[k], name) == 0)
                c->cols[i].type = (csv_type)csv_type_of(types->values[k]);
        for (size_t k = 0; k < i; k++)
            if (strcmp(c->cols[k].name, name) == 0) {
                h->log(ctx, GF_LOG_WARN,
                       "%s:%llu: columns %zu and %zu are "
                       "both named %s; the later one wins",
                       c->file, (unsigned long long)c->line, k + 1, i + 1,
                       name);
                c->cols[k].skip = true;
            }
    }
    for (size_t k = 0; from_header && map && k < map->n; k++) {
        size_t i = 0;
        while (i < n && (c->f[i].len != strlen(map->keys[k]) ||
                         memcmp(c->f[i].p, map->keys[k], c->f[i].len) != 0))
            i++;
        if (i == n)
            h->log(ctx, GF_LOG_WARN, "columns: %s is not in the header of %s",
                   map->keys[k], c->file);
    }
    for (size_t k = 0; types && k < types->n; k++) {
        size_t i = 0;
        while (i < n && strcmp(types->keys[k], c->cols[i].name) != 0)
            i++;
        if (i == n)
            h->log(ctx, GF_LOG_WARN, "types: %s is not a column of %s",
                   types->keys[k], c->file);
    }
    c->have_cols = true;
    return GF_OK;

fail_nomem:
    h->error(ctx, "out of memory");
    return GF_ERROR;
}

/* One scanned row: the header, or a record, or a dead letter. */
static int csv_emit_row(gf_ctx *ctx, csv *c, const csv_row *r, gf_out *out)
{
    const gf_host *h = ctx->host;
    for (size_t i = 0; i < c->nf; i++)
        if (!c->f[i].p)
            c->f[i].p = c->esc + c->f[i].off;
    if (c->nf == 1 && c->f[0].len == 0)
        return GF_OK; /* a blank line */

    if (!c->have_cols && !c->cfg->header && csv_set_columns(ctx, c, false) < 0)
        return GF_ERROR; /* the first row gives the number of columns */
    const char *s = c->buf + c->start;
    if (csv_utf8_bad(s, r->content, false) != r->content) {
        for (size_t i = 0; i < c->nf; i++) {
            size_t bad = csv_utf8_bad(c->f[i].p, c->f[i].len, false);
            if (bad == c->f[i].len)
                continue;
            const char *enc = c->enc == ENC_GB18030 ? "GB18030" : "UTF-8";
            if (!c->have_cols) {
                h->error(ctx,
                         "%s:%llu: the header has bytes invalid in %s "
                         "(field %zu); set `encoding`",
                         c->file, (unsigned long long)c->line, enc, i + 1);
                return GF_ERROR;
            }
            return csv_reject(ctx, c, r->content,
                              "bytes invalid in %s in "
                              "field %zu (%s) at byte %zu",
                              enc, i + 1, i < c->ncols ? c->cols[i].name : "?",
                              bad + 1);
        }
    }
    if (!c->have_cols) /* the header */
        return csv_set_columns(ctx, c, true);
    if (c->nf != c->ncols)
        return csv_reject(ctx, c, r->content, "%zu fields, %s has %zu", c->nf,
                          c->cfg->header ? "header" : "the first row",
                          c->ncols);
    /* at most: map header, kind, every key, 9 bytes of value header or
       number per cell, and the cells' text (no longer than the row) */
    size_t need =
        5 + c->kind_mp_len + c->keys_len + 9 * c->nf + r->content + CSV_PAD;
    if (need > c->rec_cap) {
        uint8_t *p = realloc(c->rec, need);
        if (!p) {
            h->error(ctx, "out of memory");
            return GF_ERROR;
        }
        c->rec = p;
        c->rec_cap = need;
    }
    /* type and encode each cell in one pass; a cell that does not fit its
       declared type abandons the record */
    uint8_t *w = c->rec + 5;
    size_t pairs = 0;
    if (c->kind_mp_len) {
        memcpy(w, c->kind_mp, c->kind_mp_len);
        w += c->kind_mp_len;
        pairs++;
    }
    for (size_t i = 0; i < c->nf; i++) {
        const csv_field *f = &c->f[i];
        const csv_col *col = &c->cols[i];
        csv_val v;
        if (f->len == 0 || col->skip)
            continue;
        if (!csv_value(c, col->type, f->p, f->len, &v)) {
            size_t shown = csv_cut(f->p, f->len, 40);
            return csv_reject(ctx, c, r->content,
                              "field %s is not %s %s: "
                              "\"%.*s%s\"",
                              col->name, col->type == CT_INT ? "an" : "a",
                              csv_type_names[col->type], (int)shown, f->p,
                              shown < f->len ? "..." : "");
        }
        w = mp_copy(w, col->key, col->key_len);
        pairs++;
        switch (v.t) {
        case CT_INT:
            w = mp_int(w, v.u.i);
            break;
        case CT_FLOAT:
            w = mp_float(w, v.u.f);
            break;
        case CT_BOOL:
            *w++ = v.u.b ? 0xc3 : 0xc2;
            break;
        default:
            w = mp_copy(mp_str_hdr(w, f->len), f->p, f->len);
            break;
        }
    }
    size_t at = mp_map_hdr(c->rec, pairs);
    gf_record rec = {c->rec + at, (size_t)(w - c->rec) - at, (uint32_t)pairs};
    return h->emit(out, &rec);
}

/* ---- callbacks ---------------------------------------------------------- */

static void csv_destroy(gf_ctx *ctx, void *state);

/* init(), except that a failure may leave a half-built *state. */
static int csv_open(gf_ctx *ctx, const void *config, void **state)
{
    const csv_config *cfg = config;
    if (csv_check(ctx, config) < 0)
        return GF_ERROR;
    csv *c = calloc(1, sizeof *c);
    if (!c)
        goto fail_nomem;
    *state = c;
    c->cfg = cfg;
    c->cd = (iconv_t)-1;
    c->fd = -1;
    c->line = 1;
    c->delim = (char)csv_delim(cfg->delimiter);
    c->stop[(unsigned char)c->delim] = c->stop['\n'] = c->stop['\r'] = 1;
    c->kind_len = cfg->kind ? strlen(cfg->kind) : 0;
    if (cfg->kind) {
        if (!(c->kind_mp = malloc(c->kind_len + 10)))
            goto fail_nomem;
        uint8_t *w =
            mp_str(mp_str(c->kind_mp, "kind", 4), cfg->kind, c->kind_len);
        c->kind_mp_len = (size_t)(w - c->kind_mp);
    }
    c->enc = (csv_enc)csv_encoding(cfg->encoding);
    c->cap = CSV_CHUNK;
    c->cloc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    c->buf = malloc(c->cap + CSV_PAD);
    if (!c->cloc || !c->buf)
        goto fail_nomem;

    if (strcmp(cfg->path, "-") == 0) {
        c->file = "<stdin>";
        c->fd = STDIN_FILENO;
    } else {
        struct stat st;
        c->file = cfg->path;
        c->fd = open(cfg->path, O_RDONLY | O_CLOEXEC);
        c->own_fd = c->fd >= 0;
        if (c->fd < 0)
            return csv_io_error(ctx, c, errno);
        if (fstat(c->fd, &st) == 0 && S_ISDIR(st.st_mode))
            return csv_io_error(ctx, c, EISDIR);
    }
    if (c->enc == ENC_GB18030 && csv_open_iconv(ctx, c) < 0)
        return GF_ERROR;
    return GF_OK;

fail_nomem:
    ctx->host->error(ctx, "out of memory");
    return GF_ERROR;
}

/* A failed init() frees what it built: no destroy() is needed after it. */
static int csv_init(gf_ctx *ctx, const void *config, void **state)
{
    *state = NULL;
    int rc = csv_open(ctx, config, state);
    if (rc < 0) {
        csv_destroy(ctx, *state);
        *state = NULL;
    }
    return rc;
}

static int csv_produce(gf_ctx *ctx, void *state, gf_out *out)
{
    csv *c = state;
    int rc;
    for (unsigned rows = 0; rows < CSV_ROWS_PER_CALL;) {
        bool eof = c->src_eof && c->raw_len == 0;
        if (c->skip_line) {
            const char *s = c->buf + c->start;
            const char *lf = memchr(s, '\n', c->end - c->start);
            c->start = lf ? (size_t)(lf + 1 - c->buf) : c->end;
            c->skip_line = !lf;
        }
        if (c->start == c->end && eof)
            return GF_DONE;
        if (c->skip_line ||
            (!c->bom_checked && c->end - c->start < 3 && !eof)) {
            if ((rc = csv_fill(ctx, c)) < 0)
                return rc;
            continue;
        }
        if (!c->bom_checked) {
            if (c->end - c->start >= 3 &&
                memcmp(c->buf + c->start, "\xef\xbb\xbf", 3) == 0) {
                c->start += 3;
                if (c->enc == ENC_UNDECIDED)
                    c->enc = ENC_UTF8; /* a BOM says UTF-8 */
            }
            c->bom_checked = true;
            continue;
        }
        csv_row r = {0};
        char why[128];
        switch (csv_scan(c, eof, &r)) {
        case ROW_MORE:
            if ((rc = csv_fill(ctx, c)) < 0)
                return rc;
            if (rc == 1) {
                snprintf(why, sizeof why,
                         "row longer than 64 MiB, in field "
                         "%zu (an unterminated quote?)",
                         c->nf + 1);
                if ((rc = csv_recover(ctx, c, why)) < 0)
                    return rc;
                rows++;
            }
            continue;
        case ROW_NOMEM:
            ctx->host->error(ctx, "out of memory");
            return GF_ERROR;
        case ROW_UNTERMINATED:
            snprintf(why, sizeof why, "unterminated quote in field %zu",
                     r.bad_field);
            if (!c->have_cols && c->cfg->header) {
                ctx->host->error(ctx, "%s:%llu: the header has an %s", c->file,
                                 (unsigned long long)c->line, why);
                return GF_ERROR;
            }
            if ((rc = csv_recover(ctx, c, why)) < 0)
                return rc;
            rows++;
            continue;
        case ROW_AFTER_QUOTE:
            if (!c->have_cols && c->cfg->header) {
                ctx->host->error(ctx,
                                 "%s:%llu: the header has text after the "
                                 "closing quote of field %zu",
                                 c->file, (unsigned long long)c->line,
                                 r.bad_field);
                return GF_ERROR;
            }
            rc = csv_reject(ctx, c, r.content,
                            "text after the closing quote "
                            "of field %zu",
                            r.bad_field);
            break;
        default:
            rc = csv_emit_row(ctx, c, &r, out);
            break;
        }
        if (rc < 0)
            return rc;
        c->start += r.used;
        c->line += r.lines;
        rows++;
    }
    return GF_MORE;
}

static void csv_destroy(gf_ctx *ctx, void *state)
{
    (void)ctx;
    csv *c = state;
    if (!c)
        return;
    if (c->own_fd)
        close(c->fd);
    if (c->cd != (iconv_t)-1)
        iconv_close(c->cd);
    if (c->cloc)
        freelocale(c->cloc);
    for (size_t i = 0; i < c->ncols; i++) {
        free(c->cols[i].name);
        free(c->cols[i].key);
    }
    free(c->rec);
    free(c->kind_mp);
    free(c->cols);
    free(c->f);
    free(c->esc);
    free(c->raw);
    free(c->buf);
    free(c);
}

static const gf_plugin ingest_csv = {
    GF_PLUGIN_HEADER,
    .name = "ingest_csv",
    .kind = GF_KIND_INGEST,
    .version = "1.0.0",
    .description = "read CSV (RFC 4180; UTF-8 or GB18030) into records",
    .options = csv_options,
    .config_size = sizeof(csv_config),
    .check = csv_check,
    .init = csv_init,
    .produce = csv_produce,
    .destroy = csv_destroy,
};

GF_PLUGIN_DEFINE(ingest_csv)
