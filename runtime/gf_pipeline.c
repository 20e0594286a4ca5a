/*
 * gf_pipeline - a pipeline file loaded and checked (gf_pipeline.h).
 *
 * Loading runs in passes over the YAML tree, each adding its errors to the
 * gf_diag and going on, so that one `gigflow validate` shows every mistake
 * of a file at once:
 *
 *   1. ${VAR} and ${VAR:-default} are replaced in every scalar;
 *   2. the top level (name, dead_letters, security, stages) and each
 *      stage's keys are
 *      read and checked;
 *   3. --set STAGE.OPTION=VALUE overrides are spliced into the stages'
 *      `with` maps (their nodes say "--set STAGE.OPTION" where a file
 *      position would be);
 *   4. each plugin is loaded, its options parsed, kind-dependent keys
 *      checked (workers, mask_pii, pseudonymize_key_file, from);
 *   5. `from` becomes a graph: unknown names, self-loops, cycles, and a
 *      topological order (file order among equals);
 *   6. each plugin's check() runs, with a runtime context whose
 *      config_error/option_error land in the gf_diag.
 *
 * Relative paths (dead_letters, pseudonymize_key_file, every path option)
 * are resolved against the directory of the pipeline file, so a pipeline
 * runs the same from any working directory.
 */
#include "gf_pipeline.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gf_alloc.h"
#include "gf_buf.h"
#include "gf_host.h"

/* Most instances of one stage. */
#define GF_MAX_WORKERS 1024

/* The pipeline with what only this file needs. */
typedef struct pipeline_priv {
    gf_pipeline pub;
    char *inputs; /* run_info("inputs"), built on first use */
} pipeline_priv;

/* The runtime context handed to check(). */
typedef struct check_rt {
    gf_rt rt; /* first: ctx->rt points here */
    pipeline_priv *pp;
    gf_stage_def *st;
    gf_diag *d;
    bool reported;
} check_rt;

static void perr(gf_diag *d, const gf_ynode *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void perr(gf_diag *d, const gf_ynode *at, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    gf_diag_add(d, at ? at->file : NULL, at ? at->line : 0, at ? at->col : 0,
                "%s", msg);
}

/* ------------------------------------------------------------------ */
/* 1. environment variables                                            */

static bool var_char(char c, bool first)
{
    return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (!first && c >= '0' && c <= '9');
}

/*
 * Expand ${VAR} and ${VAR:-default} in n->scalar; "$${" stands for a
 * literal "${". Errors at the scalar. Returns 0 or -1.
 */
static int subst_scalar(gf_ynode *n, gf_diag *d)
{
    const char *s = n->scalar;
    if (!strchr(s, '$'))
        return 0;
    gf_buf b = {0};
    int rc = 0;
    while (*s) {
        if (s[0] == '$' && s[1] == '$' && s[2] == '{') {
            gf_buf_append(&b, "${", 2);
            s += 3;
            continue;
        }
        if (s[0] != '$' || s[1] != '{') {
            gf_buf_append(&b, s, 1);
            s++;
            continue;
        }
        const char *name = s + 2, *p = name;
        while (var_char(*p, p == name))
            p++;
        size_t nlen = (size_t)(p - name);
        const char *def = NULL;
        size_t deflen = 0;
        if (p[0] == ':' && p[1] == '-') {
            def = p + 2;
            const char *close = strchr(def, '}');
            if (!close) {
                perr(d, n,
                     "unterminated '${' in '%s' (write ${VAR} or "
                     "${VAR:-default})",
                     n->scalar);
                rc = -1;
                goto done;
            }
            deflen = (size_t)(close - def);
            p = close;
        }
        if (nlen == 0 || *p != '}') {
            perr(d, n,
                 "bad variable reference in '%s' (write ${VAR} or "
                 "${VAR:-default}; $${ for a literal ${)",
                 n->scalar);
            rc = -1;
            goto done;
        }
        char var[256];
        if (nlen >= sizeof var) {
            perr(d, n, "variable name too long in '%s'", n->scalar);
            rc = -1;
            goto done;
        }
        memcpy(var, name, nlen);
        var[nlen] = '\0';
        const char *val = getenv(var);
        if (def && (!val || !*val)) {
            gf_buf_append(&b, def, deflen);
        } else if (val) {
            gf_buf_puts(&b, val);
        } else {
            perr(d, n,
                 "environment variable '%s' is not set (set it, or "
                 "write ${%s:-default})",
                 var, var);
            rc = -1;
            goto done;
        }
        s = p + 1;
    }
    if (gf_buf_append(&b, "", 1) != 0) {
        perr(d, n, "out of memory");
        rc = -1;
        goto done;
    }
    gf_free(n->scalar);
    n->scalar = (char *)b.data;
    b.data = NULL;
done:
    gf_buf_free(&b);
    return rc;
}

/* Returns the number of scalars that could not be expanded. */
static int subst_tree(gf_ynode *n, gf_diag *d)
{
    if (n->type == GF_Y_SCALAR)
        return subst_scalar(n, d) != 0;
    int bad = 0;
    for (size_t i = 0; i < n->n; i++)
        bad += subst_tree(n->items[i], d);
    return bad;
}

/* ------------------------------------------------------------------ */
/* helpers for keys and scalars                                        */

static void unknown_key(gf_diag *d, const gf_ynode *k, const char *who,
                        const char *const *known, size_t nknown)
{
    const char *hint = gf_options_closest(k->scalar, known, nknown);
    gf_buf list = {0};
    for (size_t i = 0; i < nknown; i++)
        gf_buf_printf(&list, "%s%s", i ? ", " : "", known[i]);
    gf_buf_append(&list, "", 1);
    if (hint)
        perr(d, k, "%sunknown key '%s' (did you mean '%s'?)", who, k->scalar,
             hint);
    else
        perr(d, k, "%sunknown key '%s' (known keys: %s)", who, k->scalar,
             list.data ? (const char *)list.data : "");
    gf_buf_free(&list);
}

/* A scalar value, or an error naming `key`; NULL when wrong. */
static const char *scalar_of(gf_diag *d, const gf_ynode *v, const char *who,
                             const char *key)
{
    if (v->type != GF_Y_SCALAR) {
        perr(d, v, "%s'%s' must be a scalar, got %s", who, key,
             gf_ynode_type_name(v->type));
        return NULL;
    }
    if (!v->quoted && (!*v->scalar || strcmp(v->scalar, "~") == 0 ||
                       strcmp(v->scalar, "null") == 0)) {
        perr(d, v, "%s'%s' has no value", who, key);
        return NULL;
    }
    return v->scalar;
}

static bool valid_stage_name(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!var_char(*s, false) && *s != '-')
            return false;
    return true;
}

