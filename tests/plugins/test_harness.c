/*
 * Tests of the plugin harness (gigflow/harness.h) itself, driving the
 * t_ok* fixtures: options and their errors, every host service a plugin
 * reports through (reject, reject_raw, drop, error, option_error,
 * config_error), output records as JSON and through the host table, and
 * ingest/classify/aggregate life cycles, source positions. Expected JSON is
 * written by hand from what each fixture is documented to do.
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

#include <gigflow/harness.h>

static char tmp[64];

static int setup(void **state)
{
    (void)state;
    setenv("GIGFLOW_PLUGIN_PATH", GF_TEST_PLUGIN_DIR, 1);
    strcpy(tmp, "/tmp/gf_harness_XXXXXX");
    return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    return system(cmd);
}

static void assert_output(gf_harness *h, size_t i, const char *want)
{
    char *got = gf_harness_output_json(h, i);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static gf_harness *new_ok(const char *plugin, const char *opts,
                          const char *base)
{
    char *err = NULL;
    gf_harness *h = gf_harness_new(plugin, opts, base, &err);
    if (!h)
        fail_msg("gf_harness_new: %s", err ? err : "(no message)");
    assert_null(err);
    return h;
}

static void test_classify(void **state)
{
    (void)state;
    gf_harness *h = new_ok("t_ok", "tag: 党建\nlimit: 5\n", NULL);
    assert_int_equal(
        gf_harness_push_json(h, "{\"kind\":\"member\",\"age\":30,"
                                "\"name\":\"张三\",\"tags\":[1,{\"x\":null}]}"),
        0);
    assert_int_equal(gf_harness_count(h), 1);
    assert_output(h, 0,
                  "{\"kind\":\"member\",\"age\":30,\"name\":\"张三\","
                  "\"tags\":[1,{\"x\":null}],\"tag\":\"党建\",\"seen\":1}");
    /* the host table reads the kept record */
    const gf_host *host = gf_harness_host(h);
    gf_value v;
    assert_true(host->get(gf_harness_output(h, 0), "seen", &v));
    assert_int_equal(v.type, GF_T_INT);
    assert_int_equal(v.v.i, 1);
    assert_null(gf_harness_output(h, 1));
    assert_null(gf_harness_output_json(h, 1));

    /* a record that fails stops with the plugin's message */
    assert_int_equal(gf_harness_push_json(h, "{\"fail\":1}"), GF_ERROR);
    assert_string_equal(gf_harness_error(h), "record asked to fail");

    /* raw MessagePack: {"a": 1} */
    const uint8_t mp[] = {0x81, 0xa1, 'a', 0x01};
    assert_int_equal(gf_harness_push(h, mp, sizeof mp), 0);
    assert_output(h, 1, "{\"a\":1,\"tag\":\"党建\",\"seen\":2}");

    assert_int_equal(gf_harness_flush(h), 0);
    assert_int_equal(gf_harness_count(h), 3);
    assert_output(h, 2, "{\"kind\":\"metric\",\"set\":\"t_ok\",\"count\":2}");
    assert_int_equal(gf_harness_commit(h), 0);
    gf_harness_destroy(&h);
    assert_null(h);
    gf_harness_destroy(&h);
}

static void test_rejects_and_drops(void **state)
{
    (void)state;
    gf_harness *h = new_ok("t_ok", NULL, NULL);
    assert_int_equal(gf_harness_push_json(h, "{\"kind\":\"member\","
                                             "\"reject\":true}"),
                     0);
    assert_int_equal(gf_harness_push_json(h, "{\"drop\":1}"), 0);
    assert_int_equal(gf_harness_push_json(h, "{\"drop\":2}"), 0);
    assert_int_equal(gf_harness_count(h), 0);
    assert_int_equal(gf_harness_rejects(h), 1);
    assert_string_equal(gf_harness_reject(h, 0),
                        "{\"stage\":\"t_ok\",\"reason\":\"asked to reject\","
                        "\"record\":{\"kind\":\"member\",\"reject\":true}}");
    assert_null(gf_harness_reject(h, 1));
    assert_int_equal(gf_harness_drops(h), 2);
    assert_string_equal(gf_harness_error(h), "");
    /* the default tag, and seen counts only records passed on */
    assert_int_equal(gf_harness_push_json(h, "{}"), 0);
    assert_output(h, 0, "{\"tag\":\"ok\",\"seen\":1}");
    gf_harness_destroy(&h);
}

