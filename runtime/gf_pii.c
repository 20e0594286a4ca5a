/*
 * gf_pii - masking and pseudonymising personal data before an export plugin
 * sees a record (see gf_pii.h for the policy).
 *
 * Rewriting is a byte copy: the map header and every untouched field are
 * copied as they are, only the values of `phone` and `id_number` are
 * re-encoded (as strings), so nothing else in the record changes and no
 * allocation happens once the caller's scratch buffer has grown.
 *
 * Masking counts characters (UTF-8 code points), not bytes:
 *   phone      longer than 7: first 3 and last 4 kept, the rest '*'
 *              (13812341234 -> 138****1234); 7 or fewer: all '*'.
 *   id_number  longer than 10: first 6 and last 4 kept, the rest '*';
 *              10 or fewer: all '*'.
 *
 * Pseudonyms are "p:" followed by the first 16 hex digits (64 bits) of
 * HMAC-SHA256(key, value text). The same value under the same key always
 * gives the same pseudonym (records stay joinable across files and runs:
 * a phone read as the integer 13812341234 and as the text "13812341234"
 * match), another key gives unrelated ones, and the "p:" prefix keeps a
 * pseudonym from being mistaken for a real number. 64 bits make an
 * accidental collision among a district's 10^5 workers about 1 in 10^9.
 *
 * Values: text is masked as text; an integer (or an integral float) by its
 * decimal digits; nil and "" are left alone (nothing to hide); any other
 * type (bool, array, map, non-integral float) becomes "****" when masking,
 * or the pseudonym of its encoded bytes.
 *
 * The key file holds the key as raw bytes; one trailing "\n" or "\r\n" is
 * not part of it, so `openssl rand -hex 32 > KEY` works as well as
 * `head -c 64 /dev/urandom > KEY`.
 */
#include "gf_pii.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "gf_alloc.h"
#include "gf_record.h"

/* Smallest and largest key accepted, in bytes. */
#define GF_PII_KEY_MIN 32
#define GF_PII_KEY_MAX 4096
/* Hex digits of the HMAC kept in a pseudonym. */
#define GF_PII_PSEUDONYM_HEX 16

struct gf_pii {
    gf_pii_mode mode;
    /* HMAC state already keyed: copied per value, so the key is hashed
       once and the struct stays read-only (shared by threads). */
    crypto_auth_hmacsha256_state keyed;
};

/* Which protected field a key names: 0 none, 1 phone, 2 id_number. */
enum { FIELD_NONE = 0, FIELD_PHONE = 1, FIELD_ID = 2 };

static int field_of(gf_str key)
{
    if (gf_str_eq(key, "phone"))
        return FIELD_PHONE;
    if (gf_str_eq(key, "id_number"))
        return FIELD_ID;
    return FIELD_NONE;
}

/*
 * Read and check the key file. Returns 0 with the key in *keyp (gf_malloc'd,
 * GF_PII_KEY_MAX + 1 bytes, wipe before freeing), or -1 with *errp set to a
 * message (NULL when even that could not be allocated).
 */
