/*
 * gf_loader - finding plugin files on the search path, loading them and
 * checking their descriptor before anything else touches it (gf_loader.h).
 *
 * The checks run in the order in which reading the descriptor becomes safe:
 * the file is an ELF object, it loads, it exports gigflow_plugin, the
 * descriptor starts with the magic, its ABI major is ours and its minor not
 * newer, struct_size covers every field we read; only then name, kind,
 * callbacks and the options table. Each refusal is one line naming the
 * file, the reason and what to do about it, because the person reading it
 * is often not the one who built the plugin.
 */
#include "gf_loader.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gf_alloc.h"
#include "gf_buf.h"
#include "gf_options.h"

#ifndef GF_PLUGIN_DIR
#define GF_PLUGIN_DIR "/usr/local/lib/gigflow/plugins"
#endif

/* The descriptor as of ABI minor 0 ends with `destroy`. */
#define GF_PLUGIN_MIN_SIZE                                                     \
    (offsetof(gf_plugin, destroy) + sizeof(((gf_plugin *)0)->destroy))

const char *gf_kind_name(gf_kind k)
{
    switch (k) {
    case GF_KIND_INGEST:
        return "ingest";
    case GF_KIND_CLASSIFY:
        return "classify";
    case GF_KIND_AGGREGATE:
        return "aggregate";
    case GF_KIND_EXPORT:
        return "export";
    }
    return "unknown";
}

const char *gf_opt_type_name(gf_opt_type t)
{
    switch (t) {
    case GF_OPT_STRING:
        return "string";
    case GF_OPT_INT:
        return "int";
    case GF_OPT_FLOAT:
        return "float";
    case GF_OPT_BOOL:
        return "bool";
    case GF_OPT_PATH:
        return "path";
    case GF_OPT_LIST:
        return "list";
    case GF_OPT_MAP:
        return "map";
    }
    return "unknown";
}

/* Append dir to the list unless already there. Returns 0 or -ENOMEM. */
static int dirs_add(char ***dirs, size_t *n, size_t *cap, const char *dir,
                    size_t len)
{
    if (len == 0)
        return 0;
    while (len > 1 && dir[len - 1] == '/')
        len--;
    for (size_t i = 0; i < *n; i++)
        if (strlen((*dirs)[i]) == len && memcmp((*dirs)[i], dir, len) == 0)
            return 0;
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 4;
        char **d = gf_realloc(*dirs, c * sizeof *d);
        if (!d)
            return -ENOMEM;
        *dirs = d;
        *cap = c;
    }
    char *s = gf_strndup(dir, len);
    if (!s)
        return -ENOMEM;
    (*dirs)[(*n)++] = s;
    return 0;
}

/* <dir of the executable>/../lib/gigflow/plugins, written without "..". */
static char *exe_plugin_dir(void)
{
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0)
        return NULL;
    exe[len] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return NULL;
    *slash = '\0'; /* the executable's directory */
    slash = strrchr(exe, '/');
    if (!slash)
        return NULL;
    *slash = '\0'; /* its parent */
    return gf_asprintf("%s/lib/gigflow/plugins", exe);
}

char **gf_loader_dirs(size_t *n)
{
    char **dirs = NULL;
    size_t cap = 0;
    *n = 0;
    const char *env = getenv("GIGFLOW_PLUGIN_PATH");
    while (env && *env) {
        const char *colon = strchr(env, ':');
        size_t len = colon ? (size_t)(colon - env) : strlen(env);
        if (dirs_add(&dirs, n, &cap, env, len) != 0)
            goto fail_dirs;
        env = colon ? colon + 1 : NULL;
    }
    char *exe = exe_plugin_dir();
    if (exe) {
        int rc = dirs_add(&dirs, n, &cap, exe, strlen(exe));
        gf_free(exe);
        if (rc != 0)
            goto fail_dirs;
    }
    if (dirs_add(&dirs, n, &cap, GF_PLUGIN_DIR, strlen(GF_PLUGIN_DIR)) != 0)
        goto fail_dirs;
    return dirs;

fail_dirs:
    gf_loader_dirs_free(dirs, *n);
    *n = 0;
    return NULL;
}

