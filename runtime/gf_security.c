/*
 * gf_security - CURVE keys, the ZAP handler and socket limits
 * (gf_security.h).
 *
 * Loading reads every key a process can need up front, so that a missing
 * or unsafe key file stops the process before it opens a socket, with a
 * message naming the file; afterwards the keys never change, and the ZAP
 * thread reads them without locks. Per pipeline stage the loaded object
 * keeps that stage's public key (when its .pub was found) and its
 * allow-list (when every key of it could be read).
 *
 * Key files use the CZMQ certificate layout (see gf_security_keygen); the
 * reader takes `public-key = "..."` and `secret-key = "..."` lines anywhere
 * in the file, ignores `#` comments and other lines, and checks that both
 * are 40-character Z85 keys and belong together.
 */
#include "gf_security.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zmq.h>

#include "gf_alloc.h"
#include "gf_frame.h"
#include "gf_metrics.h"
#include "gf_options.h"

/* A stable option in libzmq 4.3 builds, declared only under the draft API
   in its header; gf_security_server checks that it took effect. */
#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#define ZMQ_ZAP_ENFORCE_DOMAIN 93
#endif

#define KEY_Z85 40        /* characters of a Z85 key */
#define KEY_BIN 32        /* bytes of a key */
#define KEY_FILE_MAX 8192 /* larger files are not key files */
#define DOMAIN_PREFIX "gigflow/"
#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define ZAP_MAX_PARTS 8

/* One stage of the pipeline: its public key, if known, and allow-list. */
typedef struct stage_keys {
    char *name;
    bool have_pub;
    uint8_t pub[KEY_BIN];
    bool have_allow; /* every key of the allow-list was read */
    size_t nallow;
    uint8_t (*allow)[KEY_BIN];
    char **allow_user; /* ZAP User-Id of each allowed key */
} stage_keys;

struct gf_security {
    char *stage; /* the stage this process runs */
    uint8_t public_key[KEY_BIN];
    uint8_t secret_key[KEY_BIN];
    size_t nstages;
    stage_keys *stages; /* pipeline file order */
    _Atomic uint64_t refused;
    bool started;
    pthread_t thread;
    int stop_fd[2]; /* the thread polls [0]; free writes [1] */
    void *zap;      /* the handler's REP socket (thread-owned) */
};

/* ------------------------------------------------------------------ */
/* key files                                                           */

/* Where a key file lives (`path`) and how messages name it (`shown`). */
typedef struct key_file {
    char *path;
    char *shown;
} key_file;

static void key_file_free(key_file *k)
{
    gf_free(k->path);
    gf_free(k->shown);
    k->path = k->shown = NULL;
}

/*
 * `dir` + "/" + `name` + `ext`, without doubling a trailing slash. NULL
 * when out of memory.
 */
static char *join(const char *dir, const char *name, const char *ext)
{
    size_t len = strlen(dir);
    bool slash = len > 0 && dir[len - 1] == '/';
    return gf_asprintf("%s%s%s%s", dir, slash || !len ? "" : "/", name, ext);
}

/*
 * A path from the pipeline (`rel`, relative to the pipeline file's
 * directory unless absolute), resolved for opening and spelled for
 * messages as reachable from the working directory: "keys/x.pub" for a
 * pipeline file in ".", "pipelines/keys/x.pub" for pipelines/p.yaml.
 */
static int pipeline_path(const gf_pipeline *p, const char *rel, key_file *out)
{
    out->path = gf_options_resolve_path(rel, p->dir);
    const char *slash = strrchr(p->file, '/');
    if (rel[0] == '/' || !slash) {
        out->shown = gf_strdup(rel);
    } else {
        while (rel[0] == '.' && rel[1] == '/')
            rel += 2;
        out->shown =
            gf_asprintf("%.*s/%s", (int)(slash - p->file), p->file, rel);
    }
    if (!out->path || !out->shown) {
        key_file_free(out);
        return -ENOMEM;
    }
    return 0;
}

