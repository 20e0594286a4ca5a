/*
 * test_gf_domain - the domain library: enumeration lookup by code and
 * Chinese label, platform -> form, phone, GB 11643 ID numbers, dates,
 * numbers and the schema tables. Expected check digits come from the
 * published sample 11010519491231002X and from a separate Python
 * computation of the GB 11643 formula (see the comments).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "gf_domain.h"

#define S(lit) (lit), strlen(lit)

static void test_enum_lookup(void **state)
{
    (void)state;
    assert_string_equal(gf_domain_enum_code(&gf_domain_form, S("外卖")),
                        "food_delivery");
    assert_string_equal(gf_domain_enum_code(&gf_domain_form, S("快递")),
                        "express");
    assert_string_equal(gf_domain_enum_code(&gf_domain_form, S("网约车")),
                        "ride_hailing");
    assert_string_equal(
        gf_domain_enum_code(&gf_domain_org_type, S("行业综合党委")),
        "industry_committee");
    assert_string_equal(
        gf_domain_enum_code(&gf_domain_org_type, S("流动党员党委")),
        "mobile_committee");
    assert_string_equal(gf_domain_enum_code(&gf_domain_org_type, S("支部")),
                        "branch");
    assert_string_equal(gf_domain_enum_code(&gf_domain_org_type, S("联合支部")),
                        "joint_branch");
    assert_string_equal(
        gf_domain_enum_code(&gf_domain_org_type, S("联合党支部")),
        "joint_branch");
    assert_string_equal(gf_domain_enum_code(&gf_domain_org_type, S("工会")),
                        "union");
    /* codes, any case, surrounding space */
    assert_string_equal(
        gf_domain_enum_code(&gf_domain_org_type, S("  Joint_Branch ")),
        "joint_branch");
    assert_string_equal(gf_domain_enum_code(&gf_domain_platform, S("美团")),
                        "meituan");
    assert_string_equal(gf_domain_enum_code(&gf_domain_platform, S("饿了么")),
                        "eleme");
    assert_string_equal(gf_domain_enum_code(&gf_domain_platform, S("盒马鲜生")),
                        "hema");
    assert_string_equal(gf_domain_enum_code(&gf_domain_demand_level, S("支部")),
                        "3");
    assert_null(gf_domain_enum_code(&gf_domain_platform, S("优步")));
    assert_null(gf_domain_enum_code(&gf_domain_platform, S("")));
    assert_null(gf_domain_enum_code(&gf_domain_platform, S("美")));
    assert_null(gf_domain_enum_code(&gf_domain_platform, S("美团外")));
}

static void test_platform_form(void **state)
{
    (void)state;
    assert_string_equal(gf_domain_platform_form(S("美团")), "food_delivery");
    assert_string_equal(gf_domain_platform_form(S("eleme")), "food_delivery");
    assert_string_equal(gf_domain_platform_form(S("叮咚买菜")), "grocery");
    assert_string_equal(gf_domain_platform_form(S("顺丰")), "express");
    assert_string_equal(gf_domain_platform_form(S("中通")), "express");
    assert_string_equal(gf_domain_platform_form(S("滴滴")), "ride_hailing");
    assert_null(gf_domain_platform_form(S("nobody")));
    /* every platform maps to a form that exists */
    for (size_t i = 0; i < gf_domain_platform.n; i++) {
        const char *f = gf_domain_platform.items[i].extra;
        assert_non_null(f);
        assert_non_null(gf_domain_enum_code(&gf_domain_form, f, strlen(f)));
    }
}

static void test_phone(void **state)
{
    char out[GF_DOMAIN_PHONE_LEN + 1];
    const char *why = NULL;
    (void)state;
    assert_int_equal(gf_domain_phone_check(S("13812341234"), out, &why), 0);
    assert_string_equal(out, "13812341234");
    assert_int_equal(gf_domain_phone_check(S("+86 138-1234-1234"), out, &why),
                     0);
    assert_string_equal(out, "13812341234");
    assert_int_equal(gf_domain_phone_check(S("1381234123"), out, &why), -1);
    assert_string_equal(why, "has fewer than 11 digits");
    assert_int_equal(gf_domain_phone_check(S("138123412345"), out, &why), -1);
    assert_string_equal(why, "has more than 11 digits");
    assert_int_equal(gf_domain_phone_check(S("23812341234"), out, &why), -1);
    assert_string_equal(why, "does not start with 1");
    assert_int_equal(gf_domain_phone_check(S("1381234123a"), out, &why), -1);
    assert_int_equal(gf_domain_phone_check(S(""), out, &why), -1);
}