void gf_loader_dirs_free(char **dirs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        gf_free(dirs[i]);
    gf_free(dirs);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

/* The plugin name a file should hold: its base name without ".so". */
static char *file_plugin_name(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t len = strlen(base);
    if (ends_with(base, ".so"))
        len -= 3;
    return gf_strndup(base, len);
}

/* Does the file start with the ELF magic? -errno when it cannot be read. */
static int is_elf(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -errno;
    unsigned char m[4] = {0};
    size_t got = fread(m, 1, 4, f);
    fclose(f);
    return got == 4 && m[0] == 0x7f && m[1] == 'E' && m[2] == 'L' &&
           m[3] == 'F';
}

/* The options table: well-formed keys and types, offsets inside config. */
static char *check_options(const char *path, const gf_plugin *d)
{
    for (const gf_option *op = d->options; op && op->key; op++) {
        if (op->type < GF_OPT_STRING || op->type > GF_OPT_MAP)
            return gf_asprintf("%s: option '%s' has unknown type %d; fix the "
                               "plugin's options table and rebuild it",
                               path, op->key, (int)op->type);
        if (op->offset + gf_options_value_size(op->type) > d->config_size)
            return gf_asprintf(
                "%s: option '%s' is stored at offset %zu, outside "
                "config_size %zu; set .config_size = sizeof(your config) "
                "and rebuild the plugin",
                path, op->key, op->offset, d->config_size);
        for (const gf_option *q = d->options; q != op; q++)
            if (strcmp(q->key, op->key) == 0)
                return gf_asprintf("%s: option '%s' is declared twice; fix "
                                   "the plugin's options table",
                                   path, op->key);
    }
    return NULL;
}

/* Everything past the ABI header. NULL when fine, else the refusal. */
static char *check_descriptor(const char *path, const gf_plugin *d)
{
    if (d->magic != GF_PLUGIN_MAGIC)
        return gf_asprintf("%s: wrong magic 0x%08x in the descriptor "
                           "(expected 0x%08x): not a gigflow plugin "
                           "descriptor; build it with GF_PLUGIN_HEADER",
                           path, d->magic, GF_PLUGIN_MAGIC);
    if (d->abi_major != GF_ABI_MAJOR)
        return gf_asprintf("%s: plugin ABI major %u, runtime is %u; rebuild "
                           "the plugin against this gigflow's SDK",
                           path, d->abi_major, GF_ABI_MAJOR);
    if (d->abi_minor > GF_ABI_MINOR)
        return gf_asprintf("%s: plugin ABI minor %u is newer than the "
                           "runtime's %u; upgrade gigflow, or rebuild the "
                           "plugin against this gigflow's SDK",
                           path, d->abi_minor, GF_ABI_MINOR);
    if (d->struct_size < GF_PLUGIN_MIN_SIZE)
        return gf_asprintf("%s: descriptor struct_size %u is smaller than "
                           "%zu; set .struct_size = sizeof(gf_plugin) "
                           "(GF_PLUGIN_HEADER does) and rebuild the plugin",
                           path, d->struct_size, (size_t)GF_PLUGIN_MIN_SIZE);

    char *fname = file_plugin_name(path);
    if (!fname)
        return NULL; /* out of memory: caller reports */
    char *msg = NULL;
    if (!d->name || strcmp(d->name, fname) != 0) {
        msg = gf_asprintf("%s: descriptor name '%s' does not match the file "
                          "name '%s'; rename the file to %s.so or fix the "
                          "name in the descriptor",
                          path, d->name ? d->name : "(null)", fname,
                          d->name ? d->name : fname);
        goto done;
    }
    if (d->kind < GF_KIND_INGEST || d->kind > GF_KIND_EXPORT) {
        msg = gf_asprintf("%s: unknown kind %d; a plugin is one of ingest "
                          "(1), classify (2), aggregate (3), export (4)",
                          path, (int)d->kind);
        goto done;
    }
    const char *missing = NULL;
    if (!d->init)
        missing = "init";
    else if (!d->destroy)
        missing = "destroy";
    else if (d->kind == GF_KIND_INGEST && !d->produce)
        missing = "produce";
    else if (d->kind != GF_KIND_INGEST && !d->process)
        missing = "process";
    if (missing) {
        msg =
            gf_asprintf("%s: %s plugin '%s' has no %s callback; set "
                        ".%s in its descriptor and rebuild it",
                        path, gf_kind_name(d->kind), d->name, missing, missing);
        goto done;
    }
    if (d->options && d->options->key && d->config_size == 0) {
        msg = gf_asprintf("%s: plugin '%s' has options but config_size 0; "
                          "set .config_size = sizeof(your config)",
                          path, d->name);
        goto done;
    }
    msg = check_options(path, d);
done:
    gf_free(fname);
    return msg;
}

gf_loaded *gf_loader_open_path(const char *path, char **err)
{
    char *msg = NULL;
    void *dl = NULL;
    gf_loaded *l = NULL;
    struct stat st;

    if (stat(path, &st) != 0) {
        msg = gf_asprintf("%s: %s; check the path", path, strerror(errno));
        goto fail_open;
    }
    if (!S_ISREG(st.st_mode)) {
        msg =
            gf_asprintf("%s: not a regular file; a plugin is a .so file", path);
        goto fail_open;
    }
    int elf = is_elf(path);
    if (elf < 0) {
        msg = gf_asprintf("%s: cannot read: %s; check its permissions", path,
                          strerror(-elf));
        goto fail_open;
    }
    if (!elf) {
        msg = gf_asprintf("%s: not a shared object (no ELF header); remove "
                          "it from the plugin directory, or rebuild the "
                          "plugin",
                          path);
        goto fail_open;
    }
    dlerror();
    dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        const char *why = dlerror();
        msg = gf_asprintf("%s: cannot load: %s; check that the libraries it "
                          "needs are installed (ldd %s)",
                          path, why ? why : "unknown error", path);
        goto fail_open;
    }
    dlerror();
    void *sym = dlsym(dl, GF_PLUGIN_SYMBOL);
    if (!sym) {
        msg = gf_asprintf("%s: no %s symbol: not a gigflow plugin; a plugin "
                          "exports it with GF_PLUGIN_DEFINE(descriptor)",
                          path, GF_PLUGIN_SYMBOL);
        goto fail_open;
    }
    gf_plugin_fn fn;
    memcpy(&fn, &sym, sizeof fn); /* object pointer to function pointer */
    const gf_plugin *desc = fn();
    if (!desc) {
        msg = gf_asprintf("%s: %s() returned NULL; it must return the "
                          "plugin's descriptor",
                          path, GF_PLUGIN_SYMBOL);
        goto fail_open;
    }
    msg = check_descriptor(path, desc);
    if (msg)
        goto fail_open;

    l = gf_calloc(1, sizeof *l);
    if (!l || !(l->path = gf_strdup(path)))
        goto fail_mem;
    l->dl = dl;
    l->desc = desc;
    return l;

fail_mem:
    msg = gf_asprintf("%s: out of memory", path);
fail_open:
    if (l)
        gf_free(l->path);
    gf_free(l);
    if (dl)
        dlclose(dl);
    if (err)
        *err = msg;
    else
        gf_free(msg);
    return NULL;
}

