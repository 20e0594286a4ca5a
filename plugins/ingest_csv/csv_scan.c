/*
 * csv_scan - ingest_csv's row scanner: finds the fields of one CSV row
 * (RFC 4180) in the read buffer, in place. Unquoted fields are views into
 * the buffer; quoted fields with doubled quotes are unescaped into a second,
 * reused buffer (c->esc), so nothing is allocated per row. Delimiters and
 * line ends are found 64 bytes at a time (SSE2 compares giving one bit per
 * byte, where available; eight bytes at a time otherwise), so that a field
 * costs a shift and a count of zero bits. A row cut by the end of the
 * buffer answers ROW_MORE: the caller reads more and scans it again.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "ingest_csv.h"

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
int csv_scan(csv *c, bool eof, csv_row *r)
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
