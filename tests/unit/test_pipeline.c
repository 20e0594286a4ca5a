/*
 * Unit tests of gf_pipeline: a good pipeline loaded into its graph, the
 * ${VAR} and --set rules, and every error kind with its exact position
 * (counted by hand from the texts; "@P" stands for the pipeline file's
 * path, "@D" for its directory). Plugins are the t_ok* fixtures found
 * through GIGFLOW_PLUGIN_PATH=GF_TEST_PLUGIN_DIR.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gf_alloc.h"
#include "gf_buf.h"
#include "gf_pipeline.h"

static char tmp[64];
static char pfile[128];

static int setup(void **state)
{
    (void)state;
    strcpy(tmp, "/tmp/gf_pipeline_XXXXXX");
    if (!mkdtemp(tmp))
        return -1;
    snprintf(pfile, sizeof pfile, "%s/p.yaml", tmp);
    setenv("GIGFLOW_PLUGIN_PATH", GF_TEST_PLUGIN_DIR, 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    return system(cmd);
}

static void write_file(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", tmp, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* `want` with @P and @D replaced; static storage, one at a time. */
static const char *expand(const char *want)
{
    static char out[4096];
    size_t o = 0;
    for (const char *s = want; *s && o < sizeof out - 200; s++) {
        if (s[0] == '@' && (s[1] == 'P' || s[1] == 'D')) {
            o += (size_t)snprintf(out + o, sizeof out - o, "%s",
                                  s[1] == 'P' ? pfile : tmp);
            s++;
        } else {
            out[o++] = *s;
        }
    }
    out[o] = '\0';
    return out;
}

static gf_pipeline *load(const char *text, size_t nsets,
                         const char *const *sets, gf_diag *d)
{
    write_file("p.yaml", text);
    return gf_pipeline_load(pfile, sets, nsets, d);
}

/* Loading must fail with exactly these messages, in this order. */
static void expect_sets(const char *text, size_t nsets, const char *const *sets,
                        size_t n, ...)
{
    gf_diag d = {0};
    gf_pipeline *p = load(text, nsets, sets, &d);
    assert_null(p);
    bool same = d.n == n;
    va_list ap;
    va_start(ap, n);
    for (size_t i = 0; same && i < n; i++)
        same = strcmp(d.msgs[i], expand(va_arg(ap, const char *))) == 0;
    va_end(ap);
    if (!same) {
        for (size_t i = 0; i < d.n; i++)
            print_error("got:  %s\n", d.msgs[i]);
        va_start(ap, n);
        for (size_t i = 0; i < n; i++)
            print_error("want: %s\n", expand(va_arg(ap, const char *)));
        va_end(ap);
    }
    assert_true(same);
    gf_diag_free(&d);
}

#define expect(text, ...) expect_sets(text, 0, NULL, __VA_ARGS__)

static const char *const good = "name: demo\n"
                                "dead_letters: out/dead.jsonl\n"
                                "stages:\n"
                                "  - name: out\n"
                                "    plugin: t_ok_export\n"
                                "    from: [count, tag]\n"
                                "    mask_pii: false\n"
                                "    with: {path: out/x.csv}\n"
                                "  - name: src\n"
                                "    plugin: t_ok_ingest\n"
                                "    with: {count: 5, path: data/in.csv}\n"
                                "  - name: tag\n"
                                "    plugin: t_ok\n"
                                "    from: src\n"
                                "    workers: 3\n"
                                "    listen: tcp://*:5555\n"
                                "    with:\n"
                                "      tag: ${GF_T_TAG:-dflt}\n"
                                "      rules: rules.txt\n"
                                "  - name: count\n"
                                "    plugin: t_ok_agg\n"
                                "    from: [tag]\n"
                                "  - name: secret\n"
                                "    plugin: t_ok_export\n"
                                "    from: tag\n"
                                "    pseudonymize_key_file: key.bin\n"
                                "    with: {path: /abs/y.csv}\n";

static const char *opt_str(const gf_stage_def *st, size_t offset)
{
    const char *s;
    memcpy(&s, (const char *)gf_optset_config(st->opts) + offset, sizeof s);
    return s;
}