/* ------------------------------------------------------------------ */
/* 2. top level and stages                                             */

static const char *const top_keys[] = {"name", "dead_letters", "security",
                                       "stages"};
static const char *const security_keys[] = {"keys", "allow"};
static const char *const stage_keys[] = {
    "name",    "plugin", "from",     "with",
    "workers", "listen", "mask_pii", "pseudonymize_key_file",
    "kinds"};

static char *default_name(const char *file)
{
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    size_t len = strlen(base);
    const char *dot = strrchr(base, '.');
    if (dot && dot != base &&
        (strcmp(dot, ".yaml") == 0 || strcmp(dot, ".yml") == 0))
        len = (size_t)(dot - base);
    return gf_strndup(base, len);
}

/* The absolute directory of `file` (not resolving symlinks). */
static char *file_dir(const char *file)
{
    const char *slash = strrchr(file, '/');
    if (slash == file)
        return gf_strdup("/");
    char *dir = slash ? gf_strndup(file, (size_t)(slash - file)) : NULL;
    if (slash && !dir)
        return NULL;
    char *abs;
    if (!dir || strcmp(dir, ".") == 0) {
        char *cwd = getcwd(NULL, 0);
        abs = cwd ? gf_strdup(cwd) : NULL;
        free(cwd);
    } else {
        abs = gf_options_resolve_path(dir, NULL);
    }
    gf_free(dir);
    /* the directory exists (the file was read from it): name it plainly,
       without ../ or symlinks, in every path derived from it */
    char *real = abs ? realpath(abs, NULL) : NULL;
    if (real) {
        gf_free(abs);
        abs = gf_strdup(real);
        free(real);
    }
    return abs;
}

/*
 * The `security` section: `keys` (a directory, relative to the pipeline
 * file) and an optional `allow` list of .pub files. The key files
 * themselves are read by gf_security_load in the process that needs them:
 * a machine holds only its own stages' secret keys.
 */
static void read_security(gf_pipeline *p, const gf_ynode *v, gf_diag *d)
{
    if (v->type != GF_Y_MAP) {
        perr(d, v,
             "'security' must be a mapping with 'keys: DIR' (and optionally "
             "'allow: [FILE.pub, ...]'), got %s",
             gf_ynode_type_name(v->type));
        return;
    }
    bool ok = true;
    for (size_t i = 0; i < v->n; i++) {
        const gf_ynode *k = v->keys[i];
        if (strcmp(k->scalar, "keys") != 0 && strcmp(k->scalar, "allow") != 0) {
            unknown_key(d, k, "security: ", security_keys, 2);
            ok = false;
        }
    }
    const gf_ynode *keys = gf_ynode_get(v, "keys");
    const char *dir = NULL;
    if (!keys) {
        perr(d, v,
             "security: no 'keys' directory; name the directory with each "
             "stage's STAGE.key and STAGE.pub (made by `gigflow keygen "
             "STAGE --dir DIR`)");
        ok = false;
    } else if (!(dir = scalar_of(d, keys, "security: ", "keys"))) {
        ok = false;
    } else {
        char *abs = gf_options_resolve_path(dir, p->dir);
        struct stat sb;
        if (!abs) {
            perr(d, keys, "out of memory");
            ok = false;
        } else if (stat(abs, &sb) != 0) {
            perr(d, keys,
                 "security: 'keys' directory %s: %s (make the keys with "
                 "`gigflow keygen STAGE --dir DIR` for each stage)",
                 abs, strerror(errno));
            ok = false;
        } else if (!S_ISDIR(sb.st_mode)) {
            perr(d, keys, "security: 'keys' %s is not a directory", abs);
            ok = false;
        }
        gf_free(abs);
    }
    const gf_ynode *allow = gf_ynode_get(v, "allow");
    if (allow && allow->type != GF_Y_SEQ) {
        perr(d, allow,
             "security: 'allow' must be a list of public key files "
             "([keys/a.pub, ...]), got %s",
             gf_ynode_type_name(allow->type));
        ok = false;
    } else if (allow && allow->n == 0) {
        perr(d, allow,
             "security: 'allow' is empty, which would refuse every client; "
             "leave it out to accept the stages that feed each listening "
             "stage");
        ok = false;
    }
    for (size_t i = 0; allow && allow->type == GF_Y_SEQ && i < allow->n; i++) {
        const gf_ynode *e = allow->items[i];
        const char *f = scalar_of(d, e, "security: ", "allow");
        size_t len = f ? strlen(f) : 0;
        if (!f) {
            ok = false;
        } else if (len >= 4 && strcmp(f + len - 4, ".key") == 0) {
            perr(d, e,
                 "security: '%s' is a secret key file; 'allow' lists public "
                 "keys (.pub)",
                 f);
            ok = false;
        }
    }
    if (ok)
        p->security = v;
}

