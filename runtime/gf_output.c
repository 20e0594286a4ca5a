/*
 * gf_output - the atomic outputs of one run (see gf_output.h).
 *
 * Each output is one entry: target, temporary path, its directory, the
 * owner, and while the plugin holds it open a cookie stream over a plain
 * descriptor. The cookie's close function is how the runtime learns that
 * the plugin fclose()d the stream; the descriptor is then closed too, so a
 * plugin that keeps many files (a CSV split into one file per value) can
 * bound its open descriptors by closing and reopening.
 */
#define _GNU_SOURCE
#include "gf_output.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gf_alloc.h"

/* Temporary names tried per target before giving up. */
#define GF_OUTPUT_TRIES 1000

typedef struct gf_output {
    char *target, *tmp, *dir;
    const void *owner;
    char *owner_name;
    FILE *fp;       /* the plugin's stream, NULL when closed */
    int fd;         /* under fp; -1 when closed */
    bool by_name;   /* output_path: the library writes the file itself */
    bool committed; /* renamed over the target */
} gf_output;

struct gf_output_set {
    pthread_mutex_t lock;
    gf_output **v;
    size_t n, cap;
};

gf_output_set *gf_output_new(void)
{
    gf_output_set *s = gf_calloc(1, sizeof *s);
    if (s)
        pthread_mutex_init(&s->lock, NULL);
    return s;
}

/* The directory part of path: "." without a slash, "/" for "/name". */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return gf_strdup(".");
    return gf_strndup(path, slash == path ? 1 : (size_t)(slash - path));
}

/* Refuse a target that exists and is no regular file. */
static int check_target(const char *path, char *err, size_t errlen)
{
    struct stat sb;
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        snprintf(err, errlen,
                 "%s exists and is not a regular file; an export replaces "
                 "the file it writes: name a file (or '-' for stdout where "
                 "the plugin allows it)",
                 path);
        return -1;
    }
    return 0;
}

int gf_output_prepare(const char *path, char *err, size_t errlen)
{
    if (check_target(path, err, errlen) < 0)
        return -1;
    char *dir = dir_of(path);
    if (!dir) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = 0;
    for (char *p = dir + 1; *dir && rc == 0; p++) { /* mkdir -p */
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(dir, 0777) != 0 && errno != EEXIST)
            rc = -errno;
        *p = c;
        if (c == '\0')
            break;
    }
    if (rc < 0)
        snprintf(err, errlen, "cannot create the directory of %s: %s", path,
                 strerror(-rc));
    gf_free(dir);
    return rc < 0 ? -1 : 0;
}

/* --- the cookie stream -----------------------------------------------------
 */

static ssize_t cookie_write(void *cookie, const char *buf, size_t len)
{
    gf_output *o = cookie;
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(o->fd, buf + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return done ? (ssize_t)done : -1;
        done += (size_t)w;
    }
    return (ssize_t)done;
}

static int cookie_seek(void *cookie, off64_t *pos, int whence)
{
    gf_output *o = cookie;
    off_t r = lseek(o->fd, (off_t)*pos, whence);
    if (r < 0)
        return -1;
    *pos = r;
    return 0;
}

static int cookie_close(void *cookie)
{
    gf_output *o = cookie;
    int rc = close(o->fd);
    o->fd = -1;
    o->fp = NULL;
    return rc;
}

static const cookie_io_functions_t cookie_io = {
    .write = cookie_write,
    .seek = cookie_seek,
    .close = cookie_close,
};

/* A stream over o->fd; closes the descriptor when that fails. */
static int open_stream(gf_output *o, char *err, size_t errlen)
{
    o->fp = fopencookie(o, "w", cookie_io);
    if (!o->fp) {
        snprintf(err, errlen, "%s: %s", o->tmp, strerror(errno));
        close(o->fd);
        o->fd = -1;
        return -1;
    }
    return 0;
}

/* --- entries -----------------------------------------------------------------
 */

static void entry_free(gf_output *o)
{
    if (!o)
        return;
    if (o->fp)
        fclose(o->fp); /* cookie_close closes fd */
    else if (o->fd >= 0)
        close(o->fd);
    if (o->tmp && !o->committed)
        unlink(o->tmp);
    gf_free(o->target);
    gf_free(o->tmp);
    gf_free(o->dir);
    gf_free(o->owner_name);
    gf_free(o);
}

