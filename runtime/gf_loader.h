/*
 * gf_loader - finding, loading and checking plugin files.
 *
 * Plugin NAME is the file NAME.so, looked up in order in the directories of
 * GIGFLOW_PLUGIN_PATH (colon-separated), then <dir of the gigflow
 * executable>/../lib/gigflow/plugins (the build tree mirrors the installed
 * layout, so this one rule serves both), then the compiled-in install
 * directory GF_PLUGIN_DIR. A file is opened with dlopen(RTLD_NOW|RTLD_LOCAL)
 * and refused, with one line naming the file, the reason and what to do,
 * when it is not a shared object, has no gigflow_plugin symbol, or its
 * descriptor has a wrong magic, another ABI major, a newer ABI minor, a
 * struct_size too small, a name other than its file name, an unknown kind,
 * or misses a callback its kind needs.
 */
#ifndef GF_LOADER_H
#define GF_LOADER_H

#include <gigflow/plugin.h>

typedef struct gf_loaded {
    char *path;            /* the file it came from */
    void *dl;              /* dlopen handle */
    const gf_plugin *desc; /* checked descriptor */
} gf_loaded;

/* Find NAME on the search path and load it. NULL with *err (malloc'd). */
gf_loaded *gf_loader_open(const char *name, char **err);
/* Load one file by path. NULL with *err (malloc'd). */
gf_loaded *gf_loader_open_path(const char *path, char **err);
/* Unload; *lp = NULL. */
void gf_loader_close(gf_loaded **lp);

/* The search directories in order (malloc'd array of malloc'd strings). */
char **gf_loader_dirs(size_t *n);
void gf_loader_dirs_free(char **dirs, size_t n);

/*
 * Visit every *.so on the search path (a name seen in an earlier directory
 * hides later ones): `ok` is the loaded plugin or NULL with `err`. One bad
 * file never stops the scan. The loaded plugin is closed after the call.
 */
typedef void (*gf_loader_visit_fn)(const char *path, const gf_loaded *ok,
                                   const char *err, void *arg);
void gf_loader_scan(gf_loader_visit_fn fn, void *arg);

/* "ingest", "classify", ... */
const char *gf_kind_name(gf_kind k);
const char *gf_opt_type_name(gf_opt_type t);

#endif