static void read_top(pipeline_priv *pp, gf_diag *d)
{
    gf_pipeline *p = &pp->pub;
    const gf_ynode *root = p->root;
    for (size_t i = 0; i < root->n; i++) {
        const gf_ynode *k = root->keys[i], *v = root->items[i];
        if (strcmp(k->scalar, "name") == 0) {
            const char *s = scalar_of(d, v, "", "name");
            if (s) {
                gf_free(p->name);
                p->name = gf_strdup(s);
            }
        } else if (strcmp(k->scalar, "dead_letters") == 0) {
            const char *s = scalar_of(d, v, "", "dead_letters");
            if (s)
                p->dead_letters = gf_options_resolve_path(s, p->dir);
        } else if (strcmp(k->scalar, "security") == 0) {
            read_security(p, v, d);
        } else if (strcmp(k->scalar, "stages") != 0) {
            unknown_key(d, k, "", top_keys, 4);
        }
    }
}

/* `kinds`: one record kind or a list of them. */
static void read_kinds(gf_diag *d, const gf_ynode *v, const char *who,
                       gf_stage_def *st)
{
    size_t n = v->type == GF_Y_SEQ ? v->n : 1;
    if (v->type == GF_Y_MAP || n == 0) {
        perr(d, v, "%s'kinds' must be a record kind or a list of them", who);
        return;
    }
    st->kinds = gf_calloc(n, sizeof *st->kinds);
    if (!st->kinds) {
        perr(d, v, "%sout of memory", who);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const gf_ynode *k = v->type == GF_Y_SEQ ? v->items[i] : v;
        if (k->type != GF_Y_SCALAR || k->scalar[0] == '\0') {
            perr(d, k,
                 "%s'kinds' lists record kinds such as member or "
                 "project, got %s",
                 who,
                 k->type == GF_Y_SCALAR ? "an empty value"
                                        : gf_ynode_type_name(k->type));
            continue;
        }
        static const char *const known[] = {"org", "member", "project",
                                            "demand", "metric"};
        bool ok = false;
        for (size_t j = 0; j < sizeof known / sizeof *known; j++)
            ok = ok || strcmp(k->scalar, known[j]) == 0;
        if (!ok) {
            const char *hint = gf_options_closest(k->scalar, known,
                                                  sizeof known / sizeof *known);
            perr(d, k,
                 "%s'kinds': '%s' is not a record kind (org, member, "
                 "project, demand, metric)%s%s%s",
                 who, k->scalar, hint ? "; did you mean '" : "",
                 hint ? hint : "", hint ? "'?" : "");
            continue;
        }
        if ((st->kinds[st->nkinds] = gf_strdup(k->scalar)) != NULL)
            st->nkinds++;
    }
}

/* One `listen` endpoint: tcp:// or ipc://. */
static bool endpoint_ok(gf_diag *d, const gf_ynode *v, const char *who,
                        const char *s)
{
    if (strncmp(s, "tcp://", 6) == 0 || strncmp(s, "ipc://", 6) == 0)
        return true;
    perr(d, v, "%s'listen' must be a tcp:// or ipc:// endpoint, got '%s'", who,
         s);
    return false;
}

/* `listen`: one endpoint, or a list of them, one per worker instance
   (checked against `workers` once every key was read). */
static void read_listen(gf_stage_def *st, const gf_ynode *v, const char *who,
                        gf_diag *d)
{
    if (v->type == GF_Y_SEQ) {
        if (v->n == 0) {
            perr(d, v,
                 "%s'listen' is an empty list; give one endpoint per "
                 "worker",
                 who);
            return;
        }
        st->listens = gf_calloc(v->n, sizeof *st->listens);
        if (!st->listens)
            return;
        for (size_t i = 0; i < v->n; i++) {
            const char *s = scalar_of(d, v->items[i], who, "listen");
            if (!s || !endpoint_ok(d, v->items[i], who, s))
                return;
            st->listens[i] = gf_strdup(s);
            if (!st->listens[i])
                return;
            st->nlisten = (unsigned)(i + 1);
        }
        st->listen = gf_strdup(st->listens[0]);
        return;
    }
    const char *s = scalar_of(d, v, who, "listen");
    if (!s || !endpoint_ok(d, v, who, s))
        return;
    st->listen = gf_strdup(s);
    st->listens = gf_calloc(1, sizeof *st->listens);
    if (st->listens)
        st->listens[0] = gf_strdup(s);
    st->nlisten = st->listens && st->listens[0] ? 1 : 0;
}

