/*
 * gf_deadletter - the dead-letter file (see gf_deadletter.h).
 *
 * Each line is formatted into a buffer of the calling thread first, then
 * written with write(2) under the writer's mutex, so lines from several
 * stage threads never interleave. The file is opened (created, truncated)
 * by the first line; until then nothing exists on disk. gf_deadletter_open
 * removes a regular file left at the path by an earlier run, so a clean
 * run leaves no stale dead letters behind that an operator could mistake
 * for this run's. "-" writes to standard error.
 */
#include "gf_deadletter.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gf_alloc.h"
#include "gf_json.h"
#include "gf_pii.h"

struct gf_deadletter {
    char *path;           /* NULL for stderr */
    int fd;               /* -1 until the first line */
    pthread_mutex_t lock; /* guards fd and the writes */
    _Atomic uint64_t count;
};

int gf_deadletter_format(gf_buf *b, const char *stage, const char *reason,
                         const gf_record *rec, const void *raw, size_t len,
                         const char *file, uint64_t line,
                         const gf_deadletter_batch *batch)
{
    size_t start = b->len;
    const char *s = stage ? stage : "";
    const char *r = reason ? reason : "";
    if (gf_buf_puts(b, "{\"stage\":") != 0 ||
        gf_json_string(b, s, strlen(s)) != 0 ||
        gf_buf_puts(b, ",\"reason\":") != 0 ||
        gf_json_string(b, r, strlen(r)) != 0)
        goto fail_nomem;
    if (file && (gf_buf_puts(b, ",\"file\":") != 0 ||
                 gf_json_string(b, file, strlen(file)) != 0))
        goto fail_nomem;
    if (line > 0 && gf_buf_printf(b, ",\"line\":%" PRIu64, line) != 0)
        goto fail_nomem;
    if (batch && gf_buf_printf(b,
                               ",\"batch\":{\"origin\":%" PRIu64
                               ",\"seq\":%" PRIu64 ",\"reject\":%" PRIu32 "}",
                               batch->origin, batch->seq, batch->reject) != 0)
        goto fail_nomem;
    if (rec && rec->data && rec->len) {
        gf_buf scratch = {0};
        gf_record masked;
        const gf_record *r = rec;
        if (gf_pii_apply(gf_pii_mask_policy(), rec, &scratch, &masked))
            r = &masked;
        int rc = gf_buf_puts(b, ",\"record\":");
        if (rc == 0)
            rc = gf_json_record(b, r);
        gf_buf_free(&scratch);
        if (rc != 0)
            goto fail_nomem;
    } else if (raw) {
        gf_buf text = {0};
        bool cut = len > GF_DEADLETTER_MAX_RAW;
        int rc =
            gf_pii_mask_text(&text, raw, cut ? GF_DEADLETTER_MAX_RAW : len);
        if (rc == 0)
            rc = gf_buf_puts(b, ",\"raw\":");
        if (rc == 0)
            rc = gf_json_string(b, (const char *)text.data, text.len);
        if (rc == 0 && cut)
            rc = gf_buf_printf(b, ",\"raw_bytes\":%zu,\"raw_truncated\":true",
                               len);
        gf_buf_free(&text);
        if (rc != 0)
            goto fail_nomem;
    }
    if (gf_buf_puts(b, "}\n") != 0)
        goto fail_nomem;
    return 0;

fail_nomem:
    b->len = start; /* no half line */
    return -ENOMEM;
}

gf_deadletter *gf_deadletter_open(const char *path)
{
    if (!path || !*path)
        return NULL;
    gf_deadletter *dl = gf_calloc(1, sizeof *dl);
    if (!dl)
        return NULL;
    dl->fd = -1;
    if (strcmp(path, "-") != 0) {
        dl->path = gf_strdup(path);
        if (!dl->path)
            goto fail_path;
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISREG(st.st_mode))
            unlink(path); /* a stale file from an earlier run */
    }
    if (pthread_mutex_init(&dl->lock, NULL) != 0)
        goto fail_mutex;
    atomic_init(&dl->count, 0);
    return dl;

fail_mutex:
    gf_free(dl->path);
fail_path:
    gf_free(dl);
    return NULL;
}

/* Open the file on the first line. Called with the lock held. */
static int open_lazily(gf_deadletter *dl)
{
    if (dl->fd >= 0)
        return 0;
    if (!dl->path) {
        dl->fd = STDERR_FILENO;
        return 0;
    }
    int fd = open(dl->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    dl->fd = fd;
    return 0;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int gf_deadletter_write(gf_deadletter *dl, const char *stage,
                        const char *reason, const gf_record *rec,
                        const void *raw, size_t len, const char *file,
                        uint64_t line)
{
    if (!dl)
        return -EINVAL;
    gf_buf b = {0};
    int r = gf_deadletter_format(&b, stage, reason, rec, raw, len, file, line,
                                 NULL);
    if (r == 0)
        r = gf_deadletter_write_lines(dl, b.data, b.len, 1);
    gf_buf_free(&b);
    return r;
}

int gf_deadletter_write_lines(gf_deadletter *dl, const void *lines, size_t len,
                              uint64_t n)
{
    if (!dl)
        return -EINVAL;
    if (n == 0)
        return 0;
    pthread_mutex_lock(&dl->lock);
    int r = open_lazily(dl);
    if (r == 0)
        r = write_all(dl->fd, lines, len);
    if (r == 0)
        atomic_fetch_add(&dl->count, n);
    pthread_mutex_unlock(&dl->lock);
    return r;
}

uint64_t gf_deadletter_count(const gf_deadletter *dl)
{
    return dl ? atomic_load(&dl->count) : 0;
}

int gf_deadletter_close(gf_deadletter **dlp)
{
    if (!dlp || !*dlp)
        return 0;
    gf_deadletter *dl = *dlp;
    int r = 0;
    if (dl->fd >= 0 && dl->fd != STDERR_FILENO) {
        if (fsync(dl->fd) != 0 && errno != EINVAL && errno != EROFS)
            r = -errno;
        if (close(dl->fd) != 0 && r == 0)
            r = -errno;
    }
    pthread_mutex_destroy(&dl->lock);
    gf_free(dl->path);
    gf_free(dl);
    *dlp = NULL;
    return r;
}
