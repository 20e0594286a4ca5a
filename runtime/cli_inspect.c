/*
 * cli_inspect - `gigflow inspect [NAME]`: the plugins on the search path,
 * or one plugin's options (its options table is the single source).
 * A file that cannot be loaded is listed with its reason, never fatal.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "gf_alloc.h"
#include "gf_exec.h"
#include "gf_loader.h"

static const char inspect_help[] =
    "Usage: gigflow inspect [NAME]\n"
    "\n"
    "Without NAME: list every plugin on the search path (name, kind, version,\n"
    "description, file) and every file there that is not a usable plugin,\n"
    "with the reason. With NAME: that plugin's details and options (key,\n"
    "type, default, required, help).\n"
    "\n"
    "Search path: the directories of GIGFLOW_PLUGIN_PATH (colon-separated),\n"
    "then <gigflow's directory>/../lib/gigflow/plugins, then the install\n"
    "directory.\n"
    "\n"
    "Exit status: 0, or 2 when NAME cannot be found or loaded.\n";

/* One file seen by the scan. */
typedef struct entry {
    char *name, *kind, *version, *desc, *path, *err;
} entry;

typedef struct listing {
    size_t n, cap;
    entry *e;
    int oom;
} listing;

static char *dup_or_empty(const char *s)
{
    return gf_strdup(s ? s : "");
}

static void visit(const char *path, const gf_loaded *ok, const char *err,
                  void *arg)
{
    listing *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        entry *e = gf_realloc(l->e, cap * sizeof *e);
        if (!e) {
            l->oom = 1;
            return;
        }
        l->e = e;
        l->cap = cap;
    }
    entry *e = &l->e[l->n++];
    memset(e, 0, sizeof *e);
    e->path = dup_or_empty(path);
    if (ok) {
        e->name = dup_or_empty(ok->desc->name);
        e->kind = dup_or_empty(gf_kind_name(ok->desc->kind));
        e->version = dup_or_empty(ok->desc->version);
        e->desc = dup_or_empty(ok->desc->description);
    } else {
        e->err = dup_or_empty(err ? err : "not a gigflow plugin");
    }
}

static int by_name(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    return strcmp(x->name ? x->name : x->path, y->name ? y->name : y->path);
}

static int width(const listing *l, size_t off, int min)
{
    int w = min;
    for (size_t i = 0; i < l->n; i++) {
        const char *s = *(char *const *)((const char *)&l->e[i] + off);
        if (s && (int)strlen(s) > w)
            w = (int)strlen(s);
    }
    return w;
}

static int list_all(void)
{
    listing l = {0};
    gf_loader_scan(visit, &l);
    if (l.n)
        qsort(l.e, l.n, sizeof *l.e, by_name);
    int wn = width(&l, offsetof(entry, name), 4);
    int wk = width(&l, offsetof(entry, kind), 4);
    int wv = width(&l, offsetof(entry, version), 7);
    int wd = width(&l, offsetof(entry, desc), 11);
    size_t good = 0;
    for (size_t i = 0; i < l.n; i++)
        good += l.e[i].err == NULL;
    if (good) {
        printf("%-*s  %-*s  %-*s  %-*s  %s\n", wn, "NAME", wk, "KIND", wv,
               "VERSION", wd, "DESCRIPTION", "FILE");
        for (size_t i = 0; i < l.n; i++) {
            const entry *e = &l.e[i];
            if (!e->err)
                printf("%-*s  %-*s  %-*s  %-*s  %s\n", wn, e->name, wk, e->kind,
                       wv, e->version, wd, e->desc, e->path);
        }
    }
    if (good < l.n) {
        printf("%sNot usable:\n", good ? "\n" : "");
        for (size_t i = 0; i < l.n; i++)
            if (l.e[i].err)
                printf("  %s\n", l.e[i].err);
    }
    size_t ndirs = 0;
    char **dirs = gf_loader_dirs(&ndirs);
    if (!l.n)
        printf("No plugins found.\n");
    printf("%sSearch path:", l.n ? "\n" : "");
    for (size_t i = 0; i < ndirs; i++)
        printf("%s%s", i ? ":" : " ", dirs[i]);
    printf("\n");
    gf_loader_dirs_free(dirs, ndirs);

    for (size_t i = 0; i < l.n; i++) {
        entry *e = &l.e[i];
        gf_free(e->name);
        gf_free(e->kind);
        gf_free(e->version);
        gf_free(e->desc);
        gf_free(e->path);
        gf_free(e->err);
    }
    gf_free(l.e);
    if (l.oom) {
        fprintf(stderr,
                "gigflow inspect: out of memory, the list is incomplete\n");
        return GF_EXIT_FAILURE;
    }
    return GF_EXIT_OK;
}

static int show_one(const char *name)
{
    char *err = NULL;
    gf_loaded *l = strchr(name, '/') ? gf_loader_open_path(name, &err)
                                     : gf_loader_open(name, &err);
    if (!l) {
        fprintf(stderr, "gigflow inspect: %s\n", err ? err : name);
        gf_free(err);
        return GF_EXIT_USAGE;
    }
    const gf_plugin *d = l->desc;
    printf("Name:        %s\n", d->name);
    printf("Kind:        %s\n", gf_kind_name(d->kind));
    printf("Version:     %s\n", d->version ? d->version : "");
    printf("Description: %s\n", d->description ? d->description : "");
    printf("File:        %s\n", l->path);
    printf("ABI:         %u.%u\n", (unsigned)d->abi_major,
           (unsigned)d->abi_minor);
    printf("Callbacks:  %s%s%s%s%s%s%s\n", d->check ? " check" : "",
           d->init ? " init" : "", d->produce ? " produce" : "",
           d->process ? " process" : "", d->flush ? " flush" : "",
           d->commit ? " commit" : "", d->destroy ? " destroy" : "");

    size_t n = 0;
    int wk = 3, wt = 4, wd = 7;
    for (const gf_option *o = d->options; o && o->key; o++, n++) {
        if ((int)strlen(o->key) > wk)
            wk = (int)strlen(o->key);
        if ((int)strlen(gf_opt_type_name(o->type)) > wt)
            wt = (int)strlen(gf_opt_type_name(o->type));
        if (o->def && (int)strlen(o->def) > wd)
            wd = (int)strlen(o->def);
    }
    if (n == 0) {
        printf("\nOptions: none\n");
    } else {
        printf("\nOptions:\n  %-*s  %-*s  %-*s  %-8s  %s\n", wk, "KEY", wt,
               "TYPE", wd, "DEFAULT", "REQUIRED", "HELP");
        for (const gf_option *o = d->options; o->key; o++)
            printf("  %-*s  %-*s  %-*s  %-8s  %s\n", wk, o->key, wt,
                   gf_opt_type_name(o->type), wd, o->def ? o->def : "-",
                   o->required ? "yes" : "no", o->help ? o->help : "");
    }
    gf_loader_close(&l);
    return GF_EXIT_OK;
}

int cli_inspect(int argc, char **argv)
{
    const char *name = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) {
            fputs(inspect_help, stdout);
            return GF_EXIT_OK;
        }
        if (a[0] == '-' && a[1] != '\0')
            return cli_usage_error("inspect", "unknown option '%s'", a);
        if (name)
            return cli_usage_error(
                "inspect", "one plugin name only ('%s' and '%s')", name, a);
        name = a;
    }
    return name ? show_one(name) : list_all();
}