static void test_id_number(void **state)
{
    char out[GF_DOMAIN_ID_LEN + 1];
    const char *why = NULL;
    (void)state;
    /* the published GB 11643 sample */
    assert_int_equal(gf_domain_id_check_char("11010519491231002"), 'X');
    assert_int_equal(gf_domain_id_check(S("11010519491231002X"), out, &why), 0);
    assert_string_equal(out, "11010519491231002X");
    assert_int_equal(gf_domain_id_check(S("11010519491231002x"), out, &why), 0);
    assert_string_equal(out, "11010519491231002X");
    /* computed in Python: c='10X98765432'[sum(d*w) % 11] */
    assert_int_equal(gf_domain_id_check_char("44052418800101001"), '4');
    assert_int_equal(gf_domain_id_check_char("32010619900307456"), '6');
    assert_int_equal(gf_domain_id_check_char("51010819851111000"), '2');
    assert_int_equal(gf_domain_id_check(S("11010120000229123X"), out, &why),
                     0); /* 2000-02-29 exists */
    assert_int_equal(gf_domain_id_check(S("110105194912310021"), out, &why),
                     -1);
    assert_string_equal(why, "wrong check digit (GB 11643)");
    assert_int_equal(gf_domain_id_check(S("320106199003074565"), out, &why),
                     -1);
    assert_int_equal(gf_domain_id_check(S("11010519491231002"), out, &why), -1);
    assert_string_equal(why, "not 18 characters");
    assert_int_equal(gf_domain_id_check(S("1101051949123100AX"), out, &why),
                     -1);
    assert_int_equal(gf_domain_id_check(S("110105194913310021"), out, &why),
                     -1); /* month 13 */
    assert_string_equal(why, "the birth date (characters 7-14) is not a date");
    assert_int_equal(gf_domain_id_check_char("1101051949123100A"), '\0');
}

static void test_dates(void **state)
{
    gf_domain_date d;
    char buf[24];
    const char *why = NULL;
    (void)state;
    assert_int_equal(gf_domain_date_parse(S("2024-03-05"), &d, &why), 0);
    assert_false(d.has_time);
    assert_int_equal(gf_domain_date_format(&d, buf), 10);
    assert_string_equal(buf, "2024-03-05");
    assert_int_equal(gf_domain_date_parse(S("2024/3/5 8:07"), &d, &why), 0);
    assert_true(d.has_time);
    gf_domain_date_format(&d, buf);
    assert_string_equal(buf, "2024-03-05 08:07:00");
    assert_int_equal(gf_domain_date_parse(S("2024-03-05T23:59:58"), &d, &why),
                     0);
    gf_domain_date_format(&d, buf);
    assert_string_equal(buf, "2024-03-05 23:59:58");
    assert_int_equal(gf_domain_date_parse(S("2024-02-29"), &d, &why), 0);
    assert_int_equal(gf_domain_date_parse(S("2023-02-29"), &d, &why), -1);
    assert_string_equal(why, "no such day in the calendar");
    assert_int_equal(gf_domain_date_parse(S("2100-02-29"), &d, &why), -1);
    assert_int_equal(gf_domain_date_parse(S("2024-13-01"), &d, &why), -1);
    assert_int_equal(gf_domain_date_parse(S("2024-03-05 24:00"), &d, &why), -1);
    assert_int_equal(gf_domain_date_parse(S("2024-3-5x"), &d, &why), -1);
    assert_int_equal(gf_domain_date_parse(S("2024-03/05"), &d, &why), -1);
    assert_int_equal(gf_domain_date_parse(S("05/03/2024"), &d, &why), -1);
    assert_int_equal(gf_domain_date_parse(S("20240305"), &d, &why), -1);
    assert_int_equal(gf_domain_date_parse(S("1899-12-31"), &d, &why), -1);
    assert_int_equal(gf_domain_date_parse(S(""), &d, &why), -1);

    /* 1970-01-01 is 0; 2000-03-01 is 11017 days later (date -d ... +%s) */
    assert_int_equal(gf_domain_date_parse(S("1970-01-01"), &d, &why), 0);
    assert_int_equal(gf_domain_date_seconds(&d), 0);
    assert_int_equal(gf_domain_date_parse(S("2000-03-01 01:02:03"), &d, &why),
                     0);
    assert_int_equal(gf_domain_date_seconds(&d), 951872523);
}

