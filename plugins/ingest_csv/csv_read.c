/*
 * csv_read - ingest_csv's input: fills the read buffer from the file (or
 * standard input) in chunks, and makes what lands there UTF-8.
 * `encoding: gb18030` converts with glibc iconv while reading, carrying a
 * multibyte sequence split between two reads over to the next; bytes
 * invalid in GB18030 become 0xFF, which no UTF-8 text contains, so the
 * UTF-8 check every row gets (csv_row.c) finds them. `encoding: auto`
 * reads UTF-8 while the input is ASCII and decides at the first chunk
 * holding other bytes: a BOM, or text whose well-formed UTF-8 sequences
 * outnumber its bad bytes (a stray GBK row is not enough to flip a UTF-8
 * file), stays UTF-8, anything else is GB18030 from there on.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ingest_csv.h"

int csv_io_error(gf_ctx *ctx, csv *c, int err)
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

int csv_open_iconv(gf_ctx *ctx, csv *c)
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
int csv_fill(gf_ctx *ctx, csv *c)
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