static int read_key_file(const char *path, uint8_t **keyp, size_t *lenp,
                         char **errp)
{
    char *err = NULL;
    uint8_t *key = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        *errp = gf_asprintf("%s: cannot open the pseudonymisation key: %s",
                            path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        err = gf_asprintf("%s: cannot stat: %s", path, strerror(errno));
        goto fail_fd;
    }
    if (!S_ISREG(st.st_mode)) {
        err = gf_asprintf("%s: not a regular file; pseudonymize_key_file "
                          "must name a file holding the key",
                          path);
        goto fail_fd;
    }
    if (st.st_mode & 077) {
        err = gf_asprintf("%s: permissions %04o are too open; chmod 600 %s",
                          path, (unsigned)(st.st_mode & 07777), path);
        goto fail_fd;
    }
    if (st.st_size > GF_PII_KEY_MAX) {
        err = gf_asprintf("%s: %lld bytes is too large for a key (at most "
                          "%d); is this the right file?",
                          path, (long long)st.st_size, GF_PII_KEY_MAX);
        goto fail_fd;
    }
    key = gf_malloc(GF_PII_KEY_MAX + 1);
    if (!key) {
        err = gf_asprintf("%s: out of memory", path);
        goto fail_fd;
    }
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, key + len, GF_PII_KEY_MAX + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            err = gf_asprintf("%s: cannot read: %s", path, strerror(errno));
            goto fail_key;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > GF_PII_KEY_MAX) {
            err = gf_asprintf("%s: too large for a key (at most %d bytes)",
                              path, GF_PII_KEY_MAX);
            goto fail_key;
        }
    }
    if (len > 0 && key[len - 1] == '\n') {
        len--;
        if (len > 0 && key[len - 1] == '\r')
            len--;
    }
    if (len < GF_PII_KEY_MIN) {
        err = gf_asprintf("%s: the key is %zu bytes, at least %d are needed; "
                          "make one with: head -c 64 /dev/urandom > %s && "
                          "chmod 600 %s",
                          path, len, GF_PII_KEY_MIN, path, path);
        goto fail_key;
    }
    close(fd);
    *keyp = key;
    *lenp = len;
    return 0;

fail_key:
    sodium_memzero(key, GF_PII_KEY_MAX + 1);
    gf_free(key);
fail_fd:
    close(fd);
    *errp = err;
    return -1;
}

gf_pii *gf_pii_new(gf_pii_mode mode, const char *key_file, char **err)
{
    if (err)
        *err = NULL;
    gf_pii *pii = gf_calloc(1, sizeof *pii);
    if (!pii) {
        if (err)
            *err = gf_strdup("out of memory");
        return NULL;
    }
    pii->mode = mode;
    if (mode != GF_PII_PSEUDONYM)
        return pii;

    char *msg = NULL;
    if (!key_file || !*key_file) {
        msg = gf_strdup("pseudonymisation needs a key file "
                        "(pseudonymize_key_file)");
        goto fail_pii;
    }
    if (sodium_init() < 0) {
        msg = gf_strdup("libsodium failed to initialise");
        goto fail_pii;
    }
    uint8_t *key = NULL;
    size_t keylen = 0;
    if (read_key_file(key_file, &key, &keylen, &msg) != 0)
        goto fail_pii;
    crypto_auth_hmacsha256_init(&pii->keyed, key, keylen);
    sodium_memzero(key, GF_PII_KEY_MAX + 1);
    gf_free(key);
    return pii;

fail_pii:
    gf_free(pii);
    if (err)
        *err = msg ? msg : gf_strdup("out of memory");
    else
        gf_free(msg);
    return NULL;
}

void gf_pii_free(gf_pii **pp)
{
    if (!pp || !*pp)
        return;
    sodium_memzero(*pp, sizeof **pp);
    gf_free(*pp);
    *pp = NULL;
}

/* --- MessagePack pieces --------------------------------------------------- */

/* Bytes taken by the map header at p (validated bytes). */
static size_t map_header_len(const uint8_t *p)
{
    if (*p >= 0x80 && *p <= 0x8f)
        return 1;
    return *p == 0xde ? 3 : 5;
}

static int put_str_header(gf_buf *b, size_t len)
{
    uint8_t h[5];
    size_t n;
    if (len < 32) {
        h[0] = (uint8_t)(0xa0 | len);
        n = 1;
    } else if (len <= 0xff) {
        h[0] = 0xd9;
        h[1] = (uint8_t)len;
        n = 2;
    } else if (len <= 0xffff) {
        h[0] = 0xda;
        h[1] = (uint8_t)(len >> 8);
        h[2] = (uint8_t)len;
        n = 3;
    } else {
        h[0] = 0xdb;
        h[1] = (uint8_t)(len >> 24);
        h[2] = (uint8_t)(len >> 16);
        h[3] = (uint8_t)(len >> 8);
        h[4] = (uint8_t)len;
        n = 5;
    }
    return gf_buf_append(b, h, n);
}

