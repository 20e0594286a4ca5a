/*
 * gf_domain - the field's vocabulary: enumerations with their Chinese
 * labels, the platform -> form mapping, checks of phone numbers, ID numbers
 * and dates, and the schema of each record kind (see gf_domain.h).
 *
 * The tables below are the single source of docs/records.md: when a value
 * or a field changes here, change the reference there in the same commit.
 * Codes are stable ASCII identifiers that aggregates group by and exports
 * print; the Chinese labels are what office software writes and what
 * classify_schema turns into codes.
 */
#include "gf_domain.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define ENUM(var, label, items)                                                \
    const gf_domain_enum var = {label, items, COUNT(items)}

/* ---- enumerations ------------------------------------------------------ */

static const gf_domain_item org_types[] = {
    {"industry_committee", "行业综合党委", "行业党委|新就业群体行业党委", NULL},
    {"mobile_committee", "流动党员党委", "流动党员党总支|流动党委", NULL},
    {"enterprise", "企业党组织", "企业党委|企业党总支|平台企业党委", NULL},
    {"branch", "支部", "党支部|站点党支部", NULL},
    {"joint_branch", "联合支部", "联合党支部", NULL},
    {"union", "工会", "工会组织|工会小组|快递工会|骑手工会", NULL},
    {"youth_center", "青年之家", "青年中心|共青团|团组织|团支部", NULL},
    {"women_org", "妇联", "妇女组织|妇女之家|妇联组织", NULL},
};
ENUM(gf_domain_org_type, "org type", org_types);

static const gf_domain_item nodes[] = {
    {"platform_hq", "平台总部", "总部", NULL},
    {"branch_office", "分公司", "区域分公司|城市分公司|分部", NULL},
    {"sorting_center", "分拣中心", "分拨中心|转运中心", NULL},
    {"warehouse", "仓库", "前置仓|仓储中心|仓", NULL},
    {"outlet", "网点", "营业网点|快递网点|门店", NULL},
    {"station", "站点", "配送站|配送站点|骑手站点", NULL},
    {"community", "社区服务站", "社区|社区驿站|社区服务点|驿站", NULL},
};
ENUM(gf_domain_node, "node", nodes);

static const gf_domain_item forms[] = {
    {"food_delivery", "外卖", "外卖配送|外卖骑手|外卖员|骑手", NULL},
    {"express", "快递", "快递员|快递小哥|快递物流", NULL},
    {"ride_hailing", "网约车", "网约车司机|网约车驾驶员", NULL},
    {"grocery", "生鲜配送", "即时零售|生鲜|买菜", NULL},
    {"housekeeping", "家政", "家政服务", NULL},
    {"freight", "货运", "同城货运|货运司机|货车司机", NULL},
    {"other", "其他", "其它", NULL},
};
ENUM(gf_domain_form, "form", forms);

static const gf_domain_item platforms[] = {
    {"meituan", "美团", "美团外卖", "food_delivery"},
    {"eleme", "饿了么", "饿了吗|饿了么外卖", "food_delivery"},
    {"dingdong", "叮咚买菜", "叮咚", "grocery"},
    {"hema", "盒马", "盒马鲜生", "grocery"},
    {"sf", "顺丰", "顺丰速运|顺丰快递", "express"},
    {"yunda", "韵达", "韵达快递|韵达速递", "express"},
    {"sto", "申通", "申通快递", "express"},
    {"zto", "中通", "中通快递", "express"},
    {"yto", "圆通", "圆通速递|圆通快递", "express"},
    {"jd", "京东", "京东物流|京东快递", "express"},
    {"jitu", "极兔", "极兔速递", "express"},
    {"ems", "中国邮政", "邮政|邮政EMS", "express"},
    {"didi", "滴滴", "滴滴出行", "ride_hailing"},
    {"caocao", "曹操出行", "曹操", "ride_hailing"},
    {"huolala", "货拉拉", NULL, "freight"},
    {"daojia", "58到家", "到家", "housekeeping"},
    {"other", "其他", "其它", "other"},
};
ENUM(gf_domain_platform, "platform", platforms);