/* Report about key file k: at a pipeline node when given, else alone. */
static void kerr(gf_diag *d, const gf_ynode *at, const key_file *k,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void kerr(gf_diag *d, const gf_ynode *at, const key_file *k,
                 const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (at)
        gf_diag_add(d, at->file, at->line, at->col, "%s: %s", k->shown, msg);
    else
        gf_diag_add(d, k->shown, 0, 0, "%s", msg);
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/*
 * Find `name = "VALUE"` (quotes optional) at the start of a line of text
 * (NUL-terminated, comments skipped). Returns the number of such lines;
 * the first value's start and length go to *val / *len.
 */
static int find_key_line(const char *text, const char *name, const char **val,
                         size_t *len)
{
    int found = 0;
    size_t nlen = strlen(name);
    for (const char *line = text; line && *line;) {
        const char *next = strchr(line, '\n');
        const char *s = line;
        while (is_space(*s))
            s++;
        if (strncmp(s, name, nlen) == 0 &&
            (is_space(s[nlen]) || s[nlen] == '=')) {
            s += nlen;
            while (is_space(*s))
                s++;
            if (*s == '=') {
                s++;
                while (is_space(*s))
                    s++;
                const char *end;
                if (*s == '"') {
                    s++;
                    end = s;
                    while (*end && *end != '"' && *end != '\n')
                        end++;
                } else {
                    end = s;
                    while (*end && !is_space(*end) && *end != '\n' &&
                           *end != '#')
                        end++;
                }
                if (found++ == 0) {
                    *val = s;
                    *len = (size_t)(end - s);
                }
            }
        }
        line = next ? next + 1 : NULL;
    }
    return found;
}

/* Decode a Z85 key of exactly KEY_Z85 characters. Returns 0 or -1. */
static int decode_key(const char *s, size_t len, uint8_t out[KEY_BIN])
{
    char z[KEY_Z85 + 1];
    if (len != KEY_Z85)
        return -1;
    memcpy(z, s, KEY_Z85);
    z[KEY_Z85] = '\0';
    int rc = zmq_z85_decode(out, z) ? 0 : -1;
    explicit_bzero(z, sizeof z);
    return rc;
}

/*
 * Read key file k. secret: it is a STAGE.key (a regular file without group
 * or other permissions, with a secret-key line and a public key that
 * matches it, or none); otherwise a .pub (a public-key line, no secret).
 * `hint` finishes messages about a missing or broken file. Errors go to d
 * (at `at` when given). Returns 0, or -1 (ENOENT-like misses included).
 */
static int read_key_file(const key_file *k, bool secret, const char *hint,
                         const gf_ynode *at, uint8_t pub[KEY_BIN],
                         uint8_t sec[KEY_BIN], gf_diag *d)
{
    int rc = -1;
    char text[KEY_FILE_MAX + 1];
    size_t n = 0;
    int fd = open(k->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        kerr(d, at, k, "cannot open: %s%s", strerror(errno),
             errno == ENOENT ? hint : "");
        return -1;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        kerr(d, at, k, "cannot stat: %s", strerror(errno));
        goto done;
    }
    if (!S_ISREG(sb.st_mode)) {
        kerr(d, at, k, "not a regular file%s", hint);
        goto done;
    }
    if (secret && (sb.st_mode & 077)) {
        kerr(d, at, k, "permissions %04o are too open; chmod 600 %s",
             (unsigned)(sb.st_mode & 07777), k->shown);
        goto done;
    }
    for (;;) {
        ssize_t r = read(fd, text + n, sizeof text - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            kerr(d, at, k, "cannot read: %s", strerror(errno));
            goto done;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n == sizeof text - 1) {
            kerr(d, at, k, "larger than %d bytes: not a key file%s",
                 KEY_FILE_MAX, hint);
            goto done;
        }
    }
    text[n] = '\0';
    if (memchr(text, '\0', n)) {
        kerr(d, at, k, "binary data: not a key file%s", hint);
        goto done;
    }

    const char *v;
    size_t vlen;
    int nsec = find_key_line(text, "secret-key", &v, &vlen);
    if (!secret && nsec) {
        kerr(d, at, k,
             "holds a secret key; a .pub file must hold the public key "
             "only (share STAGE.pub, never STAGE.key)");
        goto done;
    }
    if (secret) {
        if (nsec != 1) {
            kerr(d, at, k, "%s secret-key line%s",
                 nsec ? "more than one" : "no", hint);
            goto done;
        }
        if (decode_key(v, vlen, sec) != 0) {
            kerr(d, at, k, "secret-key is not a 40-character Z85 key%s", hint);
            goto done;
        }
    }
    int npub = find_key_line(text, "public-key", &v, &vlen);
    if (npub > 1 || (!secret && npub == 0)) {
        kerr(d, at, k, "%s public-key line%s", npub ? "more than one" : "no",
             hint);
        goto done;
    }
    if (npub == 1 && decode_key(v, vlen, pub) != 0) {
        kerr(d, at, k, "public-key is not a 40-character Z85 key%s", hint);
        goto done;
    }
    if (secret) {
        char sz[KEY_Z85 + 1], pz[KEY_Z85 + 1];
        uint8_t derived[KEY_BIN];
        int ok = zmq_z85_encode(sz, sec, KEY_BIN) &&
                 zmq_curve_public(pz, sz) == 0 && zmq_z85_decode(derived, pz);
        explicit_bzero(sz, sizeof sz);
        if (!ok) {
            kerr(d, at, k, "cannot derive the public key: %s",
                 zmq_strerror(errno));
            goto done;
        }
        if (npub == 1 && memcmp(derived, pub, KEY_BIN) != 0) {
            kerr(d, at, k,
                 "public-key does not belong to secret-key (the file was "
                 "edited or mixed up)%s",
                 hint);
            goto done;
        }
        memcpy(pub, derived, KEY_BIN);
    }
    rc = 0;
done:
    explicit_bzero(text, sizeof text);
    close(fd);
    return rc;
}

/* ------------------------------------------------------------------ */
/* loading                                                             */

static long find_stage(const gf_security *s, const char *name)
{
    for (size_t i = 0; i < s->nstages; i++)
        if (strcmp(s->stages[i].name, name) == 0)
            return (long)i;
    return -1;
}

/* The User-Id for an allow file: its base name without ".pub". */
static char *user_of(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t len = strlen(base);
    if (len > 4 && strcmp(base + len - 4, ".pub") == 0)
        len -= 4;
    return gf_strndup(base, len);
}

/* Add key `key` with user `user` to a stage's allow-list. */
static int allow_add(stage_keys *st, const uint8_t key[KEY_BIN],
                     const char *user)
{
    uint8_t(*a)[KEY_BIN] = gf_realloc(st->allow, (st->nallow + 1) * KEY_BIN);
    if (!a)
        return -ENOMEM;
    st->allow = a;
    char **u = gf_realloc(st->allow_user, (st->nallow + 1) * sizeof *u);
    if (!u)
        return -ENOMEM;
    st->allow_user = u;
    if (!(u[st->nallow] = gf_strdup(user)))
        return -ENOMEM;
    memcpy(a[st->nallow], key, KEY_BIN);
    st->nallow++;
    return 0;
}

/* Is stage j a neighbour of stage i (one feeds the other)? */
static bool adjacent(const gf_stage_def *si, size_t j)
{
    for (size_t k = 0; k < si->nfrom; k++)
        if (si->from[k] == j)
            return true;
    for (size_t k = 0; k < si->nto; k++)
        if (si->to[k] == j)
            return true;
    return false;
}

/*
 * Public keys of every stage: required (errors) for listening neighbours of
 * stage `self`, read when present for the others.
 */
static int load_public_keys(gf_security *s, const gf_pipeline *p, size_t self,
                            const char *keys, const char *keys_shown,
                            gf_diag *d)
{
    int rc = 0;
    for (size_t i = 0; i < p->nstages; i++) {
        stage_keys *st = &s->stages[i];
        if (i == self) {
            memcpy(st->pub, s->public_key, KEY_BIN);
            st->have_pub = true;
            continue;
        }
        const gf_stage_def *def = &p->stages[i];
        bool need = def->listen && adjacent(&p->stages[self], i);
        key_file k = {join(keys, st->name, ".pub"),
                      join(keys_shown, st->name, ".pub")};
        char *hint = gf_asprintf(" (copy it from the machine where `gigflow "
                                 "keygen %s --dir %s` ran)",
                                 st->name, keys_shown);
        if (!k.path || !k.shown || !hint) {
            gf_diag_add(d, NULL, 0, 0, "out of memory");
            rc = -1;
        } else if (need) {
            if (read_key_file(&k, false, hint, NULL, st->pub, NULL, d) == 0)
                st->have_pub = true;
            else
                rc = -1;
        } else if (access(k.path, F_OK) == 0) {
            gf_diag scratch = {0};
            st->have_pub = read_key_file(&k, false, hint, NULL, st->pub, NULL,
                                         &scratch) == 0;
            gf_diag_free(&scratch);
        }
        gf_free(hint);
        key_file_free(&k);
    }
    return rc;
}

/* Does stage `def` connect to itself (gf_dist: an aggregate with several
   workers across processes)? */
static bool sends_to_itself(const gf_stage_def *def)
{
    return def->workers > 1 && def->nlisten > 0 && def->lib &&
           def->lib->desc->kind == GF_KIND_AGGREGATE &&
           GF_PLUGIN_CAN_MERGE(def->lib->desc);
}

/*
 * Allow-lists: the `allow` files (errors when unreadable) for every stage,
 * or each stage's `from` stages' public keys, complete when all were
 * found (require_inputs has reported those the loaded stage needs).
 */
static int load_allow_lists(gf_security *s, const gf_pipeline *p,
                            const gf_ynode *allow, gf_diag *d)
{
    if (allow && allow->type == GF_Y_SEQ) {
        stage_keys tmp = {0};
        int rc = 0;
        for (size_t j = 0; j < allow->n; j++) {
            const gf_ynode *e = allow->items[j];
            key_file k = {0};
            uint8_t key[KEY_BIN];
            char *user = NULL;
            if (e->type != GF_Y_SCALAR || pipeline_path(p, e->scalar, &k) ||
                !(user = user_of(e->scalar))) {
                gf_diag_add(d, e->file, e->line, e->col,
                            "security: cannot read allow entry %zu", j + 1);
                rc = -1;
            } else if (read_key_file(&k, false, "", e, key, NULL, d) != 0) {
                rc = -1;
            } else if (allow_add(&tmp, key, user) != 0) {
                gf_diag_add(d, NULL, 0, 0, "out of memory");
                rc = -1;
            }
            gf_free(user);
            key_file_free(&k);
        }
        for (size_t i = 0; rc == 0 && i < s->nstages; i++) {
            stage_keys *st = &s->stages[i];
            for (size_t j = 0; j < tmp.nallow; j++)
                if (allow_add(st, tmp.allow[j], tmp.allow_user[j]) != 0) {
                    gf_diag_add(d, NULL, 0, 0, "out of memory");
                    rc = -1;
                    break;
                }
            st->have_allow = rc == 0;
        }
        for (size_t j = 0; j < tmp.nallow; j++)
            gf_free(tmp.allow_user[j]);
        gf_free(tmp.allow_user);
        gf_free(tmp.allow);
        return rc;
    }
    for (size_t i = 0; i < p->nstages; i++) {
        const gf_stage_def *def = &p->stages[i];
        stage_keys *st = &s->stages[i];
        bool ok = true;
        for (size_t j = 0; j < def->nfrom; j++) {
            const stage_keys *up = &s->stages[def->from[j]];
            if (!up->have_pub) {
                ok = false;
                continue;
            }
            if (allow_add(st, up->pub, up->name) != 0) {
                gf_diag_add(d, NULL, 0, 0, "out of memory");
                return -1;
            }
        }
        /* the instances of an aggregate with workers hand their partial
           states to instance 0: the stage's own key connects too */
        if (sends_to_itself(def)) {
            if (!st->have_pub)
                ok = false;
            else if (allow_add(st, st->pub, st->name) != 0) {
                gf_diag_add(d, NULL, 0, 0, "out of memory");
                return -1;
            }
        }
        st->have_allow = ok;
    }
    return 0;
}

/*
 * The .pub of self's `from` stages when self listens (its default
 * allow-list), with a message for each one missing.
 */
static int require_inputs(gf_security *s, const gf_pipeline *p, size_t self,
                          const char *keys, const char *keys_shown, gf_diag *d)
{
    const gf_stage_def *def = &p->stages[self];
    int rc = 0;
    for (size_t j = 0; j < def->nfrom; j++) {
        stage_keys *up = &s->stages[def->from[j]];
        if (up->have_pub || p->stages[def->from[j]].listen) {
            /* a listening input was required (and reported) already */
            if (!up->have_pub)
                rc = -1;
            continue;
        }
        key_file k = {join(keys, up->name, ".pub"),
                      join(keys_shown, up->name, ".pub")};
        char *hint = gf_asprintf(" (stage '%s' listens and accepts the keys "
                                 "of the stages that feed it; copy the file "
                                 "from the machine where `gigflow keygen "
                                 "%s --dir %s` ran)",
                                 def->name, up->name, keys_shown);
        if (!k.path || !k.shown || !hint)
            gf_diag_add(d, NULL, 0, 0, "out of memory");
        else if (read_key_file(&k, false, hint, NULL, up->pub, NULL, d) == 0)
            up->have_pub = true;
        if (!up->have_pub)
            rc = -1;
        gf_free(hint);
        key_file_free(&k);
    }
    return rc;
}

int gf_security_load(const gf_pipeline *p, const char *stage, gf_security **out,
                     gf_diag *d)
{
    *out = NULL;
    if (!p->security)
        return 0;
    const gf_ynode *sec = p->security;
    const gf_ynode *keys_node = gf_ynode_get(sec, "keys");
    if (!keys_node || keys_node->type != GF_Y_SCALAR) {
        gf_diag_add(d, sec->file, sec->line, sec->col,
                    "security: 'keys' must name the directory of key files");
        return -1;
    }
    long self = gf_pipeline_find(p, stage);
    if (self < 0) {
        gf_diag_add(d, p->file, 0, 0, "no stage '%s' in the pipeline", stage);
        return -1;
    }
    gf_security *s = gf_calloc(1, sizeof *s);
    key_file dir = {0}, own = {0};
    char *hint = NULL;
    if (!s)
        goto fail_mem;
    s->stop_fd[0] = s->stop_fd[1] = -1;
    s->nstages = p->nstages;
    s->stage = gf_strdup(stage);
    s->stages = gf_calloc(p->nstages, sizeof *s->stages);
    if (!s->stage || !s->stages)
        goto fail_mem;
    for (size_t i = 0; i < p->nstages; i++)
        if (!(s->stages[i].name = gf_strdup(p->stages[i].name)))
            goto fail_mem;

    if (pipeline_path(p, keys_node->scalar, &dir) != 0)
        goto fail_mem;
    /* "keys/" is shown as "keys" so that "keys/S.key" reads well */
    size_t sl = strlen(dir.shown);
    while (sl > 1 && dir.shown[sl - 1] == '/')
        dir.shown[--sl] = '\0';
    own.path = join(dir.path, stage, ".key");
    own.shown = join(dir.shown, stage, ".key");
    hint = gf_asprintf(" (make a key pair with `gigflow keygen %s --dir %s` "
                       "on this machine)",
                       stage, dir.shown);
    if (!own.path || !own.shown || !hint)
        goto fail_mem;
    if (read_key_file(&own, true, hint, NULL, s->public_key, s->secret_key,
                      d) != 0)
        goto fail_load;
    int rc = load_public_keys(s, p, (size_t)self, dir.path, dir.shown, d);
    if (p->stages[self].listen && !gf_ynode_get(sec, "allow") &&
        require_inputs(s, p, (size_t)self, dir.path, dir.shown, d) != 0)
        rc = -1;
    if (load_allow_lists(s, p, gf_ynode_get(sec, "allow"), d) != 0)
        rc = -1;
    if (rc != 0)
        goto fail_load;
    key_file_free(&dir);
    key_file_free(&own);
    gf_free(hint);
    *out = s;
    return 0;

fail_mem:
    gf_diag_add(d, NULL, 0, 0, "out of memory while reading keys");
fail_load:
    key_file_free(&dir);
    key_file_free(&own);
    gf_free(hint);
    gf_security_free(&s);
    return -1;
}

/* ------------------------------------------------------------------ */
/* the ZAP handler                                                     */

static bool part_is(zmq_msg_t *m, const char *s)
{
    size_t n = strlen(s);
    return zmq_msg_size(m) == n && memcmp(zmq_msg_data(m), s, n) == 0;
}

/*
 * Decide one ZAP request (RFC 27): version, request id, domain, address,
 * identity, mechanism, credentials. Returns the status code; *user gets
 * the allowed client's name.
 */
static const char *zap_decide(gf_security *s, zmq_msg_t *parts, size_t n,
                              const char **user, const char **text)
{
    *user = "";
    if (n < 6 || !part_is(&parts[0], "1.0")) {
        *text = "malformed ZAP request";
        return "500";
    }
    size_t dlen = zmq_msg_size(&parts[2]);
    const char *dom = zmq_msg_data(&parts[2]);
    size_t plen = strlen(DOMAIN_PREFIX);
    const stage_keys *st = NULL;
    if (dlen > plen && memcmp(dom, DOMAIN_PREFIX, plen) == 0)
        for (size_t i = 0; i < s->nstages; i++) {
            const char *name = s->stages[i].name;
            if (strlen(name) == dlen - plen &&
                memcmp(name, dom + plen, dlen - plen) == 0)
                st = &s->stages[i];
        }
    if (!st || !st->have_allow) {
        *text = "unknown domain";
        return "400";
    }
    if (!part_is(&parts[5], "CURVE") || n != 7 ||
        zmq_msg_size(&parts[6]) != KEY_BIN) {
        *text = "CURVE required";
        return "400";
    }
    const uint8_t *key = zmq_msg_data(&parts[6]);
    for (size_t i = 0; i < st->nallow; i++)
        if (memcmp(st->allow[i], key, KEY_BIN) == 0) {
            *user = st->allow_user[i];
            *text = "OK";
            return "200";
        }
    *text = "client key not allowed";
    return "400";
}

/* Serve one request. Returns 0, or -1 with errno (ETERM: context ended). */
static int zap_serve(gf_security *s)
{
    zmq_msg_t parts[ZAP_MAX_PARTS], extra;
    size_t n = 0;
    int rc = -1;
    bool more = true;
    while (more) {
        /* parts past ZAP_MAX_PARTS are drained and make n != 7: refused */
        zmq_msg_t *m = n < ZAP_MAX_PARTS ? &parts[n] : &extra;
        zmq_msg_init(m);
        if (zmq_msg_recv(m, s->zap, 0) < 0) {
            zmq_msg_close(m);
            goto done;
        }
        more = zmq_msg_more(m);
        if (m == &extra)
            zmq_msg_close(m);
        else
            n++;
    }
    const char *user, *text;
    const char *status = zap_decide(s, parts, n, &user, &text);
    if (strcmp(status, "200") != 0)
        atomic_fetch_add_explicit(&s->refused, 1, memory_order_relaxed);
    const void *rid = n > 1 ? zmq_msg_data(&parts[1]) : "";
    size_t rlen = n > 1 ? zmq_msg_size(&parts[1]) : 0;
    if (zmq_send(s->zap, "1.0", 3, ZMQ_SNDMORE) < 0 ||
        zmq_send(s->zap, rid, rlen, ZMQ_SNDMORE) < 0 ||
        zmq_send(s->zap, status, 3, ZMQ_SNDMORE) < 0 ||
        zmq_send(s->zap, text, strlen(text), ZMQ_SNDMORE) < 0 ||
        zmq_send(s->zap, user, strlen(user), ZMQ_SNDMORE) < 0 ||
        zmq_send(s->zap, "", 0, 0) < 0)
        goto done;
    rc = 0;
done:
    for (size_t i = 0; i < n; i++)
        zmq_msg_close(&parts[i]);
    return rc;
}

static void *zap_main(void *arg)
{
    gf_security *s = arg;
    for (;;) {
        zmq_pollitem_t it[2] = {
            {s->zap, 0, ZMQ_POLLIN, 0},
            {NULL, s->stop_fd[0], ZMQ_POLLIN, 0},
        };
        if (zmq_poll(it, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break; /* ETERM: the context is ending */
        }
        if (it[1].revents)
            break;
        if (it[0].revents && zap_serve(s) < 0 && errno == ETERM)
            break;
    }
    int zero = 0;
    zmq_setsockopt(s->zap, ZMQ_LINGER, &zero, sizeof zero);
    zmq_close(s->zap);
    return NULL;
}

int gf_security_start(gf_security *s, void *zctx)
{
    if (s->started) {
        errno = EALREADY;
        return -1;
    }
    int err;
    if (pipe(s->stop_fd) != 0)
        return -1;
    fcntl(s->stop_fd[0], F_SETFD, FD_CLOEXEC);
    fcntl(s->stop_fd[1], F_SETFD, FD_CLOEXEC);
    s->zap = zmq_socket(zctx, ZMQ_REP);
    if (!s->zap)
        goto fail_pipe;
    int zero = 0;
    zmq_setsockopt(s->zap, ZMQ_LINGER, &zero, sizeof zero);
    if (zmq_bind(s->zap, ZAP_ENDPOINT) != 0)
        goto fail_socket;
    /* the socket is handed to the thread; pthread_create orders memory */
    err = pthread_create(&s->thread, NULL, zap_main, s);
    if (err != 0) {
        errno = err;
        goto fail_socket;
    }
    s->started = true;
    return 0;

fail_socket:
    err = errno;
    zmq_close(s->zap);
    s->zap = NULL;
    errno = err;
fail_pipe:
    err = errno;
    close(s->stop_fd[0]);
    close(s->stop_fd[1]);
    s->stop_fd[0] = s->stop_fd[1] = -1;
    errno = err;
    return -1;
}

/* ------------------------------------------------------------------ */
/* sockets                                                             */

int gf_security_harden(void *sock)
{
    int64_t max = (int64_t)GF_FRAME_HDR_SIZE + GF_FRAME_MAX_PAYLOAD;
    return zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &max, sizeof max);
}

int gf_security_server(gf_security *s, void *sock, const char *stage)
{
    long i = find_stage(s, stage);
    if (i < 0 || !s->stages[i].have_allow) {
        errno = ENOENT;
        return -1;
    }
    char *domain = gf_asprintf(DOMAIN_PREFIX "%s", stage);
    if (!domain) {
        errno = ENOMEM;
        return -1;
    }
    int rc = -1, one = 1, enforced = 0;
    size_t len = sizeof enforced;
    if (strlen(domain) > 254) {
        errno = ENAMETOOLONG;
        goto done;
    }
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof one) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, s->secret_key, KEY_BIN) !=
            0 ||
        zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, domain, strlen(domain)) != 0 ||
        zmq_setsockopt(sock, ZMQ_ZAP_ENFORCE_DOMAIN, &one, sizeof one) != 0 ||
        zmq_getsockopt(sock, ZMQ_ZAP_ENFORCE_DOMAIN, &enforced, &len) != 0)
        goto done;
    if (!enforced) {
        /* without it a stopped handler would let every client in */
        errno = ENOTSUP;
        goto done;
    }
    rc = gf_security_harden(sock);