/* --- the rewriting -------------------------------------------------------- */

/*
 * The text a value is protected as: sets *s and *len (pointing into the value
 * or into numbuf). Returns 1 for text, 0 when the value is to be left
 * alone (nil, ""), -1 when it has no text form (use its raw bytes).
 */
static int value_text(const gf_value *v, char *numbuf, size_t numcap,
                      const char **s, size_t *len)
{
    switch (v->type) {
    case GF_T_NIL:
        return 0;
    case GF_T_STR:
    case GF_T_BIN:
        *s = v->v.s.ptr;
        *len = v->v.s.len;
        return *len ? 1 : 0;
    case GF_T_INT:
        *len = (size_t)snprintf(numbuf, numcap, "%" PRId64, v->v.i);
        *s = numbuf;
        return 1;
    case GF_T_FLOAT:
        if (isfinite(v->v.f) && v->v.f == floor(v->v.f) &&
            fabs(v->v.f) < 1e18) {
            *len = (size_t)snprintf(numbuf, numcap, "%.0f", v->v.f);
            *s = numbuf;
            return 1;
        }
        return -1;
    default:
        return -1;
    }
}

/* Does this value need rewriting at all? */
static bool value_protected(const gf_value *v)
{
    char num[32];
    const char *s;
    size_t len;
    return value_text(v, num, sizeof num, &s, &len) != 0;
}

/* Byte offset of the i-th code point of s (len bytes), or len. */
static size_t cp_offset(const char *s, size_t len, size_t i)
{
    size_t off = 0;
    while (off < len) {
        if (((uint8_t)s[off] & 0xc0) != 0x80) {
            if (i == 0)
                return off;
            i--;
        }
        off++;
    }
    return len;
}

static size_t cp_count(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((uint8_t)s[i] & 0xc0) != 0x80)
            n++;
    return n;
}

/* Append the masked form of s as one MessagePack string. */
static int put_masked(gf_buf *b, int field, const char *s, size_t len)
{
    size_t head = field == FIELD_PHONE ? 3 : 6;
    size_t tail = 4;
    size_t n = cp_count(s, len);
    if (n <= head + tail) {
        head = 0;
        tail = 0;
    }
    size_t head_b = cp_offset(s, len, head);
    size_t tail_b = tail ? len - cp_offset(s, len, n - tail) : 0;
    size_t stars = n - head - tail;
    if (put_str_header(b, head_b + stars + tail_b) != 0 ||
        gf_buf_append(b, s, head_b) != 0 || gf_buf_reserve(b, stars) != 0)
        return -1;
    memset(b->data + b->len, '*', stars);
    b->len += stars;
    return gf_buf_append(b, s + len - tail_b, tail_b);
}

static int put_pseudonym(const gf_pii *pii, gf_buf *b, const void *s,
                         size_t len)
{
    crypto_auth_hmacsha256_state st = pii->keyed;
    uint8_t mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_update(&st, s, len);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_memzero(&st, sizeof st);
    char hex[2 * crypto_auth_hmacsha256_BYTES + 1];
    sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
    if (put_str_header(b, 2 + GF_PII_PSEUDONYM_HEX) != 0 ||
        gf_buf_append(b, "p:", 2) != 0)
        return -1;
    return gf_buf_append(b, hex, GF_PII_PSEUDONYM_HEX);
}

static int put_protected(const gf_pii *pii, gf_buf *b, int field,
                         const gf_value *v)
{
    char num[32];
    const char *s = NULL;
    size_t len = 0;
    int t = value_text(v, num, sizeof num, &s, &len);
    if (t == 0)
        return gf_buf_append(b, v->raw, v->raw_len);
    if (pii->mode == GF_PII_PSEUDONYM)
        return t > 0 ? put_pseudonym(pii, b, s, len)
                     : put_pseudonym(pii, b, v->raw, v->raw_len);
    if (t < 0)
        return put_str_header(b, 4) == 0 ? gf_buf_append(b, "****", 4) : -1;
    return put_masked(b, field, s, len);
}