static const gf_domain_item rels[] = {
    {"local", "本地", "本地党员|组织关系在本地|属地", NULL},
    {"mobile", "流动", "流动党员|组织关系在外地|外地", NULL},
};
ENUM(gf_domain_rel, "rel", rels);

static const gf_domain_item roles[] = {
    {"liaison", "联络员", "党建联络员|联络人", NULL},
    {"pioneer_post", "先锋岗", "党员先锋岗|先锋", NULL},
    {"volunteer", "志愿者", "志愿服务", NULL},
    {"instructor", "党建指导员", "指导员", NULL},
    {"grid_member", "网格员", "兼职网格员", NULL},
    {"secretary", "书记", "支部书记|党支部书记", NULL},
    {"committee", "委员", "支委|支部委员", NULL},
    {"safety_officer", "安全员", "安全监督员", NULL},
};
ENUM(gf_domain_role, "role", roles);

static const gf_domain_item project_categories[] = {
    {"insurance", "保险", "职业伤害保障|意外险|保险保障", NULL},
    {"legal_aid", "法律援助", "法律|法律服务|维权", NULL},
    {"safety_training", "安全培训", "交通安全培训|安全教育", NULL},
    {"education", "教育", "学历教育|学历提升", NULL},
    {"skills", "技能培训", "技能|职业技能培训", NULL},
    {"title_review", "职称评审", "职称|职称评定", NULL},
    {"health", "健康", "健康体检|体检|医疗", NULL},
    {"other", "其他", "其它", NULL},
};
ENUM(gf_domain_project_category, "project category", project_categories);

static const gf_domain_item project_statuses[] = {
    {"planned", "计划中", "计划|未开始|筹备中", NULL},
    {"active", "进行中", "实施中|执行中", NULL},
    {"completed", "已完成", "完成|已结项|结项", NULL},
    {"cancelled", "已取消", "取消|终止|已终止", NULL},
};
ENUM(gf_domain_project_status, "project status", project_statuses);

static const gf_domain_item demand_categories[] = {
    {"pay", "薪酬待遇", "薪酬|工资|收入", NULL},
    {"social_insurance", "社会保险", "社保|保险|职业伤害保障", NULL},
    {"safety", "交通安全", "安全", NULL},
    {"rest", "休息驿站", "驿站|暖心驿站|休息", NULL},
    {"access", "通行停车", "进小区难|通行|停车", NULL},
    {"housing", "住房", "住宿", NULL},
    {"children", "子女教育", "子女入学|入学", NULL},
    {"legal", "法律维权", "法律|维权|劳动纠纷", NULL},
    {"health", "健康", "医疗|体检", NULL},
    {"platform_rules", "平台规则", "算法|考核|派单|罚款", NULL},
    {"skills", "技能提升", "培训|学历", NULL},
    {"other", "其他", "其它", NULL},
};
ENUM(gf_domain_demand_category, "demand category", demand_categories);

static const gf_domain_item demand_levels[] = {
    {"1", "职工", "个人|劳动者|一级", NULL},
    {"2", "党员", "二级", NULL},
    {"3", "支部", "党支部|联合支部|三级", NULL},
    {"4", "企业党组织", "街道社区党组织|街道党工委|社区党委|街道|社区|四级",
     NULL},
    {"5", "行业综合党委", "流动党员党委|行业党委|五级", NULL},
};
ENUM(gf_domain_demand_level, "demand level", demand_levels);

static const gf_domain_item demand_statuses[] = {
    {"open", "待处理", "未处理|未解决|待办|新提交", NULL},
    {"in_progress", "处理中", "办理中|跟进中", NULL},
    {"resolved", "已解决", "已办结|办结|解决", NULL},
    {"closed", "已关闭", "关闭|不予受理|撤回", NULL},
};
ENUM(gf_domain_demand_status, "demand status", demand_statuses);

/* ---- small string helpers ---------------------------------------------- */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
           c == '\v';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static void trim(const char **s, size_t *len)
{
    while (*len > 0 && is_space(**s)) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && is_space((*s)[*len - 1]))
        (*len)--;
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* [s, s+len) equals NUL-terminated t, ASCII case-insensitively. */
static bool eq_nocase(const char *s, size_t len, const char *t)
{
    size_t i = 0;
    for (; i < len; i++)
        if (t[i] == '\0' || lower(s[i]) != lower(t[i]))
            return false;
    return t[i] == '\0';
}