/* Read one stage's own keys (not yet its plugin, `from` or `with`). */
static void read_stage(pipeline_priv *pp, gf_stage_def *st, gf_diag *d,
                       size_t index)
{
    gf_pipeline *p = &pp->pub;
    const gf_ynode *m = st->node;
    st->workers = 1;
    st->pii_mode = GF_PII_MASK;
    const gf_ynode *nv = gf_ynode_get(m, "name");
    if (!nv) {
        perr(d, m, "stage %zu has no 'name'", index + 1);
    } else {
        const char *s = scalar_of(d, nv, "", "name");
        if (s && !valid_stage_name(s))
            perr(d, nv,
                 "stage name '%s' may hold only letters, digits, '_' "
                 "and '-'",
                 s);
        else if (s)
            st->name = gf_strdup(s);
    }
    char who[300];
    if (st->name)
        snprintf(who, sizeof who, "stage '%s': ", st->name);
    else
        snprintf(who, sizeof who, "stage %zu: ", index + 1);

    for (size_t i = 0; i < m->n; i++) {
        const gf_ynode *k = m->keys[i], *v = m->items[i];
        const char *key = k->scalar;
        if (strcmp(key, "name") == 0 || strcmp(key, "from") == 0 ||
            strcmp(key, "with") == 0) {
            continue; /* name above; from and with later */
        } else if (strcmp(key, "plugin") == 0) {
            const char *s = scalar_of(d, v, who, "plugin");
            if (s)
                st->plugin = gf_strdup(s);
        } else if (strcmp(key, "workers") == 0) {
            const char *s = scalar_of(d, v, who, "workers");
            if (!s)
                continue;
            char *end;
            errno = 0;
            long long w = strtoll(s, &end, 10);
            if (*end || end == s || errno)
                perr(d, v, "%s'workers' must be an integer, got '%s'", who, s);
            else if (w < 1 || w > GF_MAX_WORKERS)
                perr(d, v, "%s'workers' must be 1 to %d, got %lld", who,
                     GF_MAX_WORKERS, w);
            else
                st->workers = (unsigned)w;
        } else if (strcmp(key, "listen") == 0) {
            read_listen(st, v, who, d);
        } else if (strcmp(key, "kinds") == 0) {
            read_kinds(d, v, who, st);
        } else if (strcmp(key, "mask_pii") == 0) {
            const char *s = scalar_of(d, v, who, "mask_pii");
            if (!s)
                continue;
            if (!strcasecmp(s, "true") || !strcasecmp(s, "yes") ||
                !strcasecmp(s, "on"))
                continue;
            if (!strcasecmp(s, "false") || !strcasecmp(s, "no") ||
                !strcasecmp(s, "off"))
                st->pii_mode = GF_PII_OFF;
            else
                perr(d, v, "%s'mask_pii' must be true or false, got '%s'", who,
                     s);
        } else if (strcmp(key, "pseudonymize_key_file") == 0) {
            const char *s = scalar_of(d, v, who, "pseudonymize_key_file");
            if (!s)
                continue;
            st->pii_key_file = gf_options_resolve_path(s, p->dir);
            struct stat sb;
            if (st->pii_key_file && stat(st->pii_key_file, &sb) != 0)
                perr(d, v,
                     "%s'pseudonymize_key_file' %s: %s (create one "
                     "with `head -c 64 /dev/urandom > FILE; chmod 600 "
                     "FILE`)",
                     who, st->pii_key_file, strerror(errno));
        } else {
            unknown_key(d, k, who, stage_keys,
                        sizeof stage_keys / sizeof *stage_keys);
        }
    }
    const gf_ynode *lv = gf_ynode_get(m, "listen");
    if (lv && lv->type == GF_Y_SEQ && st->nlisten == lv->n &&
        st->nlisten != st->workers)
        perr(d, lv,
             "%s'listen' lists %u endpoints for %u workers; give one "
             "endpoint per worker instance",
             who, st->nlisten, st->workers);
    if (!st->plugin && !gf_ynode_get(m, "plugin"))
        perr(d, m,
             "%sno 'plugin' given; name the plugin that runs this "
             "stage",
             who);
    if (st->pii_key_file) {
        if (st->pii_mode == GF_PII_OFF)
            perr(d, gf_ynode_key(m, "mask_pii"),
                 "%s'mask_pii: false' and 'pseudonymize_key_file' contradict "
                 "each other; keep one",
                 who);
        else
            st->pii_mode = GF_PII_PSEUDONYM;
    }
}

/* ------------------------------------------------------------------ */
/* 3. --set overrides                                                  */

/* A node that carries its own copy of `name` as its file. */
static gf_ynode *named_node(gf_ynode_type t, const char *name)
{
    size_t len = strlen(name);
    gf_ynode *n = gf_calloc(1, sizeof *n + len + 1);
    if (!n)
        return NULL;
    char *f = (char *)(n + 1);
    memcpy(f, name, len + 1);
    n->type = t;
    n->file = f;
    return n;
}

/* Zero every position in a tree: diagnostics then show the file only. */
static void unposition(gf_ynode *n)
{
    n->line = n->col = 0;
    for (size_t i = 0; i < n->n; i++) {
        unposition(n->items[i]);
        if (n->keys)
            unposition(n->keys[i]);
    }
}

/* Append key/value to a MAP node (taking both). Returns 0 or -ENOMEM. */
static int map_append(gf_ynode *m, gf_ynode *k, gf_ynode *v)
{
    gf_ynode **keys = gf_realloc(m->keys, (m->n + 1) * sizeof *keys);
    if (!keys)
        return -ENOMEM;
    m->keys = keys;
    gf_ynode **items = gf_realloc(m->items, (m->n + 1) * sizeof *items);
    if (!items)
        return -ENOMEM;
    m->items = items;
    m->keys[m->n] = k;
    m->items[m->n] = v;
    m->n++;
    return 0;
}

