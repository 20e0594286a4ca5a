/*
 * gf_pii - personal data in exports. Every export stage masks `phone`
 * (13812341234 -> 138****1234) and `id_number` (first 6 and last 4 kept,
 * the rest '*') of every record before its plugin sees it, unless the
 * stage says `mask_pii: false`; with `pseudonymize_key_file: PATH` they are
 * replaced instead by HMAC-SHA256 pseudonyms (libsodium, hex, stable under
 * one key). One mechanism in the runtime, so no export plugin can forget.
 * The fields touched are named in GF_PII_FIELDS.
 */
#ifndef GF_PII_H
#define GF_PII_H

#include <stdbool.h>

#include <gigflow/record.h>

#include "gf_buf.h"

#define GF_PII_FIELDS "phone", "id_number"

typedef enum gf_pii_mode {
    GF_PII_OFF = 0,  /* mask_pii: false */
    GF_PII_MASK,     /* the default */
    GF_PII_PSEUDONYM /* pseudonymize_key_file given */
} gf_pii_mode;

typedef struct gf_pii gf_pii;

/*
 * Set up a policy. key_file (GF_PII_PSEUDONYM only) must be a regular file
 * not readable by group or others, holding at least 32 bytes of key.
 * NULL on failure with *err (malloc'd, names the file and what to do).
 */
gf_pii *gf_pii_new(gf_pii_mode mode, const char *key_file, char **err);
/*
 * Apply the policy to `in`. When it holds none of the fields (or the mode
 * is OFF) returns false and leaves *out untouched; otherwise writes the
 * rewritten record into `scratch` (cleared first), points *out at it and
 * returns true. Thread-safe for one gf_pii shared by several threads.
 */
bool gf_pii_apply(const gf_pii *pii, const gf_record *in, gf_buf *scratch,
                  gf_record *out);
void gf_pii_free(gf_pii **pp);

/* The default masking policy, shared and never freed (dead letters). */
const gf_pii *gf_pii_mask_policy(void);

/*
 * Append `text` to b with every run of 11 or more digits (a phone, an ID
 * number: single spaces or hyphens between digits belong to the run, and
 * a final X of an 18-character ID too) masked: an 18-character ID keeps
 * its first 6 and last 4 characters, any other run its first 3 and last 4
 * digits. For raw input lines that never became records. Returns 0 or
 * -ENOMEM.
 */
int gf_pii_mask_text(gf_buf *b, const char *text, size_t len);

#endif