bool gf_pii_apply(const gf_pii *pii, const gf_record *in, gf_buf *scratch,
                  gf_record *out)
{
    if (!pii || pii->mode == GF_PII_OFF || in->len == 0)
        return false;

    /* First pass: anything to do? Most records (orgs, metrics) have none. */
    gf_iter it = {0};
    gf_str key;
    gf_value val;
    bool any = false;
    while (gf_record_next(in, &it, &key, &val))
        if (field_of(key) != FIELD_NONE && value_protected(&val)) {
            any = true;
            break;
        }
    if (!any)
        return false;

    gf_buf_clear(scratch);
    const uint8_t *pos = in->data + map_header_len(in->data);
    if (gf_buf_append(scratch, in->data, (size_t)(pos - in->data)) != 0)
        goto fail_memory;
    gf_iter it2 = {0};
    while (gf_record_next(in, &it2, &key, &val)) {
        int field = field_of(key);
        const uint8_t *end = val.raw + val.raw_len;
        if (field == FIELD_NONE) {
            if (gf_buf_append(scratch, pos, (size_t)(end - pos)) != 0)
                goto fail_memory;
        } else {
            /* the key's bytes, then the new value */
            if (gf_buf_append(scratch, pos, (size_t)(val.raw - pos)) != 0 ||
                put_protected(pii, scratch, field, &val) != 0)
                goto fail_memory;
        }
        pos = end;
    }
    out->data = scratch->data;
    out->len = scratch->len;
    out->nfields = in->nfields;
    return true;

fail_memory:
    /*
     * Out of memory: never let the personal data through. Hand back the
     * record with every field dropped (an empty map), which the export
     * writes as an empty row rather than leaking the number.
     */
    gf_buf_clear(scratch);
    static const uint8_t empty_map = 0x80;
    out->data = &empty_map;
    out->len = 1;
    out->nfields = 0;
    return true;
}

const gf_pii *gf_pii_mask_policy(void)
{
    static const gf_pii mask = {.mode = GF_PII_MASK};
    return &mask;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

int gf_pii_mask_text(gf_buf *b, const char *text, size_t len)
{
    size_t i = 0;
    while (i < len) {
        if (!is_digit(text[i])) {
            size_t j = i;
            while (j < len && !is_digit(text[j]))
                j++;
            if (gf_buf_append(b, text + i, j - i) != 0)
                return -ENOMEM;
            i = j;
            continue;
        }
        /* a run: digits, single separators between them, a final X */
        size_t j = i, digits = 0;
        while (j < len) {
            if (is_digit(text[j])) {
                digits++;
                j++;
            } else if ((text[j] == ' ' || text[j] == '-') && j + 1 < len &&
                       is_digit(text[j + 1])) {
                j++;
            } else {
                break;
            }
        }
        bool id_x =
            digits == 17 && j < len && (text[j] == 'X' || text[j] == 'x');
        if (id_x) {
            digits++;
            j++;
        }
        if (digits < 11) {
            if (gf_buf_append(b, text + i, j - i) != 0)
                return -ENOMEM;
            i = j;
            continue;
        }
        size_t keep_head = digits == 18 ? 6 : 3, keep_tail = 4, n = 0;
        for (size_t k = i; k < j; k++) {
            char c = text[k];
            if (is_digit(c) || c == 'X' || c == 'x') {
                if (n >= keep_head && n < digits - keep_tail)
                    c = '*';
                n++;
            }
            if (gf_buf_append(b, &c, 1) != 0)
                return -ENOMEM;
        }
        i = j;
    }
    return 0;
}
