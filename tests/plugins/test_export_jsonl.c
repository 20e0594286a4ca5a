/*
 * test_export_jsonl - export_jsonl through the plugin harness: one object
 * per line with nested values and Chinese text, atomic output (nothing
 * before commit, nothing without it), a missing directory, stdout.
 * Expected lines are written out by hand.
 */
#define _GNU_SOURCE
#include <fcntl.h>

#include "io_test_util.h"

static const char *const recs[] = {
    "{\"kind\":\"org\",\"id\":\"o1\",\"name\":\"美团朝阳站支部\",\"members\":"
    "12}",
    "{\"kind\":\"member\",\"tags\":[\"骑手\",1,true,null],"
    "\"addr\":{\"city\":\"北京\",\"zip\":100020},\"score\":0.25}",
    "{\"kind\":\"demand\",\"text\":\"a \\\"quote\\\"\\nand a line\"}",
};

static const char want[] =
    "{\"kind\":\"org\",\"id\":\"o1\",\"name\":\"美团朝阳站支部\",\"members\":"
    "12}\n"
    "{\"kind\":\"member\",\"tags\":[\"骑手\",1,true,null],"
    "\"addr\":{\"city\":\"北京\",\"zip\":100020},\"score\":0.25}\n"
    "{\"kind\":\"demand\",\"text\":\"a \\\"quote\\\"\\nand a line\"}\n";

static void push_all(gf_harness *h)
{
    for (size_t i = 0; i < sizeof recs / sizeof *recs; i++)
        assert_int_equal(gf_harness_push_json(h, recs[i]), GF_OK);
}

static void test_write_commit(void **state)
{
    (void)state;
    char *dir = io_tmpdir();
    char *out = io_fmt("%s/out.jsonl", dir);
    io_write(out, "old\n", 4);
    gf_harness *h = io_open("export_jsonl", "path: out.jsonl", dir);
    push_all(h);
    assert_int_equal(gf_harness_flush(h), GF_OK);
    char *got = io_slurp(out, NULL);
    assert_string_equal(got, "old\n"); /* untouched until commit */
    free(got);
    assert_int_equal(gf_harness_commit(h), GF_OK);
    gf_harness_destroy(&h);
    got = io_slurp(out, NULL);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
    assert_int_equal(io_dir_count(dir, NULL, 0), 1);
    free(out);
    io_rmdir(dir);
}

static void test_not_committed(void **state)
{
    (void)state;
    char *dir = io_tmpdir();
    gf_harness *h = io_open("export_jsonl", "path: out.jsonl", dir);
    push_all(h);
    assert_int_equal(gf_harness_flush(h), GF_OK);
    assert_int_equal(io_dir_count(dir, NULL, 0), 1); /* the temporary file */
    gf_harness_destroy(&h);
    assert_int_equal(io_dir_count(dir, NULL, 0), 0);
    io_rmdir(dir);
}

static void test_empty_run(void **state)
{
    (void)state;
    char *dir = io_tmpdir();
    char *out = io_fmt("%s/e.jsonl", dir);
    gf_harness *h = io_open("export_jsonl", "path: e.jsonl", dir);
    assert_int_equal(gf_harness_flush(h), GF_OK);
    assert_int_equal(gf_harness_commit(h), GF_OK);
    gf_harness_destroy(&h);
    char *got = io_slurp(out, NULL);
    assert_non_null(got);
    assert_string_equal(got, "");
    free(got);
    free(out);
    io_rmdir(dir);
}

static void test_missing_directory(void **state)
{
    (void)state;
    char *dir = io_tmpdir();
    char *want_msg = io_fmt("the directory %s/no/such does not exist", dir);
    char *err = io_open_fails("export_jsonl", "path: no/such/x.jsonl", dir);
    if (!strstr(err, want_msg))
        fail_msg("unexpected message: %s", err);
    free(err);
    free(want_msg);
    io_rmdir(dir);
}

static void test_stdout(void **state)
{
    (void)state;
    char *dir = io_tmpdir();
    char *cap = io_fmt("%s/stdout.txt", dir);
    gf_harness *h = io_open("export_jsonl", "path: \"-\"", NULL);
    push_all(h);
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    int fd = open(cap, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, STDOUT_FILENO);
    close(fd);
    int rc = gf_harness_flush(h);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    assert_int_equal(rc, GF_OK);
    assert_int_equal(gf_harness_commit(h), GF_OK);
    gf_harness_destroy(&h);
    char *got = io_slurp(cap, NULL);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
    free(cap);
    io_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_commit),
        cmocka_unit_test(test_not_committed),
        cmocka_unit_test(test_empty_run),
        cmocka_unit_test(test_missing_directory),
        cmocka_unit_test(test_stdout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
