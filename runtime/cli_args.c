/*
 * cli_args - argument helpers shared by the gigflow commands (cli.h).
 */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gf_alloc.h"
#include "gf_exec.h"

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "gigflow %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'gigflow %s --help'.\n", cmd);
    return GF_EXIT_USAGE;
}

bool cli_is_help(const char *arg)
{
    return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

int cli_take_value(const char *cmd, const char *name, int argc, char **argv,
                   int *i, const char **val)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=') {
        *val = a + n + 1;
        return 1;
    }
    if (a[n] != '\0')
        return 0;
    if (*i + 1 >= argc) {
        cli_usage_error(cmd, "option %s needs a value", name);
        return -1;
    }
    *val = argv[++*i];
    return 1;
}

int cli_take_set(const char *cmd, int argc, char **argv, int *i, cli_common *c)
{
    const char *v;
    int r = cli_take_value(cmd, "--set", argc, argv, i, &v);
    if (r <= 0)
        return r;
    const char *dot = strchr(v, '.'), *eq = strchr(v, '=');
    if (!dot || !eq || dot > eq || dot == v || eq == dot + 1) {
        cli_usage_error(cmd, "--set expects STAGE.OPTION=VALUE, got '%s'", v);
        return -1;
    }
    const char **s = gf_realloc(c->sets, (c->nsets + 1) * sizeof *s);
    if (!s) {
        fprintf(stderr, "gigflow %s: out of memory\n", cmd);
        return -1;
    }
    c->sets = s;
    c->sets[c->nsets++] = v;
    return 1;
}

int cli_parse_size(const char *s, long long *out)
{
    if (!*s || *s == '-' || *s == '+')
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s)
        return -1;
    long long mul = 1;
    switch (*end) {
    case '\0':
        break;
    case 'k':
    case 'K':
        mul = 1024;
        end++;
        break;
    case 'm':
    case 'M':
        mul = 1024 * 1024;
        end++;
        break;
    case 'g':
    case 'G':
        mul = 1024LL * 1024 * 1024;
        end++;
        break;
    default:
        return -1;
    }
    if (*end != '\0' || v > (long long)(9e18 / (double)mul))
        return -1;
    *out = v * mul;
    return 0;
}

void cli_common_free(cli_common *c)
{
    gf_free(c->sets);
    c->sets = NULL;
    c->nsets = 0;
}
