/*
 * Tests of export_report through the harness: metric rows in, an HTML file
 * out. Expected figures are written by hand from the input (12345 reads
 * "12,345"; 87.46 percent reads "87.5%").
 *
 * Run with `--write-sample OUT.html` it is also the driver of the
 * integration test tests/integration/report_render.sh: it renders the
 * district report from tests/data/report/district_metrics.jsonl with the
 * shipped sections (SAMPLE_OPTIONS) and exits.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <gigflow/harness.h>

/* The district report's options (docs/plugins/export_report.md). */
static const char SAMPLE_OPTIONS[] =
    "title: 示范区新就业群体党建工作数据报告\n"
    "sections:\n"
    "  coverage: 'title=各街道站点党组织覆盖率与党员密度 "
    "value=coverage,density "
    "note=\"覆盖率 = 有党组织的站点数 ÷ 站点总数；党员密度 = "
    "每千名从业人员中的党员数\"'\n"
    "  platforms: 'title=各平台覆盖与党员密度 value=coverage'\n"
    "  projects: 'title=关爱项目：支出与受益人数（按类别） "
    "value=spend,beneficiaries decimals=0'\n"
    "  demands: 'title=需求反馈：数量与解决时长（按层级） chart=column "
    "value=demands,median_resolution_hours "
    "note=\"层级：1 从业人员 → 2 党员 → 3 支部 → 4 企业党组织、街道社区 → "
    "5 行业综合党委、流动党员党委\"'\n"
    "  mobile: 'title=流动党员（按流出地党组织） "
    "labels=\"points:平均组织生活积分,active_days:近30天平均活跃天数\"'\n"
    "  points: 'title=组织生活积分排行（前10名） chart=none sort=-points "
    "top=10'\n";

static char tmpdir[64];

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    return s;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static void assert_contains(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("output lacks '%s'", needle);
}

static char *out_path(const char *name)
{
    char *p = NULL;
    assert_true(asprintf(&p, "%s/%s", tmpdir, name) > 0);
    return p;
}

static gf_harness *open_report(const char *path, const char *extra)
{
    char *opts = NULL, *err = NULL;
    assert_true(asprintf(&opts, "path: '%s'\n%s", path, extra ? extra : "") >
                0);
    gf_harness *h = gf_harness_new("export_report", opts, NULL, &err);
    if (!h)
        fail_msg("harness: %s", err ? err : "?");
    free(opts);
    return h;
}

/* Flush, commit, destroy and return the page. */
static char *finish(gf_harness **hp, const char *path)
{
    assert_int_equal(gf_harness_flush(*hp), 0);
    assert_int_equal(gf_harness_commit(*hp), 0);
    gf_harness_destroy(hp);
    char *html = slurp(path);
    assert_non_null(html);
    /* the skeleton of a page every time */
    assert_true(strncmp(html, "<!DOCTYPE html>", 15) == 0);
    assert_contains(html, "<meta charset=\"utf-8\">");
    assert_contains(html, "</html>\n");
    /* self-contained: no script, nothing fetched from anywhere */
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "src="));
    assert_null(strstr(html, "url("));
    assert_null(strstr(html, "@import"));
    assert_null(strstr(html, "href=\"http"));
    return html;
}

static void push(gf_harness *h, const char *json)
{
    int rc = gf_harness_push_json(h, json);
    if (rc != 0)
        fail_msg("push %s: %d (%s)", json, rc, gf_harness_error(h));
}

