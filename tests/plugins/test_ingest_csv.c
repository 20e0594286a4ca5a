/*
 * test_ingest_csv - ingest_csv through the plugin harness: RFC 4180 rows,
 * typed and inferred values, column renaming, encodings (UTF-8, BOM,
 * GB18030 with CRLF, detection), streaming across read buffers, and every
 * kind of bad row going to the dead letters with its line while the run
 * goes on; every record's source position (gf_harness_position) is the
 * line its row starts on, counted by hand from the test files. Expected records
 * are written out by hand from the test files.
 */
#define _GNU_SOURCE
#include <fcntl.h>

#include "io_test_util.h"

static void test_members(void **state)
{
    (void)state;
    gf_harness *h =
        io_open("ingest_csv", "path: members.csv\nkind: member", IO_DATA);
    assert_int_equal(gf_harness_produce(h), GF_DONE);
    assert_int_equal(gf_harness_count(h), 3);
    assert_int_equal(gf_harness_rejects(h), 0);
    io_expect_json(h, 0,
                   "{\"kind\":\"member\",\"id\":1,\"name\":\"张三\","
                   "\"platform\":\"美团\",\"age\":30,\"points\":12.5,"
                   "\"is_member\":true,\"joined\":\"2024-03-01\"}");
    /* quoted delimiter; an empty cell is an absent field */
    io_expect_json(h, 1,
                   "{\"kind\":\"member\",\"id\":2,\"name\":\"李, 四\","
                   "\"platform\":\"饿了么\",\"age\":25,\"is_member\":false,"
                   "\"joined\":\"2023-11-20\"}");
    /* doubled quotes; a leading zero keeps the text; TRUE is a bool */
    io_expect_json(h, 2,
                   "{\"kind\":\"member\",\"id\":3,\"name\":\"王\\\"五\\\"\","
                   "\"platform\":\"顺丰\",\"age\":\"041\",\"points\":7,"
                   "\"is_member\":true,\"joined\":\"2022-01-05\"}");
    /* each record's source position: the line its row starts on */
    for (size_t i = 0; i < 3; i++)
        io_expect_pos(h, i, IO_DATA "/members.csv", 2 + i);
    assert_int_equal(gf_harness_position(h, 3, NULL, NULL), -1);
    /* the types themselves, not just their JSON look */
    const gf_host *host = gf_harness_host(h);
    gf_value v;
    assert_true(host->get(gf_harness_output(h, 0), "points", &v));
    assert_int_equal(v.type, GF_T_FLOAT);
    assert_true(host->get(gf_harness_output(h, 2), "points", &v));
    assert_int_equal(v.type, GF_T_INT);
    assert_false(host->get(gf_harness_output(h, 1), "points", &v));
    gf_harness_destroy(&h);
}

static void test_drop_column(void **state)
{
    (void)state;
    gf_harness *h = io_open("ingest_csv",
                            "path: members.csv\n"
                            "columns: {platform: \"\", joined: since}",
                            IO_DATA);
    assert_int_equal(gf_harness_produce(h), GF_DONE);
    assert_int_equal(gf_harness_count(h), 3);
    io_expect_json(h, 0,
                   "{\"id\":1,\"name\":\"张三\",\"age\":30,"
                   "\"points\":12.5,\"is_member\":true,"
                   "\"since\":\"2024-03-01\"}");
    gf_harness_destroy(&h);
}

static void test_declared_types(void **state)
{
    (void)state;
    gf_harness *h = io_open("ingest_csv",
                            "path: members.csv\n"
                            "types: {id: string, age: float, points: float,"
                            " is_member: string}",
                            IO_DATA);
    assert_int_equal(gf_harness_produce(h), GF_DONE);
    assert_int_equal(gf_harness_count(h), 3);
    const gf_host *host = gf_harness_host(h);
    gf_value v;
    assert_true(host->get(gf_harness_output(h, 2), "id", &v));
    assert_int_equal(v.type, GF_T_STR);
    assert_true(host->get(gf_harness_output(h, 2), "age", &v));
    assert_int_equal(v.type, GF_T_FLOAT);
    assert_true(v.v.f == 41.0);
    assert_true(host->get(gf_harness_output(h, 2), "points", &v));
    assert_int_equal(v.type, GF_T_FLOAT);
    assert_true(v.v.f == 7.0);
    assert_true(host->get(gf_harness_output(h, 0), "is_member", &v));
    assert_int_equal(v.type, GF_T_STR);
    gf_harness_destroy(&h);
}