static void test_bad_input(void **state)
{
    (void)state;
    gf_harness *h = new_ok("t_ok", "", NULL);
    assert_int_equal(gf_harness_push_json(h, "[1, 2]"), -2);
    assert_non_null(strstr(gf_harness_error(h), "push_json: "));
    assert_int_equal(gf_harness_push_json(h, "{\"a\":"), -2);
    const uint8_t notmap[] = {0x93, 1, 2, 3};
    assert_int_equal(gf_harness_push(h, notmap, sizeof notmap), -2);
    const uint8_t truncated[] = {0x82, 0xa1, 'a', 0x01};
    assert_int_equal(gf_harness_push(h, truncated, sizeof truncated), -2);
    assert_non_null(strstr(gf_harness_error(h), "push: not one MessagePack "
                                                "map"));
    assert_int_equal(gf_harness_count(h), 0);
    /* a classify plugin has no produce() */
    assert_int_equal(gf_harness_produce(h), GF_ERROR);
    gf_harness_destroy(&h);
}

static void expect_new_error(const char *plugin, const char *opts,
                             const char *base, const char *want)
{
    char *err = NULL;
    gf_harness *h = gf_harness_new(plugin, opts, base, &err);
    assert_null(h);
    assert_non_null(err);
    assert_string_equal(err, want);
    free(err);
}

static void test_option_errors(void **state)
{
    (void)state;
    expect_new_error("t_ok", "tag: x\nruls: r.yaml\n", NULL,
                     "<options>:2:1: unknown option 'ruls' (did you mean "
                     "'rules'?)");
    expect_new_error("t_ok", "limit: many\nratio: [1]\n", NULL,
                     "<options>:1:8: option 'limit': expected an integer, "
                     "got 'many'\n"
                     "<options>:2:8: option 'ratio': expected a number, got "
                     "a list");
    /* check()'s option_error lands on the option's key */
    expect_new_error("t_ok", "tag: x\nlimit: -1\n", NULL,
                     "<options>:2:1: option 'limit': must be 0 or more, got "
                     "-1");
    expect_new_error("t_ok", "[a]", NULL,
                     "<options>:1:1: 'with' must be a mapping of option: "
                     "value, got a list");
    expect_new_error("t_ok", "a: [", NULL,
                     "<options>:2:1: YAML syntax: did not find expected node "
                     "content while parsing a flow node (line 2, column 1)");
    expect_new_error("t_ok_export", NULL, NULL,
                     "missing required option 'path' (the output file)");
    char *err = NULL;
    assert_null(gf_harness_new("no_such_plugin", NULL, NULL, &err));
    assert_non_null(err);
    assert_int_equal(
        strncmp(err,
                "plugin 'no_such_plugin' not found: no "
                "no_such_plugin.so in " GF_TEST_PLUGIN_DIR,
                strlen("plugin 'no_such_plugin' not found: no "
                       "no_such_plugin.so in " GF_TEST_PLUGIN_DIR)),
        0);
    free(err);
    assert_null(gf_harness_new("no_such_plugin", NULL, NULL, NULL));
}

static void test_config_error_and_paths(void **state)
{
    (void)state;
    char path[128], want[256];
    snprintf(path, sizeof path, "%s/r.txt", tmp);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("bad rule\n", f);
    fclose(f);
    /* a relative path resolves against base_dir */
    snprintf(want, sizeof want, "%s:1:1: bad rule 'bad'", path);
    expect_new_error("t_ok", "rules: r.txt", tmp, want);
    snprintf(want, sizeof want, "%s/gone.txt: cannot open", tmp);
    expect_new_error("t_ok", "rules: ./gone.txt", tmp, want);
    f = fopen(path, "w");
    fputs("good rule\n", f);
    fclose(f);
    gf_harness *h = new_ok("t_ok", "rules: r.txt", tmp);
    gf_harness_destroy(&h);
}

/* Source positions (ABI minor 3): a pushed record's position passes to
   what process() emits from it and to its dead letter, not to flush(). */
