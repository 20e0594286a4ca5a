/*
 * cli_validate - `gigflow validate FILE`: everything that can be checked
 * without running (gf_pipeline_load does it all), every problem reported.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "gf_exec.h"
#include "gf_pipeline.h"

static const char validate_help[] =
    "Usage: gigflow validate FILE [--set STAGE.OPTION=VALUE]...\n"
    "\n"
    "Check the pipeline FILE without running it: YAML, stage keys, the graph\n"
    "(unknown or cyclic `from`), plugins found and loadable, every stage's\n"
    "options against its plugin's table, and each plugin's own check (rules\n"
    "files, patterns). Every problem is printed as FILE:LINE:COL: message.\n"
    "\n"
    "Options:\n"
    "  --set STAGE.OPTION=VALUE  override an option of a stage (repeatable)\n"
    "  --help, -h                this help\n"
    "\n"
    "Exit status: 0 valid (prints \"FILE: ok (N stages)\"), 2 otherwise.\n";

int cli_validate(int argc, char **argv)
{
    cli_common c = {0};
    int code = GF_EXIT_USAGE;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r;
        if (cli_is_help(a)) {
            fputs(validate_help, stdout);
            code = GF_EXIT_OK;
            goto done;
        }
        if ((r = cli_take_set("validate", argc, argv, &i, &c)) != 0) {
            if (r < 0)
                goto done;
        } else if (a[0] == '-' && a[1] != '\0') {
            code = cli_usage_error("validate", "unknown option '%s'", a);
            goto done;
        } else if (c.file) {
            code = cli_usage_error("validate",
                                   "one pipeline file only ('%s' and '%s')",
                                   c.file, a);
            goto done;
        } else {
            c.file = a;
        }
    }
    if (!c.file) {
        code = cli_usage_error("validate",
                               "which pipeline file? (gigflow validate FILE)");
        goto done;
    }

    gf_diag d = {0};
    gf_pipeline *p = gf_pipeline_load(c.file, c.sets, c.nsets, &d);
    gf_diag_print(&d, stderr);
    gf_diag_free(&d);
    if (p) {
        printf("%s: ok (%zu stage%s)\n", c.file, p->nstages,
               p->nstages == 1 ? "" : "s");
        code = GF_EXIT_OK;
        gf_pipeline_free(&p);
    }

done:
    cli_common_free(&c);
    return code;
}