static void test_good(void **state)
{
    (void)state;
    write_file("rules.txt", "fine\n");
    write_file("key.bin", "0123456789abcdef0123456789abcdef");
    unsetenv("GF_T_TAG");
    gf_diag d = {0};
    gf_pipeline *p = load(good, 0, NULL, &d);
    for (size_t i = 0; i < d.n; i++)
        print_error("%s\n", d.msgs[i]);
    assert_non_null(p);
    assert_string_equal(p->name, "demo");
    assert_string_equal(p->file, pfile);
    assert_string_equal(p->dir, tmp);
    assert_string_equal(p->dead_letters, expand("@D/out/dead.jsonl"));
    assert_int_equal(p->nstages, 5);
    const gf_stage_def *out = &p->stages[0], *src = &p->stages[1],
                       *tag = &p->stages[2], *count = &p->stages[3],
                       *secret = &p->stages[4];
    assert_string_equal(tag->name, "tag");
    assert_string_equal(tag->plugin, "t_ok");
    assert_int_equal(tag->workers, 3);
    assert_int_equal(src->workers, 1);
    assert_string_equal(tag->listen, "tcp://*:5555");
    assert_null(src->listen);
    assert_int_equal(tag->lib->desc->kind, GF_KIND_CLASSIFY);
    /* from/to in file order of `from` */
    assert_int_equal(out->nfrom, 2);
    assert_int_equal(out->from[0], 3);
    assert_int_equal(out->from[1], 2);
    assert_int_equal(src->nfrom, 0);
    assert_int_equal(src->nto, 1);
    assert_int_equal(src->to[0], 2);
    assert_int_equal(tag->nto, 3); /* out, count, secret: by index */
    assert_int_equal(tag->to[0], 0);
    assert_int_equal(tag->to[1], 3);
    assert_int_equal(tag->to[2], 4);
    /* topological, the first ready stage in file order each time */
    size_t want[] = {1, 2, 3, 0, 4};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(p->order[i], want[i]);
    /* options: env default, paths against the file's directory */
    assert_string_equal(opt_str(tag, 0), "dflt");
    assert_string_equal(opt_str(out, 0), expand("@D/out/x.csv"));
    assert_string_equal(opt_str(secret, 0), "/abs/y.csv");
    /* PII policy */
    assert_int_equal(out->pii_mode, GF_PII_OFF);
    assert_int_equal(secret->pii_mode, GF_PII_PSEUDONYM);
    assert_string_equal(secret->pii_key_file, expand("@D/key.bin"));
    assert_int_equal(count->pii_mode, GF_PII_OFF); /* not an export */
    assert_int_equal(gf_pipeline_find(p, "count"), 3);
    assert_int_equal(gf_pipeline_find(p, "nope"), -1);
    assert_string_equal(gf_pipeline_run_info(p, "inputs"),
                        expand("@D/data/in.csv"));
    assert_string_equal(gf_pipeline_run_info(p, "name"), "demo");
    assert_string_equal(gf_pipeline_run_info(p, "pipeline"), pfile);
    assert_string_equal(gf_pipeline_run_info(p, "dead_letters"),
                        expand("@D/out/dead.jsonl"));
    assert_null(gf_pipeline_run_info(p, "other"));
    gf_pipeline_free(&p);
    assert_null(p);
    gf_pipeline_free(&p);
    assert_int_equal(d.n, 0);
}