static void test_positions(void **state)
{
    (void)state;
    gf_harness *h = new_ok("t_ok", NULL, NULL);
    const char *file = "x";
    uint64_t line = 9;
    assert_int_equal(gf_harness_set_position(h, "/data/in.csv", 12), 0);
    assert_int_equal(gf_harness_push_json(h, "{\"a\":1}"), 0);
    assert_int_equal(gf_harness_position(h, 0, &file, &line), 0);
    assert_string_equal(file, "/data/in.csv");
    assert_int_equal(line, 12);
    assert_int_equal(gf_harness_push_json(h, "{\"reject\":true}"), 0);
    assert_string_equal(gf_harness_reject(h, 0),
                        "{\"stage\":\"t_ok\",\"reason\":\"asked to reject\","
                        "\"file\":\"/data/in.csv\",\"line\":12,"
                        "\"record\":{\"reject\":true}}");
    /* no position: none given on */
    assert_int_equal(gf_harness_set_position(h, NULL, 0), 0);
    assert_int_equal(gf_harness_push_json(h, "{\"a\":2}"), 0);
    assert_int_equal(gf_harness_position(h, 1, &file, &line), 0);
    assert_null(file);
    assert_int_equal(line, 0);
    assert_int_equal(gf_harness_push_json(h, "{\"reject\":true}"), 0);
    assert_string_equal(gf_harness_reject(h, 1),
                        "{\"stage\":\"t_ok\",\"reason\":\"asked to reject\","
                        "\"record\":{\"reject\":true}}");
    /* flush() emits groups: of no input record */
    assert_int_equal(gf_harness_set_position(h, "/data/in.csv", 30), 0);
    assert_int_equal(gf_harness_flush(h), 0);
    assert_int_equal(gf_harness_count(h), 3);
    assert_int_equal(gf_harness_position(h, 2, &file, &line), 0);
    assert_null(file);
    assert_int_equal(line, 0);
    assert_int_equal(gf_harness_position(h, 3, &file, &line), -1);
    gf_harness_destroy(&h);
}

static void test_ingest(void **state)
{
    (void)state;
    gf_harness *h = new_ok("t_ok_ingest",
                           "count: 5\nbad_row: yes\npath: in.csv\n", "/data");
    assert_int_equal(gf_harness_produce(h), GF_DONE);
    assert_int_equal(gf_harness_count(h), 5);
    for (size_t i = 0; i < 5; i++) {
        char want[64];
        snprintf(want, sizeof want, "{\"kind\":\"org\",\"i\":%zu}", i + 1);
        assert_output(h, i, want);
    }
    assert_int_equal(gf_harness_rejects(h), 1);
    assert_string_equal(gf_harness_reject(h, 0),
                        "{\"stage\":\"t_ok_ingest\",\"reason\":\"2 fields, "
                        "expected 3\",\"file\":\"/data/in.csv\",\"line\":7,"
                        "\"raw\":\"x,y\"}");
    /* an ingest plugin takes no input */
    assert_int_equal(gf_harness_push_json(h, "{}"), GF_ERROR);
    assert_int_equal(gf_harness_flush(h), 0);  /* no flush(): nothing */
    assert_int_equal(gf_harness_commit(h), 0); /* no commit(): 0 */
    assert_int_equal(gf_harness_count(h), 5);
    gf_harness_destroy(&h);
}

/* Loaded by path; many records span several 64 KiB output batches. */
static void test_by_path_many(void **state)
{
    (void)state;
    gf_harness *h = new_ok(GF_TEST_PLUGIN_DIR "/t_ok.so", "tag: t", NULL);
    char json[256];
    const int n = 5000;
    for (int i = 1; i <= n; i++) {
        snprintf(json, sizeof json,
                 "{\"kind\":\"demand\",\"id\":%d,\"text\":\"%0100d\"}", i, i);
        assert_int_equal(gf_harness_push_json(h, json), 0);
    }
    assert_int_equal(gf_harness_count(h), (size_t)n);
    /* the first view is still valid after later batches */
    const gf_host *host = gf_harness_host(h);
    gf_value v;
    assert_true(host->get(gf_harness_output(h, 0), "id", &v));
    assert_int_equal(v.v.i, 1);
    assert_true(host->get(gf_harness_output(h, n - 1), "seen", &v));
    assert_int_equal(v.v.i, n);
    gf_harness_destroy(&h);

    h = new_ok(GF_TEST_PLUGIN_DIR "/t_ok_agg.so", NULL, NULL);
    for (int i = 0; i < 3; i++)
        assert_int_equal(gf_harness_push_json(h, "{\"kind\":\"org\"}"), 0);
    assert_int_equal(gf_harness_count(h), 0);
    assert_int_equal(gf_harness_flush(h), 0);
    assert_output(h, 0,
                  "{\"kind\":\"metric\",\"set\":\"t_ok_agg\",\"count\":3}");
    gf_harness_destroy(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_rejects_and_drops),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_option_errors),
        cmocka_unit_test(test_config_error_and_paths),
        cmocka_unit_test(test_positions),
        cmocka_unit_test(test_ingest),
        cmocka_unit_test(test_by_path_many),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