static bool valid_name(const char *name)
{
    if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return false;
    return strchr(name, '/') == NULL;
}

/* Add the plugin names (*.so, without the suffix) of dir to names. */
static void add_names(const char *dir, char ***names, size_t *n, size_t *cap)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !ends_with(e->d_name, ".so"))
            continue;
        if (*n == *cap) {
            size_t c = *cap ? *cap * 2 : 16;
            char **v = gf_realloc(*names, c * sizeof *v);
            if (!v)
                break;
            *names = v;
            *cap = c;
        }
        char *s = gf_strndup(e->d_name, strlen(e->d_name) - 3);
        if (!s)
            break;
        (*names)[(*n)++] = s;
    }
    closedir(d);
}

gf_loaded *gf_loader_open(const char *name, char **err)
{
    if (strchr(name, '/'))
        return gf_loader_open_path(name, err);
    if (err)
        *err = NULL;
    if (!valid_name(name)) {
        if (err)
            *err = gf_asprintf("'%s' is not a plugin name", name);
        return NULL;
    }
    size_t n;
    char **dirs = gf_loader_dirs(&n);
    if (!dirs) {
        if (err)
            *err = gf_asprintf("plugin '%s': out of memory", name);
        return NULL;
    }
    gf_loaded *l = NULL;
    for (size_t i = 0; i < n; i++) {
        char *path = gf_asprintf("%s/%s.so", dirs[i], name);
        if (!path)
            break;
        struct stat st;
        if (stat(path, &st) == 0) {
            l = gf_loader_open_path(path, err);
            gf_free(path);
            goto done;
        }
        gf_free(path);
    }
    if (err) {
        gf_buf where = {0};
        for (size_t i = 0; i < n; i++)
            gf_buf_printf(&where, "%s%s", i ? ":" : "", dirs[i]);
        gf_buf_append(&where, "", 1);
        char **names = NULL;
        size_t nnames = 0, capnames = 0;
        for (size_t i = 0; i < n; i++)
            add_names(dirs[i], &names, &nnames, &capnames);
        const char *hint =
            gf_options_closest(name, (const char *const *)names, nnames);
        const char *w = where.data ? (const char *)where.data : "";
        if (hint)
            *err = gf_asprintf("plugin '%s' not found: no %s.so in %s (did "
                               "you mean %s?)",
                               name, name, w, hint);
        else
            *err = gf_asprintf("plugin '%s' not found: no %s.so in %s; build "
                               "it, or add its directory to "
                               "GIGFLOW_PLUGIN_PATH",
                               name, name, w);
        for (size_t i = 0; i < nnames; i++)
            gf_free(names[i]);
        gf_free(names);
        gf_buf_free(&where);
    }
done:
    gf_loader_dirs_free(dirs, n);
    return l;
}