static void apply_set(pipeline_priv *pp, const char *set, gf_diag *d)
{
    gf_pipeline *p = &pp->pub;
    const char *dot = strchr(set, '.');
    const char *eq = strchr(set, '=');
    if (!dot || !eq || dot > eq || dot == set || eq == dot + 1) {
        gf_diag_add(d, NULL, 0, 0, "--set '%s': expected STAGE.OPTION=VALUE",
                    set);
        return;
    }
    char *where = gf_asprintf("--set %.*s", (int)(eq - set), set);
    char *stage = gf_strndup(set, (size_t)(dot - set));
    char *opt = gf_strndup(dot + 1, (size_t)(eq - dot - 1));
    gf_ynode *key = NULL, *val = NULL;
    if (!where || !stage || !opt)
        goto fail_mem;
    long idx = gf_pipeline_find(p, stage);
    if (idx < 0) {
        const char *names[256];
        size_t n = 0;
        gf_buf list = {0};
        for (size_t i = 0; i < p->nstages; i++) {
            if (!p->stages[i].name)
                continue;
            if (n < 256)
                names[n++] = p->stages[i].name;
            gf_buf_printf(&list, "%s%s", list.len ? ", " : "",
                          p->stages[i].name);
        }
        gf_buf_append(&list, "", 1);
        const char *hint = gf_options_closest(stage, names, n);
        if (hint)
            gf_diag_add(d, where, 0, 0,
                        "no stage '%s' in %s (did you mean "
                        "'%s'?)",
                        stage, p->file, hint);
        else
            gf_diag_add(d, where, 0, 0, "no stage '%s' in %s (stages: %s)",
                        stage, p->file,
                        list.data ? (const char *)list.data : "");
        gf_buf_free(&list);
        goto done;
    }
    /* the value is YAML (a scalar, or [a, b] for a list); text that is
       not valid YAML is taken as it stands */
    gf_diag scratch = {0};
    val = gf_yaml_load_string(eq + 1, strlen(eq + 1), where, &scratch);
    gf_diag_free(&scratch);
    if (!val) {
        val = named_node(GF_Y_SCALAR, where);
        if (!val || !(val->scalar = gf_strdup(eq + 1)))
            goto fail_mem;
        val->quoted = true;
    }
    unposition(val);
    key = named_node(GF_Y_SCALAR, where);
    if (!key || !(key->scalar = gf_strdup(opt)))
        goto fail_mem;

    gf_ynode *m = (gf_ynode *)p->stages[idx].node;
    gf_ynode *with = gf_ynode_get(m, "with");
    if (with && with->type == GF_Y_SCALAR && !with->quoted && !*with->scalar) {
        /* `with:` written empty: make it a mapping */
        with->type = GF_Y_MAP;
        gf_free(with->scalar);
        with->scalar = NULL;
    }
    if (!with) {
        gf_ynode *wk = named_node(GF_Y_SCALAR, where);
        gf_ynode *wv = named_node(GF_Y_MAP, where);
        if (!wk || !wv || !(wk->scalar = gf_strdup("with")) ||
            map_append(m, wk, wv) != 0) {
            gf_ynode_free(&wk);
            gf_ynode_free(&wv);
            goto fail_mem;
        }
        with = wv;
    }
    if (with->type != GF_Y_MAP)
        goto done; /* reported when the options are parsed */
    for (size_t i = 0; i < with->n; i++) {
        if (strcmp(with->keys[i]->scalar, opt) == 0) {
            gf_ynode_free(&with->keys[i]);
            gf_ynode_free(&with->items[i]);
            with->keys[i] = key;
            with->items[i] = val;
            key = val = NULL;
            goto done;
        }
    }
    if (map_append(with, key, val) != 0)
        goto fail_mem;
    key = val = NULL;
    goto done;

fail_mem:
    gf_diag_add(d, NULL, 0, 0, "--set '%s': out of memory", set);
done:
    gf_ynode_free(&key);
    gf_ynode_free(&val);
    gf_free(where);
    gf_free(stage);
    gf_free(opt);
}

/* ------------------------------------------------------------------ */
/* 5. the graph                                                         */

static void read_from(pipeline_priv *pp, size_t si, gf_diag *d)
{
    gf_pipeline *p = &pp->pub;
    gf_stage_def *st = &p->stages[si];
    const gf_ynode *fk = gf_ynode_key(st->node, "from");
    const gf_ynode *fv = gf_ynode_get(st->node, "from");
    char who[300];
    snprintf(who, sizeof who, "stage '%s'", st->name ? st->name : "?");
    bool ingest = st->lib && st->lib->desc->kind == GF_KIND_INGEST;
    if (!fv) {
        if (st->lib && !ingest)
            perr(d, st->node,
                 "%s (%s) has no 'from': name the stage(s) it "
                 "reads",
                 who, gf_kind_name(st->lib->desc->kind));
        return;
    }
    if (ingest) {
        perr(d, fk, "%s: an ingest stage reads no input; remove 'from'", who);
        return;
    }
    if (fv->type == GF_Y_MAP) {
        perr(d, fv,
             "%s: 'from' must be a stage name or a list of them, got "
             "a mapping",
             who);
        return;
    }
    size_t n = fv->type == GF_Y_SEQ ? fv->n : 1;
    if (n == 0) {
        perr(d, fv, "%s: 'from' is empty: name the stage(s) it reads", who);
        return;
    }
    st->from = gf_calloc(n, sizeof *st->from);
    if (!st->from) {
        perr(d, fv, "out of memory");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const gf_ynode *it = fv->type == GF_Y_SEQ ? fv->items[i] : fv;
        if (it->type != GF_Y_SCALAR) {
            perr(d, it, "%s: 'from' items must be stage names, got %s", who,
                 gf_ynode_type_name(it->type));
            continue;
        }
        long up = gf_pipeline_find(p, it->scalar);
        if (up < 0) {
            const char *names[256];
            size_t nn = 0;
            for (size_t j = 0; j < p->nstages && nn < 256; j++)
                if (p->stages[j].name && j != si)
                    names[nn++] = p->stages[j].name;
            const char *hint = gf_options_closest(it->scalar, names, nn);
            if (hint)
                perr(d, it,
                     "%s: 'from' names no stage '%s' (did you mean "
                     "'%s'?)",
                     who, it->scalar, hint);
            else
                perr(d, it, "%s: 'from' names no stage '%s'", who, it->scalar);
            continue;
        }
        if ((size_t)up == si) {
            perr(d, it,
                 "%s reads from itself; a stage's 'from' names the "
                 "stages before it",
                 who);
            continue;
        }
        bool twice = false;
        for (size_t j = 0; j < st->nfrom; j++)
            twice |= st->from[j] == (size_t)up;
        if (twice) {
            perr(d, it, "%s: 'from' names '%s' twice", who, it->scalar);
            continue;
        }
        const gf_stage_def *u = &p->stages[up];
        if (u->lib && u->lib->desc->kind == GF_KIND_EXPORT) {
            perr(d, it,
                 "%s reads from '%s', an export stage, which emits no "
                 "records",
                 who, it->scalar);
            continue;
        }
        st->from[st->nfrom++] = (size_t)up;
    }
}

static int build_to(gf_pipeline *p)
{
    for (size_t i = 0; i < p->nstages; i++) {
        gf_stage_def *st = &p->stages[i];
        for (size_t j = 0; j < st->nfrom; j++) {
            gf_stage_def *u = &p->stages[st->from[j]];
            size_t *to = gf_realloc(u->to, (u->nto + 1) * sizeof *to);
            if (!to)
                return -ENOMEM;
            u->to = to;
            u->to[u->nto++] = i;
        }
    }
    return 0;
}

/*
 * Kahn's algorithm, taking the first ready stage in file order each time.
 * Stages left over sit on or behind a cycle: report each cycle once.
 */
