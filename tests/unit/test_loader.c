/*
 * Unit tests of gf_loader: the search path, loading a good plugin, and
 * every refusal with its exact one-line message. The broken plugins are
 * tests/fixtures/bad_*.c, built into GF_TEST_PLUGIN_DIR; tests point
 * GIGFLOW_PLUGIN_PATH at private temporary directories of symlinks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gf_alloc.h"
#include "gf_loader.h"

#define FIX GF_TEST_PLUGIN_DIR

typedef struct dirs {
    char a[64], b[64];
} dirs;

static void rm_dir(const char *d)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
    assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
    dirs *t = calloc(1, sizeof *t);
    strcpy(t->a, "/tmp/gf_loader_a_XXXXXX");
    strcpy(t->b, "/tmp/gf_loader_b_XXXXXX");
    if (!mkdtemp(t->a) || !mkdtemp(t->b))
        return -1;
    char path[256];
    snprintf(path, sizeof path, "%s:%s", t->a, t->b);
    setenv("GIGFLOW_PLUGIN_PATH", path, 1);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    dirs *t = *state;
    rm_dir(t->a);
    rm_dir(t->b);
    free(t);
    unsetenv("GIGFLOW_PLUGIN_PATH");
    return 0;
}

/* dir/as.so -> the fixture `fixture`.so */
static void link_fixture(const char *dir, const char *fixture, const char *as)
{
    char from[512], to[512];
    snprintf(from, sizeof from, "%s/%s.so", FIX, fixture);
    snprintf(to, sizeof to, "%s/%s.so", dir, as);
    assert_int_equal(symlink(from, to), 0);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_search_dirs(void **state)
{
    (void)state;
    setenv("GIGFLOW_PLUGIN_PATH", "/x/a::/x/b/:/x/a", 1);
    size_t n;
    char **d = gf_loader_dirs(&n);
    assert_non_null(d);
    assert_int_equal(n, 4);
    assert_string_equal(d[0], "/x/a");
    assert_string_equal(d[1], "/x/b");
    /* the test runs from <build>/bin: <build>/lib/gigflow/plugins */
    char want[512];
    char *real = realpath(GF_BUILD_DIR, NULL);
    snprintf(want, sizeof want, "%s/lib/gigflow/plugins", real);
    free(real);
    assert_string_equal(d[2], want);
    assert_string_equal(d[3], GF_PLUGIN_DIR);
    gf_loader_dirs_free(d, n);
    unsetenv("GIGFLOW_PLUGIN_PATH");
    d = gf_loader_dirs(&n);
    assert_int_equal(n, 2);
    gf_loader_dirs_free(d, n);
}

static void test_open_good(void **state)
{
    dirs *t = *state;
    link_fixture(t->b, "t_ok", "t_ok");
    char *err = NULL;
    gf_loaded *l = gf_loader_open("t_ok", &err);
    assert_non_null(l);
    assert_null(err);
    assert_string_equal(l->desc->name, "t_ok");
    assert_int_equal(l->desc->kind, GF_KIND_CLASSIFY);
    char want[256];
    snprintf(want, sizeof want, "%s/t_ok.so", t->b);
    assert_string_equal(l->path, want);
    gf_loader_close(&l);
    assert_null(l);
    gf_loader_close(&l);

    /* a plugin built for an older minor (0) is taken */
    link_fixture(t->b, "t_sink", "t_sink");
    l = gf_loader_open("t_sink", &err);
    assert_non_null(l);
    assert_int_equal(l->desc->abi_minor, 0);
    assert_true(GF_ABI_MINOR > 0);
    /* its descriptor ends at destroy: no partial()/merge() read past it */
    assert_false(GF_PLUGIN_CAN_MERGE(l->desc));
    gf_loader_close(&l);

    /* an earlier directory hides a later one, even when broken */
    link_fixture(t->a, "bad_magic", "t_ok");
    l = gf_loader_open("t_ok", &err);
    assert_null(l);
    snprintf(want, sizeof want,
             "%s/t_ok.so: wrong magic 0xdeadbeef in the descriptor (expected "
             "0x474c4650): not a gigflow plugin descriptor; build it with "
             "GF_PLUGIN_HEADER",
             t->a);
    assert_string_equal(err, want);
    free(err);

    /* a name with '/' is a path */
    l = gf_loader_open(FIX "/t_ok_ingest.so", &err);
    assert_non_null(l);
    assert_int_equal(l->desc->kind, GF_KIND_INGEST);
    gf_loader_close(&l);
}

/* Loading FIX/<name>.so must fail with "<path>: <rest>". */
static void expect_refusal(const char *name, const char *rest)
{
    char path[512], want[1024];
    snprintf(path, sizeof path, "%s/%s.so", FIX, name);
    snprintf(want, sizeof want, "%s: %s", path, rest);
    char *err = NULL;
    gf_loaded *l = gf_loader_open_path(path, &err);
    assert_null(l);
    assert_non_null(err);
    assert_string_equal(err, want);
    assert_null(strchr(err, '\n')); /* one line */
    free(err);
}

static void test_refusals(void **state)
{
    (void)state;
    expect_refusal("bad_nosym", "no gigflow_plugin symbol: not a gigflow "
                                "plugin; a plugin exports it with "
                                "GF_PLUGIN_DEFINE(descriptor)");
    expect_refusal("bad_null", "gigflow_plugin() returned NULL; it must "
                               "return the plugin's descriptor");
    expect_refusal("bad_magic", "wrong magic 0xdeadbeef in the descriptor "
                                "(expected 0x474c4650): not a gigflow "
                                "plugin descriptor; build it with "
                                "GF_PLUGIN_HEADER");
    expect_refusal("bad_major", "plugin ABI major 2, runtime is 1; rebuild "
                                "the plugin against this gigflow's SDK");
    char want[256];
    snprintf(want, sizeof want,
             "plugin ABI minor %d is newer than the runtime's %d; upgrade "
             "gigflow, or rebuild the plugin against this gigflow's SDK",
             GF_ABI_MINOR + 1, GF_ABI_MINOR);
    expect_refusal("bad_minor", want);
    snprintf(want, sizeof want,
             "descriptor struct_size 24 is smaller than %zu; set "
             ".struct_size = sizeof(gf_plugin) (GF_PLUGIN_HEADER does) and "
             "rebuild the plugin",
             offsetof(gf_plugin, destroy) + sizeof(void (*)(void)));
    expect_refusal("bad_size", want);
    expect_refusal("bad_name", "descriptor name 'another_name' does not "
                               "match the file name 'bad_name'; rename the "
                               "file to another_name.so or fix the name in "
                               "the descriptor");
    expect_refusal("bad_kind", "unknown kind 9; a plugin is one of ingest "
                               "(1), classify (2), aggregate (3), export "
                               "(4)");
    expect_refusal("bad_callback", "classify plugin 'bad_callback' has no "
                                   "process callback; set .process in its "
                                   "descriptor and rebuild it");
    expect_refusal("bad_options", "option 'outside' is stored at offset 8, "
                                  "outside config_size 8; set .config_size "
                                  "= sizeof(your config) and rebuild the "
                                  "plugin");
    expect_refusal("no_such_file", "No such file or directory; check the "
                                   "path");
}

static void test_not_shared_object(void **state)
{
    dirs *t = *state;
    char path[256], want[512];
    snprintf(path, sizeof path, "%s/notes.so", t->a);
    write_file(path, "this is not a plugin\n");
    char *err = NULL;
    assert_null(gf_loader_open("notes", &err));
    snprintf(want, sizeof want,
             "%s: not a shared object (no ELF header); remove it from the "
             "plugin directory, or rebuild the plugin",
             path);
    assert_string_equal(err, want);
    free(err);
    /* a symlinked good plugin under another name is a name mismatch */
    link_fixture(t->a, "t_ok", "renamed");
    assert_null(gf_loader_open("renamed", &err));
    snprintf(want, sizeof want,
             "%s/renamed.so: descriptor name 't_ok' does not match the file "
             "name 'renamed'; rename the file to t_ok.so or fix the name in "
             "the descriptor",
             t->a);
    assert_string_equal(err, want);
    free(err);
}

static void test_not_found(void **state)
{
    dirs *t = *state;
    size_t n;
    char **d = gf_loader_dirs(&n);
    char where[2048] = "";
    for (size_t i = 0; i < n; i++) {
        strcat(where, i ? ":" : "");
        strcat(where, d[i]);
    }
    gf_loader_dirs_free(d, n);
    char *err = NULL, want[4096];
    assert_null(gf_loader_open("nothing_here", &err));
    snprintf(want, sizeof want,
             "plugin 'nothing_here' not found: no nothing_here.so in %s; "
             "build it, or add its directory to GIGFLOW_PLUGIN_PATH",
             where);
    assert_string_equal(err, want);
    free(err);
    link_fixture(t->b, "t_ok_export", "t_ok_export");
    assert_null(gf_loader_open("t_ok_exprt", &err));
    snprintf(want, sizeof want,
             "plugin 't_ok_exprt' not found: no t_ok_exprt.so in %s (did you "
             "mean t_ok_export?)",
             where);
    assert_string_equal(err, want);
    free(err);
    assert_null(gf_loader_open("", &err));
    assert_string_equal(err, "'' is not a plugin name");
    free(err);
    assert_null(gf_loader_open("..", &err));
    free(err);
}

typedef struct seen {
    char paths[16][256];
    int ok[16];
    int n;
    const char *dir_a, *dir_b;
} seen;

static void visit(const char *path, const gf_loaded *ok, const char *err,
                  void *arg)
{
    seen *s = arg;
    if (strncmp(path, s->dir_a, strlen(s->dir_a)) != 0 &&
        strncmp(path, s->dir_b, strlen(s->dir_b)) != 0)
        return; /* plugins installed elsewhere on the path */
    assert_true(s->n < 16);
    assert_true((ok != NULL) != (err != NULL));
    snprintf(s->paths[s->n], sizeof s->paths[0], "%s", path);
    s->ok[s->n++] = ok != NULL;
}

static void test_scan(void **state)
{
    dirs *t = *state;
    char path[256];
    link_fixture(t->a, "t_ok", "t_ok");
    link_fixture(t->a, "bad_magic", "bad_magic");
    snprintf(path, sizeof path, "%s/junk.so", t->a);
    write_file(path, "junk");
    snprintf(path, sizeof path, "%s/readme.txt", t->a);
    write_file(path, "not a .so: not visited");
    link_fixture(t->b, "t_ok", "t_ok"); /* hidden by a's */
    link_fixture(t->b, "t_ok_agg", "t_ok_agg");
    seen s = {.dir_a = t->a, .dir_b = t->b};
    gf_loader_scan(visit, &s);
    assert_int_equal(s.n, 4);
    char want[256];
    snprintf(want, sizeof want, "%s/bad_magic.so", t->a);
    assert_string_equal(s.paths[0], want);
    assert_false(s.ok[0]);
    snprintf(want, sizeof want, "%s/junk.so", t->a);
    assert_string_equal(s.paths[1], want);
    assert_false(s.ok[1]);
    snprintf(want, sizeof want, "%s/t_ok.so", t->a);
    assert_string_equal(s.paths[2], want);
    assert_true(s.ok[2]);
    snprintf(want, sizeof want, "%s/t_ok_agg.so", t->b);
    assert_string_equal(s.paths[3], want);
    assert_true(s.ok[3]);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(gf_kind_name(GF_KIND_INGEST), "ingest");
    assert_string_equal(gf_kind_name(GF_KIND_CLASSIFY), "classify");
    assert_string_equal(gf_kind_name(GF_KIND_AGGREGATE), "aggregate");
    assert_string_equal(gf_kind_name(GF_KIND_EXPORT), "export");
    assert_string_equal(gf_kind_name((gf_kind)0), "unknown");
    assert_string_equal(gf_opt_type_name(GF_OPT_PATH), "path");
    assert_string_equal(gf_opt_type_name(GF_OPT_MAP), "map");
    assert_string_equal(gf_opt_type_name(GF_OPT_INT), "int");
}

static void test_alloc_failures(void **state)
{
    dirs *t = *state;
    link_fixture(t->a, "t_ok", "t_ok");
    for (long n = 0; n < 1000; n++) {
        char *err = NULL;
        gf_alloc_fail_after(n);
        gf_loaded *l = gf_loader_open("t_ok", &err);
        gf_alloc_fail_reset();
        free(err);
        if (l) {
            gf_loader_close(&l);
            return;
        }
    }
    fail_msg("never succeeded");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_search_dirs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_good, setup, teardown),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test_setup_teardown(test_not_shared_object, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan, setup, teardown),
        cmocka_unit_test(test_names),
        cmocka_unit_test_setup_teardown(test_alloc_failures, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
