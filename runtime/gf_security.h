/*
 * gf_security - CURVE encryption and authentication of the tcp/ipc edges
 * between processes, and the limits every listening socket gets.
 *
 * A pipeline with a top-level `security` section names a directory of
 * keys: STAGE.key (the stage's secret and public key, readable by its
 * owner only) and STAGE.pub (its public key) for every stage, as written by
 * `gigflow keygen STAGE --dir DIR`. A process running stage S proves itself
 * with S.key: as a CURVE server on its `listen` sockets, and as a CURVE
 * client when it connects to a listening stage X, whose public key it
 * expects from X.pub (so it cannot be fooled by an impostor listening at
 * X's address).
 *
 * A listening stage accepts only the client keys of its allow-list: the
 * `allow:` files of the security section, or by default the .pub of every
 * stage that feeds it (its `from` stages), and its own .pub when it is an
 * aggregate with several workers (instances 1..N-1 connect to instance 0
 * with the stage's key to hand over their partial states). The check runs in a
 * ZAP handler (RFC 27) thread bound at inproc://zeromq.zap.01 of the process's
 * ZeroMQ context; server sockets are set to ZMQ_ZAP_ENFORCE_DOMAIN so that a
 * missing or stopped handler refuses every client instead of letting all
 * in (libzmq's default). Plaintext (NULL mechanism) clients, clients with
 * an unknown key and clients that expect another server key are refused
 * during the handshake; nothing they send reaches the application.
 *
 * A message accepted from an allowed client carries the client's stage
 * name as its ZAP User-Id: zmq_msg_gets(&msg, "User-Id") (the basename of
 * the allow file without .pub for an explicit allow-list).
 *
 * Key material never appears in errors or logs; only file names do.
 *
 * Threads: load, start and free from one thread; server, client and
 * refused may be called from any thread (the loaded keys never change).
 * gf_security_free may come before or after zmq_ctx_term of the context
 * the handler runs in: the ZAP thread also ends when the context does.
 */
#ifndef GF_SECURITY_H
#define GF_SECURITY_H

#include <stdint.h>

#include "gf_buf.h"
#include "gf_diag.h"
#include "gf_pipeline.h"

typedef struct gf_security gf_security;

/*
 * Read the keys stage `stage` of p needs: its own STAGE.key (a regular
 * file with no group/other permissions, holding a matching public and
 * secret key), the .pub of every listening stage it is connected to
 * (servers it will connect to), and its allow-list when it listens
 * itself. Public keys of other stages are read when present.
 * Sets *out to NULL and returns 0 when p has no security section
 * (plaintext edges). Errors (missing, malformed or unsafe key files, an
 * unknown stage) go to d as "FILE: message"; returns -1, *out NULL.
 * The returned object does not point into p.
 */
int gf_security_load(const gf_pipeline *p, const char *stage, gf_security **out,
                     gf_diag *d);

/*
 * Start the ZAP handler thread in ZeroMQ context zctx: once per process
 * and context (a second handler in the same context fails with
 * EADDRINUSE). Returns 0, or -1 with errno set.
 */
int gf_security_start(gf_security *s, void *zctx);

/*
 * Make `sock` (not yet bound) a CURVE server with the loaded stage's key,
 * accepting the allow-list of `stage`'s inputs
 * (ZAP domain "gigflow/STAGE", enforced), and harden it
 * (gf_security_harden). `stage` is normally the loaded stage; any stage of
 * the pipeline whose allow-list could be read is accepted. Works before
 * gf_security_start, but then refuses every client until it runs.
 * Returns 0, or -1 with errno set (ENOENT: no allow-list for `stage`).
 */
int gf_security_server(gf_security *s, void *sock, const char *stage);

/*
 * Make `sock` (not yet connected) a CURVE client of the listening stage
 * `server_stage` with the loaded stage's key, expecting server_stage's
 * public key. Returns 0, or -1 with errno set (ENOENT: server_stage's
 * .pub was not found when loading).
 */
int gf_security_client(gf_security *s, void *sock, const char *server_stage);

/* Handshakes refused by the ZAP handler so far (unknown client keys). */
uint64_t gf_security_refused(const gf_security *s);

/*
 * Append the family gigflow_handshakes_refused_total (gf_metrics) for a
 * process's metrics endpoint; writes 0 when s is NULL (plaintext).
 */
void gf_security_metrics(const gf_security *s, gf_buf *b);

/* Stop the ZAP thread, wipe the keys, free; *sp = NULL. Accepts NULL. */
void gf_security_free(gf_security **sp);

/*
 * Limits for any socket that accepts messages from other processes, with
 * or without CURVE: ZMQ_MAXMSGSIZE of GF_FRAME_HDR_SIZE +
 * GF_FRAME_MAX_PAYLOAD (a peer sending a larger frame is disconnected
 * before it is buffered). Returns 0, or -1 with errno set.
 */
int gf_security_harden(void *sock);

/*
 * Write a new key pair for `name` into dir: NAME.key (created with
 * O_CREAT|O_EXCL and mode 0600, so it is never readable by others, not
 * even for a moment) and NAME.pub (0644). Refuses to replace either file.
 * Returns 0, or -1 with *err a gf_malloc'd message naming the file (free
 * with gf_free). The format is that of CZMQ certificates (zcert), so CZMQ
 * tools can read the files:
 *
 *     metadata
 *         name = "NAME"
 *     curve
 *         public-key = "<40 Z85 characters>"
 *         secret-key = "<40 Z85 characters>"     (NAME.key only)
 */
int gf_security_keygen(const char *dir, const char *name, char **err);

#endif