static void test_defaults_and_env(void **state)
{
    (void)state;
    setenv("GF_T_TAG", "from-env", 1);
    setenv("GF_T_EMPTY", "", 1);
    gf_diag d = {0};
    gf_pipeline *p = load("stages:\n"
                          "  - name: s\n"
                          "    plugin: t_ok_ingest\n"
                          "    with: {path: \"${GF_T_TAG}/a-$${X}-${GF_T_"
                          "EMPTY:-e}.csv\"}\n"
                          "  - name: ${GF_T_TAG:-x}\n"
                          "    plugin: t_ok_export\n"
                          "    from: s\n"
                          "    with: {path: o}\n",
                          0, NULL, &d);
    assert_non_null(p);
    assert_string_equal(p->name, "p"); /* the file name without .yaml */
    assert_null(p->dead_letters);
    assert_string_equal(opt_str(&p->stages[0], sizeof(int64_t)),
                        expand("@D/from-env/a-${X}-e.csv"));
    assert_string_equal(p->stages[1].name, "from-env");
    assert_int_equal(p->stages[1].pii_mode, GF_PII_MASK); /* default */
    gf_pipeline_free(&p);
    unsetenv("GF_T_TAG");
    expect("stages:\n"
           "  - name: s\n"
           "    plugin: t_ok_ingest\n"
           "    with:\n"
           "      path: \"${GF_T_UNSET_VAR}.csv\"\n"
           "      count: ${GF_T_}\n"
           "  - name: t\n"
           "    plugin: \"${bad name}\"\n",
           3,
           "@P:5:13: environment variable 'GF_T_UNSET_VAR' is not set (set "
           "it, or write ${GF_T_UNSET_VAR:-default})",
           "@P:6:14: environment variable 'GF_T_' is not set (set it, or "
           "write ${GF_T_:-default})",
           "@P:8:13: bad variable reference in '${bad name}' (write ${VAR} "
           "or ${VAR:-default}; $${ for a literal ${)");
}

static const char *const small = "stages:\n"
                                 "  - name: src\n"
                                 "    plugin: t_ok_ingest\n"
                                 "  - name: tag\n"
                                 "    plugin: t_ok\n"
                                 "    from: src\n";

static void test_set(void **state)
{
    (void)state;
    const char *sets[] = {"tag.tag=hello", "src.count=7", "tag.tag=again",
                          "tag.fields=[x, y, z]"};
    gf_diag d = {0};
    gf_pipeline *p = load(small, 4, sets, &d);
    assert_non_null(p);
    assert_string_equal(opt_str(&p->stages[1], 0), "again"); /* last wins */
    int64_t count;
    memcpy(&count, gf_optset_config(p->stages[0].opts), sizeof count);
    assert_int_equal(count, 7);
    const gf_strlist *fields;
    memcpy(&fields, (const char *)gf_optset_config(p->stages[1].opts) + 40,
           sizeof fields);
    assert_int_equal(fields->n, 3);
    assert_string_equal(fields->items[2], "z");
    gf_pipeline_free(&p);

    const char *bad[] = {"tag.limit=abc", "nope.x=1", "tga.tag=x", "tag=1",
                         "tag.ruls=r"};
    expect_sets(small, 5, bad, 5,
                "--set nope.x: no stage 'nope' in @P (stages: src, tag)",
                "--set tga.tag: no stage 'tga' in @P (did you mean 'tag'?)",
                "--set 'tag=1': expected STAGE.OPTION=VALUE",
                "--set tag.limit: stage 'tag': option 'limit': expected an "
                "integer, got 'abc'",
                "--set tag.ruls: stage 'tag': unknown option 'ruls' (did you "
                "mean 'rules'?)");
}

static void test_file_errors(void **state)
{
    (void)state;
    expect("", 1, "@P: the file is empty; a pipeline needs a 'stages:' list");
    expect("- a\n", 1,
           "@P:1:1: a pipeline file is a mapping with 'stages:', got a list");
    expect("name: x\nstagse: []\n", 2,
           "@P:2:1: unknown key 'stagse' (did you mean 'stages'?)",
           "@P:1:1: no 'stages:' list; a pipeline needs at least one stage");
    expect("stages: []\n", 1,
           "@P:1:9: 'stages' is empty; a pipeline needs at least one stage");
    expect("stages: {a: 1}\n", 1,
           "@P:1:9: 'stages' must be a list of stages, got a mapping");
    expect("stages:\n  - a: b\n   c: d\n", 1,
           "@P:3:4: YAML syntax: did not find expected '-' indicator while "
           "parsing a block collection (line 2, column 3)");
    expect("name: [x]\ndead_letters:\nstages:\n  - 3\n", 3,
           "@P:1:7: 'name' must be a scalar, got a list",
           "@P:2:14: 'dead_letters' has no value",
           "@P:4:5: stage 1 must be a mapping with 'name' and 'plugin', got "
           "a scalar");
    char want[512];
    snprintf(want, sizeof want,
             "%s/none.yaml: cannot open: No such file or "
             "directory",
             tmp);
    gf_diag d = {0};
    char path[256];
    snprintf(path, sizeof path, "%s/none.yaml", tmp);
    assert_null(gf_pipeline_load(path, NULL, 0, &d));
    assert_int_equal(d.n, 1);
    assert_string_equal(d.msgs[0], want);
    gf_diag_free(&d);
}

