/*
 * test_export_xlsx - export_xlsx through the plugin harness, checked by
 * reading the workbook's XML parts with `unzip -p` (an independent
 * reader): sheets per kind and per sheet_by value with safe unique names,
 * a bold frozen header, numbers in <v> cells, dates as serial numbers with
 * a yyyy-mm-dd style (serials computed here from the calendar), Chinese
 * text in the shared strings, wider columns for CJK text, the atomic file,
 * and option errors.
 */
#define _GNU_SOURCE
#include "db_test_util.h"

/* One part of the zip file (malloc'd), via unzip. */
static char *xl_part(const char *xlsx, const char *part)
{
    char *cmd = io_fmt("unzip -p '%s' '%s'", xlsx, part);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 1 << 16, n = 0, got;
    char *b = malloc(cap);
    assert_non_null(b);
    while ((got = fread(b + n, 1, cap - n - 1, p)) > 0) {
        n += got;
        if (cap - n - 1 == 0) {
            cap *= 2;
            b = realloc(b, cap);
            assert_non_null(b);
        }
    }
    b[n] = '\0';
    assert_int_equal(pclose(p), 0);
    free(cmd);
    return b;
}

/* The XML of cell `ref` (e.g. "F2") in a sheet, malloc'd; NULL if absent. */
static char *xl_cell(const char *sheet, const char *ref)
{
    char pat[32];
    snprintf(pat, sizeof pat, "<c r=\"%s\"", ref);
    const char *c = strstr(sheet, pat);
    if (!c)
        return NULL;
    const char *end = strstr(c, "</c>");
    const char *close = strchr(c, '>');
    if (close && close[-1] == '/')
        end = close + 1;
    assert_non_null(end);
    return strndup(c, (size_t)(end - c));
}

/* Attribute `name` of the element at xml (malloc'd), or NULL. */
static char *xl_attr(const char *xml, const char *name)
{
    char pat[32];
    snprintf(pat, sizeof pat, " %s=\"", name);
    const char *a = strstr(xml, pat);
    const char *gt = strchr(xml, '>');
    if (!a || (gt && a > gt))
        return NULL;
    a += strlen(pat);
    return strndup(a, strcspn(a, "\""));
}

/* The text of the <v> of a cell (malloc'd). */
static char *xl_v(const char *cell)
{
    const char *v = strstr(cell, "<v>");
    assert_non_null(v);
    v += 3;
    return strndup(v, strcspn(v, "<"));
}

/* Shared string number i (malloc'd). */
static char *xl_shared(const char *sst, long i)
{
    const char *p = sst;
    for (long k = 0; k <= i; k++) {
        p = strstr(p, "<si>");
        assert_non_null(p);
        p += 4;
    }
    const char *t = strchr(strstr(p, "<t"), '>') + 1;
    return strndup(t, strcspn(t, "<"));
}

/* The <xf> number i of cellXfs in styles.xml (malloc'd). */
static char *xl_xf(const char *styles, long i)
{
    const char *p = strstr(styles, "<cellXfs");
    assert_non_null(p);
    for (long k = 0; k <= i; k++) {
        p = strstr(p + 1, "<xf ");
        assert_non_null(p);
    }
    return strndup(p, strcspn(p, ">") + 1);
}

