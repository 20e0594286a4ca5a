/*
 * test_ingest_jsonl - ingest_jsonl through the plugin harness: objects with
 * nested values, blank lines, CRLF, a last line without a newline, a line
 * longer than the read buffer, and bad lines (broken JSON, not an object,
 * invalid UTF-8) going to the dead letters with their line numbers while
 * the lines around them come through; every record's source position
 * (gf_harness_position) is its line, counted by hand.
 */
#define _GNU_SOURCE
#include "io_test_util.h"

/* members.jsonl:
 *  1 {"kind":"member","name":"张三",...nested}   4 {"name": "broken" "x"}
 *  2 (empty)                                     5 (spaces)
 *  3 {"name":"李四","age":25.5} CRLF             6 {"name":"王五",...} no LF */
static void test_members(void **state)
{
    (void)state;
    gf_harness *h = io_open("ingest_jsonl", "path: members.jsonl", IO_DATA);
    assert_int_equal(gf_harness_produce(h), GF_DONE);
    assert_int_equal(gf_harness_count(h), 3);
    io_expect_json(h, 0,
                   "{\"kind\":\"member\",\"name\":\"张三\",\"age\":30,"
                   "\"tags\":[\"a\",\"b\"],\"addr\":{\"city\":\"北京\"}}");
    io_expect_json(h, 1, "{\"name\":\"李四\",\"age\":25.5}");
    io_expect_json(h, 2, "{\"name\":\"王五\",\"ok\":true,\"n\":null}");
    /* source positions: lines 1, 3 (after a blank, CRLF) and 6 (after a
       bad and a blank line, no LF) */
    io_expect_pos(h, 0, IO_DATA "/members.jsonl", 1);
    io_expect_pos(h, 1, IO_DATA "/members.jsonl", 3);
    io_expect_pos(h, 2, IO_DATA "/members.jsonl", 6);
    assert_int_equal(gf_harness_rejects(h), 1);
    io_expect_reject(h, 0, 4, "line 4: column ");
    io_expect_reject(h, 0, 4, "broken");
    /* nested values stay nested */
    const gf_host *host = gf_harness_host(h);
    gf_value v;
    assert_true(host->get(gf_harness_output(h, 0), "tags", &v));
    assert_int_equal(v.type, GF_T_ARRAY);
    assert_int_equal(v.n, 2);
    assert_true(host->get(gf_harness_output(h, 0), "addr", &v));
    assert_int_equal(v.type, GF_T_MAP);
    gf_harness_destroy(&h);
}

static void test_kind(void **state)
{
    (void)state;
    gf_harness *h =
        io_open("ingest_jsonl", "path: members.jsonl\nkind: member", IO_DATA);
    assert_int_equal(gf_harness_produce(h), GF_DONE);
    assert_int_equal(gf_harness_count(h), 3);
    io_expect_json(h, 1,
                   "{\"kind\":\"member\",\"name\":\"李四\",\"age\":25.5}");
    gf_harness_destroy(&h);
    char *err = io_open_fails("ingest_jsonl",
                              "path: members.jsonl\nkind: metric", IO_DATA);
    if (!strstr(err, "\"metric\" is not a record kind"))
        fail_msg("unexpected message: %s", err);
    free(err);
}

static void test_not_objects(void **state)
{
    (void)state;
    gf_harness *h = io_open("ingest_jsonl", "path: notobjects.jsonl", IO_DATA);
    assert_int_equal(gf_harness_produce(h), GF_DONE);
    assert_int_equal(gf_harness_count(h), 1);
    io_expect_json(h, 0, "{\"a\":1}");
    io_expect_pos(h, 0, IO_DATA "/notobjects.jsonl", 2);
    assert_int_equal(gf_harness_rejects(h), 2);
    io_expect_reject(h, 0, 1, "line 1: column 1: expected a JSON object");
    io_expect_reject(h, 1, 3, "line 3: ");
    gf_harness_destroy(&h);
}

static void test_long_line(void **state)
{
    (void)state;
    enum { BIG = 3 << 20 };
    char *dir = io_tmpdir();
    char *path = io_fmt("%s/long.jsonl", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"n\":0}\n{\"big\":\"", f);
    for (int i = 0; i < BIG; i++)
        fputc('a' + i % 26, f);
    fputs("\",\"n\":1}\r\n{\"n\":2}\n", f);
    assert_int_equal(fclose(f), 0);
    gf_harness *h = io_open("ingest_jsonl", "path: long.jsonl", dir);
    assert_int_equal(gf_harness_produce(h), GF_DONE);
    assert_int_equal(gf_harness_rejects(h), 0);
    assert_int_equal(gf_harness_count(h), 3);
    const gf_host *host = gf_harness_host(h);
    gf_value v;
    assert_true(host->get(gf_harness_output(h, 1), "big", &v));
    assert_int_equal(v.v.s.len, BIG);
    assert_int_equal(v.v.s.ptr[BIG - 1], 'a' + (BIG - 1) % 26);
    assert_true(host->get(gf_harness_output(h, 1), "n", &v));
    assert_int_equal(v.v.i, 1);
    io_expect_json(h, 2, "{\"n\":2}");
    for (size_t i = 0; i < 3; i++) /* one line each, the long one too */
        io_expect_pos(h, i, path, 1 + i);
    gf_harness_destroy(&h);
    free(path);
    io_rmdir(dir);
}

static void test_bom_and_empty(void **state)
{
    (void)state;
    char *dir = io_tmpdir();
    char *path = io_fmt("%s/b.jsonl", dir);
    static const char text[] = "\xef\xbb\xbf{\"a\":\"甲\"}\n";
    io_write(path, text, sizeof text - 1);
    gf_harness *h = io_open("ingest_jsonl", "path: b.jsonl", dir);
    assert_int_equal(gf_harness_produce(h), GF_DONE);
    assert_int_equal(gf_harness_count(h), 1);
    io_expect_json(h, 0, "{\"a\":\"甲\"}");
    io_expect_pos(h, 0, path, 1); /* the BOM is no line */
    gf_harness_destroy(&h);
    io_write(path, "", 0);
    h = io_open("ingest_jsonl", "path: b.jsonl", dir);
    assert_int_equal(gf_harness_produce(h), GF_DONE);
    assert_int_equal(gf_harness_count(h), 0);
    assert_int_equal(gf_harness_rejects(h), 0);
    gf_harness_destroy(&h);
    free(path);
    io_rmdir(dir);
}

static void test_missing_file(void **state)
{
    (void)state;
    char *err = io_open_fails("ingest_jsonl", "path: nope.jsonl", IO_DATA);
    if (!strstr(err, IO_DATA "/nope.jsonl: No such file or directory"))
        fail_msg("unexpected message: %s", err);
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_members),
        cmocka_unit_test(test_kind),
        cmocka_unit_test(test_not_objects),
        cmocka_unit_test(test_long_line),
        cmocka_unit_test(test_bom_and_empty),
        cmocka_unit_test(test_missing_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
