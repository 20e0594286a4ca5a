/*
 * gf_pipeline - a pipeline file loaded, checked and ready to run.
 *
 * Loading does everything that needs no running: parse the YAML, replace
 * ${VAR} and ${VAR:-default} from the environment in scalars, apply
 * --set STAGE.OPTION=VALUE overrides, check the top level and each stage's
 * keys (name, plugin, from, with, workers, listen, kinds; mask_pii and
 * pseudonymize_key_file on export stages), resolve `from` into a graph (unknown
 * stage, cycle, ingest with `from`, another kind without it, duplicate names),
 * load each plugin, parse its options and run its check(). Every error goes to
 * the gf_diag as "FILE:LINE:COL: message"; loading goes on past errors to
 * report them all.
 */
#ifndef GF_PIPELINE_H
#define GF_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>

#include "gf_diag.h"
#include "gf_loader.h"
#include "gf_options.h"
#include "gf_pii.h"
#include "gf_yaml.h"

typedef struct gf_stage_def {
    char *name;
    char *plugin;
    unsigned workers; /* >= 1 */
    char *listen;     /* placement endpoint, or NULL */
    size_t nfrom;
    size_t *from; /* indices of upstream stages, file order */
    size_t nto;
    size_t *to;           /* indices of downstream stages */
    const gf_ynode *node; /* the stage's mapping in the file */
    gf_loaded *lib;
    gf_optset *opts;
    /* export stages: `mask_pii` (default true), `pseudonymize_key_file` */
    gf_pii_mode pii_mode;
    char *pii_key_file; /* absolute path, or NULL */
    /* `kinds`: only records of these kinds reach the plugin (none: all) */
    size_t nkinds;
    char **kinds;
    /* placement (added by dist): `listen` as one endpoint per worker
       instance; a single endpoint gives nlisten 1 (listen == listens[0]) */
    char **listens;
    unsigned nlisten;
} gf_stage_def;

typedef struct gf_pipeline {
    char *file; /* as given */
    char *dir;  /* absolute directory of the file */
    char *name;
    char *dead_letters; /* absolute path, or NULL */
    size_t nstages;
    gf_stage_def *stages; /* file order */
    size_t *order;        /* a topological order (upstream first) */
    gf_ynode *root;
    /* the top-level `security` mapping (keys checked: `keys` a directory,
       `allow` a list of .pub files), or NULL: plaintext edges. Read by
       gf_security_load. (Added by the sec helper.) */
    const gf_ynode *security;
} gf_pipeline;

/*
 * Load `file`, applying `nsets` overrides "STAGE.OPTION=VALUE". Returns NULL
 * when there was any error (all in d).
 */
gf_pipeline *gf_pipeline_load(const char *file, const char *const *sets,
                              size_t nsets, gf_diag *d);
/* Index of stage `name`, or -1. */
long gf_pipeline_find(const gf_pipeline *p, const char *name);
void gf_pipeline_free(gf_pipeline **pp);
/*
 * gf_host.run_info for a loaded pipeline: "pipeline" (the file as given),
 * "name", "inputs" (the `path` option of each ingest stage, joined with
 * ", "; "" when none), "dead_letters" (the dead-letter file, absolute;
 * NULL when they go to stderr); NULL for other keys. The strings live as long
 * as p. (Added by the config helper, for every runner's run_info.)
 */
const char *gf_pipeline_run_info(const gf_pipeline *p, const char *key);

#endif