static void test_multiline_crlf(void **state)
{
    (void)state;
    gf_harness *h = io_open("ingest_csv", "path: multiline.csv", IO_DATA);
    assert_int_equal(gf_harness_produce(h), GF_DONE);
    assert_int_equal(gf_harness_count(h), 3);
    io_expect_json(h, 0, "{\"id\":1,\"note\":\"line one\\r\\nline two\"}");
    io_expect_json(h, 1, "{\"id\":2,\"note\":\"plain\"}");
    io_expect_json(h, 2, "{\"id\":4,\"note\":\"a \\\"q\\\", b\"}");
    /* positions: the first row spans lines 2-3 (CRLF inside quotes), so
       the next starts on 4; line 5 is the bad row */
    io_expect_pos(h, 0, IO_DATA "/multiline.csv", 2);
    io_expect_pos(h, 1, IO_DATA "/multiline.csv", 4);
    io_expect_pos(h, 2, IO_DATA "/multiline.csv", 6);
    /* the row after the two-line row starts on line 5 */
    assert_int_equal(gf_harness_rejects(h), 1);
    io_expect_reject(h, 0, 5, "line 5: 3 fields, header has 2");
    io_expect_reject(h, 0, 5, "3,x,extra");
    gf_harness_destroy(&h);
}

/* bad.csv, line by line:
 *  1 a,b,c      header          6 10,11,12    ok
 *  2 1,2,3      ok              7 "q"x,1,2    text after a quote
 *  3 4,5        short           8 abc,1,2     not an int (types a: int)
 *  4 6,7,8,9    long            9 13,"open,14 unterminated quote
 *  5 x,\xff\xfe,z invalid       10 15,16,17   ok (reading goes on)  */
static void check_bad(const char *yaml, const char *enc_name)
{
    gf_harness *h = io_open("ingest_csv", yaml, IO_DATA);
    assert_int_equal(gf_harness_produce(h), GF_DONE);
    assert_int_equal(gf_harness_count(h), 3);
    io_expect_json(h, 0, "{\"a\":1,\"b\":2,\"c\":3}");
    io_expect_json(h, 1, "{\"a\":10,\"b\":11,\"c\":12}");
    io_expect_json(h, 2, "{\"a\":15,\"b\":16,\"c\":17}");
    io_expect_pos(h, 0, IO_DATA "/bad.csv", 2);
    io_expect_pos(h, 1, IO_DATA "/bad.csv", 6);
    io_expect_pos(h, 2, IO_DATA "/bad.csv", 10); /* after the recovery */
    assert_int_equal(gf_harness_rejects(h), 6);
    io_expect_reject(h, 0, 3, "line 3: 2 fields, header has 3");
    io_expect_reject(h, 1, 4, "line 4: 4 fields, header has 3");
    io_expect_reject(h, 2, 5, enc_name);
    io_expect_reject(h, 2, 5, "line 5: bytes invalid in");
    io_expect_reject(h, 3, 7,
                     "line 7: text after the closing quote of field 1");
    io_expect_reject(h, 4, 8, "line 8: field a is not an int: \\\"abc\\\"");
    io_expect_reject(h, 5, 9, "line 9: unterminated quote in field 2");
    io_expect_reject(h, 5, 9, "bad.csv");
    gf_harness_destroy(&h);
}

static void test_bad_rows_utf8(void **state)
{
    (void)state;
    check_bad("path: bad.csv\nencoding: utf-8\ntypes: {a: int}", "UTF-8");
}

static void test_bad_rows_auto(void **state)
{
    (void)state;
    /* 0xff is neither UTF-8 nor GB18030: auto switches, still rejects */
    check_bad("path: bad.csv\ntypes: {a: int}", "GB18030");
}

static void test_bom(void **state)
{
    (void)state;
    gf_harness *h = io_open("ingest_csv", "path: bom.csv", IO_DATA);
    assert_int_equal(gf_harness_produce(h), GF_DONE);
    assert_int_equal(gf_harness_count(h), 1);
    io_expect_json(h, 0, "{\"name\":\"赵六\",\"age\":33}");
    io_expect_pos(h, 0, IO_DATA "/bom.csv", 2); /* the BOM is no line */
    gf_harness_destroy(&h);
}