static void order_stages(gf_pipeline *p, gf_diag *d)
{
    size_t n = p->nstages;
    size_t *indeg = gf_calloc(n, sizeof *indeg);
    size_t *order = gf_calloc(n, sizeof *order);
    bool *done = gf_calloc(n, sizeof *done);
    int *mark = gf_calloc(n, sizeof *mark);
    size_t *path = gf_calloc(n + 1, sizeof *path);
    if (!indeg || !order || !done || !mark || !path) {
        gf_diag_add(d, p->file, 0, 0, "out of memory");
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++)
        indeg[i] = p->stages[i].nfrom;
    size_t k = 0;
    for (bool progress = true; progress;) {
        progress = false;
        for (size_t i = 0; i < n; i++) {
            if (done[i] || indeg[i])
                continue;
            done[i] = true;
            order[k++] = i;
            for (size_t j = 0; j < p->stages[i].nto; j++)
                indeg[p->stages[i].to[j]]--;
            progress = true;
            break;
        }
    }
    if (k == n) {
        p->order = order;
        order = NULL;
        goto cleanup;
    }
    /* walk upstream from each leftover stage until a stage repeats */
    int walk = 0;
    for (size_t s = 0; s < n; s++) {
        if (done[s] || mark[s] < 0)
            continue;
        walk++;
        size_t len = 0, cur = s;
        bool stuck = false;
        while (mark[cur] != walk && mark[cur] >= 0) {
            mark[cur] = walk;
            path[len++] = cur;
            size_t next = SIZE_MAX;
            for (size_t j = 0; j < p->stages[cur].nfrom; j++)
                if (!done[p->stages[cur].from[j]]) {
                    next = p->stages[cur].from[j];
                    break;
                }
            if (next == SIZE_MAX) {
                stuck =
                    true; /* cannot happen: leftovers have leftover inputs */
                break;
            }
            cur = next;
        }
        if (stuck || mark[cur] < 0)
            continue; /* ran into a cycle already reported */
        /* path[start..len) is the cycle, in upstream order */
        size_t start = 0;
        while (path[start] != cur)
            start++;
        size_t first = cur; /* report at the stage written first */
        for (size_t j = start; j < len; j++)
            if (path[j] < first)
                first = path[j];
        size_t at = start;
        while (path[at] != first)
            at++;
        gf_buf b = {0};
        /* data flows downstream: print the upstream walk backwards */
        size_t clen = len - start;
        for (size_t j = 0; j <= clen; j++) {
            /* backwards from `at`, wrapping, ending where it began */
            size_t idx = start + (at - start + clen - j % clen) % clen;
            gf_buf_printf(&b, "%s%s", j ? " -> " : "",
                          p->stages[path[idx]].name);
        }
        gf_buf_append(&b, "", 1);
        perr(d, gf_ynode_key(p->stages[first].node, "from"),
             "stages form a cycle: %s (each reads from the one before it)",
             b.data ? (const char *)b.data : "");
        gf_buf_free(&b);
        for (size_t j = start; j < len; j++)
            mark[path[j]] = -1;
    }
cleanup:
    gf_free(indeg);
    gf_free(order);
    gf_free(done);
    gf_free(mark);
    gf_free(path);
}

/* ------------------------------------------------------------------ */
/* 6. check() with a runtime that reports into the diag                 */

static check_rt *crt(gf_ctx *ctx)
{
    return (check_rt *)ctx->rt;
}

static void c_log(gf_ctx *ctx, gf_log_level level, const char *msg)
{
    if (level <= GF_LOG_WARN)
        fprintf(stderr, "stage '%s': %s: %s\n", ctx->stage,
                level == GF_LOG_ERROR ? "error" : "warning", msg);
}

static void c_error(gf_ctx *ctx, const char *msg)
{
    check_rt *r = crt(ctx);
    r->reported = true;
    perr(r->d, gf_ynode_get(r->st->node, "plugin"), "stage '%s': %s",
         ctx->stage, msg);
}

static void c_config_error(gf_ctx *ctx, const char *file, unsigned line,
                           unsigned col, const char *msg)
{
    check_rt *r = crt(ctx);
    r->reported = true;
    gf_diag_add(r->d, file, line, col, "%s", msg);
}

static void c_option_error(gf_ctx *ctx, const char *key, const char *msg)
{
    check_rt *r = crt(ctx);
    r->reported = true;
    perr(r->d, gf_optset_node(r->st->opts, key),
         "stage '%s': option '%s': "
         "%s",
         ctx->stage, key, msg);
}

static int c_reject(gf_ctx *ctx, const gf_record *rec, const void *data,
                    size_t len, const char *file, uint64_t line,
                    const char *reason)
{
    (void)ctx, (void)rec, (void)data, (void)len, (void)file, (void)line;
    (void)reason;
    return -1; /* check() has no records to reject */
}

static void c_drop(gf_ctx *ctx, const gf_record *rec)
{
    (void)ctx, (void)rec;
}