static void test_bool_numbers(void **state)
{
    bool b = false;
    int64_t i = 0;
    double f = 0;
    (void)state;
    assert_int_equal(gf_domain_bool_parse(S("是"), &b), 0);
    assert_true(b);
    assert_int_equal(gf_domain_bool_parse(S("否"), &b), 0);
    assert_false(b);
    assert_int_equal(gf_domain_bool_parse(S(" TRUE "), &b), 0);
    assert_true(b);
    assert_int_equal(gf_domain_bool_parse(S("0"), &b), 0);
    assert_false(b);
    assert_int_equal(gf_domain_bool_parse(S("中共党员"), &b), 0);
    assert_true(b);
    assert_int_equal(gf_domain_bool_parse(S("群众"), &b), 0);
    assert_false(b);
    assert_int_equal(gf_domain_bool_parse(S("maybe"), &b), -1);
    assert_int_equal(gf_domain_bool_parse(S("2"), &b), -1);

    assert_int_equal(gf_domain_int_parse(S(" 30 "), &i), 0);
    assert_int_equal(i, 30);
    assert_int_equal(gf_domain_int_parse(S("1,200"), &i), 0);
    assert_int_equal(i, 1200);
    assert_int_equal(gf_domain_int_parse(S("-7"), &i), 0);
    assert_int_equal(i, -7);
    assert_int_equal(gf_domain_int_parse(S("30.00"), &i), 0);
    assert_int_equal(i, 30);
    assert_int_equal(gf_domain_int_parse(S("30.5"), &i), -1);
    assert_int_equal(gf_domain_int_parse(S("3a"), &i), -1);
    assert_int_equal(gf_domain_int_parse(S(",30"), &i), -1);
    assert_int_equal(gf_domain_int_parse(S(""), &i), -1);
    assert_int_equal(gf_domain_int_parse(S("99999999999999999999"), &i), -1);

    assert_int_equal(gf_domain_float_parse(S("12.5"), &f), 0);
    assert_true(f == 12.5);
    assert_int_equal(gf_domain_float_parse(S("1,200.50"), &f), 0);
    assert_true(f == 1200.5);
    assert_int_equal(gf_domain_float_parse(S("1e3"), &f), 0);
    assert_true(f == 1000.0);
    assert_int_equal(gf_domain_float_parse(S("nan"), &f), -1);
    assert_int_equal(gf_domain_float_parse(S("inf"), &f), -1);
    assert_int_equal(gf_domain_float_parse(S("0x10"), &f), -1);
    assert_int_equal(gf_domain_float_parse(S("1.2.3"), &f), -1);
}

static void test_schemas(void **state)
{
    const gf_domain_schema *sc;
    const gf_domain_field *f;
    (void)state;
    assert_int_equal(gf_domain_nschemas, 4);
    assert_null(gf_domain_schema_find(S("metric")));
    assert_null(gf_domain_schema_find(S("orgs")));
    sc = gf_domain_schema_find(S("member"));
    assert_non_null(sc);
    f = gf_domain_schema_field(sc, S("phone"));
    assert_non_null(f);
    assert_int_equal(f->type, GF_DOMAIN_PHONE);
    f = gf_domain_schema_field_by_label(sc, S("身份证号"));
    assert_non_null(f);
    assert_string_equal(f->name, "id_number");
    f = gf_domain_schema_field_by_label(sc, S("组织编号"));
    assert_string_equal(f->name, "org_id");
    sc = gf_domain_schema_find(S("org"));
    f = gf_domain_schema_field_by_label(sc, S("组织编号"));
    assert_string_equal(f->name, "id");
    /* every schema: id required, every ENUM/LIST has values, no dup names */
    for (size_t k = 0; k < gf_domain_nschemas; k++) {
        sc = &gf_domain_schemas[k];
        assert_string_equal(sc->fields[0].name, "id");
        assert_true(sc->fields[0].required);
        for (size_t i = 0; i < sc->n; i++) {
            f = &sc->fields[i];
            if (f->type == GF_DOMAIN_ENUM || f->type == GF_DOMAIN_LIST)
                assert_non_null(f->values);
            assert_ptr_equal(
                gf_domain_schema_field(sc, f->name, strlen(f->name)), f);
        }
    }
    assert_string_equal(gf_domain_type_name(GF_DOMAIN_ID_NUMBER), "id_number");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_enum_lookup),
        cmocka_unit_test(test_platform_form),
        cmocka_unit_test(test_phone),
        cmocka_unit_test(test_id_number),
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_bool_numbers),
        cmocka_unit_test(test_schemas),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