static void check_gb18030(const char *encoding)
{
    char *yaml = io_fmt("path: members_gb18030.csv\nencoding: %s\n"
                        "columns: {姓名: name, 年龄: age}",
                        encoding);
    gf_harness *h = io_open("ingest_csv", yaml, IO_DATA);
    assert_int_equal(gf_harness_produce(h), GF_DONE);
    assert_int_equal(gf_harness_count(h), 2);
    io_expect_json(h, 0,
                   "{\"name\":\"张三\",\"age\":30,\"站点\":\"朝阳站\","
                   "\"平台\":\"美团\"}");
    io_expect_json(h, 1,
                   "{\"name\":\"李四\",\"age\":25,\"站点\":\"海淀站,北\","
                   "\"平台\":\"饿了么\"}");
    io_expect_pos(h, 0, IO_DATA "/members_gb18030.csv", 2); /* CRLF lines */
    io_expect_pos(h, 1, IO_DATA "/members_gb18030.csv", 3);
    assert_int_equal(gf_harness_rejects(h), 1);
    io_expect_reject(h, 0, 4, "line 4: 3 fields, header has 4");
    io_expect_reject(h, 0, 4, "王五,x,西城站"); /* raw text, as UTF-8 */
    gf_harness_destroy(&h);
    free(yaml);
}

static void test_gb18030(void **state)
{
    (void)state;
    check_gb18030("gb18030");
    check_gb18030("auto");
}

static void test_gb18030_as_utf8_fails_on_header(void **state)
{
    (void)state;
    gf_harness *h = io_open(
        "ingest_csv", "path: members_gb18030.csv\nencoding: utf-8", IO_DATA);
    assert_true(gf_harness_produce(h) < 0);
    assert_non_null(strstr(gf_harness_error(h), "members_gb18030.csv:1:"));
    assert_non_null(strstr(gf_harness_error(h), "invalid in UTF-8"));
    assert_int_equal(gf_harness_count(h), 0);
    gf_harness_destroy(&h);
}

/* auto: a UTF-8 file (no BOM) with one GBK row stays UTF-8; the row is a
   dead letter, the others read right */
static void test_auto_utf8_with_stray_gbk_row(void **state)
{
    (void)state;
    char *dir = io_tmpdir();
    char *path = io_fmt("%s/x.csv", dir);
    static const char bytes[] = "id,name\n1,张三\n2,李四\n3,\xd5\xc5\xc8\xfd\n"
                                "4,王五\n";
    io_write(path, bytes, sizeof bytes - 1);
    gf_harness *h = io_open("ingest_csv", "path: x.csv\nencoding: auto", dir);
    assert_int_equal(gf_harness_produce(h), GF_DONE);
    assert_int_equal(gf_harness_count(h), 3);
    io_expect_json(h, 0, "{\"id\":1,\"name\":\"张三\"}");
    io_expect_json(h, 2, "{\"id\":4,\"name\":\"王五\"}");
    assert_int_equal(gf_harness_rejects(h), 1);
    gf_harness_destroy(&h);
    free(path);
    io_rmdir(dir);
}

static void test_gb18030_invalid_bytes(void **state)
{
    (void)state;
    char *dir = io_tmpdir();
    char *path = io_fmt("%s/x.csv", dir);
    /* 姓名,n CRLF 张三,1 CRLF <0x81 0x20: a lead byte without a trail>,2
       CRLF 李四,3 CRLF, in GB18030 */
    static const char bytes[] =
        "\xd0\xd5\xc3\xfb,n\r\n\xd5\xc5\xc8\xfd,1\r\n\x81 ,2\r\n"
        "\xc0\xee\xcb\xc4,3\r\n";
    io_write(path, bytes, sizeof bytes - 1);
    gf_harness *h =
        io_open("ingest_csv", "path: x.csv\nencoding: gb18030", dir);
    assert_int_equal(gf_harness_produce(h), GF_DONE);
    assert_int_equal(gf_harness_count(h), 2);
    io_expect_json(h, 0, "{\"姓名\":\"张三\",\"n\":1}");
    io_expect_json(h, 1, "{\"姓名\":\"李四\",\"n\":3}");
    assert_int_equal(gf_harness_rejects(h), 1);
    io_expect_reject(h, 0, 3, "line 3: bytes invalid in GB18030 in field 1");
    gf_harness_destroy(&h);
    free(path);
    io_rmdir(dir);
}