static bool eq_exact(const char *s, size_t len, const char *t, size_t tlen)
{
    return len == tlen && memcmp(s, t, len) == 0;
}

/* [s, s+len) is one of the '|'-separated words of `words` (NULL: none). */
static bool in_words(const char *s, size_t len, const char *words)
{
    if (words == NULL)
        return false;
    for (const char *w = words;;) {
        const char *bar = strchr(w, '|');
        size_t wlen = bar ? (size_t)(bar - w) : strlen(w);
        if (eq_exact(s, len, w, wlen))
            return true;
        if (bar == NULL)
            return false;
        w = bar + 1;
    }
}

/* ---- enumerations: lookup ---------------------------------------------- */

const gf_domain_item *gf_domain_enum_find(const gf_domain_enum *e,
                                          const char *s, size_t len)
{
    if (e == NULL || s == NULL)
        return NULL;
    trim(&s, &len);
    if (len == 0)
        return NULL;
    for (size_t i = 0; i < e->n; i++)
        if (eq_nocase(s, len, e->items[i].code))
            return &e->items[i];
    for (size_t i = 0; i < e->n; i++) {
        const gf_domain_item *it = &e->items[i];
        if (eq_exact(s, len, it->zh, strlen(it->zh)) ||
            in_words(s, len, it->aliases))
            return it;
    }
    return NULL;
}

const char *gf_domain_enum_code(const gf_domain_enum *e, const char *s,
                                size_t len)
{
    const gf_domain_item *it = gf_domain_enum_find(e, s, len);
    return it ? it->code : NULL;
}

const char *gf_domain_platform_form(const char *s, size_t len)
{
    const gf_domain_item *it = gf_domain_enum_find(&gf_domain_platform, s, len);
    return it ? it->extra : NULL;
}

/* ---- phone and ID numbers ---------------------------------------------- */

static int fail(const char **why, const char *msg)
{
    if (why)
        *why = msg;
    return -1;
}

int gf_domain_phone_check(const char *s, size_t len, char *out,
                          const char **why)
{
    size_t n = 0;

    trim(&s, &len);
    if (len >= 3 && memcmp(s, "+86", 3) == 0) {
        s += 3;
        len -= 3;
    }
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == ' ' || c == '-')
            continue;
        if (!is_digit(c))
            return fail(why, "holds characters other than digits");
        if (n == GF_DOMAIN_PHONE_LEN)
            return fail(why, "has more than 11 digits");
        out[n++] = c;
    }
    out[n] = '\0';
    if (n < GF_DOMAIN_PHONE_LEN)
        return fail(why, "has fewer than 11 digits");
    if (out[0] != '1')
        return fail(why, "does not start with 1");
    return 0;
}

char gf_domain_id_check_char(const char *digits17)
{
    static const int weight[17] = {7, 9, 10, 5,  8, 4, 2, 1, 6,
                                   3, 7, 9,  10, 5, 8, 4, 2};
    static const char check[] = "10X98765432";
    int sum = 0;

    for (int i = 0; i < 17; i++) {
        if (!is_digit(digits17[i]))
            return '\0';
        sum += (digits17[i] - '0') * weight[i];
    }
    return check[sum % 11];
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30,
                                 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : days[m - 1];
}

static bool valid_ymd(int y, int m, int d)
{
    return y >= 1900 && y <= 2100 && m >= 1 && m <= 12 && d >= 1 &&
           d <= days_in_month(y, m);
}

