/*
 * cli_keygen - `gigflow keygen NAME [--dir DIR]`: a CURVE key pair for one
 * stage, for pipelines with a `security` section (gf_security_keygen does
 * the work). Prints the file names, never the keys.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "gf_alloc.h"
#include "gf_exec.h"
#include "gf_security.h"

static const char keygen_help[] =
    "Usage: gigflow keygen NAME [--dir DIR]\n"
    "\n"
    "Make a CURVE key pair for stage NAME, for pipelines whose `security`\n"
    "section names DIR as `keys`:\n"
    "  DIR/NAME.key  the secret key (mode 0600): keep it on the machines that\n"
    "                run NAME, nowhere else\n"
    "  DIR/NAME.pub  the public key: copy it to every machine whose stages\n"
    "                talk to NAME\n"
    "DIR defaults to the current directory and is created (mode 0700) when\n"
    "missing. Existing keys are never overwritten: remove both files first\n"
    "to replace a pair.\n"
    "\n"
    "Options:\n"
    "  --dir DIR   where to write the files (default .)\n"
    "  --help, -h  this help\n"
    "\n"
    "Exit status: 0 written, 1 not written (the keys exist, a file error),\n"
    "2 usage error.\n";

int cli_keygen(int argc, char **argv)
{
    const char *name = NULL, *dir = ".";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        int r;
        if (cli_is_help(a)) {
            fputs(keygen_help, stdout);
            return GF_EXIT_OK;
        }
        if ((r = cli_take_value("keygen", "--dir", argc, argv, &i, &v)) != 0) {
            if (r < 0)
                return GF_EXIT_USAGE;
            if (!*v)
                return cli_usage_error("keygen", "--dir needs a directory");
            dir = v;
        } else if (a[0] == '-' && a[1] != '\0') {
            return cli_usage_error("keygen", "unknown option '%s'", a);
        } else if (name) {
            return cli_usage_error(
                "keygen", "one stage name only ('%s' and '%s')", name, a);
        } else {
            name = a;
        }
    }
    if (!name)
        return cli_usage_error(
            "keygen", "which stage? (gigflow keygen NAME [--dir DIR])");
    char *err = NULL;
    if (gf_security_keygen(dir, name, &err) != 0) {
        fprintf(stderr, "gigflow keygen: %s\n", err ? err : "out of memory");
        gf_free(err);
        return GF_EXIT_FAILURE;
    }
    size_t len = strlen(dir);
    const char *sep = len && dir[len - 1] == '/' ? "" : "/";
    printf("wrote %s%s%s.key (secret: keep it on the machines that run %s)\n"
           "wrote %s%s%s.pub (public: copy it where stages talk to %s)\n",
           dir, sep, name, name, dir, sep, name, name);
    return GF_EXIT_OK;
}
