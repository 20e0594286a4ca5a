/*
 * gf_dbrow - database column values into record fields, for the ingest
 * plugins that read databases (ingest_sqlite, ingest_postgres): JSON text
 * becomes nested arrays and maps, binary becomes a MessagePack bin value.
 * The host table has set_str/set_int/... for the rest; these two need a
 * little encoding, done here once in a scratch buffer the plugin keeps (no
 * allocation per row once it has grown).
 */
#ifndef GF_DBROW_H
#define GF_DBROW_H

#include <stddef.h>

#include <gigflow/plugin.h>

/* Scratch memory, grown as needed. Start zeroed; gf_dbrow_free at the end. */
typedef struct gf_dbrow {
    char *buf;
    size_t cap;
} gf_dbrow;

/*
 * Set field `name` of the record open on `out` from JSON text: nested
 * when the text parses as JSON, else the text itself. Returns 0, or -1
 * when out of memory (nothing set).
 */
int gf_dbrow_set_json(gf_dbrow *r, const gf_host *h, gf_out *out,
                      const char *name, const char *text, size_t len);

/* Set field `name` to `len` bytes as a MessagePack bin value. Returns 0,
   or -1 when out of memory (nothing set). */
int gf_dbrow_set_bin(gf_dbrow *r, const gf_host *h, gf_out *out,
                     const char *name, const void *data, size_t len);

/* Free the scratch memory; r is zeroed and reusable. */
void gf_dbrow_free(gf_dbrow *r);

#endif