static int num(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

int gf_domain_id_check(const char *s, size_t len, char *out, const char **why)
{
    trim(&s, &len);
    if (len != GF_DOMAIN_ID_LEN)
        return fail(why, "not 18 characters");
    for (size_t i = 0; i < 17; i++)
        if (!is_digit(s[i]))
            return fail(why, "the first 17 characters are not all digits");
    char last = s[17] == 'x' ? 'X' : s[17];
    if (!is_digit(last) && last != 'X')
        return fail(why, "the last character is not a digit or X");
    if (!valid_ymd(num(s + 6, 4), num(s + 10, 2), num(s + 12, 2)))
        return fail(why, "the birth date (characters 7-14) is not a date");
    if (gf_domain_id_check_char(s) != last)
        return fail(why, "wrong check digit (GB 11643)");
    memcpy(out, s, 17);
    out[17] = last;
    out[18] = '\0';
    return 0;
}

/* ---- dates -------------------------------------------------------------- */

/* Read 1..max digits at *p (< end) into *v; false when there are none. */
static bool digits(const char **p, const char *end, size_t min, size_t max,
                   int *v)
{
    size_t n = 0;
    while (*p + n < end && n < max && is_digit((*p)[n]))
        n++;
    if (n < min || (*p + n < end && is_digit((*p)[n])))
        return false;
    *v = num(*p, n);
    *p += n;
    return true;
}

int gf_domain_date_parse(const char *s, size_t len, gf_domain_date *d,
                         const char **why)
{
    gf_domain_date r = {0};
    const char *p, *end;
    char sep;

    trim(&s, &len);
    p = s;
    end = s + len;
    if (!digits(&p, end, 4, 4, &r.year) || p == end)
        return fail(why, "not a date (YYYY-MM-DD expected)");
    sep = *p++;
    if (sep != '-' && sep != '/' && sep != '.')
        return fail(why, "not a date (YYYY-MM-DD expected)");
    if (!digits(&p, end, 1, 2, &r.month) || p == end || *p++ != sep ||
        !digits(&p, end, 1, 2, &r.day))
        return fail(why, "not a date (YYYY-MM-DD expected)");
    if (p < end) {
        if (*p != ' ' && *p != 'T')
            return fail(why, "not a date (YYYY-MM-DD expected)");
        while (p < end && (*p == ' ' || *p == 'T'))
            p++;
        if (!digits(&p, end, 1, 2, &r.hour) || p == end || *p++ != ':' ||
            !digits(&p, end, 2, 2, &r.min))
            return fail(why, "bad time of day (HH:MM[:SS] expected)");
        if (p < end &&
            (*p++ != ':' || !digits(&p, end, 2, 2, &r.sec) || p != end))
            return fail(why, "bad time of day (HH:MM[:SS] expected)");
        if (r.hour > 23 || r.min > 59 || r.sec > 59)
            return fail(why, "the time of day is out of range");
        r.has_time = true;
    }
    if (r.year < 1900 || r.year > 2100)
        return fail(why, "the year is outside 1900..2100");
    if (!valid_ymd(r.year, r.month, r.day))
        return fail(why, "no such day in the calendar");
    *d = r;
    return 0;
}

size_t gf_domain_date_format(const gf_domain_date *d, char *out)
{
    char *p = out;
    int parts[6] = {d->year, d->month, d->day, d->hour, d->min, d->sec};
    static const char seps[6] = {'-', '-', ' ', ':', ':', '\0'};
    int nparts = d->has_time ? 6 : 3;

    /* years 1900..2100 always have 4 digits; the rest 2 */
    for (int i = 0; i < nparts; i++) {
        int v = parts[i];
        if (i == 0) {
            *p++ = (char)('0' + v / 1000 % 10);
            *p++ = (char)('0' + v / 100 % 10);
        }
        *p++ = (char)('0' + v / 10 % 10);
        *p++ = (char)('0' + v % 10);
        if (i + 1 < nparts)
            *p++ = seps[i];
    }
    *p = '\0';
    return (size_t)(p - out);
}

int64_t gf_domain_date_seconds(const gf_domain_date *d)
{
    /* days from civil (H. Hinnant's algorithm), proleptic Gregorian */
    int64_t y = d->year - (d->month <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t mp = (d->month + 9) % 12;
    int64_t doy = (153 * mp + 2) / 5 + d->day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = era * 146097 + doe - 719468;
    return days * 86400 + d->hour * 3600 + d->min * 60 + d->sec;
}

/* ---- bools and numbers ------------------------------------------------- */

int gf_domain_bool_parse(const char *s, size_t len, bool *out)
{
    static const char *const yes_ascii[] = {"true", "yes", "y", "t", "1"};
    static const char *const no_ascii[] = {"false", "no", "n", "f", "0"};

    trim(&s, &len);
    for (size_t i = 0; i < COUNT(yes_ascii); i++)
        if (eq_nocase(s, len, yes_ascii[i])) {
            *out = true;
            return 0;
        }
    for (size_t i = 0; i < COUNT(no_ascii); i++)
        if (eq_nocase(s, len, no_ascii[i])) {
            *out = false;
            return 0;
        }
    if (in_words(s, len, "是|有|中共党员|党员|中共预备党员|预备党员")) {
        *out = true;
        return 0;
    }
    if (in_words(s, len, "否|无|群众|共青团员|团员|非党员")) {
        *out = false;
        return 0;
    }
    return -1;
}

/* Copy [s, s+len) into buf (cap bytes) without ',' between digits;
   false when it does not fit or a ',' is misplaced. */
static bool strip_commas(const char *s, size_t len, char *buf, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == ',') {
            if (i == 0 || i + 1 == len || !is_digit(s[i - 1]) ||
                !is_digit(s[i + 1]))
                return false;
            continue;
        }
        if (n + 1 >= cap)
            return false;
        buf[n++] = s[i];
    }
    buf[n] = '\0';
    return true;
}

