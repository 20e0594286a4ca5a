/*
 * gf_dist - running some stage instances of a pipeline in this process
 * and the rest elsewhere (`gigflow run FILE --stage NAME[#I] ...`).
 *
 * Placement. The same file serves every process: each names the instances
 * it runs. An edge U -> S crosses processes (a gf_link) when S has a
 * `listen` endpoint (one per worker instance): S's instances bind there,
 * U's instances connect to every one of them. An edge to a stage without
 * `listen` stays inproc, so U and S must then run entirely in this
 * process. Instance ids (the producer ids on the wire) are the same in
 * every process: they are numbered over the whole file.
 *
 * Ids and end of stream across processes. An origin numbers its batches
 * 1..K: an ingest, an aggregate or export, and a classify fed inproc. A
 * classify fed over links is pass-through: for each input batch it sends
 * exactly one output message (possibly empty) to each downstream stage
 * under the input's id (origin, seq), and acknowledges the input only when
 * those outputs were acknowledged (chain acknowledgement), so a classify
 * worker's death loses nothing and a batch it had already passed on is
 * recognised downstream (gf_dedup). An origin sends its end of stream (K
 * batches, R records) once every batch was acknowledged; pass-through
 * stages forward it. A stateful stage is complete when every origin
 * upstream of it has ended and exactly its batches 1..K were taken.
 *
 * Failures: see docs/operations.md "Distributed runs".
 */
#ifndef GF_DIST_H
#define GF_DIST_H

#include <stddef.h>

#include "gf_pipeline.h"
#include "gf_stage.h"

/*
 * Which instances run here: `specs` are "NAME" (a stage of one worker) or
 * "NAME#I"; local[first[s] + i] is set for each. Returns 0, or -1 with a
 * message in *err (gf_malloc'd) for an unknown stage or instance.
 */
int gf_dist_place(const gf_pipeline *p, const char *const *specs, size_t n,
                  const size_t *first, unsigned char *local, char **err);

/*
 * The file name a process of a distributed run uses for a per-process file
 * of the pipeline (its dead letters): `path` with its first placed
 * instance `spec` ("NAME" or "NAME#I") inserted before the extension,
 * "out/dead.jsonl" -> "out/dead.sector.1.jsonl", so that processes sharing
 * a directory never write the same file. gf_malloc'd; NULL when out of
 * memory.
 */
char *gf_dist_own_path(const char *path, const char *spec);

/*
 * Create the sockets of every local instance (links and inproc edges),
 * after gf_dist_place and before init(). Returns 0; -2 with *err
 * (gf_malloc'd) for a placement the file cannot support (an inproc edge to
 * another process, endpoints that do not match the workers); -1 with *err
 * when a socket failed (an endpoint in use) or memory ran out.
 */
int gf_dist_setup(gf_run *run, gf_inst *inst, size_t ninst, const size_t *first,
                  char **err);

/* gf_out's on_full callback for local instances of a distributed run. */
int gf_dist_send(gf_out *out, void *arg);

/*
 * A record rejected by `in` (host reject()): when `in` is a stateless
 * stage processing a batch that came over a link, the dead letter is held
 * and written only once the outputs of that batch were acknowledged
 * downstream (so a worker that dies before that writes nothing, and the
 * one that redoes the batch writes it), with the batch's id in the line.
 * Returns 1 when held, 0 when the caller writes it now, negative when the
 * run fails.
 */
int gf_dist_hold_reject(gf_inst *in, const char *reason, const gf_record *rec,
                        const void *raw, size_t len, const char *file,
                        uint64_t line);

/* Thread entry of a local instance of a distributed run: arg is a gf_inst. */
void *gf_dist_thread(void *arg);

/*
 * The keeper: one thread per process that services the links of any local
 * instance busy in a plugin callback (each instance's thread holds its
 * links only between callbacks), so that peers keep hearing from it.
 * Start after the instances' threads; stop after they were joined and
 * before gf_dist_teardown. NULL (errno set) when the thread cannot start.
 */
typedef struct gf_dist_keeper gf_dist_keeper;
gf_dist_keeper *gf_dist_keeper_start(gf_run *run, gf_inst *inst, size_t ninst);
void gf_dist_keeper_stop(gf_dist_keeper **kp);

/* Free the keys loaded by gf_dist_setup (after the links' context was
   terminated or not; accepts a run without them). */
void gf_dist_free_security(gf_run *run);

/* Free an instance's links (after its thread was joined). */
void gf_dist_teardown(gf_inst *in);

#endif