void gf_loader_close(gf_loaded **lp)
{
    if (!lp || !*lp)
        return;
    gf_loaded *l = *lp;
    if (l->dl)
        dlclose(l->dl);
    gf_free(l->path);
    gf_free(l);
    *lp = NULL;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.so names of one directory, sorted. */
static char **list_so(const char *dir, size_t *n)
{
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    char **v = NULL;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !ends_with(e->d_name, ".so"))
            continue;
        if (*n == cap) {
            size_t c = cap ? cap * 2 : 16;
            char **nv = gf_realloc(v, c * sizeof *nv);
            if (!nv)
                break;
            v = nv;
            cap = c;
        }
        if (!(v[*n] = gf_strdup(e->d_name)))
            break;
        (*n)++;
    }
    closedir(d);
    if (*n)
        qsort(v, *n, sizeof *v, cmp_str);
    return v;
}

void gf_loader_scan(gf_loader_visit_fn fn, void *arg)
{
    size_t ndirs;
    char **dirs = gf_loader_dirs(&ndirs);
    char **seen = NULL;
    size_t nseen = 0, capseen = 0;
    for (size_t i = 0; i < ndirs; i++) {
        size_t nfiles;
        char **files = list_so(dirs[i], &nfiles);
        for (size_t j = 0; j < nfiles; j++) {
            bool hidden = false;
            for (size_t k = 0; k < nseen && !hidden; k++)
                hidden = strcmp(seen[k], files[j]) == 0;
            if (hidden)
                continue;
            if (nseen == capseen) {
                size_t c = capseen ? capseen * 2 : 16;
                char **ns = gf_realloc(seen, c * sizeof *ns);
                if (!ns)
                    continue; /* out of memory: skip, keep scanning */
                seen = ns;
                capseen = c;
            }
            seen[nseen++] = files[j];
            files[j] = NULL; /* now owned by seen */

            char *path = gf_asprintf("%s/%s", dirs[i], seen[nseen - 1]);
            if (!path)
                continue;
            char *err = NULL;
            gf_loaded *l = gf_loader_open_path(path, &err);
            fn(path, l, l ? NULL : (err ? err : "out of memory"), arg);
            gf_loader_close(&l);
            gf_free(err);
            gf_free(path);
        }
        for (size_t j = 0; j < nfiles; j++)
            gf_free(files[j]);
        gf_free(files);
    }
    for (size_t k = 0; k < nseen; k++)
        gf_free(seen[k]);
    gf_free(seen);
    gf_loader_dirs_free(dirs, ndirs);
}
