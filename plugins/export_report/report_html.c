/*
 * report_html.c - the page of export_report: one self-contained HTML file
 * (inline CSS, inline SVG, no script, no web font), UTF-8, printable on A4
 * with a page break before each section, tables with proper headers.
 *
 * Every value that came from a record or an option goes through
 * rp_escape(), which also replaces invalid UTF-8 and control characters,
 * so nothing a record holds can become markup.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gf_domain.h"
#include "report.h"

/* --- the buffer ----------------------------------------------------------- */

static bool reserve(rp_buf *b, size_t extra)
{
    if (b->failed)
        return false;
    if (b->cap - b->len > extra)
        return true;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->len <= extra) {
        if (cap > SIZE_MAX / 2) {
            b->failed = true;
            return false;
        }
        cap *= 2;
    }
    char *d = realloc(b->data, cap);
    if (!d) {
        b->failed = true;
        return false;
    }
    b->data = d;
    b->cap = cap;
    return true;
}

void rp_putn(rp_buf *b, const char *s, size_t n)
{
    if (!reserve(b, n))
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void rp_puts(rp_buf *b, const char *s)
{
    rp_putn(b, s, strlen(s));
}

void rp_printf(rp_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void rp_buf_free(rp_buf *b)
{
    free(b->data);
    *b = (rp_buf){0};
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return len;
}

void rp_escape(rp_buf *b, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, run = 0; /* bytes [i-run, i) are safe, not yet copied */
    while (i < n) {
        unsigned char c = p[i];
        const char *rep = NULL;
        size_t len = 1;
        switch (c) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        default:
            if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f) {
                rep = "\xef\xbf\xbd";
            } else if (c >= 0x80) {
                len = utf8_len(p + i, n - i);
                if (len == 0) {
                    rep = "\xef\xbf\xbd";
                    len = 1;
                }
            }
        }
        if (rep) {
            rp_putn(b, s + i - run, run);
            rp_puts(b, rep);
            run = 0;
        } else {
            run += len;
        }
        i += len;
    }
    rp_putn(b, s + n - run, run);
}

void rp_escape_str(rp_buf *b, const char *s)
{
    rp_escape(b, s ? s : "", s ? strlen(s) : 0);
}

/* --- numbers and labels --------------------------------------------------- */

bool rp_cell_number(const rp_cell *c, double *out)
{
    if (c->kind == RP_INT) {
        *out = (double)c->i;
        return true;
    }
    if (c->kind == RP_FLOAT && isfinite(c->f)) {
        *out = c->f;
        return true;
    }
    return false;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static bool in_list(char *const *list, size_t n, const char *field)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], field) == 0)
            return true;
    return false;
}

rp_unit rp_unit_of(const rp_spec *spec, const char *field)
{
    if (in_list(spec->pct, spec->npct, field))
        return RP_PCT;
    if (in_list(spec->share, spec->nshare, field))
        return RP_SHARE;
    if (ends_with(field, "_pct") || ends_with(field, "_percent"))
        return RP_PCT;
    if (strcmp(field, "coverage") == 0 || ends_with(field, "_share") ||
        ends_with(field, "_rate"))
        return RP_SHARE;
    return RP_PLAIN;
}

/* Append the digits in [s, s+n) with a ',' every three from the right. */
static void put_grouped(rp_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            rp_putn(b, ",", 1);
        rp_putn(b, s + i, 1);
    }
}

static void put_float(rp_buf *b, double v, int decimals)
{
    char tmp[64];
    if (fabs(v) >= 1e15) { /* beyond any count or budget: keep it short */
        rp_printf(b, "%.3e", v);
        return;
    }
    if (decimals < 0)
        decimals = 1;
    if (decimals > 6)
        decimals = 6;
    int n = snprintf(tmp, sizeof tmp, "%.*f", decimals, fabs(v));
    if (n <= 0 || (size_t)n >= sizeof tmp) {
        rp_printf(b, "%g", v);
        return;
    }
    /* "-0.0" reads oddly: a value that rounds to zero has no sign */
    bool zero = strspn(tmp, "0.") == (size_t)n;
    if (v < 0 && !zero)
        rp_puts(b, "-");
    const char *dot = strchr(tmp, '.');
    size_t ilen = dot ? (size_t)(dot - tmp) : (size_t)n;
    put_grouped(b, tmp, ilen);
    rp_puts(b, tmp + ilen);
}

void rp_format(rp_buf *b, const rp_cell *c, rp_unit unit, int decimals,
               rp_lang lang)
{
    char tmp[32];
    bool pct = unit != RP_PLAIN;
    double scale = unit == RP_SHARE ? 100.0 : 1.0;
    switch (c->kind) {
    case RP_NONE:
        rp_puts(b, "—");
        return;
    case RP_BOOL:
        rp_puts(b,
                lang == RP_ZH ? (c->i ? "是" : "否") : (c->i ? "yes" : "no"));
        return;
    case RP_TEXT:
        rp_puts(b, c->text);
        return;
    case RP_INT:
        if (pct) {
            put_float(b, (double)c->i * scale, 1);
            rp_puts(b, "%");
            return;
        }
        snprintf(tmp, sizeof tmp, "%" PRId64, c->i);
        if (tmp[0] == '-') {
            rp_puts(b, "-");
            put_grouped(b, tmp + 1, strlen(tmp + 1));
        } else {
            put_grouped(b, tmp, strlen(tmp));
        }
        return;
    case RP_FLOAT:
        if (!isfinite(c->f)) {
            rp_puts(b, isnan(c->f) ? "—" : c->f > 0 ? "∞" : "-∞");
            return;
        }
        put_float(b, c->f * scale, pct ? 1 : decimals);
        if (pct)
            rp_puts(b, "%");
        return;
    }
}

/*
 * Labels of the field names that the shipped aggregates emit
 * (docs/plugins/aggregate_*.md), the by fields they are grouped by, the
 * fields aggregate_topk keeps, and the metric names of the shipped
 * pipelines. Units go in the label, so cells hold bare numbers.
 */
