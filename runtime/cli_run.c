/*
 * cli_run - `gigflow run FILE`: validate the pipeline as `validate` does
 * (any error exits 2 before anything runs), then run it in this process.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "gf_exec.h"
#include "gf_pipeline.h"

static const char run_help[] =
    "Usage: gigflow run FILE [OPTIONS]\n"
    "\n"
    "Run the pipeline FILE in this process: every stage instance in its own\n"
    "thread, records flowing between them in batches. Exports make their\n"
    "output visible only when every stage succeeded.\n"
    "\n"
    "Options:\n"
    "  --set STAGE.OPTION=VALUE  override an option of a stage (repeatable)\n"
    "  --max-rejects N           fail the run when more than N records went\n"
    "                            to the dead letters (default: no limit)\n"
    "  --batch-bytes N           target batch size, k/m suffixes allowed\n"
    "                            (default 64k)\n"
    "  --metrics-addr HOST:PORT  serve Prometheus metrics at\n"
    "                            http://HOST:PORT/metrics and /health while\n"
    "                            the run lasts (127.0.0.1:9100: this machine\n"
    "                            only; PORT 0 picks a free port)\n"
    "  --quiet, -q               no summary table at the end\n"
    "  --no-progress             no live progress line on a terminal\n"
    "  --help, -h                this help\n"
    "\n"
    "On SIGINT/SIGTERM ingest stops, the rest drains, nothing is committed\n"
    "and the exit status is 130; a second signal aborts at once.\n"
    "Exit status: 0 success, 1 the run failed, 2 usage or configuration "
    "error.\n";

int cli_run(int argc, char **argv)
{
    cli_common c = {0};
    gf_run_opts o = {
        .batch_bytes = 64 * 1024,
        .max_rejects = -1,
        .progress = true,
        .summary = true,
    };
    int code = GF_EXIT_USAGE;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        int r;
        if (cli_is_help(a)) {
            fputs(run_help, stdout);
            code = GF_EXIT_OK;
            goto done;
        }
        if ((r = cli_take_set("run", argc, argv, &i, &c)) != 0) {
            if (r < 0)
                goto done;
        } else if ((r = cli_take_value("run", "--max-rejects", argc, argv, &i,
                                       &v)) != 0) {
            long long n;
            if (r < 0)
                goto done;
            if (cli_parse_size(v, &n) < 0) {
                code = cli_usage_error(
                    "run", "--max-rejects expects a number >= 0, got '%s'", v);
                goto done;
            }
            o.max_rejects = n;
        } else if ((r = cli_take_value("run", "--batch-bytes", argc, argv, &i,
                                       &v)) != 0) {
            long long n;
            if (r < 0)
                goto done;
            /* well below the 64 MiB a received frame may hold */
            if (cli_parse_size(v, &n) < 0 || n < 1 || n > (1LL << 24)) {
                code = cli_usage_error(
                    "run",
                    "--batch-bytes expects a size from 1 to 16m, got '%s'", v);
                goto done;
            }
            o.batch_bytes = (size_t)n;
        } else if ((r = cli_take_value("run", "--metrics-addr", argc, argv, &i,
                                       &v)) != 0) {
            if (r < 0)
                goto done;
            o.metrics_addr = v;
        } else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
            o.summary = false;
        } else if (strcmp(a, "--no-progress") == 0) {
            o.progress = false;
        } else if (a[0] == '-' && a[1] != '\0') {
            code = cli_usage_error("run", "unknown option '%s'", a);
            goto done;
        } else if (c.file) {
            code = cli_usage_error(
                "run", "one pipeline file only ('%s' and '%s')", c.file, a);
            goto done;
        } else {
            c.file = a;
        }
    }
    if (!c.file) {
        code =
            cli_usage_error("run", "which pipeline file? (gigflow run FILE)");
        goto done;
    }

    gf_diag d = {0};
    gf_pipeline *p = gf_pipeline_load(c.file, c.sets, c.nsets, &d);
    gf_diag_print(&d, stderr);
    gf_diag_free(&d);
    if (!p)
        goto done; /* GF_EXIT_USAGE */
    code = gf_exec_run(p, &o, NULL);
    gf_pipeline_free(&p);

done:
    cli_common_free(&c);
    return code;
}
