/*
 * cli - the `gigflow` command line: one file per command (cli_run.c,
 * cli_validate.c, cli_inspect.c), argument helpers in cli_args.c, the
 * dispatcher in main.c. Each command returns its exit status
 * (GF_EXIT_* in gf_exec.h): 0 success, 1 runtime failure, 2 usage or
 * configuration error.
 */
#ifndef GF_CLI_H
#define GF_CLI_H

#include <stdbool.h>
#include <stddef.h>

int cli_run(int argc, char **argv);
int cli_validate(int argc, char **argv);
int cli_inspect(int argc, char **argv);
/* `gigflow keygen NAME [--dir DIR]` (added by the sec helper) */
int cli_keygen(int argc, char **argv);

/* Options shared by run and validate. */
typedef struct cli_common {
    const char *file; /* the pipeline file */
    size_t nsets;
    const char **sets; /* "STAGE.OPTION=VALUE", pointing into argv */
} cli_common;

/*
 * If argv[*i] is `--set X` / `--set=X`, take it into c (advancing *i past
 * a separate value) and return 1; return 0 when it is something else,
 * or -1 after printing a usage error for command `cmd`.
 */
int cli_take_set(const char *cmd, int argc, char **argv, int *i, cli_common *c);
/*
 * If argv[*i] is option `name` with a value (`name V` or `name=V`), set
 * *val and return 1; 0 when it is another argument; -1 after printing an
 * error when the value is missing.
 */
int cli_take_value(const char *cmd, const char *name, int argc, char **argv,
                   int *i, const char **val);
/*
 * Parse a non-negative integer with an optional k/m/g suffix (x1024).
 * Returns 0, or -1 when s is not one.
 */
int cli_parse_size(const char *s, long long *out);
/* Print "gigflow CMD: message" and "Try 'gigflow CMD --help'." on stderr;
   returns GF_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cli_common_free(cli_common *c);
/* True for -h / --help. */
bool cli_is_help(const char *arg);

#endif