/* Days from 1970-01-01 (Howard Hinnant's days_from_civil). */
static long days_from_civil(long y, long m, long d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Excel's serial of a date after 1900-03-01: days since 1899-12-30. */
static long excel_serial(long y, long m, long d)
{
    return days_from_civil(y, m, d) - days_from_civil(1899, 12, 30);
}

/* A cell holds a string that equals want, through the shared strings. */
static void xl_expect_string(const char *sheet, const char *sst,
                             const char *ref, const char *want)
{
    char *c = xl_cell(sheet, ref);
    if (!c)
        fail_msg("no cell %s", ref);
    char *t = xl_attr(c, "t");
    if (!t || strcmp(t, "s"))
        fail_msg("cell %s is not a shared string: %s", ref, c);
    char *v = xl_v(c);
    char *s = xl_shared(sst, strtol(v, NULL, 10));
    if (strcmp(s, want))
        fail_msg("cell %s: got \"%s\", want \"%s\"", ref, s, want);
    free(s);
    free(v);
    free(t);
    free(c);
}

/* A cell holds a plain number (no type attribute) equal to want. */
static void xl_expect_number(const char *sheet, const char *ref,
                             const char *want)
{
    char *c = xl_cell(sheet, ref);
    if (!c)
        fail_msg("no cell %s", ref);
    char *t = xl_attr(c, "t");
    if (t)
        fail_msg("cell %s is not a number: %s", ref, c);
    char *v = xl_v(c);
    if (strcmp(v, want))
        fail_msg("cell %s: got %s, want %s", ref, v, want);
    free(v);
    free(c);
}

/* The width of column n (1-based) in a sheet. */
static double col_width(const char *sheet, int n)
{
    char pat[48];
    snprintf(pat, sizeof pat, "<col min=\"%d\" max=\"%d\"", n, n);
    const char *c = strstr(sheet, pat);
    assert_non_null(c);
    char *w = xl_attr(c, "width");
    assert_non_null(w);
    double d = strtod(w, NULL);
    free(w);
    return d;
}

static const char *const recs[] = {
    "{\"kind\":\"org\",\"id\":\"o1\",\"name\":\"美团朝阳站支部\",\"members\":"
    "12,"
    "\"budget\":2500.5,\"established\":\"2019-07-01\",\"active\":true,"
    "\"big\":9007199254740993,\"ascii\":\"abcdefg\"}",
    "{\"kind\":\"member\",\"id\":\"m1\",\"joined\":\"2023-13-01\","
    "\"raised\":\"2024/02/29\"}",
    "{\"kind\":\"org\",\"id\":\"o2\",\"name\":\"顺丰\",\"members\":7,"
    "\"established\":\"2020-02-29 08:30:00\",\"tags\":[1,2],\"active\":null}",
    "{\"kind\":\"bad[kind]:*?/\\\\name that is much longer than thirty-one\"}",
    NULL,
};

static void test_workbook(void **state)
{
    (void)state;
    char *dir = io_tmpdir();
    char *xlsx = io_fmt("%s/out.xlsx", dir);
    gf_harness *h = io_open("export_xlsx", "path: out.xlsx", dir);
    db_push_all(h, recs);
    assert_int_equal(gf_harness_flush(h), GF_OK);
    assert_int_equal(access(xlsx, F_OK), -1); /* nothing before commit */
    assert_int_equal(gf_harness_commit(h), GF_OK);
    assert_int_equal(gf_harness_rejects(h), 0);
    gf_harness_destroy(&h);
    assert_int_equal(io_dir_count(dir, NULL, 0), 1);

    char *wb = xl_part(xlsx, "xl/workbook.xml");
    char *sheet = xl_part(xlsx, "xl/worksheets/sheet1.xml");
    char *sheet2 = xl_part(xlsx, "xl/worksheets/sheet2.xml");
    char *sst = xl_part(xlsx, "xl/sharedStrings.xml");
    char *styles = xl_part(xlsx, "xl/styles.xml");
    assert_non_null(strstr(wb, "<sheet name=\"org\" sheetId=\"1\""));
    assert_non_null(strstr(wb, "<sheet name=\"member\" sheetId=\"2\""));
    assert_non_null(strstr(wb, "<sheet name=\"bad_kind______name that is "
                               "much\" sheetId=\"3\""));

    /* header: bold, frozen below */
    assert_non_null(strstr(sheet,
                           "<pane ySplit=\"1\" topLeftCell=\"A2\" "
                           "activePane=\"bottomLeft\" state=\"frozen\"/>"));
    xl_expect_string(sheet, sst, "A1", "kind");
    xl_expect_string(sheet, sst, "C1", "name");
    xl_expect_string(sheet, sst, "J1", "tags");
    char *a1 = xl_cell(sheet, "A1");
    char *s = xl_attr(a1, "s");
    assert_non_null(s);
    char *xf = xl_xf(styles, strtol(s, NULL, 10));
    char *font = xl_attr(xf, "fontId");
    assert_string_equal(font, "1");
    const char *fonts = strstr(styles, "<fonts");
    const char *font1 = strstr(strstr(fonts, "<font>") + 1, "<font>");
    assert_true(strncmp(font1, "<font><b/>", 10) == 0);
    free(font);
    free(xf);
    free(s);
    free(a1);

    /* values: text, numbers, a bool, a big integer kept as text */
    xl_expect_string(sheet, sst, "C2", "美团朝阳站支部");
    xl_expect_number(sheet, "D2", "12");
    xl_expect_number(sheet, "E2", "2500.5");
    char *g2 = xl_cell(sheet, "G2");
    assert_non_null(strstr(g2, "t=\"b\"><v>1</v>"));
    free(g2);
    xl_expect_string(sheet, sst, "H2", "9007199254740993");
    xl_expect_string(sheet, sst, "J3", "[1,2]");
    assert_null(xl_cell(sheet, "G3")); /* nil: no cell */

    /* dates: serial numbers in a cell whose style has the date format */
    char *f2 = xl_cell(sheet, "F2");
    char want[64];
    snprintf(want, sizeof want, "<v>%ld</v>", excel_serial(2019, 7, 1));
    if (!strstr(f2, want))
        fail_msg("F2 %s, want %s", f2, want);
    s = xl_attr(f2, "s");
    assert_non_null(s);
    xf = xl_xf(styles, strtol(s, NULL, 10));
    char *fmt = xl_attr(xf, "numFmtId");
    char *pat =
        io_fmt("<numFmt numFmtId=\"%s\" formatCode=\"yyyy-mm-dd\"/>", fmt);
    if (!strstr(styles, pat))
        fail_msg("style %s of F2 is not a date: %s", s, xf);
    free(pat);
    free(fmt);
    free(xf);
    free(s);
    free(f2);
    char *f3 = xl_cell(sheet, "F3");
    snprintf(want, sizeof want, "<v>%ld.354166", excel_serial(2020, 2, 29));
    if (!strstr(f3, want)) /* 08:30 is 0.3541666... of a day */
        fail_msg("F3 %s, want %s", f3, want);
    free(f3);

    /* member: an impossible date stays text; a date field with slashes */
    xl_expect_string(sheet2, sst, "C2", "2023-13-01");
    char *d2 = xl_cell(sheet2, "D2");
    snprintf(want, sizeof want, "<v>%ld</v>", excel_serial(2024, 2, 29));
    if (!strstr(d2, want) || strstr(d2, "t=\""))
        fail_msg("D2 %s, want %s", d2, want);
    free(d2);

    /* widths: 7 CJK characters are wider than 7 ASCII ones */
    double cjk = col_width(sheet, 3), ascii = col_width(sheet, 9);
    if (!(cjk > ascii * 1.6 && ascii > 7))
        fail_msg("widths: CJK %.2f, ASCII %.2f", cjk, ascii);

    free(wb);
    free(sheet);
    free(sheet2);
    free(sst);
    free(styles);
    free(xlsx);
    io_rmdir(dir);
}

static void test_sheet_by_and_columns(void **state)
{
    (void)state;
    static const char *const r[] = {
        "{\"kind\":\"member\",\"id\":\"m1\",\"platform\":\"美团/外卖\","
        "\"age\":30,\"extra\":1}",
        "{\"kind\":\"member\",\"id\":\"m2\",\"platform\":\"美团:外卖\","
        "\"age\":41}",
        "{\"kind\":\"member\",\"id\":\"m3\",\"age\":22}",
        "{\"kind\":\"member\",\"id\":\"m4\",\"platform\":\"美团/外卖\"}",
        NULL,
    };
    char *dir = io_tmpdir();
    char *xlsx = io_fmt("%s/p.xlsx", dir);
    gf_harness *h = io_open("export_xlsx",
                            "{path: p.xlsx, sheet_by: "
                            "platform, columns: [id, age]}",
                            dir);
    db_push_all(h, r);
    assert_int_equal(gf_harness_commit(h), GF_OK);
    gf_harness_destroy(&h);
    char *wb = xl_part(xlsx, "xl/workbook.xml");
    char *sst = xl_part(xlsx, "xl/sharedStrings.xml");
    char *s1 = xl_part(xlsx, "xl/worksheets/sheet1.xml");
    assert_non_null(strstr(wb, "<sheet name=\"美团_外卖\" sheetId=\"1\""));
    assert_non_null(strstr(wb, "<sheet name=\"美团_外卖~2\" sheetId=\"2\""));
    assert_non_null(strstr(wb, "<sheet name=\"none\" sheetId=\"3\""));
    xl_expect_string(s1, sst, "A1", "id");
    xl_expect_string(s1, sst, "B1", "age");
    assert_null(xl_cell(s1, "C1")); /* only the columns asked for */
    xl_expect_string(s1, sst, "A2", "m1");
    xl_expect_number(s1, "B2", "30");
    xl_expect_string(s1, sst, "A3", "m4");
    assert_null(xl_cell(s1, "B3"));
    free(wb);
    free(sst);
    free(s1);
    free(xlsx);
    io_rmdir(dir);
}

static void test_not_committed_and_errors(void **state)
{
    (void)state;
    char *dir = io_tmpdir();
    gf_harness *h = io_open("export_xlsx", "path: n.xlsx", dir);
    db_push_all(h, recs);
    assert_int_equal(gf_harness_flush(h), GF_OK);
    gf_harness_destroy(&h);
    assert_int_equal(io_dir_count(dir, NULL, 0), 0);

    char *err = io_open_fails("export_xlsx", "path: no/such/x.xlsx", dir);
    char *want = io_fmt("the directory %s/no/such does not exist", dir);
    if (!strstr(err, want))
        fail_msg("unexpected: %s", err);
    free(want);
    free(err);
    err = io_open_fails("export_xlsx", "path: /dev/null", dir);
    assert_non_null(strstr(err, "/dev/null exists and is not a regular "
                                "file"));
    free(err);
    err = io_open_fails("export_xlsx", "path: \"-\"", dir);
    assert_non_null(strstr(err, "cannot be written to standard output"));
    free(err);
    io_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_workbook),
        cmocka_unit_test(test_sheet_by_and_columns),
        cmocka_unit_test(test_not_committed_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