static void test_stage_errors(void **state)
{
    (void)state;
    expect("stages:\n"
           "  - name: src\n"
           "    plugin: t_ok_ingest\n"
           "    form: x\n"
           "    workers: 0\n"
           "    listen: localhost\n"
           "  - plugin: t_ok\n"
           "    from: src\n"
           "  - name: a.b\n"
           "    plugin: t_ok\n"
           "    from: src\n"
           "    workers: many\n"
           "  - name: src\n"
           "    from: src\n"
           "  - name: y\n"
           "    plugin: [t_ok]\n"
           "    from: src\n"
           "    colour: red\n",
           10, "@P:4:5: stage 'src': unknown key 'form' (did you mean 'from'?)",
           "@P:5:14: stage 'src': 'workers' must be 1 to 1024, got 0",
           "@P:6:13: stage 'src': 'listen' must be a tcp:// or ipc:// "
           "endpoint, got 'localhost'",
           "@P:7:5: stage 2 has no 'name'",
           "@P:9:11: stage name 'a.b' may hold only letters, digits, '_' and "
           "'-'",
           "@P:12:14: stage 3: 'workers' must be an integer, got 'many'",
           "@P:13:5: stage 'src': no 'plugin' given; name the plugin that "
           "runs this stage",
           "@P:13:11: stage 'src' is defined twice (first at line 2); stage "
           "names must be unique",
           "@P:16:13: stage 'y': 'plugin' must be a scalar, got a list",
           "@P:18:5: stage 'y': unknown key 'colour' (known keys: name, "
           "plugin, from, with, workers, listen, mask_pii, "
           "pseudonymize_key_file, kinds)");
}

/* Errors that need the plugin's kind. */
static void test_kind_errors(void **state)
{
    (void)state;
    expect("stages:\n"
           "  - name: src\n"
           "    plugin: t_ok_ingest\n"
           "    workers: 2\n"
           "    mask_pii: false\n"
           "  - name: agg\n"
           "    plugin: t_ok_agg\n"
           "    from: src\n"
           "    workers: 4\n"
           "  - name: out\n"
           "    plugin: t_ok_export\n"
           "    from: agg\n"
           "    workers: 2\n"
           "    mask_pii: off\n"
           "    pseudonymize_key_file: /\n",
           6,
           "@P:14:5: stage 'out': 'mask_pii: false' and "
           "'pseudonymize_key_file' contradict each other; keep one",
           "@P:4:14: stage 'src': workers: 2 is only supported on classify "
           "and aggregate stages for now ('t_ok_ingest' is an ingest plugin: "
           "one instance "
           "reads its input in order); remove 'workers' or set it to 1",
           "@P:5:5: stage 'src': 'mask_pii' applies to export stages only "
           "('t_ok_ingest' is an ingest plugin)",
           "@P:9:14: stage 'agg': workers: 4 needs an aggregate plugin with "
           "partial() and merge() (ABI minor 2); 't_ok_agg' has neither; "
           "remove 'workers' or set it to 1",
           "@P:11:5: stage 'out': missing required option 'path' (the output "
           "file)",
           "@P:13:14: stage 'out': workers: 2 is only supported on classify "
           "and aggregate stages for now ('t_ok_export' is an export plugin: "
           "one instance "
           "writes one output file); remove 'workers' or set it to 1");
}

