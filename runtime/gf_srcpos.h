/*
 * gf_srcpos - source positions of records: which input file and line a
 * record came from, so that a stage far downstream of the ingest can still
 * send a bad record to the dead letters "with its reason and position".
 *
 * A position is two 32-bit numbers: the index of a file name in the run's
 * table and a 1-based line; 0 means unknown. The table is run-wide,
 * append-only and thread-safe: an ingest's gf_out interns its file name
 * once (gf_out caches the last name), and a rejecting stage looks the name
 * up by index. Names stay valid until the table is freed, so a pointer
 * from gf_srcpos_name may be kept for the run.
 *
 * Positions travel beside the records, never inside them: gf_out keeps one
 * per record ended (gf_out.h), an inproc edge carries them as a third frame
 * (gf_edge.h), and gf_stage_process hands each record's position to the
 * stage that reads it. Between processes they are not sent.
 */
#ifndef GF_SRCPOS_H
#define GF_SRCPOS_H

#include <stdbool.h>
#include <stdint.h>

/* One record's position: file index (0: unknown) and 1-based line (0:
   unknown). 8 bytes; an array of these is what an edge carries. */
typedef struct gf_srcpos {
    uint32_t file;
    uint32_t line;
} gf_srcpos;

/* The run's file names. */
typedef struct gf_srcpos_table gf_srcpos_table;

/* An empty table; NULL when out of memory. */
gf_srcpos_table *gf_srcpos_table_new(void);
/* Free the table and every name; *tp = NULL. NULL is ignored. */
void gf_srcpos_table_free(gf_srcpos_table **tp);

/*
 * The index of `name` (copied on first sight), from 1; the same name
 * always gets the same index. *stored (may be NULL) receives the table's
 * copy of the name. Returns 0 (unknown) for a NULL table or name, or when
 * memory runs out. Thread-safe.
 */
uint32_t gf_srcpos_intern(gf_srcpos_table *t, const char *name,
                          const char **stored);
/* The name of index `file`, or NULL for 0 or an index never given out.
   Valid until the table is freed. Thread-safe. */
const char *gf_srcpos_name(gf_srcpos_table *t, uint32_t file);

/* Is position p known at all (a file or a line)? */
static inline bool gf_srcpos_known(gf_srcpos p)
{
    return (p.file | p.line) != 0;
}

#endif