static void test_tables_and_charts(void **state)
{
    (void)state;
    char *path = out_path("basic.html");
    gf_harness *h = open_report(path, NULL);
    push(h,
         "{\"kind\":\"metric\",\"set\":\"coverage\",\"district\":\"长安街道\","
         "\"stations\":12345,\"coverage_pct\":87.46}");
    push(h,
         "{\"kind\":\"metric\",\"set\":\"coverage\",\"district\":\"东湖街道\","
         "\"stations\":980,\"coverage_pct\":50}");
    push(h, "{\"kind\":\"metric\",\"set\":\"spend\",\"category\":\"法律援助\","
            "\"spend\":1234567.26}");
    /* before commit the target does not exist (atomic write) */
    assert_int_equal(gf_harness_flush(h), 0);
    assert_int_equal(access(path, F_OK), -1);
    char *html = finish(&h, path);

    /* one section per set, in arrival order, titled by the set's name */
    const char *a = strstr(html, "<span class=\"num\">1</span>coverage</h2>");
    const char *b = strstr(html, "<span class=\"num\">2</span>spend</h2>");
    assert_non_null(a);
    assert_non_null(b);
    assert_true(a < b);
    /* built-in Chinese labels as table headers */
    assert_contains(html, "<th scope=\"col\">区域</th>");
    assert_contains(html, "<th scope=\"col\" class=\"num\">站点覆盖率</th>");
    /* numbers: thousands separators, one decimal, percentages */
    assert_contains(html, ">12,345<");
    assert_contains(html, ">87.5%<");
    assert_contains(html, ">50.0%<");
    assert_contains(html, ">1,234,567.3<"); /* 1234567.26 -> one decimal */
    /* a chart per section: the first numeric metric by the label field */
    assert_int_equal(count(html, "<svg "), 2);
    assert_contains(html, "<title id=\"c1-1-t\">各区域站点数</title>");
    assert_contains(html, "<title>长安街道: 12,345</title>");
    assert_int_equal(count(html, "<rect "), 3);
    /* the rows are the table's body: first cell names the row */
    assert_contains(html, "<th scope=\"row\">东湖街道</th>");
    /* printable */
    assert_contains(html, "@media print");
    assert_contains(html, "break-before:page");
    assert_contains(html, "Noto Sans CJK SC");
    free(html);
    unlink(path);
    free(path);
}

