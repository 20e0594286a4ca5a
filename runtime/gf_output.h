/*
 * gf_output - the atomic outputs of one run (gf_host.output_open and
 * output_path).
 *
 * An export asks for a file by its target path; it gets a temporary file
 * beside the target (same directory, so that rename is atomic), hidden as
 * ".NAME.PID.N.tmp" and created 0666 & ~umask. The runner (the executor,
 * the test harness) keeps one gf_output_set per run: after every stage's
 * commit() succeeded it calls gf_output_commit, which flushes, fsyncs and
 * renames every temporary file over its target and fsyncs the directory;
 * gf_output_free removes whatever was not committed. So no export sees a
 * half-written file, an existing target is replaced only at commit, and a
 * failed or interrupted run leaves the old target as it was.
 *
 * The FILE* handed out is a stdio stream of the runtime's own (fopencookie)
 * so that the runtime knows when the plugin fclose()s it: the plugin may
 * close it (and open the same path again later, which appends to the same
 * temporary file - a way to bound open files) or leave it open for the
 * runtime to flush at commit and close at the end.
 *
 * Safe to call from several stage threads at once; commit and free run when
 * no stage runs.
 */
#ifndef GF_OUTPUT_H
#define GF_OUTPUT_H

#include <stddef.h>
#include <stdio.h>

typedef struct gf_output_set gf_output_set;

/* An empty set, or NULL when out of memory. */
gf_output_set *gf_output_new(void);

/*
 * Make `path` ready to be an output target: refused (-1 and a message in
 * err) when it exists and is not a regular file (a device, a directory: a
 * rename would replace it); otherwise its missing parent directories are
 * created. Returns 0, or -1 with the message in err (errlen bytes).
 */
int gf_output_prepare(const char *path, char *err, size_t errlen);

/*
 * A stream on a new temporary file for target `path`, written by `owner`
 * (any pointer that tells writers apart, e.g. the gf_ctx; `owner_name`
 * names it in messages). Opening a path that the same owner opened before
 * and has fclose()d appends to the same temporary file; a path another
 * owner writes, or one still open, is refused. Returns NULL with a message
 * in err on failure (the target's directory is missing, the target is not
 * a regular file, no memory).
 */
FILE *gf_output_open(gf_output_set *s, const void *owner,
                     const char *owner_name, const char *path, char *err,
                     size_t errlen);

/*
 * The same for libraries that write by file name: creates the temporary
 * file (empty) and returns its path, valid until gf_output_free. Asking
 * again for the same path by the same owner returns the same name.
 */
const char *gf_output_path(gf_output_set *s, const void *owner,
                           const char *owner_name, const char *path, char *err,
                           size_t errlen);

/*
 * Make every output visible: flush the streams still open, fsync each file,
 * rename it over its target, fsync the directories. Stops at the first
 * failure and returns -1 with the message in err (the outputs renamed
 * before it stay; the rest are removed by gf_output_free); 0 otherwise.
 * Streams stay open: the plugin's destroy() may still fclose() them.
 */
int gf_output_commit(gf_output_set *s, char *err, size_t errlen);

/* Close what is still open, remove every uncommitted temporary file, free
   the set; *sp = NULL. Accepts NULL. */
void gf_output_free(gf_output_set **sp);

#endif