static void test_no_header_tab(void **state)
{
    (void)state;
    gf_harness *h = io_open("ingest_csv",
                            "path: noheader.tsv\nheader: false\n"
                            "delimiter: tab\ncolumns: {c2: name}",
                            IO_DATA);
    assert_int_equal(gf_harness_produce(h), GF_DONE);
    assert_int_equal(gf_harness_count(h), 2);
    io_expect_json(h, 0, "{\"c1\":1,\"name\":\"张三\",\"c3\":\"美团\"}");
    io_expect_json(h, 1, "{\"c1\":2,\"name\":\"李四\",\"c3\":\"饿了么\"}");
    gf_harness_destroy(&h);
    /* keys that are not cN name the columns in the order written */
    h = io_open("ingest_csv",
                "path: noheader.tsv\nheader: false\ndelimiter: \"\\t\"\n"
                "columns: {编号: id, 姓名: name}",
                IO_DATA);
    assert_int_equal(gf_harness_produce(h), GF_DONE);
    assert_int_equal(gf_harness_count(h), 2);
    io_expect_json(h, 1, "{\"id\":2,\"name\":\"李四\",\"c3\":\"饿了么\"}");
    gf_harness_destroy(&h);
}

/* Every MessagePack width of integers and strings, a record of more than 15
   fields, and a repeated column name (the later column wins). */
static void test_encoding_widths(void **state)
{
    (void)state;
    static const char *const nums[] = {"127",
                                       "128",
                                       "255",
                                       "256",
                                       "65535",
                                       "65536",
                                       "4294967295",
                                       "4294967296",
                                       "-32",
                                       "-33",
                                       "-128",
                                       "-129",
                                       "-32768",
                                       "-32769",
                                       "-2147483648",
                                       "-2147483649",
                                       "9223372036854775807",
                                       "-9223372036854775808"};
    enum { NN = sizeof nums / sizeof *nums };
    char *dir = io_tmpdir();
    char *path = io_fmt("%s/w.csv", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; i < NN; i++)
        fprintf(f, "n%d,", i);
    fputs("s31,s32,s256,dup,dup\n", f);
    for (int i = 0; i < NN; i++)
        fprintf(f, "%s,", nums[i]);
    char s31[32], s32[33], s256[257];
    memset(s31, 'a', 31), s31[31] = '\0';
    memset(s32, 'b', 32), s32[32] = '\0';
    memset(s256, 'c', 256), s256[256] = '\0';
    fprintf(f, "%s,%s,%s,first,second\n", s31, s32, s256);
    assert_int_equal(fclose(f), 0);

    gf_harness *h = io_open("ingest_csv", "path: w.csv", dir);
    assert_int_equal(gf_harness_produce(h), GF_DONE);
    assert_int_equal(gf_harness_count(h), 1);
    char want[2048], *w = want;
    w += sprintf(w, "{");
    for (int i = 0; i < NN; i++)
        w += sprintf(w, "\"n%d\":%s,", i, nums[i]);
    sprintf(w,
            "\"s31\":\"%s\",\"s32\":\"%s\",\"s256\":\"%s\","
            "\"dup\":\"second\"}",
            s31, s32, s256);
    io_expect_json(h, 0, want);
    gf_harness_destroy(&h);
    free(path);
    io_rmdir(dir);
}

static void test_kind_option_wins(void **state)
{
    (void)state;
    char *dir = io_tmpdir();
    char *path = io_fmt("%s/k.csv", dir);
    static const char text[] = "kind,name\norg,甲\n";
    io_write(path, text, sizeof text - 1);
    gf_harness *h = io_open("ingest_csv", "path: k.csv\nkind: member", dir);
    assert_int_equal(gf_harness_produce(h), GF_DONE);
    assert_int_equal(gf_harness_count(h), 1);
    io_expect_json(h, 0, "{\"kind\":\"member\",\"name\":\"甲\"}");
    gf_harness_destroy(&h);
    free(path);
    io_rmdir(dir);
}

/* Rows that cross the 1 MiB read buffer, each two lines long: values and
   line numbers must come through exactly. */