int gf_domain_int_parse(const char *s, size_t len, int64_t *out)
{
    char buf[64];
    char *end;
    long long v;

    trim(&s, &len);
    if (len == 0 || !strip_commas(s, len, buf, sizeof buf))
        return -1;
    if (!is_digit(buf[0]) &&
        !((buf[0] == '-' || buf[0] == '+') && is_digit(buf[1])))
        return -1;
    errno = 0;
    v = strtoll(buf, &end, 10);
    if (errno == ERANGE)
        return -1;
    if (*end == '.') {
        end++;
        while (*end == '0')
            end++;
    }
    if (*end != '\0')
        return -1;
    *out = (int64_t)v;
    return 0;
}

int gf_domain_float_parse(const char *s, size_t len, double *out)
{
    char buf[64];
    char *end;
    double v;

    trim(&s, &len);
    if (len == 0 || !strip_commas(s, len, buf, sizeof buf))
        return -1;
    /* digits, sign, point and exponent only: no "inf", "nan", hex */
    for (const char *p = buf; *p; p++)
        if (!is_digit(*p) && *p != '.' && *p != '-' && *p != '+' && *p != 'e' &&
            *p != 'E')
            return -1;
    errno = 0;
    v = strtod(buf, &end);
    if (end == buf || *end != '\0' || errno == ERANGE || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

/* ---- schemas ------------------------------------------------------------ */

/* A field without bounds: min > max. */
#define NOB 1, 0

static const gf_domain_field org_fields[] = {
    {"id", GF_DOMAIN_STR, true, NULL, NOB, "组织编号|组织ID|编号",
     "unique id of the organisation"},
    {"name", GF_DOMAIN_STR, true, NULL, NOB, "组织名称|名称", "full name"},
    {"type", GF_DOMAIN_ENUM, true, &gf_domain_org_type, NOB, "组织类型|类型",
     "kind of organisation"},
    {"parent_id", GF_DOMAIN_STR, false, NULL, NOB,
     "上级组织编号|上级组织|上级编号",
     "id of the organisation above it in the tree; absent at the root"},
    {"platform", GF_DOMAIN_ENUM, false, &gf_domain_platform, NOB,
     "所属平台|平台", "platform whose workers it serves"},
    {"district", GF_DOMAIN_STR, false, NULL, NOB, "所属区|区|行政区|区县",
     "district (区) it belongs to"},
    {"node", GF_DOMAIN_ENUM, false, &gf_domain_node, NOB, "节点类型|关键节点",
     "the platform's key node where it sits"},
    {"station", GF_DOMAIN_STR, false, NULL, NOB, "站点|所在站点",
     "station, outlet or post where it sits (matches member.station)"},
    {"established", GF_DOMAIN_DATE, false, NULL, NOB, "成立日期|成立时间",
     "date it was set up"},
};

static const gf_domain_field member_fields[] = {
    {"id", GF_DOMAIN_STR, true, NULL, NOB, "人员编号|编号|工号",
     "unique id of the member"},
    {"name", GF_DOMAIN_STR, true, NULL, NOB, "姓名", "full name"},
    {"phone", GF_DOMAIN_PHONE, false, NULL, NOB,
     "手机号|手机号码|联系电话|电话", "mobile number (personal data)"},
    {"id_number", GF_DOMAIN_ID_NUMBER, false, NULL, NOB,
     "身份证号|身份证号码|证件号码", "citizen ID number (personal data)"},
    {"platform", GF_DOMAIN_ENUM, false, &gf_domain_platform, NOB,
     "平台|所属平台", "platform the member works for"},
    {"form", GF_DOMAIN_ENUM, false, &gf_domain_form, NOB,
     "从业类型|业态|职业类型",
     "form of work; derived from platform when absent"},
    {"district", GF_DOMAIN_STR, false, NULL, NOB, "所属区|区|行政区|区县",
     "district where the member works"},
    {"station", GF_DOMAIN_STR, false, NULL, NOB, "站点|所在站点|配送站",
     "station, outlet or post where the member works"},
    {"org_id", GF_DOMAIN_STR, false, NULL, NOB,
     "所属组织编号|组织编号|所在组织",
     "id of the organisation the member has joined; absent: none yet"},
    {"party", GF_DOMAIN_BOOL, false, NULL, NOB, "是否党员|党员|政治面貌",
     "party member; absent reads as false"},
    {"rel", GF_DOMAIN_ENUM, false, &gf_domain_rel, NOB,
     "组织关系|党员类型|关系所在",
     "party members only: where the membership is held"},
    {"origin", GF_DOMAIN_STR, false, NULL, NOB, "流出地党组织|原党组织|流出地",
     "mobile members only (required for them): the origin organisation"},
    {"origin_area", GF_DOMAIN_STR, false, NULL, NOB, "流出地地区|户籍地",
     "mobile members: the home area (province and prefecture) of origin"},
    {"age", GF_DOMAIN_INT, false, NULL, 16, 75, "年龄", "age in years"},
    {"joined", GF_DOMAIN_DATE, false, NULL, NOB, "入党日期|加入日期",
     "date joined the party (party members) or the organisation"},
    {"points", GF_DOMAIN_INT, false, NULL, 0, 100000, "积分|组织生活积分",
     "activity points (组织生活积分)"},
    {"roles", GF_DOMAIN_LIST, false, &gf_domain_role, NOB, "角色|身份",
     "roles held"},
    {"active_days", GF_DOMAIN_INT, false, NULL, 0, 30,
     "近30天活跃天数|活跃天数", "days active in the last 30"},
};

static const gf_domain_field project_fields[] = {
    {"id", GF_DOMAIN_STR, true, NULL, NOB, "项目编号|编号",
     "unique id of the project"},
    {"name", GF_DOMAIN_STR, true, NULL, NOB, "项目名称|名称", "name"},
    {"category", GF_DOMAIN_ENUM, true, &gf_domain_project_category, NOB,
     "项目类别|类别", "kind of service"},
    {"org_id", GF_DOMAIN_STR, true, NULL, NOB, "负责组织编号|组织编号|承办组织",
     "owner organisation"},
    {"district", GF_DOMAIN_STR, false, NULL, NOB, "所属区|区|行政区|区县",
     "district it serves"},
    {"year", GF_DOMAIN_INT, false, NULL, 2000, 2100, "年度|年份",
     "year it runs"},
    {"budget", GF_DOMAIN_FLOAT, false, NULL, 0, 1e12,
     "预算（元）|预算(元)|预算|预算金额", "budget in yuan"},
    {"beneficiaries", GF_DOMAIN_INT, false, NULL, 0, 10000000,
     "受益人数|覆盖人数|服务人数", "workers reached"},
    {"status", GF_DOMAIN_ENUM, false, &gf_domain_project_status, NOB,
     "状态|项目状态", "where the project stands"},
};

static const gf_domain_field demand_fields[] = {
    {"id", GF_DOMAIN_STR, true, NULL, NOB, "需求编号|编号",
     "unique id of the demand"},
    {"member_id", GF_DOMAIN_STR, true, NULL, NOB,
     "提出人编号|人员编号|成员编号", "member who raised it"},
    {"category", GF_DOMAIN_ENUM, true, &gf_domain_demand_category, NOB,
     "需求类别|类别", "what it is about"},
    {"level", GF_DOMAIN_INT, true, &gf_domain_demand_level, 1, 5,
     "层级|反馈层级|当前层级",
     "highest level of the feedback chain it has reached, 1..5"},
    {"org_id", GF_DOMAIN_STR, false, NULL, NOB,
     "承办组织编号|处理组织|组织编号", "organisation handling it"},
    {"raised", GF_DOMAIN_DATETIME, true, NULL, NOB, "提出时间|反映时间",
     "when it was raised"},
    {"resolved", GF_DOMAIN_DATETIME, false, NULL, NOB, "解决时间|办结时间",
     "when it was resolved; absent: not yet"},
    {"status", GF_DOMAIN_ENUM, false, &gf_domain_demand_status, NOB,
     "状态|办理状态", "where it stands; derived from resolved when absent"},
};

const gf_domain_schema gf_domain_schemas[] = {
    {"org", "组织", org_fields, COUNT(org_fields)},
    {"member", "成员", member_fields, COUNT(member_fields)},
    {"project", "项目", project_fields, COUNT(project_fields)},
    {"demand", "需求", demand_fields, COUNT(demand_fields)},
};
const size_t gf_domain_nschemas = COUNT(gf_domain_schemas);

const gf_domain_schema *gf_domain_schema_find(const char *s, size_t len)
{
    for (size_t i = 0; i < gf_domain_nschemas; i++)
        if (eq_exact(s, len, gf_domain_schemas[i].kind,
                     strlen(gf_domain_schemas[i].kind)))
            return &gf_domain_schemas[i];
    return NULL;
}

const char *gf_domain_check_kind(const char *kind, char *why, size_t n)
{
    if (!kind || gf_domain_schema_find(kind, strlen(kind)))
        return NULL;
    size_t len = 0;
    len += (size_t)snprintf(why, n, "\"%s\" is not a record kind: ", kind);
    for (size_t i = 0; i < gf_domain_nschemas && len < n; i++)
        len += (size_t)snprintf(why + len, n - len, "%s%s",
                                i == 0                        ? ""
                                : i + 1 == gf_domain_nschemas ? " or "
                                                              : ", ",
                                gf_domain_schemas[i].kind);
    return why;
}

const gf_domain_field *gf_domain_schema_field(const gf_domain_schema *sc,
                                              const char *name, size_t len)
{
    for (size_t i = 0; sc && i < sc->n; i++)
        if (eq_exact(name, len, sc->fields[i].name, strlen(sc->fields[i].name)))
            return &sc->fields[i];
    return NULL;
}

const gf_domain_field *
gf_domain_schema_field_by_label(const gf_domain_schema *sc, const char *s,
                                size_t len)
{
    const gf_domain_field *f;

    trim(&s, &len);
    f = gf_domain_schema_field(sc, s, len);
    for (size_t i = 0; f == NULL && sc && i < sc->n; i++)
        if (in_words(s, len, sc->fields[i].zh))
            f = &sc->fields[i];
    return f;
}

const char *gf_domain_type_name(gf_domain_type t)
{
    switch (t) {
    case GF_DOMAIN_STR:
        return "string";
    case GF_DOMAIN_INT:
        return "int";
    case GF_DOMAIN_FLOAT:
        return "float";
    case GF_DOMAIN_BOOL:
        return "bool";
    case GF_DOMAIN_DATE:
        return "date";
    case GF_DOMAIN_DATETIME:
        return "datetime";
    case GF_DOMAIN_ENUM:
        return "enum";
    case GF_DOMAIN_LIST:
        return "list";
    case GF_DOMAIN_PHONE:
        return "phone";
    case GF_DOMAIN_ID_NUMBER:
        return "id_number";
    }
    return "?";
}