static void test_escaping(void **state)
{
    (void)state;
    char *path = out_path("escape.html");
    gf_harness *h = open_report(path, "title: 'A <b>bold</b> & \"quoted\"'\n"
                                      "labels: {count: '<i>n</i>'}\n");
    push(h, "{\"kind\":\"metric\",\"set\":\"<script>alert(1)</script>\","
            "\"district\":\"<script>alert('x')</script>\",\"count\":3,"
            "\"note\":\"a & b < c\"}");
    char *html = finish(&h, path);
    assert_contains(html, "&lt;script&gt;alert(1)&lt;/script&gt;");
    assert_contains(html, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
    assert_contains(html, "A &lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot;");
    assert_contains(html, "&lt;i&gt;n&lt;/i&gt;");
    assert_contains(html, "a &amp; b &lt; c");
    assert_null(strstr(html, "<b>bold"));
    assert_null(strstr(html, "<i>n"));
    free(html);
    unlink(path);
    free(path);
}

static void test_empty_input(void **state)
{
    (void)state;
    char *path = out_path("empty.html");
    gf_harness *h = open_report(path, NULL);
    char *html = finish(&h, path);
    assert_contains(html, "没有数据");
    assert_contains(html, "<h1>新就业群体党建工作数据报告</h1>");
    assert_null(strstr(html, "<svg"));
    assert_null(strstr(html, "<table"));
    free(html);
    unlink(path);

    h = open_report(path, "lang: en\n");
    html = finish(&h, path);
    assert_contains(html, "<html lang=\"en\">");
    assert_contains(html, "No data");
    free(html);
    unlink(path);
    free(path);
}

static void test_bad_records(void **state)
{
    (void)state;
    char *path = out_path("bad.html");
    gf_harness *h = open_report(path, NULL);
    /* no set: dead letter, the run goes on */
    push(h, "{\"kind\":\"metric\",\"district\":\"长安街道\",\"count\":3}");
    /* another kind: dead letter */
    push(h, "{\"kind\":\"member\",\"set\":\"x\",\"name\":\"张三\"}");
    /* set of the wrong type */
    push(h, "{\"kind\":\"metric\",\"set\":17,\"count\":1}");
    /* a non-numeric metric value and nested values: shown as text */
    push(h, "{\"kind\":\"metric\",\"set\":\"demands\",\"district\":\"东湖\","
            "\"count\":\"n/a\",\"tags\":[\"a\",1,{\"k\":true}]}");
    push(h, "{\"kind\":\"metric\",\"set\":\"demands\",\"district\":\"西城\","
            "\"count\":7,\"extra\":null}");
    assert_int_equal(gf_harness_rejects(h), 3);
    const char *r0 = gf_harness_reject(h, 0);
    assert_non_null(strstr(r0, "set"));
    assert_non_null(strstr(gf_harness_reject(h, 1), "kind"));
    char *html = finish(&h, path);
    assert_contains(html, ">n/a<");
    assert_contains(html, "[a, 1, {k: true}]");
    assert_contains(html, ">7<");
    /* only the numeric value is charted; the other row is a gap */
    assert_int_equal(count(html, "<rect "), 1);
    assert_contains(html, "<title>东湖: n/a</title>");
    /* the page says rows were refused */
    assert_contains(html, "class=\"notice\"");
    free(html);
    unlink(path);
    free(path);
}

static void test_sections_option(void **state)
{
    (void)state;
    char *path = out_path("sections.html");
    gf_harness *h = open_report(
        path, "sections:\n"
              "  leaders: 'title=\"积分 排行\" chart=none sort=-points top=3 "
              "columns=name,points'\n"
              "  levels: 'chart=column by=level value=demands pct=share'\n"
              "  missing: 没有上游的部分\n");
    push(h, "{\"kind\":\"metric\",\"set\":\"levels\",\"level\":1,"
            "\"demands\":120,\"share\":62.5}");
    push(h, "{\"kind\":\"metric\",\"set\":\"unlisted\",\"x\":1}");
    const char *people[][2] = {
        {"甲", "30"}, {"乙", "95"}, {"丙", "60"}, {"丁", "95"}, {"戊", "10"}};
    for (size_t i = 0; i < 5; i++) {
        char *j = NULL;
        assert_true(asprintf(&j,
                             "{\"kind\":\"metric\",\"set\":\"leaders\","
                             "\"name\":\"%s\",\"station\":\"s\","
                             "\"points\":%s}",
                             people[i][0], people[i][1]) > 0);
        push(h, j);
        free(j);
    }
    push(h, "{\"kind\":\"metric\",\"set\":\"levels\",\"level\":2,"
            "\"demands\":40,\"share\":37.5}");
    char *html = finish(&h, path);
    /* the option's order, not the arrival order; unlisted sets left out */
    const char *s1 = strstr(html, "<span class=\"num\">1</span>积分 排行</h2>");
    const char *s2 = strstr(html, "<span class=\"num\">2</span>levels</h2>");
    const char *s3 = strstr(html, "<span class=\"num\">3</span>没有上游的部分");
    assert_non_null(s1);
    assert_non_null(s2);
    assert_non_null(s3);
    assert_true(s1 < s2 && s2 < s3);
    assert_null(strstr(html, "unlisted"));
    assert_contains(html, "此部分没有数据");
    /* sort=-points top=3: 乙 95, 丁 95 (stable), 丙 60; only two columns */
    const char *t = strstr(html, "<caption>表 1");
    assert_non_null(t);
    const char *yi = strstr(t, ">乙<"), *ding = strstr(t, ">丁<"),
               *bing = strstr(t, ">丙<");
    assert_non_null(yi);
    assert_non_null(ding);
    assert_non_null(bing);
    assert_true(yi < ding && ding < bing);
    /* ranks: ties share one, the next skips (1, 1, 3) */
    assert_contains(t, "<th scope=\"col\" class=\"rank\">名次</th>");
    assert_contains(t, "<td class=\"rank\">1</td><th scope=\"row\">乙</th>");
    assert_contains(t, "<td class=\"rank\">1</td><th scope=\"row\">丁</th>");
    assert_contains(t, "<td class=\"rank\">3</td><th scope=\"row\">丙</th>");
    const char *t2 = strstr(t, "</table>");
    assert_true(strstr(t, ">甲<") == NULL || strstr(t, ">甲<") > t2);
    assert_true(strstr(t, ">站点<") == NULL || strstr(t, ">站点<") > t2);
    /* section 2: one column chart of demands, share as a percentage */
    assert_int_equal(count(html, "<svg "), 1);
    assert_contains(html, "各层级需求数");
    assert_contains(html, ">62.5%<");
    assert_contains(html, ">120<");
    free(html);
    unlink(path);
    free(path);
}

/*
 * The real field names of the shipped aggregates get labels
 * (docs/plugins/aggregate_coverage.md, aggregate_topk.md, the district
 * pipeline's metrics), in zh and en; a section's labels= wins.
 */
static void test_labels_of_real_fields(void **state)
{
    (void)state;
    char *path = out_path("labels.html");
    gf_harness *h =
        open_report(path, "sections:\n"
                          "  coverage: 'chart=none'\n"
                          "  mobile: 'chart=none labels=\"points:平均积分, "
                          "active_days : 平均活跃天数\"'\n");
    push(h, "{\"kind\":\"metric\",\"set\":\"coverage\",\"district\":\"临湖区\","
            "\"stations\":5,\"stations_covered\":3,\"coverage\":0.6,"
            "\"workers\":47,\"party_members\":4,\"mobile_party_members\":1,"
            "\"density\":85.1063829787234,\"attached\":35,"
            "\"attached_share\":0.74468085106383}");
    push(h, "{\"kind\":\"metric\",\"set\":\"mobile\",\"origin\":\"甲镇党委\","
            "\"mobile_party_members\":4,\"points\":126.75,"
            "\"active_days\":14}");
    char *html = finish(&h, path);
    const char *want[] = {
        ">区域</th>",
        ">站点数</th>",
        ">有党组织的站点数</th>",
        ">站点覆盖率</th>",
        ">从业人员数</th>",
        ">党员数</th>",
        ">流动党员数</th>",
        ">党员密度（每千人）</th>",
        ">已联系组织人数</th>",
        ">联系组织比例</th>",
        ">流出地党组织</th>",
        ">平均积分</th>",
        ">平均活跃天数</th>",
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        assert_contains(html, want[i]);
    /* no raw field name is left as a header */
    assert_null(strstr(html, ">stations_covered<"));
    assert_null(strstr(html, ">attached_share<"));
    assert_null(strstr(html, ">组织生活积分<")); /* labels= replaced it */
    /* ten columns: the smaller type of a wide table */
    assert_contains(html, "<table class=\"wide\">");
    assert_int_equal(count(html, "<table class=\"wide\">"), 1);
    free(html);
    unlink(path);

    h = open_report(path, "lang: en\n");
    push(h, "{\"kind\":\"metric\",\"set\":\"leaders\",\"rank\":1,"
            "\"name\":\"马某172\",\"district\":\"滨江区\","
            "\"platform\":\"meituan\",\"station\":\"滨江美团2站\","
            "\"points\":278}");
    push(h, "{\"kind\":\"metric\",\"set\":\"projects\",\"category\":"
            "\"education\",\"projects\":4,\"spend\":512500.0,"
            "\"beneficiaries\":1980,\"per_capita\":253.2}");
    html = finish(&h, path);
    const char *want_en[] = {
        "<th scope=\"col\" class=\"rank\">Rank</th>",
        ">Name</th>",
        ">District</th>",
        ">Platform</th>",
        ">Station</th>",
        ">Activity points</th>",
        ">Category</th>",
        ">Projects</th>",
        ">Spend (CNY)</th>",
        ">Beneficiaries</th>",
        ">Spend per beneficiary (CNY)</th>",
    };
    for (size_t i = 0; i < sizeof want_en / sizeof *want_en; i++)
        assert_contains(html, want_en[i]);
    /* the rank names the row, centred; short names do not wrap */
    assert_contains(html, "<th scope=\"row\" class=\"rank\">1</th>");
    assert_contains(html, "<td class=\"short\">滨江美团2站</td>");
    /* en keeps the codes */
    assert_contains(html, "<td class=\"short\">meituan</td>");
    assert_contains(html, "<th scope=\"row\">education</th>");
    assert_contains(html, "<title id=\"c2-1-t\">Projects by category</title>");
    free(html);
    unlink(path);
    free(path);
}

/*
 * coverage, *_share and *_rate are shares 0..1, shown as percentages in
 * tables, bar labels and axis ticks; share= names others; pct= stays for
 * values that are percentages already (0..100).
 */
static void test_shares(void **state)
{
    (void)state;
    char *path = out_path("shares.html");
    gf_harness *h = open_report(
        path, "sections:\n"
              "  cov: 'value=coverage,resolved_rate,ratio share=ratio "
              "pct=done'\n");
    /* 0.6 -> 60.0%, 0.744680... -> 74.5%, 0.0626 -> 6.3% */
    push(h, "{\"kind\":\"metric\",\"set\":\"cov\",\"district\":\"临湖区\","
            "\"coverage\":0.6,\"resolved_rate\":0.74468085106383,"
            "\"ratio\":0.0626,\"done\":87.46,\"attached_share\":1}");
    push(h, "{\"kind\":\"metric\",\"set\":\"cov\",\"district\":\"云溪区\","
            "\"coverage\":0.75,\"resolved_rate\":0.2,\"ratio\":0.03,"
            "\"done\":50,\"attached_share\":0}");
    char *html = finish(&h, path);
    assert_contains(html, "<td class=\"num\">60.0%</td>");
    assert_contains(html, "<td class=\"num\">75.0%</td>");
    assert_contains(html, "<td class=\"num\">74.5%</td>");
    assert_contains(html, "<td class=\"num\">6.3%</td>");
    assert_contains(html, "<td class=\"num\">87.5%</td>"); /* pct= */
    assert_contains(html, "<td class=\"num\">50.0%</td>");
    assert_contains(html, "<td class=\"num\">100.0%</td>"); /* int share 1 */
    assert_contains(html, "<td class=\"num\">0.0%</td>");
    /* bar labels and tooltips */
    assert_contains(html, "<title>临湖区: 60.0%</title>");
    assert_contains(html, ">75.0%</text>");
    /* coverage reaches past half: the axis runs 0..100% in steps of 20 */
    const char *c1 = strstr(html, "<svg "), *c2 = strstr(c1 + 1, "<svg ");
    assert_non_null(c2);
    const char *ticks[] = {">0%<",  ">20%<", ">40%<",
                           ">60%<", ">80%<", ">100%<"};
    for (size_t i = 0; i < 6; i++) {
        const char *t = strstr(c1, ticks[i]);
        if (!t || t > c2)
            fail_msg("first chart lacks tick %s", ticks[i]);
    }
    assert_true(strstr(c1, ">0.2<") == NULL || strstr(c1, ">0.2<") > c2);
    /* ratio (max 0.0626, under half): its own scale; 0.0626 / 5 targets
       = 0.0125, a nice step of 0.02: 0%, 2%, 4%, 6%, 8% */
    const char *c3 = strstr(c2 + 1, "<svg ");
    assert_non_null(c3);
    assert_non_null(strstr(c3, ">2%<"));
    assert_non_null(strstr(c3, ">8%<"));
    assert_null(strstr(c3, ">10%<"));
    assert_null(strstr(c3, ">100%<"));
    free(html);
    unlink(path);
    free(path);
}

/*
 * Codes read as their Chinese labels in zh (gf_domain's enumerations, by
 * field name); `category` picks the enumeration that knows the column's
 * values; a nil by-value reads as "not given".
 */
static void test_domain_values(void **state)
{
    (void)state;
    char *path = out_path("domain.html");
    gf_harness *h = open_report(path, NULL);
    push(h, "{\"kind\":\"metric\",\"set\":\"platforms\",\"platform\":null,"
            "\"stations\":1,\"coverage\":1.0}");
    push(h, "{\"kind\":\"metric\",\"set\":\"platforms\",\"platform\":"
            "\"didi\",\"stations\":2,\"coverage\":1.0}");
    push(h, "{\"kind\":\"metric\",\"set\":\"platforms\",\"platform\":"
            "\"eleme\",\"stations\":3,\"coverage\":0.6666666666666666}");
    push(h, "{\"kind\":\"metric\",\"set\":\"platforms\",\"platform\":"
            "\"新平台\",\"stations\":1,\"coverage\":0}");
    /* project categories */
    push(h, "{\"kind\":\"metric\",\"set\":\"projects\",\"category\":"
            "\"education\",\"spend\":512500}");
    push(h, "{\"kind\":\"metric\",\"set\":\"projects\",\"category\":"
            "\"skills\",\"spend\":632500}");
    /* demand categories: skills is 技能提升 here, not 技能培训 */
    push(h, "{\"kind\":\"metric\",\"set\":\"demands\",\"category\":"
            "\"pay\",\"level\":3,\"demands\":7}");
    push(h, "{\"kind\":\"metric\",\"set\":\"demands\",\"category\":"
            "\"skills\",\"level\":5,\"demands\":2}");
    push(h, "{\"kind\":\"metric\",\"set\":\"people\",\"membership\":"
            "\"mobile_party\",\"form\":\"food_delivery\","
            "\"status\":\"resolved\",\"members\":9}");
    char *html = finish(&h, path);
    assert_contains(html, "<th scope=\"row\" class=\"na\">（未填写）</th>");
    assert_contains(html, "<th scope=\"row\">滴滴</th>");
    assert_contains(html, "<th scope=\"row\">饿了么</th>");
    assert_contains(html, "<th scope=\"row\">新平台</th>"); /* unknown: as is */
    /* arrival order, but the group without a platform (first in) last */
    const char *t = strstr(html, "<caption>表 1");
    assert_non_null(t);
    const char *didi = strstr(t, ">滴滴</th>"),
               *neu = strstr(t, ">新平台</th>"),
               *nil = strstr(t, ">（未填写）</th>");
    assert_true(didi && neu && nil && didi < neu && neu < nil);
    /* the chart (of stations, the first metric) names the bars alike */
    assert_contains(html, "<title>饿了么: 3</title>");
    assert_contains(html, "<title>（未填写）: 1</title>");
    assert_contains(html, "<td class=\"num\">66.7%</td>");
    assert_contains(html, "<th scope=\"row\">教育</th>");
    assert_contains(html, "<th scope=\"row\">技能培训</th>");
    assert_contains(html, "<th scope=\"row\">薪酬待遇</th>");
    assert_contains(html, "<th scope=\"row\">技能提升</th>");
    assert_contains(html, "<td class=\"short\">3 支部</td>");
    assert_contains(html, "5 行业综合党委/流动党员党委");
    assert_contains(html, "<th scope=\"row\">流动党员</th>");
    assert_contains(html, "外卖");
    assert_contains(html, "已解决");
    assert_null(strstr(html, ">eleme<"));
    assert_null(strstr(html, ">didi<"));
    assert_null(strstr(html, ">pay<"));
    free(html);
    unlink(path);

    /* en keeps the codes; a Chinese label in the data becomes its code */
    h = open_report(path, "lang: en\n");
    push(h, "{\"kind\":\"metric\",\"set\":\"platforms\",\"platform\":null,"
            "\"stations\":1}");
    push(h, "{\"kind\":\"metric\",\"set\":\"platforms\",\"platform\":"
            "\"饿了么\",\"stations\":3}");
    html = finish(&h, path);
    assert_contains(html, "<th scope=\"row\" class=\"na\">(none)</th>");
    assert_contains(html, "<th scope=\"row\">eleme</th>");
    free(html);
    unlink(path);
    free(path);
}

/* The run facts: dead letters counted and explained, dates in Beijing
   time for zh, inputs in one directory named once. */
static void test_run_facts(void **state)
{
    (void)state;
    char *path = out_path("facts.html");
    gf_harness *h = open_report(path, NULL);
    push(h, "{\"kind\":\"metric\",\"set\":\"a\",\"n\":1}");
    char *html = finish(&h, path);
    assert_contains(html, "<dt>未入统计记录</dt><dd>0</dd>");
    assert_contains(html, "无：全部记录均通过校验并进入统计。");
    assert_contains(html, "（北京时间）");
    free(html);
    unlink(path);

    h = open_report(path, NULL);
    push(h, "{\"kind\":\"member\",\"name\":\"张三\"}");
    push(h, "{\"kind\":\"metric\",\"n\":1}");
    push(h, "{\"kind\":\"metric\",\"set\":\"a\",\"n\":1}");
    html = finish(&h, path);
    /* the harness has no dead-letter file: the count, and where they went */
    assert_contains(html, "<div class=\"card warn\"><dt>未入统计记录</dt>"
                          "<dd>2</dd></div>");
    assert_contains(html, "2 条记录因格式或内容问题未进入统计"
                          "（已记入运行日志的死信输出）。");
    assert_contains(html, "2 条记录不是统计指标");
    free(html);
    unlink(path);

    h = open_report(path, "lang: en\n");
    push(h, "{\"kind\":\"member\",\"name\":\"张三\"}");
    html = finish(&h, path);
    assert_contains(html, "1 records were left out of the figures");
    assert_null(strstr(html, "北京"));
    free(html);
    unlink(path);
    free(path);
}

static void expect_config_error(const char *opts, const char *want)
{
    char *err = NULL;
    gf_harness *h = gf_harness_new("export_report", opts, NULL, &err);
    assert_null(h);
    assert_non_null(err);
    if (!strstr(err, want))
        fail_msg("error '%s' lacks '%s'", err, want);
    free(err);
}

static void test_option_errors(void **state)
{
    (void)state;
    char opts[512];
    snprintf(opts, sizeof opts, "path: '%s/no/such/dir/r.html'\n", tmpdir);
    /* gigflow run creates the directory first (exports' output
       directories); through the harness it is missing */
    expect_config_error(opts, "cannot create a file beside ");
    snprintf(opts, sizeof opts, "path: '%s/r.html'\nlang: fr\n", tmpdir);
    expect_config_error(opts, "lang 'fr' is not supported; use zh or en");
    snprintf(opts, sizeof opts,
             "path: '%s/r.html'\nsections: {a: 'title=x colour=red'}\n",
             tmpdir);
    expect_config_error(opts, "section 'a': unknown key 'colour'");
    snprintf(opts, sizeof opts,
             "path: '%s/r.html'\nsections: {a: 'chart=pie'}\n", tmpdir);
    expect_config_error(opts, "chart=pie; use bar, column or none");
    snprintf(opts, sizeof opts, "path: '%s/r.html'\nsections: {a: 'top=-1'}\n",
             tmpdir);
    expect_config_error(opts, "top=-1 is not a number");
    snprintf(opts, sizeof opts,
             "path: '%s/r.html'\nsections: {a: 'labels=points'}\n", tmpdir);
    expect_config_error(opts, "section 'a': labels=... 'points' is not "
                              "field:label");
    snprintf(opts, sizeof opts,
             "path: '%s/r.html'\nsections: {a: 'labels=a:b labels=c:d'}\n",
             tmpdir);
    expect_config_error(opts, "labels= given twice");
    expect_config_error("title: x\n", "path");
}

/* destroy() without commit leaves nothing behind, not even the temp file. */
static void test_no_commit_leaves_nothing(void **state)
{
    (void)state;
    char *dir = out_path("atomic");
    assert_int_equal(mkdir(dir, 0755), 0);
    char *path = NULL;
    assert_true(asprintf(&path, "%s/r.html", dir) > 0);
    gf_harness *h = open_report(path, NULL);
    push(h, "{\"kind\":\"metric\",\"set\":\"a\",\"n\":1}");
    assert_int_equal(gf_harness_flush(h), 0);
    gf_harness_destroy(&h);
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            fail_msg("left behind: %s", e->d_name);
    closedir(d);
    /* an existing report is replaced only by a committed one */
    FILE *f = fopen(path, "w");
    fputs("old", f);
    fclose(f);
    h = open_report(path, NULL);
    assert_int_equal(gf_harness_flush(h), 0);
    gf_harness_destroy(&h);
    char *old = slurp(path);
    assert_string_equal(old, "old");
    free(old);
    h = open_report(path, NULL);
    char *html = finish(&h, path);
    free(html);
    unlink(path);
    assert_int_equal(rmdir(dir), 0);
    free(path);
    free(dir);
}

/* The district report for the integration test (see the file comment). */
static int write_sample(const char *out)
{
    char *err = NULL, *opts = NULL;
    if (asprintf(&opts, "path: '%s'\n%s", out, SAMPLE_OPTIONS) < 0)
        return 1;
    gf_harness *h = gf_harness_new("export_report", opts, NULL, &err);
    free(opts);
    if (!h) {
        fprintf(stderr, "export_report: %s\n", err ? err : "?");
        return 1;
    }
    FILE *f = fopen(GF_TEST_DATA_DIR "/report/district_metrics.jsonl", "r");
    if (!f) {
        perror(GF_TEST_DATA_DIR "/report/district_metrics.jsonl");
        return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    int rc = 0;
    while (getline(&line, &cap, f) > 0 && rc == 0)
        if (line[0] == '{')
            rc = gf_harness_push_json(h, line);
    free(line);
    fclose(f);
    if (rc == 0)
        rc = gf_harness_flush(h);
    if (rc == 0)
        rc = gf_harness_commit(h);
    if (rc != 0)
        fprintf(stderr, "export_report: %s\n", gf_harness_error(h));
    gf_harness_destroy(&h);
    return rc == 0 ? 0 : 1;
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/gf_test_report.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return rmdir(tmpdir);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write-sample") == 0)
        return write_sample(argv[2]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tables_and_charts),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_empty_input),
        cmocka_unit_test(test_bad_records),
        cmocka_unit_test(test_sections_option),
        cmocka_unit_test(test_labels_of_real_fields),
        cmocka_unit_test(test_shares),
        cmocka_unit_test(test_domain_values),
        cmocka_unit_test(test_run_facts),
        cmocka_unit_test(test_option_errors),
        cmocka_unit_test(test_no_commit_leaves_nothing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