static const struct {
    const char *field, *zh, *en;
} builtin_labels[] = {
    /* names of things: by fields and kept fields */
    {"district", "区域", "District"},
    {"street", "街道", "Street"},
    {"community", "社区", "Community"},
    {"platform", "平台", "Platform"},
    {"form", "从业类型", "Form of work"},
    {"station", "站点", "Station"},
    {"node", "节点类型", "Node"},
    {"type", "类型", "Type"},
    {"org_type", "组织类型", "Organisation type"},
    {"category", "类别", "Category"},
    {"level", "层级", "Level"},
    {"next_level", "上报层级", "Next level"},
    {"status", "状态", "Status"},
    {"membership", "党员身份", "Membership"},
    {"cohort", "年龄段", "Cohort"},
    {"rel", "组织关系", "Relationship"},
    {"origin", "流出地党组织", "Origin organisation"},
    {"role", "角色", "Role"},
    {"roles", "角色", "Roles"},
    {"year", "年份", "Year"},
    {"quarter", "季度", "Quarter"},
    {"month", "月份", "Month"},
    {"week", "周", "Week"},
    {"rank", "名次", "Rank"},
    {"name", "姓名", "Name"},
    {"id", "编号", "ID"},
    {"member_id", "人员编号", "Member ID"},
    {"org_id", "组织编号", "Organisation ID"},
    {"age", "年龄", "Age"},
    /* the other fields of the record schemas (docs/records.md) */
    {"parent_id", "上级组织编号", "Parent organisation ID"},
    {"established", "成立日期", "Established"},
    {"phone", "手机号", "Phone"},
    {"id_number", "身份证号", "ID number"},
    {"party", "是否党员", "Party member"},
    {"joined", "入党日期", "Joined"},
    {"raised", "提出时间", "Raised"},
    /* aggregate_coverage */
    {"stations", "站点数", "Stations"},
    {"stations_covered", "有党组织的站点数", "Stations covered"},
    {"coverage", "站点覆盖率", "Station coverage"},
    {"workers", "从业人员数", "Workers"},
    {"party_members", "党员数", "Party members"},
    {"mobile_party_members", "流动党员数", "Mobile party members"},
    {"density", "党员密度（每千人）", "Party members per 1,000 workers"},
    {"attached", "已联系组织人数", "Attached to an organisation"},
    {"attached_share", "联系组织比例", "Share attached"},
    /* aggregate_topk and member fields */
    {"points", "组织生活积分", "Activity points"},
    {"points_total", "积分合计", "Total points"},
    {"points_avg", "平均积分", "Average points"},
    {"active_days", "近30天活跃天数", "Active days (last 30)"},
    /* the shipped pipelines' groupby metrics, and common names */
    {"count", "数量", "Count"},
    {"members", "人数", "Members"},
    {"mobile_members", "流动党员数", "Mobile members"},
    {"orgs", "组织数", "Organisations"},
    {"organisations", "组织数", "Organisations"},
    {"covered", "已覆盖", "Covered"},
    {"covered_stations", "有党组织的站点数", "Stations covered"},
    {"coverage_pct", "站点覆盖率", "Station coverage"},
    {"density_per_1000", "每千人党员数", "Party members per 1,000 workers"},
    {"members_per_1000", "每千人党员数", "Party members per 1,000 workers"},
    {"projects", "项目数", "Projects"},
    {"budget", "预算（元）", "Budget (CNY)"},
    {"spend", "支出（元）", "Spend (CNY)"},
    {"beneficiaries", "受益人数", "Beneficiaries"},
    {"per_capita", "人均支出（元）", "Spend per beneficiary (CNY)"},
    {"demands", "需求数", "Demands"},
    {"resolved", "已解决", "Resolved"},
    {"open", "未解决", "Open"},
    {"overdue", "超期数", "Overdue"},
    {"resolution_hours", "解决时长（小时）", "Resolution (hours)"},
    {"median_hours", "解决时长中位数（小时）", "Median resolution (hours)"},
    {"median_resolution_hours", "解决时长中位数（小时）",
     "Median resolution (hours)"},
    {"resolved_share", "解决率", "Share resolved"},
    {"overdue_share", "超期率", "Share overdue"},
};

const char *rp_label(const rp_doc *doc, const rp_spec *spec, const char *field)
{
    for (size_t i = 0; spec && i < spec->nlabels; i++)
        if (strcmp(spec->label_keys[i], field) == 0)
            return spec->label_values[i];
    for (size_t i = 0; i < doc->nlabels; i++)
        if (strcmp(doc->label_keys[i], field) == 0)
            return doc->label_values[i];
    for (size_t i = 0; i < sizeof builtin_labels / sizeof builtin_labels[0];
         i++)
        if (strcmp(builtin_labels[i].field, field) == 0)
            return doc->lang == RP_ZH ? builtin_labels[i].zh
                                      : builtin_labels[i].en;
    return field;
}

/* --- fixed text ----------------------------------------------------------- */

typedef struct words {
    const char *html_lang, *title, *contents, *overview, *generated, *date,
        *pipeline, *inputs, *inputs_in, *list_sep, *dead_letters, *dead_card,
        *sections, *rows, *unknown, *no_data, *section_empty, *dead_none,
        *dead_count, *dead_file, *dead_nofile, *bad_note, *table, *figure,
        *footer, *beijing, *chart_desc;
} words;

static const words zh = {
    .html_lang = "zh-CN",
    .title = "新就业群体党建工作数据报告",
    .contents = "目录",
    .overview = "运行概况",
    .generated = "生成时间",
    .date = "生成日期",
    .pipeline = "流水线",
    .inputs = "数据来源",
    .inputs_in = "目录",
    .list_sep = "、",
    .dead_letters = "未入统计记录",
    .dead_card = "未入统计记录",
    .sections = "报告部分",
    .rows = "统计数据行",
    .unknown = "未知",
    .no_data = "没有数据：本次运行没有产生任何统计指标记录。"
               "请检查数据来源与流水线配置。",
    .section_empty = "此部分没有数据。",
    .dead_none = "无：全部记录均通过校验并进入统计。",
    .dead_count = "条记录因格式或内容问题未进入统计",
    .dead_file = "，逐条原因与来源位置见死信文件",
    .dead_nofile = "（已记入运行日志的死信输出）",
    .bad_note = "条记录不是统计指标（缺少 set 字段等），未列入本报告，"
                "已转入死信。",
    .table = "表",
    .figure = "图",
    .footer = "本报告由 gigflow 自动生成",
    .beijing = "北京时间",
    .chart_desc = "条形图",
};