static void test_graph_errors(void **state)
{
    (void)state;
    expect("stages:\n"
           "  - name: src\n"
           "    plugin: t_ok_ingest\n"
           "    from: other\n"
           "  - name: tag\n"
           "    plugin: t_ok\n"
           "  - name: c1\n"
           "    plugin: t_ok\n"
           "    from: [srcc, c1, src, src, [x]]\n"
           "  - name: out\n"
           "    plugin: t_ok_export\n"
           "    from: src\n"
           "    with: {path: o}\n"
           "  - name: after\n"
           "    plugin: t_ok\n"
           "    from: out\n",
           7,
           "@P:4:5: stage 'src': an ingest stage reads no input; remove "
           "'from'",
           "@P:5:5: stage 'tag' (classify) has no 'from': name the stage(s) "
           "it reads",
           "@P:9:12: stage 'c1': 'from' names no stage 'srcc' (did you mean "
           "'src'?)",
           "@P:9:18: stage 'c1' reads from itself; a stage's 'from' names "
           "the stages before it",
           "@P:9:27: stage 'c1': 'from' names 'src' twice",
           "@P:9:32: stage 'c1': 'from' items must be stage names, got a "
           "list",
           "@P:16:11: stage 'after' reads from 'out', an export stage, which "
           "emits no records");
}

static void test_cycles(void **state)
{
    (void)state;
    /* src -> a -> b -> c -> a, and d <-> e; f hangs below the first */
    expect("stages:\n"
           "  - {name: src, plugin: t_ok_ingest}\n"
           "  - {name: f, plugin: t_ok, from: c}\n"
           "  - {name: b, plugin: t_ok, from: a}\n"
           "  - {name: a, plugin: t_ok, from: [src, c]}\n"
           "  - {name: c, plugin: t_ok, from: b}\n"
           "  - {name: d, plugin: t_ok, from: e}\n"
           "  - {name: e, plugin: t_ok, from: d}\n",
           2,
           "@P:4:29: stages form a cycle: b -> c -> a -> b (each reads from "
           "the one before it)",
           "@P:7:29: stages form a cycle: d -> e -> d (each reads from the "
           "one before it)");
}

static void test_plugin_errors(void **state)
{
    (void)state;
    size_t n;
    char **dirs = gf_loader_dirs(&n);
    gf_buf where = {0};
    for (size_t i = 0; i < n; i++)
        gf_buf_printf(&where, "%s%s", i ? ":" : "", dirs[i]);
    gf_buf_append(&where, "", 1);
    gf_loader_dirs_free(dirs, n);
    char want[4096];
    snprintf(want, sizeof want,
             "@P:3:13: stage 'src': plugin 'no_such_plugin' not found: no "
             "no_such_plugin.so in %s; build it, or add its directory to "
             "GIGFLOW_PLUGIN_PATH",
             (const char *)where.data);
    gf_buf_free(&where);
    expect("stages:\n"
           "  - name: src\n"
           "    plugin: no_such_plugin\n"
           "  - name: classify\n"
           "    plugin: t_ok\n"
           "    from: src\n"
           "    with:\n"
           "      ruls: r.yaml\n",
           2, want,
           "@P:8:7: stage 'classify': unknown option 'ruls' (did you mean "
           "'rules'?)");
}

static void test_check_errors(void **state)
{
    (void)state;
    write_file("bad_rules.txt", "bad: rule\n");
    expect("stages:\n"
           "  - name: src\n"
           "    plugin: t_ok_ingest\n"
           "  - name: tag\n"
           "    plugin: t_ok\n"
           "    from: src\n"
           "    with:\n"
           "      rules: bad_rules.txt\n"
           "      limit: -1\n"
           "  - name: tag2\n"
           "    plugin: t_ok\n"
           "    from: src\n"
           "    with: {rules: missing.txt}\n",
           3, "@P:9:7: stage 'tag': option 'limit': must be 0 or more, got -1",
           "@D/bad_rules.txt:1:1: bad rule 'bad'",
           "@D/missing.txt: cannot open");
}