static void test_stream_utf8_multiline(void **state)
{
    (void)state;
    enum { N = 60000 };
    char *dir = io_tmpdir();
    char *path = io_fmt("%s/big.csv", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("id,note\n", f);
    for (int i = 0; i < N; i++)
        fprintf(f, "%d,\"第%d行\n续,\"\"x\"\"\"\n", i, i);
    fputs("only-one-field\n", f);
    assert_int_equal(fclose(f), 0);

    gf_harness *h = io_open("ingest_csv", "path: big.csv", dir);
    assert_int_equal(gf_harness_produce(h), GF_DONE);
    assert_int_equal(gf_harness_count(h), N);
    const gf_host *host = gf_harness_host(h);
    for (int i = 0; i < N; i++) {
        gf_value v;
        char want[64];
        const gf_record *r = gf_harness_output(h, (size_t)i);
        assert_true(host->get(r, "id", &v));
        assert_int_equal(v.type, GF_T_INT);
        assert_int_equal(v.v.i, i);
        assert_true(host->get(r, "note", &v));
        int n = snprintf(want, sizeof want, "第%d行\n续,\"x\"", i);
        assert_int_equal(v.v.s.len, (size_t)n);
        assert_memory_equal(v.v.s.ptr, want, (size_t)n);
        /* two lines per row after the header, across read buffers */
        io_expect_pos(h, (size_t)i, path, 2 + 2 * (unsigned long long)i);
    }
    assert_int_equal(gf_harness_rejects(h), 1);
    io_expect_reject(h, 0, 2 + 2 * (unsigned long long)N, "1 fields");
    gf_harness_destroy(&h);
    free(path);
    io_rmdir(dir);
}

/* GB18030 rows of 13 bytes with the header sized so that a read boundary
   (1 MiB) falls inside a two-byte character: the carry-over must join it. */
static void check_stream_gb18030(const char *encoding)
{
    enum { N = 100000 };
    char *dir = io_tmpdir();
    char *path = io_fmt("%s/gb.csv", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    /* header "姓名,id" + pad + CRLF is 9 + pad bytes; rows start at
       H + 13k; 1 MiB = 13 * 80659 + 9, so H = 8 (mod 13) puts the boundary
       on the second byte of 张 */
    fputs("\xd0\xd5\xc3\xfb,id", f);
    for (int i = 0; i < 12; i++)
        fputc('x', f);
    fputs("\r\n", f);
    for (int i = 0; i < N; i++)
        fprintf(f, "\xd5\xc5\xc8\xfd,%06d\r\n", 100000 + i);
    assert_int_equal(fclose(f), 0);

    char *yaml =
        io_fmt("path: gb.csv\nencoding: %s\ncolumns: {姓名: name}", encoding);
    gf_harness *h = io_open("ingest_csv", yaml, dir);
    assert_int_equal(gf_harness_produce(h), GF_DONE);
    assert_int_equal(gf_harness_rejects(h), 0);
    assert_int_equal(gf_harness_count(h), N);
    const gf_host *host = gf_harness_host(h);
    for (int i = 0; i < N; i++) {
        gf_value v;
        const gf_record *r = gf_harness_output(h, (size_t)i);
        assert_true(host->get(r, "name", &v));
        assert_int_equal(v.v.s.len, 6);
        assert_memory_equal(v.v.s.ptr, "张三", 6);
        assert_true(host->get(r, "idxxxxxxxxxxxx", &v));
        assert_int_equal(v.v.i, 100000 + i);
        io_expect_pos(h, (size_t)i, path, 2 + (unsigned long long)i);
    }
    gf_harness_destroy(&h);
    free(yaml);
    free(path);
    io_rmdir(dir);
}

static void test_stream_gb18030(void **state)
{
    (void)state;
    check_stream_gb18030("gb18030");
    check_stream_gb18030("auto");
}

static void test_stdin(void **state)
{
    (void)state;
    int saved = dup(STDIN_FILENO);
    int fd = open(IO_DATA "/bom.csv", O_RDONLY);
    assert_true(saved >= 0 && fd >= 0);
    assert_true(dup2(fd, STDIN_FILENO) >= 0);
    close(fd);
    gf_harness *h = io_open("ingest_csv", "path: \"-\"", IO_DATA);
    int rc = gf_harness_produce(h);
    dup2(saved, STDIN_FILENO);
    close(saved);
    assert_int_equal(rc, GF_DONE);
    assert_int_equal(gf_harness_count(h), 1);
    io_expect_json(h, 0, "{\"name\":\"赵六\",\"age\":33}");
    io_expect_pos(h, 0, "<stdin>", 2);
    gf_harness_destroy(&h);
}

static void test_empty_file(void **state)
{
    (void)state;
    char *dir = io_tmpdir();
    char *path = io_fmt("%s/e.csv", dir);
    io_write(path, "", 0);
    gf_harness *h = io_open("ingest_csv", "path: e.csv", dir);
    assert_int_equal(gf_harness_produce(h), GF_DONE);
    assert_int_equal(gf_harness_count(h), 0);
    assert_int_equal(gf_harness_rejects(h), 0);
    gf_harness_destroy(&h);
    io_write(path, "a,b\n", 4); /* a header alone */
    h = io_open("ingest_csv", "path: e.csv", dir);
    assert_int_equal(gf_harness_produce(h), GF_DONE);
    assert_int_equal(gf_harness_count(h), 0);
    gf_harness_destroy(&h);
    free(path);
    io_rmdir(dir);
}

static void test_bad_header(void **state)
{
    (void)state;
    static const struct {
        const char *text, *msg;
    } cases[] = {
        {"a,\"b\n1,2\n", "h.csv:1: the header has an unterminated quote in "
                         "field 2"},
        {"a,\"b\"c\n1,2\n", "h.csv:1: the header has text after the closing "
                            "quote of field 2"},
        {"\n\na,\xff\n1,2\n", "h.csv:3: the header has bytes invalid in UTF-8 "
                              "(field 2)"},
    };
    char *dir = io_tmpdir();
    char *path = io_fmt("%s/h.csv", dir);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        io_write(path, cases[i].text, strlen(cases[i].text));
        gf_harness *h =
            io_open("ingest_csv", "path: h.csv\nencoding: utf-8", dir);
        assert_true(gf_harness_produce(h) < 0);
        if (!strstr(gf_harness_error(h), cases[i].msg))
            fail_msg("case %zu: %s", i, gf_harness_error(h));
        assert_int_equal(gf_harness_count(h), 0);
        gf_harness_destroy(&h);
    }
    /* without a header the first row is data, and may be a dead letter */
    io_write(path, "a,\xff\n1,2\n", 7);
    gf_harness *h = io_open("ingest_csv",
                            "path: h.csv\nencoding: utf-8\nheader: false", dir);
    assert_int_equal(gf_harness_produce(h), GF_DONE);
    assert_int_equal(gf_harness_count(h), 1);
    io_expect_json(h, 0, "{\"c1\":1,\"c2\":2}");
    assert_int_equal(gf_harness_rejects(h), 1);
    io_expect_reject(h, 0, 1, "line 1: bytes invalid in UTF-8 in field 2 (c2)");
    gf_harness_destroy(&h);
    free(path);
    io_rmdir(dir);
}

static void test_missing_file(void **state)
{
    (void)state;
    char *err = io_open_fails("ingest_csv", "path: no-such-file.csv", IO_DATA);
    if (!strstr(err, IO_DATA "/no-such-file.csv: No such file or directory"))
        fail_msg("unexpected message: %s", err);
    free(err);
}

static void test_bad_options(void **state)
{
    (void)state;
    char *err = io_open_fails("ingest_csv", "path: members.csv\ndelimiter: ab",
                              IO_DATA);
    assert_non_null(strstr(err, "delimiter"));
    free(err);
    err = io_open_fails("ingest_csv", "path: members.csv\nencoding: latin1",
                        IO_DATA);
    assert_non_null(strstr(err, "latin1"));
    free(err);
    err = io_open_fails("ingest_csv", "path: members.csv\ntypes: {age: number}",
                        IO_DATA);
    assert_non_null(strstr(err, "number"));
    free(err);
    /* a kind no stage would know: every `kinds:` filter would pass it by */
    err =
        io_open_fails("ingest_csv", "path: members.csv\nkind: memer", IO_DATA);
    if (!strstr(err, "kind") ||
        !strstr(err, "\"memer\" is not a record kind: org, member, project "
                     "or demand"))
        fail_msg("unexpected message: %s", err);
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_members),
        cmocka_unit_test(test_drop_column),
        cmocka_unit_test(test_declared_types),
        cmocka_unit_test(test_multiline_crlf),
        cmocka_unit_test(test_bad_rows_utf8),
        cmocka_unit_test(test_bad_rows_auto),
        cmocka_unit_test(test_bom),
        cmocka_unit_test(test_gb18030),
        cmocka_unit_test(test_gb18030_as_utf8_fails_on_header),
        cmocka_unit_test(test_auto_utf8_with_stray_gbk_row),
        cmocka_unit_test(test_gb18030_invalid_bytes),
        cmocka_unit_test(test_no_header_tab),
        cmocka_unit_test(test_encoding_widths),
        cmocka_unit_test(test_kind_option_wins),
        cmocka_unit_test(test_stream_utf8_multiline),
        cmocka_unit_test(test_stream_gb18030),
        cmocka_unit_test(test_stdin),
        cmocka_unit_test(test_empty_file),
        cmocka_unit_test(test_bad_header),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