/* A new entry with its temporary file created (o->fd open). */
static gf_output *entry_new(const void *owner, const char *owner_name,
                            const char *path, char *err, size_t errlen)
{
    if (check_target(path, err, errlen) < 0)
        return NULL;
    gf_output *o = gf_calloc(1, sizeof *o);
    if (!o)
        goto fail_nomem;
    o->fd = -1;
    o->owner = owner;
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (!(o->target = gf_strdup(path)) || !(o->dir = dir_of(path)) ||
        !(o->owner_name = gf_strdup(owner_name ? owner_name : "?")))
        goto fail_nomem;
    const char *sep = strcmp(o->dir, "/") == 0 ? "" : "/";
    for (unsigned n = 0; n < GF_OUTPUT_TRIES; n++) {
        gf_free(o->tmp);
        o->tmp = gf_asprintf("%s%s.%s.%ld.%u.tmp", o->dir, sep, base,
                             (long)getpid(), n);
        if (!o->tmp)
            goto fail_nomem;
        o->fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (o->fd >= 0)
            return o;
        if (errno == EEXIST)
            continue;
        int e = errno;
        gf_free(o->tmp);
        o->tmp = NULL;
        if (e == ENOENT)
            snprintf(err, errlen,
                     "%s: the directory %s does not exist; create it first",
                     path, o->dir);
        else if (e == ENOTDIR)
            snprintf(err, errlen, "%s: a part of %s is a file, not a directory",
                     path, o->dir);
        else
            snprintf(err, errlen, "%s: cannot create a file in %s: %s", path,
                     o->dir, strerror(e));
        entry_free(o);
        return NULL;
    }
    snprintf(err, errlen, "%s: no free temporary name in %s", path, o->dir);
    entry_free(o);
    return NULL;

fail_nomem:
    snprintf(err, errlen, "out of memory");
    entry_free(o);
    return NULL;
}

/*
 * The entry for path: an existing one of the same owner (NULL and a message
 * when another owner has it, or it is still open), or a new one added to
 * the set. Called with the lock held.
 */
static gf_output *entry_get(gf_output_set *s, const void *owner,
                            const char *owner_name, const char *path,
                            bool by_name, bool *fresh, char *err, size_t errlen)
{
    *fresh = false;
    for (size_t i = 0; i < s->n; i++) {
        gf_output *o = s->v[i];
        if (strcmp(o->target, path) != 0)
            continue;
        if (o->owner != owner) {
            snprintf(err, errlen,
                     "%s is written by stage %s already in this "
                     "run: give each export its own file",
                     path, o->owner_name);
            return NULL;
        }
        if (o->fp || o->committed || o->by_name != by_name) {
            snprintf(err, errlen, "%s is open already", path);
            return NULL;
        }
        return o;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        gf_output **v = gf_realloc(s->v, cap * sizeof *v);
        if (!v) {
            snprintf(err, errlen, "out of memory");
            return NULL;
        }
        s->v = v;
        s->cap = cap;
    }
    gf_output *o = entry_new(owner, owner_name, path, err, errlen);
    if (!o)
        return NULL;
    o->by_name = by_name;
    s->v[s->n++] = o;
    *fresh = true;
    return o;
}

FILE *gf_output_open(gf_output_set *s, const void *owner,
                     const char *owner_name, const char *path, char *err,
                     size_t errlen)
{
    pthread_mutex_lock(&s->lock);
    bool fresh;
    FILE *fp = NULL;
    gf_output *o =
        entry_get(s, owner, owner_name, path, false, &fresh, err, errlen);
    if (o && !fresh) { /* reopened: append to what it wrote before */
        o->fd = open(o->tmp, O_WRONLY | O_APPEND | O_CLOEXEC);
        if (o->fd < 0)
            snprintf(err, errlen, "%s: %s", o->tmp, strerror(errno));
    }
    if (o && o->fd >= 0 && open_stream(o, err, errlen) == 0)
        fp = o->fp;
    pthread_mutex_unlock(&s->lock);
    return fp;
}

const char *gf_output_path(gf_output_set *s, const void *owner,
                           const char *owner_name, const char *path, char *err,
                           size_t errlen)
{
    pthread_mutex_lock(&s->lock);
    bool fresh;
    gf_output *o =
        entry_get(s, owner, owner_name, path, true, &fresh, err, errlen);
    if (o && fresh) { /* the name is reserved; the library opens it */
        close(o->fd);
        o->fd = -1;
    }
    pthread_mutex_unlock(&s->lock);
    return o ? o->tmp : NULL;
}

/* fsync a file or directory by name. Returns 0 or -1 (errno set). */
static int sync_path(const char *path, int flags)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | flags);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

int gf_output_commit(gf_output_set *s, char *err, size_t errlen)
{
    for (size_t i = 0; s && i < s->n; i++) {
        gf_output *o = s->v[i];
        if (o->committed)
            continue;
        if (o->fp && fflush(o->fp) != 0) {
            snprintf(err, errlen, "cannot write %s: %s", o->tmp,
                     strerror(errno));
            return -1;
        }
        if ((o->fd >= 0 ? fsync(o->fd) : sync_path(o->tmp, 0)) != 0) {
            snprintf(err, errlen, "cannot write %s: %s", o->tmp,
                     strerror(errno));
            return -1;
        }
        if (rename(o->tmp, o->target) != 0) {
            snprintf(err, errlen, "cannot rename %s to %s: %s", o->tmp,
                     o->target, strerror(errno));
            return -1;
        }
        o->committed = true;
        sync_path(o->dir, O_DIRECTORY); /* the rename itself, durably */
    }
    return 0;
}

void gf_output_free(gf_output_set **sp)
{
    if (!sp || !*sp)
        return;
    gf_output_set *s = *sp;
    for (size_t i = 0; i < s->n; i++)
        entry_free(s->v[i]);
    gf_free(s->v);
    pthread_mutex_destroy(&s->lock);
    gf_free(s);
    *sp = NULL;
}