static const words en = {
    .html_lang = "en",
    .title = "Party-building among new employment groups: data report",
    .contents = "Contents",
    .overview = "About this run",
    .generated = "Generated",
    .date = "Date",
    .pipeline = "Pipeline",
    .inputs = "Inputs",
    .inputs_in = "in",
    .list_sep = ", ",
    .dead_letters = "Rejected records",
    .dead_card = "Rejected records",
    .sections = "Sections",
    .rows = "Metric rows",
    .unknown = "unknown",
    .no_data = "No data: this run produced no metric records. "
               "Check the inputs and the pipeline.",
    .section_empty = "No data in this section.",
    .dead_none = "none: every record passed the checks and is counted.",
    .dead_count = "records were left out of the figures (bad format or "
                  "content)",
    .dead_file = "; each one, with its reason and source position, is in "
                 "the dead-letter file",
    .dead_nofile = " (written to the run's dead-letter output)",
    .bad_note = "records were not metric rows (no `set` field, ...); they "
                "are not in this report and went to the dead letters.",
    .table = "Table",
    .figure = "Figure",
    .footer = "Generated by gigflow",
    .beijing = "Beijing time",
    .chart_desc = "Bar chart",
};

static const char css[] =
    ":root{--ink:#1f1f1f;--muted:#6b6b6b;--accent:#b8322a;--rule:#dedede;"
    "--band:#f7f2f1}\n"
    "*{box-sizing:border-box}\n"
    "html{-webkit-text-size-adjust:100%}\n"
    "body{margin:0;background:#efefec;color:var(--ink);font-size:14px;"
    "line-height:1.65;font-family:\"Noto Sans CJK SC\",\"Source Han Sans SC\","
    "\"Source Han Sans CN\",\"PingFang SC\",\"Hiragino Sans GB\","
    "\"Microsoft YaHei\",\"WenQuanYi Micro Hei\",\"Noto Sans\","
    "\"Helvetica Neue\",Arial,sans-serif}\n"
    "main{max-width:940px;margin:24px auto;background:#fff;padding:44px 56px;"
    "box-shadow:0 1px 4px rgba(0,0,0,.12)}\n"
    ".masthead{border-top:6px solid var(--accent);padding-top:18px;"
    "margin-bottom:24px}\n"
    "h1{font-size:26px;line-height:1.35;margin:0 0 6px;font-weight:700}\n"
    ".subtitle{color:var(--muted);margin:0}\n"
    "h2{font-size:19px;margin:0 0 12px;padding-bottom:6px;"
    "border-bottom:1px solid var(--rule)}\n"
    "h2 .num{color:var(--accent);margin-right:.5em}\n"
    ".overview{display:grid;grid-template-columns:repeat(4,1fr);gap:12px;"
    "margin:0 0 20px;padding:0}\n"
    ".card{background:var(--band);border-left:4px solid var(--accent);"
    "padding:10px 14px;margin:0}\n"
    ".card dt{color:var(--muted);font-size:12px}\n"
    ".card dd{margin:2px 0 0;font-size:22px;font-weight:700;"
    "font-variant-numeric:tabular-nums}\n"
    ".card.warn{border-left-color:#d08a00}\n"
    ".card.warn dd{color:#a35f00}\n"
    ".runinfo{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;"
    "margin:0 0 24px;font-size:13px}\n"
    ".runinfo dt{color:var(--muted)}\n"
    ".runinfo dd{margin:0}\n"
    ".runinfo .where{color:var(--muted)}\n"
    ".path{font-family:\"DejaVu Sans Mono\",Menlo,Consolas,monospace;"
    "font-size:12px;overflow-wrap:anywhere}\n"
    ".toc{margin:0 0 28px}\n"
    ".toc h2{font-size:16px}\n"
    ".toc ol{margin:0;padding-left:1.6em;columns:2}\n"
    ".toc a{color:var(--ink);text-decoration:none}\n"
    ".section{margin:0 0 36px}\n"
    ".note{color:var(--muted);margin:-4px 0 12px}\n"
    ".notice{background:#fff7e6;border:1px solid #f0d19a;padding:10px 14px;"
    "margin:0 0 20px}\n"
    ".empty{color:var(--muted);font-style:normal;padding:14px;"
    "border:1px dashed var(--rule);text-align:center}\n"
    "figure{margin:0 0 16px}\n"
    "figcaption{font-size:13px;color:var(--muted);margin:2px 0 6px}\n"
    ".charts{display:grid;grid-template-columns:1fr;gap:8px}\n"
    ".chart{display:block;width:100%;height:auto}\n"
    ".table-wrap{overflow-x:auto;margin:0 0 8px}\n"
    "table{border-collapse:collapse;width:100%;font-size:13px;"
    "font-variant-numeric:tabular-nums}\n"
    "table.wide{font-size:12px}\n"
    "table.wide th,table.wide td{padding:5px 6px}\n"
    "caption{text-align:left;font-size:13px;color:var(--muted);"
    "padding:0 0 6px}\n"
    "th,td{padding:6px 10px;border-bottom:1px solid var(--rule);"
    "text-align:left;vertical-align:top}\n"
    /* headers may wrap (a long Chinese label takes two lines); what names a
       row and the figures never break inside */
    "thead th{background:var(--band);border-bottom:2px solid var(--accent);"
    "font-weight:700;vertical-align:bottom;line-height:1.35}\n"
    "thead th.num{white-space:normal}\n"
    "tbody th{font-weight:500;white-space:nowrap}\n"
    "td.short{white-space:nowrap}\n"
    "tbody tr:nth-child(even){background:#fbfbfa}\n"
    ".num{text-align:right;white-space:nowrap}\n"
    ".na{color:#aaa}\n"
    ".rank{width:3.5em;text-align:center;white-space:nowrap}\n"
    "footer{margin-top:32px;padding-top:10px;border-top:1px solid var(--rule);"
    "color:var(--muted);font-size:12px}\n"
    "@page{size:A4;margin:16mm 14mm}\n"
    "@media print{body{background:#fff;font-size:12px}"
    "table{font-size:11px}table.wide{font-size:10px}"
    ".table-wrap{overflow:visible}.keep{break-inside:avoid}"
    "figure{margin:0 0 8px}"
    "main{margin:0;padding:0;max-width:none;box-shadow:none}"
    ".section{break-before:page}"
    ".toc{break-after:avoid}"
    "h2{break-after:avoid}"
    "figure,tr{break-inside:avoid}"
    "thead{display:table-header-group}"
    ".card,thead th,tbody tr:nth-child(even){-webkit-print-color-adjust:exact;"
    "print-color-adjust:exact}}\n"
    "@media (max-width:700px){main{padding:20px}"
    ".overview{grid-template-columns:repeat(2,1fr)}.toc ol{columns:1}}\n";

