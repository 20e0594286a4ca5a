/*
 * main - the gigflow command: dispatch to one command per cli_*.c file.
 */
#include <stdio.h>
#include <string.h>

#include <gigflow/plugin.h>
#include <zmq.h>

#include "cli.h"
#include "gf_exec.h"

static const char main_help[] =
    "Usage: gigflow COMMAND [ARGS]\n"
    "\n"
    "Run pipelines of ingest, classify, aggregate and export plugins.\n"
    "\n"
    "Commands:\n"
    "  run FILE        run a pipeline in this process\n"
    "  validate FILE   check a pipeline without running it\n"
    "  inspect [NAME]  list the plugins found, or show one plugin's options\n"
    "  keygen NAME     make a CURVE key pair for stage NAME (secured edges)\n"
    "  version         print the version\n"
    "  help [COMMAND]  this help, or a command's\n"
    "\n"
    "'gigflow COMMAND --help' describes each command.\n"
    "Exit status: 0 success, 1 runtime failure, 2 usage or configuration "
    "error.\n";

static int version(void)
{
    int maj, min, pat;
    zmq_version(&maj, &min, &pat);
    printf("gigflow %s (plugin ABI %d.%d, ZeroMQ %d.%d.%d)\n", GF_VERSION,
           GF_ABI_MAJOR, GF_ABI_MINOR, maj, min, pat);
    return GF_EXIT_OK;
}

typedef struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
} command;

static const command commands[] = {
    {"run", cli_run},
    {"validate", cli_validate},
    {"inspect", cli_inspect},
    {"keygen", cli_keygen},
};

static const command *find(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static int help(int argc, char **argv)
{
    if (argc < 2) {
        fputs(main_help, stdout);
        return GF_EXIT_OK;
    }
    const command *c = find(argv[1]);
    if (!c) {
        fprintf(stderr, "gigflow help: no command '%s'\n", argv[1]);
        fputs(main_help, stderr);
        return GF_EXIT_USAGE;
    }
    char *args[] = {argv[1], (char *)"--help", NULL};
    return c->fn(2, args);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(main_help, stderr);
        return GF_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "help") == 0 || cli_is_help(cmd))
        return help(argc - 1, argv + 1);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0)
        return version();
    const command *c = find(cmd);
    if (!c) {
        fprintf(stderr, "gigflow: unknown command '%s'\n", cmd);
        fputs(main_help, stderr);
        return GF_EXIT_USAGE;
    }
    return c->fn(argc - 1, argv + 1);
}
