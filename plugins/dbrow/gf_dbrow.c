/*
 * gf_dbrow - database column values into record fields (see gf_dbrow.h).
 */
#include "gf_dbrow.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int grow(gf_dbrow *r, size_t need)
{
    if (need <= r->cap)
        return 0;
    char *b = realloc(r->buf, need * 2);
    if (!b)
        return -1;
    r->buf = b;
    r->cap = need * 2;
    return 0;
}

int gf_dbrow_set_json(gf_dbrow *r, const gf_host *h, gf_out *out,
                      const char *name, const char *text, size_t len)
{
    /* {"NAME":TEXT} with NAME escaped, for host->set_json */
    size_t nlen = strlen(name);
    if (grow(r, nlen * 6 + len + 8) < 0)
        return -1;
    size_t n = 0;
    r->buf[n++] = '{';
    r->buf[n++] = '"';
    for (size_t i = 0; i < nlen; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c == '"' || c == '\\') {
            r->buf[n++] = '\\';
            r->buf[n++] = (char)c;
        } else if (c < 0x20) {
            n += (size_t)snprintf(r->buf + n, 7, "\\u%04x", c);
        } else {
            r->buf[n++] = (char)c;
        }
    }
    r->buf[n++] = '"';
    r->buf[n++] = ':';
    if (len)
        memcpy(r->buf + n, text, len);
    n += len;
    r->buf[n++] = '}';
    char err[128];
    if (h->set_json(out, r->buf, n, err, sizeof err) < 0)
        h->set_str(out, name, text ? text : "", len);
    return 0;
}

int gf_dbrow_set_bin(gf_dbrow *r, const gf_host *h, gf_out *out,
                     const char *name, const void *data, size_t len)
{
    if (grow(r, len + 5) < 0)
        return -1;
    uint8_t *p = (uint8_t *)r->buf;
    size_t hl;
    if (len < 256) {
        p[0] = 0xc4;
        p[1] = (uint8_t)len;
        hl = 2;
    } else if (len < 65536) {
        p[0] = 0xc5;
        p[1] = (uint8_t)(len >> 8);
        p[2] = (uint8_t)len;
        hl = 3;
    } else {
        p[0] = 0xc6;
        p[1] = (uint8_t)(len >> 24);
        p[2] = (uint8_t)(len >> 16);
        p[3] = (uint8_t)(len >> 8);
        p[4] = (uint8_t)len;
        hl = 5;
    }
    if (len)
        memcpy(p + hl, data, len);
    h->set_raw(out, name, p, hl + len);
    return 0;
}

void gf_dbrow_free(gf_dbrow *r)
{
    free(r->buf);
    r->buf = NULL;
    r->cap = 0;
}