/* --- sections ------------------------------------------------------------- */

static long col_index(const rp_set *set, const char *name)
{
    for (size_t i = 0; i < set->ncols; i++)
        if (strcmp(set->cols[i], name) == 0)
            return (long)i;
    return -1;
}

static const rp_cell none_cell = {.kind = RP_NONE};

static const rp_cell *cell_at(const rp_row *row, long col)
{
    return col >= 0 && (size_t)col < row->n ? &row->cells[col] : &none_cell;
}

static bool is_meta(const char *col)
{
    return strcmp(col, "kind") == 0 || strcmp(col, "set") == 0;
}

/* Columns whose values name the rows (the aggregate's `by` fields). */
static const char *const dimension_names[] = {
    "level", "year", "month", "quarter", "week", "rank", "id",
};

static bool is_dimension(const rp_set *set, size_t col)
{
    const char *name = set->cols[col];
    for (size_t i = 0; i < sizeof dimension_names / sizeof *dimension_names;
         i++)
        if (strcmp(name, dimension_names[i]) == 0 ||
            (ends_with(name, "_id") && strcmp(name, "id") != 0))
            return true;
    bool any = false;
    for (size_t r = 0; r < set->nrows; r++) {
        const rp_cell *c = cell_at(&set->rows[r], (long)col);
        if (c->kind == RP_TEXT)
            any = true;
        else if (c->kind != RP_NONE)
            return false;
    }
    return any;
}

/* Resolved view of one section: the columns to show, by and values. */
typedef struct layout {
    long *by; /* column indexes */
    size_t nby;
    long *values;
    size_t nvalues;
    long *cols;
    size_t ncols;
    size_t *order; /* row indexes after sort and top */
    size_t nrows;
    /* per column of the set: the enumeration its codes belong to, or NULL */
    const gf_domain_enum **enums;
} layout;

static void layout_free(layout *l)
{
    free(l->by);
    free(l->values);
    free(l->cols);
    free(l->order);
    free(l->enums);
}

/*
 * Codes shown to people: fields whose values are codes of an enumeration
 * of gf_domain (docs/records.md) read in zh as their Chinese labels
 * (platform eleme -> 饿了么). `category` and `status` name the
 * enumerations of two record kinds: a column takes the one that knows all
 * its values (the most of them, failing that).
 */
static const gf_domain_item membership_items[] = {
    {"mobile_party", "流动党员", NULL, NULL},
    {"local_party", "本地党员", NULL, NULL},
    {"non_party", "非党员", NULL, NULL},
};
static const gf_domain_item cohort_items[] = {
    {"youth", "青年（35岁及以下）", NULL, NULL},
    {"adult", "36岁及以上", NULL, NULL},
};
/* classify_domain's derived fields: not in gf_domain, labelled here */
static const gf_domain_enum membership_enum = {"membership", membership_items,
                                               3};
static const gf_domain_enum cohort_enum = {"cohort", cohort_items, 2};

static const struct {
    const char *field;
    const gf_domain_enum *e[2];
} value_enums[] = {
    {"platform", {&gf_domain_platform, NULL}},
    {"form", {&gf_domain_form, NULL}},
    {"type", {&gf_domain_org_type, NULL}},
    {"org_type", {&gf_domain_org_type, NULL}},
    {"node", {&gf_domain_node, NULL}},
    {"rel", {&gf_domain_rel, NULL}},
    {"role", {&gf_domain_role, NULL}},
    {"category", {&gf_domain_project_category, &gf_domain_demand_category}},
    {"project_category", {&gf_domain_project_category, NULL}},
    {"demand_category", {&gf_domain_demand_category, NULL}},
    {"status", {&gf_domain_project_status, &gf_domain_demand_status}},
    {"project_status", {&gf_domain_project_status, NULL}},
    {"demand_status", {&gf_domain_demand_status, NULL}},
    {"membership", {&membership_enum, NULL}},
    {"cohort", {&cohort_enum, NULL}},
};

static const gf_domain_enum *column_enum(const rp_set *set, size_t col)
{
    const gf_domain_enum *best = NULL;
    size_t best_hits = 0;
    for (size_t i = 0; i < sizeof value_enums / sizeof value_enums[0]; i++) {
        if (strcmp(value_enums[i].field, set->cols[col]) != 0)
            continue;
        for (size_t k = 0; k < 2 && value_enums[i].e[k]; k++) {
            size_t hits = 0, texts = 0;
            for (size_t r = 0; r < set->nrows; r++) {
                const rp_row *row = &set->rows[r];
                const rp_cell *c = col < row->n ? &row->cells[col] : NULL;
                if (!c || c->kind != RP_TEXT)
                    continue;
                texts++;
                hits += gf_domain_enum_find(value_enums[i].e[k], c->text,
                                            strlen(c->text)) != NULL;
            }
            if (hits == texts)
                return value_enums[i].e[k];
            if (hits > best_hits) {
                best = value_enums[i].e[k];
                best_hits = hits;
            }
        }
    }
    return best;
}

/* sort context: qsort_r is not portable, so a tiny insertion-free merge
   sort over indexes with an explicit context */
typedef struct sort_ctx {
    const rp_set *set;
    long col;
    bool desc;
} sort_ctx;

static int cmp_cells(const rp_cell *a, const rp_cell *b)
{
    double x, y;
    bool nx = rp_cell_number(a, &x), ny = rp_cell_number(b, &y);
    if (nx && ny)
        return x < y ? -1 : x > y ? 1 : 0;
    if (nx != ny)
        return nx ? -1 : 1; /* numbers before the rest */
    if (a->kind == RP_TEXT && b->kind == RP_TEXT)
        return strcmp(a->text, b->text);
    return (int)a->kind - (int)b->kind;
}

static int cmp_rows(const sort_ctx *sc, size_t a, size_t b)
{
    const rp_cell *x = cell_at(&sc->set->rows[a], sc->col);
    const rp_cell *y = cell_at(&sc->set->rows[b], sc->col);
    /* absent values go last either way */
    if ((x->kind == RP_NONE) != (y->kind == RP_NONE))
        return x->kind == RP_NONE ? 1 : -1;
    int c = cmp_cells(x, y);
    return sc->desc ? -c : c;
}

