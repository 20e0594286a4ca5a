/*
 * report_format.c - how export_report shows a cell: numbers with
 * thousands separators and a fixed number of decimals, percentages and
 * shares (the unit comes from the section's pct=/share= or from the
 * field's name), and the display labels of fields (the section's labels=,
 * the `labels` option, then the built-in Chinese/English table of the
 * shipped aggregates' fields).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

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

bool rp_ends_with(const char *s, const char *suffix)
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
    if (rp_ends_with(field, "_pct") || rp_ends_with(field, "_percent"))
        return RP_PCT;
    if (strcmp(field, "coverage") == 0 || rp_ends_with(field, "_share") ||
        rp_ends_with(field, "_rate"))
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