done:
    gf_free(domain);
    return rc;
}

int gf_security_client(gf_security *s, void *sock, const char *server_stage)
{
    long i = find_stage(s, server_stage);
    if (i < 0 || !s->stages[i].have_pub) {
        errno = ENOENT;
        return -1;
    }
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, s->stages[i].pub, KEY_BIN) !=
            0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, s->public_key, KEY_BIN) !=
            0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, s->secret_key, KEY_BIN) != 0)
        return -1;
    return gf_security_harden(sock);
}

uint64_t gf_security_refused(const gf_security *s)
{
    return atomic_load_explicit(&((gf_security *)(uintptr_t)s)->refused,
                                memory_order_relaxed);
}

void gf_security_metrics(const gf_security *s, gf_buf *b)
{
    gf_metrics_counter(b, "gigflow_handshakes_refused_total",
                       "CURVE handshakes the ZAP handler refused (client key "
                       "not allowed).",
                       NULL, NULL, s ? gf_security_refused(s) : 0);
}

void gf_security_free(gf_security **sp)
{
    if (!sp || !*sp)
        return;
    gf_security *s = *sp;
    if (s->started) {
        ssize_t w;
        do
            w = write(s->stop_fd[1], "x", 1);
        while (w < 0 && errno == EINTR);
        pthread_join(s->thread, NULL);
    }
    if (s->stop_fd[0] >= 0)
        close(s->stop_fd[0]);
    if (s->stop_fd[1] >= 0)
        close(s->stop_fd[1]);
    for (size_t i = 0; s->stages && i < s->nstages; i++) {
        stage_keys *st = &s->stages[i];
        for (size_t j = 0; j < st->nallow; j++)
            gf_free(st->allow_user[j]);
        gf_free(st->allow_user);
        gf_free(st->allow);
        gf_free(st->name);
    }
    gf_free(s->stages);
    gf_free(s->stage);
    explicit_bzero(s->secret_key, sizeof s->secret_key);
    gf_free(s);
    *sp = NULL;
}