static void merge_sort(const sort_ctx *sc, size_t *v, size_t *tmp, size_t n)
{
    if (n < 2)
        return;
    size_t h = n / 2;
    merge_sort(sc, v, tmp, h);
    merge_sort(sc, v + h, tmp, n - h);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = cmp_rows(sc, v[j], v[i]) < 0 ? v[j++] : v[i++];
    while (i < h)
        tmp[k++] = v[i++];
    while (j < n)
        tmp[k++] = v[j++];
    memcpy(v, tmp, n * sizeof *v);
}

static bool make_layout(const rp_set *set, layout *l)
{
    const rp_spec *sp = &set->spec;
    size_t n = set->ncols + sp->nby + sp->nvalues + sp->ncolumns + 1;
    *l = (layout){0};
    l->by = calloc(n, sizeof *l->by);
    l->values = calloc(n, sizeof *l->values);
    l->cols = calloc(n, sizeof *l->cols);
    l->order = calloc(set->nrows + 1, sizeof *l->order);
    l->enums = calloc(set->ncols + 1, sizeof *l->enums);
    size_t *tmp = calloc(set->nrows + 1, sizeof *tmp);
    if (!l->by || !l->values || !l->cols || !l->order || !l->enums || !tmp) {
        free(tmp);
        layout_free(l);
        return false;
    }
    for (size_t c = 0; c < set->ncols; c++)
        l->enums[c] = column_enum(set, c);

    /* by fields: named, or the leading dimension-like columns */
    if (sp->nby) {
        for (size_t i = 0; i < sp->nby; i++) {
            long c = col_index(set, sp->by[i]);
            if (c >= 0)
                l->by[l->nby++] = c;
        }
    } else {
        for (size_t c = 0; c < set->ncols; c++) {
            if (is_meta(set->cols[c]))
                continue;
            if (!is_dimension(set, c))
                break;
            l->by[l->nby++] = (long)c;
        }
    }
    /* table columns: named, or every field but kind and set */
    if (sp->ncolumns) {
        for (size_t i = 0; i < sp->ncolumns; i++) {
            long c = col_index(set, sp->columns[i]);
            if (c >= 0)
                l->cols[l->ncols++] = c;
        }
    } else {
        for (size_t c = 0; c < set->ncols; c++)
            if (!is_meta(set->cols[c]))
                l->cols[l->ncols++] = (long)c;
    }
    /* charted values: named, or the first numeric column not a by field */
    if (sp->nvalues) {
        for (size_t i = 0; i < sp->nvalues; i++) {
            long c = col_index(set, sp->values[i]);
            if (c >= 0)
                l->values[l->nvalues++] = c;
        }
    } else {
        for (size_t c = 0; c < set->ncols && !l->nvalues; c++) {
            bool skip = is_meta(set->cols[c]);
            for (size_t k = 0; k < l->nby; k++)
                skip = skip || l->by[k] == (long)c;
            double d;
            for (size_t r = 0; r < set->nrows && !skip; r++)
                if (rp_cell_number(cell_at(&set->rows[r], (long)c), &d)) {
                    l->values[l->nvalues++] = (long)c;
                    break;
                }
        }
    }
    /* rows: arrival order (the aggregate's order), groups without a
       by-value ("not given") last; or sorted; then top N */
    size_t k = 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t r = 0; r < set->nrows; r++) {
            bool nil = false;
            for (size_t b = 0; b < l->nby && !nil; b++)
                nil = cell_at(&set->rows[r], l->by[b])->kind == RP_NONE;
            if (nil == (pass == 1))
                l->order[k++] = r;
        }
    l->nrows = set->nrows;
    if (sp->sort && *sp->sort) {
        bool desc = sp->sort[0] == '-';
        long c = col_index(set, sp->sort + (desc || sp->sort[0] == '+'));
        if (c >= 0) {
            sort_ctx sc = {set, c, desc};
            merge_sort(&sc, l->order, tmp, l->nrows);
        }
    }
    if (sp->top > 0 && (uint64_t)sp->top < l->nrows)
        l->nrows = (size_t)sp->top;
    free(tmp);
    return true;
}

static bool is_by(const layout *l, long col)
{
    for (size_t k = 0; k < l->nby; k++)
        if (l->by[k] == col)
            return true;
    return false;
}

/* Names of the five levels of the feedback chain (DESIGN.md, "The field"). */
static const char *const level_names[2][5] = {
    {"从业人员", "党员", "支部", "企业党组织/街道社区",
     "行业综合党委/流动党员党委"},
    {"worker", "party member", "branch", "enterprise org / street",
     "industry / mobile-member committee"},
};

/*
 * A cell as text. The by fields name things (a year, a level, an id), so
 * their numbers are written plainly: 2024, not 2,024; a `level` 1-5 also
 * gets its name in the feedback chain.
 */
static void format_cell(rp_buf *b, const rp_doc *doc, const rp_set *set,
                        const layout *l, long col, const rp_cell *c)
{
    if (l && is_by(l, col) && c->kind == RP_INT) {
        rp_printf(b, "%lld", (long long)c->i);
        if (strcmp(set->cols[col], "level") == 0 && c->i >= 1 && c->i <= 5)
            rp_printf(b, " %s", level_names[doc->lang][c->i - 1]);
        return;
    }
    if (l && is_by(l, col) && c->kind == RP_FLOAT) {
        rp_printf(b, "%.15g", c->f);
        return;
    }
    if (l && is_by(l, col) && c->kind == RP_NONE) {
        /* a group without the value (orgs without a platform) */
        rp_puts(b, doc->lang == RP_ZH ? "（未填写）" : "(none)");
        return;
    }
    if (l && l->enums[col] && c->kind == RP_TEXT) {
        const gf_domain_item *it =
            gf_domain_enum_find(l->enums[col], c->text, strlen(c->text));
        if (it) {
            rp_puts(b, doc->lang == RP_ZH ? it->zh : it->code);
            return;
        }
    }
    rp_format(b, c, rp_unit_of(&set->spec, set->cols[col]), set->spec.decimals,
              doc->lang);
}