/* The rarer forms of each error, and their positions. */
static void test_more_errors(void **state)
{
    (void)state;
    expect("stages:\n"
           "  - {name: s, plugin: \"${X:-abc\"}\n",
           1,
           "@P:2:23: unterminated '${' in '${X:-abc' (write ${VAR} or "
           "${VAR:-default})");
    expect("stages:\n"
           "  - name: src\n"
           "    plugin: t_ok_ingest\n"
           "  - name: c1\n"
           "    plugin: t_ok\n"
           "    from: {a: b}\n"
           "    with: [x]\n"
           "  - name: c2\n"
           "    plugin: t_ok\n"
           "    from: []\n"
           "  - name: out\n"
           "    plugin: t_ok_export\n"
           "    from: src\n"
           "    mask_pii: maybe\n"
           "    pseudonymize_key_file: keys/none.key\n"
           "    with: {path: o.csv}\n",
           5,
           "@P:14:15: stage 'out': 'mask_pii' must be true or false, got "
           "'maybe'",
           "@P:15:28: stage 'out': 'pseudonymize_key_file' @D/keys/none.key: "
           "No such file or directory (create one with `head -c 64 "
           "/dev/urandom > FILE; chmod 600 FILE`)",
           "@P:7:11: stage 'c1': 'with' must be a mapping of option: value, "
           "got a list",
           "@P:6:11: stage 'c1': 'from' must be a stage name or a list of "
           "them, got a mapping",
           "@P:10:11: stage 'c2': 'from' is empty: name the stage(s) it "
           "reads");
}

/* A relative file name: positions say it as given, paths resolve
   against its directory made absolute. */
static void test_relative_file(void **state)
{
    (void)state;
    char *old = getcwd(NULL, 0);
    char sub[128], want[256];
    snprintf(sub, sizeof sub, "%s/sub", tmp);
    assert_int_equal(mkdir(sub, 0700), 0);
    write_file("sub/q.yaml", "stages:\n"
                             "  - name: src\n"
                             "    plugin: t_ok_ingest\n"
                             "    with: {path: in.csv}\n");
    write_file("sub/bad.yaml", "stages:\n  - name: src\n    plugin: x y\n"
                               "    junk: 1\n");
    assert_int_equal(chdir(tmp), 0);
    gf_diag d = {0};
    gf_pipeline *p = gf_pipeline_load("sub/q.yaml", NULL, 0, &d);
    assert_non_null(p);
    assert_string_equal(p->dir, sub);
    assert_string_equal(p->name, "q");
    snprintf(want, sizeof want, "%s/in.csv", sub);
    assert_string_equal(opt_str(&p->stages[0], sizeof(int64_t)), want);
    gf_pipeline_free(&p);
    assert_null(gf_pipeline_load("sub/bad.yaml", NULL, 0, &d));
    assert_true(d.n >= 1);
    assert_string_equal(d.msgs[0], "sub/bad.yaml:4:5: stage 'src': unknown "
                                   "key 'junk' (known keys: name, plugin, "
                                   "from, with, workers, listen, mask_pii, "
                                   "pseudonymize_key_file, kinds)");
    gf_diag_free(&d);
    assert_int_equal(chdir(sub), 0);
    p = gf_pipeline_load("q.yaml", NULL, 0, &d);
    assert_non_null(p);
    assert_string_equal(p->dir, sub);
    gf_pipeline_free(&p);
    assert_int_equal(chdir(old), 0);
    free(old);
}

/* Fail the Nth allocation for every N: no crash, no leak (ASan). */
static void test_alloc_failures(void **state)
{
    (void)state;
    write_file("p.yaml", small);
    const char *sets[] = {"tag.tag=x"};
    for (long n = 0; n < 5000; n++) {
        gf_diag d = {0};
        gf_alloc_fail_after(n);
        gf_pipeline *p = gf_pipeline_load(pfile, sets, 1, &d);
        gf_alloc_fail_reset();
        gf_diag_free(&d);
        if (p) {
            assert_string_equal(opt_str(&p->stages[1], 0), "x");
            gf_pipeline_free(&p);
            return;
        }
    }
    fail_msg("never succeeded");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_defaults_and_env),
        cmocka_unit_test(test_set),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_stage_errors),
        cmocka_unit_test(test_kind_errors),
        cmocka_unit_test(test_graph_errors),
        cmocka_unit_test(test_cycles),
        cmocka_unit_test(test_plugin_errors),
        cmocka_unit_test(test_check_errors),
        cmocka_unit_test(test_more_errors),
        cmocka_unit_test(test_relative_file),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