/* ------------------------------------------------------------------ */
/* keygen                                                              */

static bool valid_name(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
            return false;
    return true;
}

/* Write all of text to a new file (O_EXCL) with `mode`. 0 or -errno. */
static int write_new(const char *path, const char *text, mode_t mode)
{
    int fd =
        open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0)
        return -errno;
    int rc = 0;
    /* the umask may only have removed bits; make it exactly `mode` */
    if (fchmod(fd, mode) != 0)
        rc = -errno;
    size_t len = strlen(text), off = 0;
    while (rc == 0 && off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            rc = -errno;
        else
            off += (size_t)w;
    }
    if (rc == 0 && fsync(fd) != 0)
        rc = -errno;
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    if (rc != 0)
        unlink(path);
    return rc;
}

int gf_security_keygen(const char *dir, const char *name, char **err)
{
    *err = NULL;
    char pub[KEY_Z85 + 1], sec[KEY_Z85 + 1];
    char *key_path = NULL, *pub_path = NULL, *text = NULL;
    int rc = -1;
    if (!valid_name(name)) {
        *err = gf_asprintf("'%s' is not a stage name (letters, digits, '_' "
                           "and '-' only)",
                           name);
        return -1;
    }
    struct stat sb;
    if (stat(dir, &sb) != 0 && errno == ENOENT && mkdir(dir, 0700) != 0) {
        *err = gf_asprintf("%s: cannot create the directory: %s", dir,
                           strerror(errno));
        return -1;
    }
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        *err = gf_asprintf("%s: not a directory", dir);
        return -1;
    }
    key_path = join(dir, name, ".key");
    pub_path = join(dir, name, ".pub");
    if (!key_path || !pub_path)
        goto fail_mem;
    if (lstat(pub_path, &sb) == 0 || lstat(key_path, &sb) == 0) {
        *err = gf_asprintf("%s: exists; refusing to overwrite keys (to "
                           "replace them, remove %s and %s, then hand out "
                           "the new %s.pub)",
                           lstat(key_path, &sb) == 0 ? key_path : pub_path,
                           key_path, pub_path, name);
        goto done;
    }
    if (zmq_curve_keypair(pub, sec) != 0) {
        *err = gf_asprintf("cannot make a key pair: %s (libzmq without "
                           "CURVE support?)",
                           zmq_strerror(errno));
        goto done;
    }
    text = gf_asprintf(
        "#   gigflow CURVE secret key of stage %s (CZMQ certificate "
        "format)\n"
        "#   Keep it secret: readable by its owner only (chmod 600), only on\n"
        "#   the machines that run %s. Hand out %s.pub instead.\n"
        "\n"
        "metadata\n"
        "    name = \"%s\"\n"
        "curve\n"
        "    public-key = \"%s\"\n"
        "    secret-key = \"%s\"\n",
        name, name, name, name, pub, sec);
    if (!text)
        goto fail_mem;
    int r = write_new(key_path, text, 0600);
    if (r != 0) {
        *err = gf_asprintf("%s: %s%s", key_path, strerror(-r),
                           r == -EEXIST ? "; refusing to overwrite keys" : "");
        goto done;
    }
    explicit_bzero(text, strlen(text));
    gf_free(text);
    text = gf_asprintf("#   gigflow CURVE public key of stage %s (CZMQ "
                       "certificate format)\n"
                       "#   Copy it to every machine whose stages talk to "
                       "%s.\n"
                       "\n"
                       "metadata\n"
                       "    name = \"%s\"\n"
                       "curve\n"
                       "    public-key = \"%s\"\n",
                       name, name, name, pub);
    if (!text) {
        unlink(key_path);
        goto fail_mem;
    }
    r = write_new(pub_path, text, 0644);
    if (r != 0) {
        unlink(key_path); /* no half pair: the next try starts clean */
        *err = gf_asprintf("%s: %s%s", pub_path, strerror(-r),
                           r == -EEXIST ? "; refusing to overwrite keys" : "");
        goto done;
    }
    rc = 0;
    goto done;

fail_mem:
    *err = gf_strdup("out of memory");
done:
    explicit_bzero(sec, sizeof sec);
    if (text) {
        explicit_bzero(text, strlen(text));
        gf_free(text);
    }
    gf_free(key_path);
    gf_free(pub_path);
    return rc;
}