/* The text that names a row: its by values joined with " · ". */
static void row_label(rp_buf *b, const rp_doc *doc, const rp_set *set,
                      const layout *l, const rp_row *row, size_t rownum)
{
    if (l->nby == 0) {
        rp_printf(b, "%zu", rownum + 1);
        return;
    }
    for (size_t k = 0; k < l->nby; k++) {
        if (k)
            rp_puts(b, " · ");
        format_cell(b, doc, set, l, l->by[k], cell_at(row, l->by[k]));
    }
}

static void render_charts(rp_buf *b, const rp_doc *doc, const words *w,
                          const rp_set *set, const layout *l, size_t secno)
{
    if (l->nvalues == 0 || l->nrows == 0 ||
        (set->spec.chart && strcmp(set->spec.chart, "none") == 0))
        return;
    bool columns = set->spec.chart && strcmp(set->spec.chart, "column") == 0;
    rp_bar *bars = calloc(l->nrows, sizeof *bars);
    rp_buf *texts = calloc(2 * l->nrows, sizeof *texts);
    if (!bars || !texts) {
        b->failed = true;
        goto done;
    }
    rp_puts(b, "<div class=\"charts\">\n");
    for (size_t v = 0; v < l->nvalues; v++) {
        long col = l->values[v];
        rp_unit unit = rp_unit_of(&set->spec, set->cols[col]);
        for (size_t i = 0; i < l->nrows; i++) {
            const rp_row *row = &set->rows[l->order[i]];
            rp_buf *lt = &texts[2 * i], *vt = &texts[2 * i + 1];
            lt->len = vt->len = 0;
            row_label(lt, doc, set, l, row, i);
            format_cell(vt, doc, set, l, col, cell_at(row, col));
            bars[i].label = lt->data ? lt->data : "";
            bars[i].value_text = vt->data ? vt->data : "";
            bars[i].has_value =
                rp_cell_number(cell_at(row, col), &bars[i].value);
        }
        rp_buf title = {0}, desc = {0}, id = {0};
        const char *vlabel = rp_label(doc, &set->spec, set->cols[col]);
        /* zh "各类别支出（元）", en "Spend (CNY) by category" */
        if (l->nby && doc->lang == RP_ZH) {
            rp_puts(&title, "各");
            for (size_t k = 0; k < l->nby; k++) {
                if (k)
                    rp_puts(&title, "、");
                rp_puts(&title, rp_label(doc, &set->spec, set->cols[l->by[k]]));
            }
        }
        rp_puts(&title, vlabel);
        if (l->nby && doc->lang == RP_EN) {
            rp_puts(&title, " by ");
            for (size_t k = 0; k < l->nby; k++) {
                if (k)
                    rp_puts(&title, ", ");
                /* "by district", but "by ID" */
                const char *bl = rp_label(doc, &set->spec, set->cols[l->by[k]]);
                if (bl[0] >= 'A' && bl[0] <= 'Z' && bl[1] >= 'a' &&
                    bl[1] <= 'z') {
                    char first = (char)(bl[0] - 'A' + 'a');
                    rp_putn(&title, &first, 1);
                    bl++;
                }
                rp_puts(&title, bl);
            }
        }
        /* the description names the largest bar, for screen readers */
        size_t best = l->nrows;
        for (size_t i = 0; i < l->nrows; i++)
            if (bars[i].has_value &&
                (best == l->nrows || bars[i].value > bars[best].value))
                best = i;
        rp_printf(&desc, "%s%s%s, %zu", w->chart_desc,
                  doc->lang == RP_ZH ? "：" : ": ",
                  title.data ? title.data : "", l->nrows);
        if (best < l->nrows)
            rp_printf(&desc,
                      doc->lang == RP_ZH ? " 项；最高：%s（%s）"
                                         : " bars; highest: %s (%s)",
                      bars[best].label, bars[best].value_text);
        rp_printf(&id, "c%zu-%zu", secno, v + 1);
        rp_chart chart = {
            .id = id.data ? id.data : "c",
            .title = title.data ? title.data : "",
            .desc = desc.data ? desc.data : "",
            .columns = columns,
            .unit = unit,
            .lang = doc->lang,
            .bars = bars,
            .n = l->nrows,
        };
        rp_printf(b, "<figure>\n<figcaption>%s %zu.%zu　", w->figure, secno,
                  v + 1);
        rp_escape_str(b, chart.title);
        rp_puts(b, "</figcaption>\n");
        rp_svg_chart(b, &chart);
        rp_puts(b, "</figure>\n");
        rp_buf_free(&title);
        rp_buf_free(&desc);
        rp_buf_free(&id);
    }
    rp_puts(b, "</div>\n");
done:
    if (texts)
        for (size_t i = 0; i < 2 * l->nrows; i++)
            rp_buf_free(&texts[i]);
    free(texts);
    free(bars);
}

/* Tables with more columns than this get the smaller type of .wide. */
#define WIDE_TABLE_COLUMNS 7
/* Tables of up to this many rows are not split across printed pages. */
#define KEEP_TABLE_ROWS 25
/* Text cells up to this many characters never wrap (names, stations). */
#define SHORT_TEXT_CHARS 16

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

static bool col_is_numeric(const rp_set *set, long col)
{
    bool any = false;
    for (size_t r = 0; r < set->nrows; r++) {
        const rp_cell *c = cell_at(&set->rows[r], col);
        if (c->kind == RP_INT || c->kind == RP_FLOAT)
            any = true;
        else if (c->kind != RP_NONE)
            return false;
    }
    return any;
}