static int64_t c_now_ns(gf_ctx *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t c_run_started(gf_ctx *ctx)
{
    (void)ctx;
    return (int64_t)time(NULL);
}

static uint64_t c_rejects_total(gf_ctx *ctx)
{
    (void)ctx;
    return 0;
}

static const char *c_run_info(gf_ctx *ctx, const char *key)
{
    return gf_pipeline_run_info(&crt(ctx)->pp->pub, key);
}

static const gf_rt_ops check_ops = {
    .log = c_log,
    .error = c_error,
    .config_error = c_config_error,
    .option_error = c_option_error,
    .reject = c_reject,
    .drop = c_drop,
    .now_ns = c_now_ns,
    .run_started = c_run_started,
    .rejects_total = c_rejects_total,
    .run_info = c_run_info,
};

const char *gf_pipeline_run_info(const gf_pipeline *p, const char *key)
{
    pipeline_priv *pp = (pipeline_priv *)(uintptr_t)p;
    if (strcmp(key, "pipeline") == 0)
        return p->file;
    if (strcmp(key, "name") == 0)
        return p->name;
    if (strcmp(key, "dead_letters") == 0) /* NULL: they go to stderr */
        return p->dead_letters && strcmp(p->dead_letters, "-") != 0
                   ? p->dead_letters
                   : NULL;
    if (strcmp(key, "inputs") != 0)
        return NULL;
    if (!pp->inputs) {
        gf_buf b = {0};
        for (size_t i = 0; i < p->nstages; i++) {
            const gf_stage_def *st = &p->stages[i];
            if (!st->lib || st->lib->desc->kind != GF_KIND_INGEST || !st->opts)
                continue;
            for (const gf_option *op = st->lib->desc->options; op && op->key;
                 op++) {
                if (strcmp(op->key, "path") != 0 ||
                    (op->type != GF_OPT_PATH && op->type != GF_OPT_STRING))
                    continue;
                const char *v;
                memcpy(&v,
                       (const char *)gf_optset_config(st->opts) + op->offset,
                       sizeof v);
                if (v)
                    gf_buf_printf(&b, "%s%s", b.len ? ", " : "", v);
            }
        }
        if (gf_buf_append(&b, "", 1) != 0) {
            gf_buf_free(&b);
            return NULL;
        }
        pp->inputs = (char *)b.data;
    }
    return pp->inputs;
}

static void run_check(pipeline_priv *pp, gf_stage_def *st, gf_diag *d)
{
    const gf_plugin *desc = st->lib->desc;
    if (!desc->check)
        return;
    check_rt r = {.rt = {.ops = &check_ops}, .pp = pp, .st = st, .d = d};
    gf_ctx ctx = {.host = &gf_host_table,
                  .stage = st->name,
                  .instance = 0,
                  .instances = st->workers,
                  .rt = &r};
    int rc = desc->check(&ctx, gf_optset_config(st->opts));
    if (rc < 0 && !r.reported)
        perr(d, gf_ynode_get(st->node, "plugin"),
             "stage '%s': plugin '%s' refused its configuration without "
             "saying why (check() returned %d)",
             st->name, desc->name, rc);
}

/* ------------------------------------------------------------------ */
/* 4. plugins                                                           */

static const char *article(gf_kind k)
{
    return k == GF_KIND_INGEST || k == GF_KIND_AGGREGATE || k == GF_KIND_EXPORT
               ? "an"
               : "a";
}

static void load_plugin(pipeline_priv *pp, gf_stage_def *st, gf_diag *d)
{
    gf_pipeline *p = &pp->pub;
    const gf_ynode *pv = gf_ynode_get(st->node, "plugin");
    char *err = NULL;
    st->lib = gf_loader_open(st->plugin, &err);
    if (!st->lib) {
        perr(d, pv, "stage '%s': %s", st->name ? st->name : "?",
             err ? err : "cannot load the plugin");
        gf_free(err);
        return;
    }
    const gf_plugin *desc = st->lib->desc;
    char who[300];
    snprintf(who, sizeof who, "stage '%s'", st->name ? st->name : "?");
    st->opts =
        gf_options_parse_for(desc, gf_ynode_get(st->node, "with"),
                             gf_ynode_key(st->node, "plugin"), p->dir, who, d);
    if (st->workers > 1 && desc->kind == GF_KIND_AGGREGATE &&
        !GF_PLUGIN_CAN_MERGE(desc))
        perr(d, gf_ynode_get(st->node, "workers"),
             "%s: workers: %u needs an aggregate plugin with partial() and "
             "merge() (ABI minor 2); '%s' has %s; remove 'workers' or set "
             "it to 1",
             who, st->workers, desc->name,
             desc->struct_size < offsetof(gf_plugin, merge) + sizeof desc->merge
                 ? "neither (it is built for an older ABI minor)"
             : !desc->partial && !desc->merge ? "neither"
             : !desc->partial                 ? "merge() but no partial()"
                                              : "partial() but no merge()");
    if (st->workers > 1 && desc->kind != GF_KIND_CLASSIFY &&
        desc->kind != GF_KIND_AGGREGATE)
        perr(d, gf_ynode_get(st->node, "workers"),
             "%s: workers: %u is only supported on classify and aggregate "
             "stages for now "
             "('%s' is %s %s plugin: %s); remove 'workers' or set it to 1",
             who, st->workers, desc->name, article(desc->kind),
             gf_kind_name(desc->kind),
             desc->kind == GF_KIND_INGEST
                 ? "one instance reads its input in order"
                 : "one instance writes one output file");
    if (desc->kind != GF_KIND_EXPORT) {
        static const char *const pii_keys[] = {"mask_pii",
                                               "pseudonymize_key_file"};
        for (size_t i = 0; i < 2; i++) {
            const gf_ynode *k = gf_ynode_key(st->node, pii_keys[i]);
            if (k)
                perr(d, k,
                     "%s: '%s' applies to export stages only ('%s' is "
                     "%s %s plugin)",
                     who, pii_keys[i], desc->name, article(desc->kind),
                     gf_kind_name(desc->kind));
        }
        st->pii_mode = GF_PII_OFF;
        gf_free(st->pii_key_file);
        st->pii_key_file = NULL;
    }
}

/* ------------------------------------------------------------------ */

/*
 * Everything a runner needs is there. A failure whose message could not be
 * recorded (out of memory while reporting) must still fail the load.
 */
static bool complete(const gf_pipeline *p)
{
    if (!p->order || !p->name ||
        p->nstages != gf_ynode_get(p->root, "stages")->n)
        return false;
    if (gf_ynode_get(p->root, "dead_letters") && !p->dead_letters)
        return false;
    if (gf_ynode_get(p->root, "security") && !p->security)
        return false;
    for (size_t i = 0; i < p->nstages; i++) {
        const gf_stage_def *st = &p->stages[i];
        if (!st->name || !st->plugin || !st->lib || !st->opts)
            return false;
        if (gf_ynode_get(st->node, "listen") && !st->listen)
            return false;
        if (st->lib->desc->kind == GF_KIND_EXPORT &&
            gf_ynode_get(st->node, "pseudonymize_key_file") &&
            !st->pii_key_file)
            return false;
        size_t nfrom = 0;
        const gf_ynode *fv = gf_ynode_get(st->node, "from");
        if (fv)
            nfrom = fv->type == GF_Y_SEQ ? fv->n : 1;
        if (st->nfrom != nfrom)
            return false;
    }
    return true;
}

gf_pipeline *gf_pipeline_load(const char *file, const char *const *sets,
                              size_t nsets, gf_diag *d)
{
    size_t errs0 = d->n;
    pipeline_priv *pp = gf_calloc(1, sizeof *pp);
    if (!pp) {
        gf_diag_add(d, file, 0, 0, "out of memory");
        return NULL;
    }
    gf_pipeline *p = &pp->pub;
    p->file = gf_strdup(file);
    p->dir = file_dir(file);
    p->name = default_name(file);
    if (!p->file || !p->dir || !p->name) {
        gf_diag_add(d, file, 0, 0, "out of memory");
        goto fail_load;
    }
    p->root = gf_yaml_load_file(file, d);
    if (!p->root)
        goto fail_load;
    gf_ynode *root = p->root;
    if (root->type == GF_Y_SCALAR && !root->quoted && !*root->scalar) {
        gf_diag_add(d, file, 0, 0,
                    "the file is empty; a pipeline needs a 'stages:' list");
        goto fail_load;
    }
    if (root->type != GF_Y_MAP) {
        perr(d, root, "a pipeline file is a mapping with 'stages:', got %s",
             gf_ynode_type_name(root->type));
        goto fail_load;
    }
    /* a missing variable stops here: what follows would only echo it */
    if (subst_tree(root, d) != 0)
        goto fail_load;
    read_top(pp, d);

    const gf_ynode *stages = gf_ynode_get(root, "stages");
    if (!stages) {
        perr(d, root,
             "no 'stages:' list; a pipeline needs at least one "
             "stage");
        goto fail_load;
    }
    if (stages->type != GF_Y_SEQ) {
        perr(d, stages, "'stages' must be a list of stages, got %s",
             gf_ynode_type_name(stages->type));
        goto fail_load;
    }
    if (stages->n == 0) {
        perr(d, stages,
             "'stages' is empty; a pipeline needs at least one "
             "stage");
        goto fail_load;
    }
    p->stages = gf_calloc(stages->n, sizeof *p->stages);
    if (!p->stages) {
        gf_diag_add(d, file, 0, 0, "out of memory");
        goto fail_load;
    }
    for (size_t i = 0; i < stages->n; i++) {
        const gf_ynode *m = stages->items[i];
        if (m->type != GF_Y_MAP) {
            perr(d, m,
                 "stage %zu must be a mapping with 'name' and "
                 "'plugin', got %s",
                 i + 1, gf_ynode_type_name(m->type));
            continue;
        }
        gf_stage_def *st = &p->stages[p->nstages++];
        st->node = m;
        read_stage(pp, st, d, i);
        for (size_t j = 0; st->name && j + 1 < p->nstages; j++) {
            const gf_stage_def *o = &p->stages[j];
            if (o->name && strcmp(o->name, st->name) == 0) {
                perr(d, gf_ynode_get(m, "name"),
                     "stage '%s' is defined twice (first at line %u); stage "
                     "names must be unique",
                     st->name, o->node->line);
                gf_free(st->name);
                st->name = NULL;
                break;
            }
        }
    }
    for (size_t i = 0; i < nsets; i++)
        apply_set(pp, sets[i], d);
    for (size_t i = 0; i < p->nstages; i++)
        if (p->stages[i].plugin)
            load_plugin(pp, &p->stages[i], d);
    for (size_t i = 0; i < p->nstages; i++)
        if (p->stages[i].name)
            read_from(pp, i, d);
    if (build_to(p) != 0) {
        gf_diag_add(d, file, 0, 0, "out of memory");
        goto fail_load;
    }
    order_stages(p, d);
    for (size_t i = 0; i < p->nstages; i++)
        if (p->stages[i].lib && p->stages[i].opts && p->stages[i].name)
            run_check(pp, &p->stages[i], d);
    if (d->n != errs0 || !complete(p))
        goto fail_load;
    return p;

fail_load:
    if (d->n == errs0)
        gf_diag_add(d, file, 0, 0, "cannot load the pipeline");
    gf_pipeline_free(&p);
    return NULL;
}

long gf_pipeline_find(const gf_pipeline *p, const char *name)
{
    for (size_t i = 0; i < p->nstages; i++)
        if (p->stages[i].name && strcmp(p->stages[i].name, name) == 0)
            return (long)i;
    return -1;
}

void gf_pipeline_free(gf_pipeline **pp)
{
    if (!pp || !*pp)
        return;
    pipeline_priv *priv = (pipeline_priv *)*pp;
    gf_pipeline *p = &priv->pub;
    for (size_t i = 0; i < p->nstages; i++) {
        gf_stage_def *st = &p->stages[i];
        gf_optset_free(&st->opts);
        gf_loader_close(&st->lib);
        gf_free(st->name);
        gf_free(st->plugin);
        gf_free(st->listen);
        for (size_t k = 0; k < st->nkinds; k++)
            gf_free(st->kinds[k]);
        gf_free(st->kinds);
        for (unsigned l = 0; st->listens && l < st->nlisten; l++)
            gf_free(st->listens[l]);
        gf_free(st->listens);
        gf_free(st->from);
        gf_free(st->to);
        gf_free(st->pii_key_file);
    }
    gf_free(p->stages);
    gf_free(p->order);
    gf_ynode_free(&p->root);
    gf_free(p->file);
    gf_free(p->dir);
    gf_free(p->name);
    gf_free(p->dead_letters);
    gf_free(priv->inputs);
    gf_free(priv);
    *pp = NULL;
}
