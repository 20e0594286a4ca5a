/*
 * cli_run - `gigflow run FILE`: validate the pipeline as `validate` does
 * (any error exits 2 before anything runs), then run it in this process.
 */
#include <stdio.h>
#include <string.h>

#include "gf_alloc.h"

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
    "  --stage NAME[#I]          run only instance I of stage NAME here (I "
    "may\n"
    "                            be left out for a stage of one worker);\n"
    "                            repeatable. The other stages run in other\n"
    "                            processes, started with the same FILE; "
    "stages\n"
    "                            with `listen` are reached over ipc:// or "
    "tcp://\n"
    "  --instance I              the instance of the --stage just before\n"
    "  --wait SECONDS            how long producers wait for their consumers "
    "to\n"
    "                            answer, and consumers for producers (default "
    "60)\n"
    "  --heartbeat MS            a peer silent this long is taken as dead\n"
    "                            (default 3000)\n"
    "  --help, -h                this help\n"
    "\n"
    "On SIGINT/SIGTERM ingest stops, the rest drains, nothing is committed\n"
    "and the exit status is 130; a second signal aborts at once. With\n"
    "--stage, an interrupt fails this process (status 1) and its peers.\n"
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
    char **place = NULL;
    size_t nplace = 0;
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
        } else if ((r = cli_take_value("run", "--stage", argc, argv, &i, &v)) !=
                   0) {
            if (r < 0)
                goto done;
            char **n = gf_realloc(place, (nplace + 1) * sizeof *n);
            if (!n || !(n[nplace] = gf_strdup(v))) {
                if (n)
                    place = n;
                fprintf(stderr, "gigflow run: out of memory\n");
                goto done;
            }
            place = n;
            nplace++;
        } else if ((r = cli_take_value("run", "--instance", argc, argv, &i,
                                       &v)) != 0) {
            long long n;
            if (r < 0)
                goto done;
            if (nplace == 0 || strchr(place[nplace - 1], '#')) {
                code = cli_usage_error(
                    "run",
                    "--instance %s: give it right after a --stage "
                    "NAME without #I",
                    v);
                goto done;
            }
            if (cli_parse_size(v, &n) < 0 || n > 65535) {
                code = cli_usage_error(
                    "run", "--instance expects a number >= 0, got '%s'", v);
                goto done;
            }
            char *sp = gf_asprintf("%s#%lld", place[nplace - 1], n);
            if (!sp) {
                fprintf(stderr, "gigflow run: out of memory\n");
                goto done;
            }
            gf_free(place[nplace - 1]);
            place[nplace - 1] = sp;
        } else if ((r = cli_take_value("run", "--wait", argc, argv, &i, &v)) !=
                   0) {
            long long n;
            if (r < 0)
                goto done;
            if (cli_parse_size(v, &n) < 0 || n < 1 || n > 86400) {
                code = cli_usage_error(
                    "run", "--wait expects seconds from 1 to 86400, got '%s'",
                    v);
                goto done;
            }
            o.wait_ms = (long)n * 1000;
        } else if ((r = cli_take_value("run", "--heartbeat", argc, argv, &i,
                                       &v)) != 0) {
            long long n;
            if (r < 0)
                goto done;
            if (cli_parse_size(v, &n) < 0 || n < 100 || n > 3600000) {
                code = cli_usage_error(
                    "run",
                    "--heartbeat expects milliseconds from 100 to 3600000, "
                    "got '%s'",
                    v);
                goto done;
            }
            o.heartbeat_ms = (long)n;
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
    o.place = (const char *const *)place;
    o.nplace = nplace;
    code = gf_exec_run(p, &o, NULL);
    gf_pipeline_free(&p);

done:
    for (size_t k = 0; k < nplace; k++)
        gf_free(place[k]);
    gf_free(place);
    cli_common_free(&c);
    return code;
}