static void render_table(rp_buf *b, const rp_doc *doc, const words *w,
                         const rp_set *set, const layout *l, size_t secno,
                         const char *title)
{
    bool *numeric = calloc(l->ncols + 1, sizeof *numeric);
    if (!numeric) {
        b->failed = true;
        return;
    }
    /* a sorted table (a leaderboard) gets its ranks, ties sharing one */
    long sort_col = -1;
    if (set->spec.sort && *set->spec.sort && col_index(set, "rank") < 0)
        sort_col = col_index(set, set->spec.sort + (set->spec.sort[0] == '-' ||
                                                    set->spec.sort[0] == '+'));
    /* many columns: a smaller type, so that the table fits an A4 page */
    bool wide = l->ncols + (sort_col >= 0) > WIDE_TABLE_COLUMNS;
    /* a short table is printed on one page, not split after a row */
    rp_printf(b, "<div class=\"table-wrap%s\">\n<table%s>\n<caption>%s %zu　",
              l->nrows <= KEEP_TABLE_ROWS ? " keep" : "",
              wide ? " class=\"wide\"" : "", w->table, secno);
    rp_escape_str(b, title);
    rp_puts(b, "</caption>\n<thead><tr>");
    if (sort_col >= 0)
        rp_printf(b, "<th scope=\"col\" class=\"rank\">%s</th>",
                  rp_label(doc, &set->spec, "rank"));
    for (size_t k = 0; k < l->ncols; k++) {
        numeric[k] = !is_by(l, l->cols[k]) && col_is_numeric(set, l->cols[k]);
        rp_printf(b, "<th scope=\"col\"%s>",
                  strcmp(set->cols[l->cols[k]], "rank") == 0 ? " class=\"rank\""
                  : numeric[k]                               ? " class=\"num\""
                                                             : "");
        rp_escape_str(b, rp_label(doc, &set->spec, set->cols[l->cols[k]]));
        rp_puts(b, "</th>");
    }
    rp_puts(b, "</tr></thead>\n<tbody>\n");
    rp_buf cell = {0};
    size_t rank = 0;
    for (size_t i = 0; i < l->nrows; i++) {
        const rp_row *row = &set->rows[l->order[i]];
        rp_puts(b, "<tr>");
        if (sort_col >= 0) {
            if (i == 0 ||
                cmp_cells(cell_at(row, sort_col),
                          cell_at(&set->rows[l->order[i - 1]], sort_col)) != 0)
                rank = i + 1;
            rp_printf(b, "<td class=\"rank\">%zu</td>", rank);
        }
        for (size_t k = 0; k < l->ncols; k++) {
            long col = l->cols[k];
            const rp_cell *c = cell_at(row, col);
            /* the first column names the row, for screen readers */
            const char *tag = k == 0 ? "th" : "td";
            bool label = is_by(l, col);
            cell.len = 0;
            format_cell(&cell, doc, set, l, col, c);
            const char *cls =
                strcmp(set->cols[col], "rank") == 0 ? "rank"
                : c->kind == RP_NONE ? (numeric[k] ? "num na" : "na")
                : !label &&
                        (numeric[k] || c->kind == RP_INT || c->kind == RP_FLOAT)
                    ? "num"
                : k > 0 && cell.data &&
                        utf8_chars(cell.data) <= SHORT_TEXT_CHARS
                    ? "short"
                    : NULL;
            rp_printf(b, "<%s%s%s%s%s>", tag, k == 0 ? " scope=\"row\"" : "",
                      cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : "");
            if (cell.data)
                rp_escape(b, cell.data, cell.len);
            rp_printf(b, "</%s>", tag);
        }
        rp_puts(b, "</tr>\n");
    }
    rp_buf_free(&cell);
    rp_puts(b, "</tbody>\n</table>\n</div>\n");
    free(numeric);
}

static const char *set_title(const rp_set *set)
{
    return set->spec.title && *set->spec.title ? set->spec.title : set->name;
}

static void render_section(rp_buf *b, const rp_doc *doc, const words *w,
                           const rp_set *set, size_t secno)
{
    const char *title = set_title(set);
    rp_printf(b,
              "<section class=\"section\" id=\"s%zu\" "
              "aria-labelledby=\"s%zu-h\">\n"
              "<h2 id=\"s%zu-h\"><span class=\"num\">%zu</span>",
              secno, secno, secno, secno);
    rp_escape_str(b, title);
    rp_puts(b, "</h2>\n");
    if (set->spec.note && *set->spec.note) {
        rp_puts(b, "<p class=\"note\">");
        rp_escape_str(b, set->spec.note);
        rp_puts(b, "</p>\n");
    }
    if (set->nrows == 0) {
        rp_printf(b, "<p class=\"empty\">%s</p>\n</section>\n",
                  w->section_empty);
        return;
    }
    layout l;
    if (!make_layout(set, &l)) {
        b->failed = true;
        return;
    }
    render_charts(b, doc, w, set, &l, secno);
    render_table(b, doc, w, set, &l, secno, title);
    layout_free(&l);
    rp_puts(b, "</section>\n");
}

/* --- the page ------------------------------------------------------------- */

enum { T_DATE, T_MINUTE, T_SECOND_UTC, T_MINUTE_UTC };

/* A UTC time as text, in one of the fixed forms above. */
static void put_time(rp_buf *b, int64_t t, int form)
{
    time_t tt = (time_t)t;
    struct tm tm;
    char s[64];
    size_t n = 0;
    if (!gmtime_r(&tt, &tm))
        return;
    switch (form) {
    case T_DATE:
        n = strftime(s, sizeof s, "%Y-%m-%d", &tm);
        break;
    case T_MINUTE:
        n = strftime(s, sizeof s, "%Y-%m-%d %H:%M", &tm);
        break;
    case T_SECOND_UTC:
        n = strftime(s, sizeof s, "%Y-%m-%d %H:%M:%S UTC", &tm);
        break;
    default:
        n = strftime(s, sizeof s, "%Y-%m-%d %H:%M UTC", &tm);
        break;
    }
    if (n > 0)
        rp_puts(b, s);
}

/*
 * The inputs ("a/x.csv, a/y.csv"): when they share a directory, their file
 * names and the directory once, which reads better than four long paths.
 */
static void put_inputs(rp_buf *b, const char *inputs, const words *w)
{
    size_t n = 1, dir = 0;
    for (const char *p = inputs; (p = strstr(p, ", ")); p += 2)
        n++;
    /* the directory of the first path, if every other one is in it too */
    size_t first = strcspn(inputs, ",");
    for (size_t i = first; i > 0 && !dir; i--)
        if (inputs[i - 1] == '/')
            dir = i;
    for (const char *p = inputs; n > 1 && dir && (p = strstr(p, ", "));) {
        p += 2;
        if (strncmp(p, inputs, dir) != 0 ||
            memchr(p + dir, '/', strcspn(p + dir, ",")))
            dir = 0;
    }
    if (n < 2)
        dir = 0;
    if (dir == 0) {
        rp_escape_str(b, inputs);
        return;
    }
    const char *p = inputs;
    for (size_t i = 0; i < n; i++) {
        const char *e = strstr(p, ", ");
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (i)
            rp_puts(b, w->list_sep);
        rp_escape(b, p + dir, len - dir);
        p = e ? e + 2 : p + len;
    }
    rp_printf(b, "<span class=\"where\">%s%s ", w == &zh ? "（" : " (",
              w->inputs_in);
    rp_escape(b, inputs, dir);
    rp_puts(b, w == &zh ? "）</span>" : ")</span>");
}

