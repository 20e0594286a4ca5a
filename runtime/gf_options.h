/*
 * gf_options - a stage's `with:` map parsed against its plugin's options
 * table into the config struct the plugin reads.
 *
 * Scalars are typed by the table: int (decimal, optional sign), float,
 * bool (true/false/yes/no/on/off), string, path (relative ones made absolute
 * against the pipeline file's directory), list (a sequence of scalars, or
 * one scalar), map (a mapping of scalars, file order kept). Errors are
 * reported at the offending node: unknown key (with the closest known key
 * as a hint), wrong type, missing required option (at the stage's `plugin`
 * key).
 */
#ifndef GF_OPTIONS_H
#define GF_OPTIONS_H

#include <gigflow/plugin.h>

#include "gf_diag.h"
#include "gf_yaml.h"

typedef struct gf_optset gf_optset;

/*
 * Parse `with` (a MAP node, or NULL for none) against p->options.
 * `at` is the node to report missing required options at. base_dir is the
 * directory relative paths resolve against. Returns NULL after adding every
 * error to d.
 */
gf_optset *gf_options_parse(const gf_plugin *p, const gf_ynode *with,
                            const gf_ynode *at, const char *base_dir,
                            gf_diag *d);
/*
 * The same, with every message prefixed by `who` (for instance
 * "stage 'classify'"), so that an operator reads
 * "x.yaml:12:7: stage 'classify': unknown option 'ruls' (did you mean
 * 'rules'?)". who may be NULL. (Added by the config helper.)
 */
gf_optset *gf_options_parse_for(const gf_plugin *p, const gf_ynode *with,
                                const gf_ynode *at, const char *base_dir,
                                const char *who, gf_diag *d);
/*
 * `path` made absolute against base_dir (itself made absolute against the
 * current directory when relative; NULL means the current directory).
 * Absolute paths and "-" are returned as they are; a leading "./" is
 * dropped. Returns a gf_malloc'd string, or NULL when out of memory.
 */
char *gf_options_resolve_path(const char *path, const char *base_dir);
/*
 * The candidate closest to `key` by edit distance when it is close enough
 * to be a likely typo, else NULL: the "did you mean" of every message.
 * (Added by the config helper.)
 */
const char *gf_options_closest(const char *key, const char *const *cands,
                               size_t n);
/* Bytes an option of type t takes in the config struct (loader checks that
   each offset fits config_size). */
size_t gf_options_value_size(gf_opt_type t);
/* The filled config struct (p->config_size bytes). */
const void *gf_optset_config(const gf_optset *o);
/* The node of option `key` in the file (for option_error), or `at`. */
const gf_ynode *gf_optset_node(const gf_optset *o, const char *key);
void gf_optset_free(gf_optset **op);

#endif