static void render_run_info(rp_buf *b, const rp_doc *doc, const words *w)
{
    size_t rows = 0;
    for (size_t i = 0; i < doc->nsets; i++)
        rows += doc->sets[i].nrows;
    /* dates are read in Beijing time in zh: a run at 16:30 UTC is
       the next morning's report there */
    int64_t local = doc->generated + (doc->lang == RP_ZH ? 8 * 3600 : 0);

    rp_printf(b, "<section aria-label=\"%s\">\n<dl class=\"overview\">\n",
              w->overview);
    rp_printf(b, "<div class=\"card\"><dt>%s</dt><dd>%zu</dd></div>\n",
              w->sections, doc->nsets);
    rp_cell c = {.kind = RP_INT, .i = (int64_t)rows};
    rp_printf(b, "<div class=\"card\"><dt>%s</dt><dd>", w->rows);
    rp_format(b, &c, RP_PLAIN, 0, doc->lang);
    rp_puts(b, "</dd></div>\n");
    c.i = (int64_t)doc->rejects;
    rp_printf(b, "<div class=\"card%s\"><dt>%s</dt><dd>",
              doc->rejects ? " warn" : "", w->dead_card);
    rp_format(b, &c, RP_PLAIN, 0, doc->lang);
    rp_puts(b, "</dd></div>\n");
    rp_printf(b, "<div class=\"card\"><dt>%s</dt><dd>", w->date);
    if (doc->generated >= 0)
        put_time(b, local, T_DATE);
    else
        rp_puts(b, w->unknown);
    rp_puts(b, "</dd></div>\n</dl>\n<dl class=\"runinfo\">\n");

    rp_printf(b, "<dt>%s</dt><dd>", w->generated);
    if (doc->generated >= 0 && doc->lang == RP_ZH) {
        put_time(b, local, T_MINUTE);
        rp_printf(b, "（%s）；", w->beijing);
        put_time(b, doc->generated, T_SECOND_UTC);
    } else if (doc->generated >= 0) {
        put_time(b, doc->generated, T_SECOND_UTC);
    } else {
        rp_puts(b, w->unknown);
    }
    rp_printf(b, "</dd>\n<dt>%s</dt><dd>", w->pipeline);
    rp_escape_str(b, doc->pipeline ? doc->pipeline : w->unknown);
    rp_printf(b, "</dd>\n<dt>%s</dt><dd>", w->inputs);
    if (doc->inputs && *doc->inputs)
        put_inputs(b, doc->inputs, w);
    else
        rp_puts(b, w->unknown);
    rp_printf(b, "</dd>\n<dt>%s</dt><dd>", w->dead_letters);
    if (doc->rejects == 0) {
        rp_puts(b, w->dead_none);
    } else {
        rp_format(b, &c, RP_PLAIN, 0, doc->lang);
        rp_printf(b, " %s", w->dead_count);
        if (doc->dead_letters && *doc->dead_letters &&
            strcmp(doc->dead_letters, "-") != 0) {
            rp_printf(b, "%s <span class=\"path\">", w->dead_file);
            rp_escape_str(b, doc->dead_letters);
            rp_puts(b, "</span>");
        } else {
            rp_puts(b, w->dead_nofile);
        }
        rp_puts(b, doc->lang == RP_ZH ? "。" : ".");
    }
    rp_puts(b, "</dd>\n</dl>\n</section>\n");
    if (doc->bad_records) {
        c.i = (int64_t)doc->bad_records;
        rp_puts(b, "<p class=\"notice\" role=\"note\">");
        rp_format(b, &c, RP_PLAIN, 0, doc->lang);
        rp_printf(b, " %s</p>\n", w->bad_note);
    }
}

void rp_render(rp_buf *b, const rp_doc *doc)
{
    const words *w = doc->lang == RP_EN ? &en : &zh;
    const char *title = doc->title && *doc->title ? doc->title : w->title;

    rp_printf(b,
              "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n"
              "<meta charset=\"utf-8\">\n"
              "<meta name=\"viewport\" content=\"width=device-width, "
              "initial-scale=1\">\n"
              "<meta name=\"generator\" content=\"gigflow export_report ",
              w->html_lang);
    rp_escape_str(b, doc->version);
    rp_puts(b, "\">\n<title>");
    rp_escape_str(b, title);
    rp_printf(b, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<main>\n",
              css);

    rp_puts(b, "<header class=\"masthead\">\n<h1>");
    rp_escape_str(b, title);
    rp_puts(b, "</h1>\n<p class=\"subtitle\">");
    if (doc->generated >= 0 && doc->lang == RP_ZH) {
        rp_printf(b, "%s ", w->generated);
        put_time(b, doc->generated + 8 * 3600, T_MINUTE);
        rp_printf(b, "（%s）", w->beijing);
    } else if (doc->generated >= 0) {
        rp_printf(b, "%s ", w->generated);
        put_time(b, doc->generated, T_MINUTE_UTC);
    }
    rp_puts(b, "</p>\n</header>\n");

    render_run_info(b, doc, w);

    if (doc->nsets == 0) {
        rp_printf(b,
                  "<section class=\"section\" id=\"no-data\">\n"
                  "<p class=\"empty\">%s</p>\n</section>\n",
                  w->no_data);
    } else {
        rp_printf(b,
                  "<nav class=\"toc\" aria-labelledby=\"toc-h\">\n"
                  "<h2 id=\"toc-h\">%s</h2>\n<ol>\n",
                  w->contents);
        for (size_t i = 0; i < doc->nsets; i++) {
            rp_printf(b, "<li><a href=\"#s%zu\">", i + 1);
            rp_escape_str(b, set_title(&doc->sets[i]));
            rp_puts(b, "</a></li>\n");
        }
        rp_puts(b, "</ol>\n</nav>\n");
        for (size_t i = 0; i < doc->nsets; i++)
            render_section(b, doc, w, &doc->sets[i], i + 1);
    }

    rp_printf(b, "<footer>%s", w->footer);
    if (doc->version && *doc->version) {
        rp_puts(b, " (export_report ");
        rp_escape_str(b, doc->version);
        rp_puts(b, ")");
    }
    rp_puts(b, "</footer>\n</main>\n</body>\n</html>\n");
}
