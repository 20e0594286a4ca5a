/*
 * fuzz_domain - every gfdomain parser over arbitrary bytes: enumeration
 * lookup, phone, GB 11643 ID, dates, bools and numbers, header labels.
 * Besides not crashing, what parses must be consistent: a parsed date
 * formats and re-parses to itself, an accepted phone is 11 digits from 1,
 * an accepted ID carries the check character its digits give.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gf_domain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const gf_domain_enum *const enums[] = {&gf_domain_org_type,
                                              &gf_domain_node,
                                              &gf_domain_platform,
                                              &gf_domain_form,
                                              &gf_domain_rel,
                                              &gf_domain_role,
                                              &gf_domain_project_category,
                                              &gf_domain_project_status,
                                              &gf_domain_demand_category,
                                              &gf_domain_demand_level,
                                              &gf_domain_demand_status};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    char out[GF_DOMAIN_ID_LEN + 1], buf[24];
    gf_domain_date d, d2;
    bool b;
    int64_t i;
    double f;

    for (size_t k = 0; k < sizeof enums / sizeof *enums; k++) {
        const char *code = gf_domain_enum_code(enums[k], s, size);
        if (code && gf_domain_enum_code(enums[k], code, strlen(code)) != code)
            abort();
    }
    gf_domain_platform_form(s, size);
    if (gf_domain_phone_check(s, size, out, NULL) == 0 &&
        (strlen(out) != GF_DOMAIN_PHONE_LEN || out[0] != '1'))
        abort();
    if (gf_domain_id_check(s, size, out, NULL) == 0 &&
        (strlen(out) != GF_DOMAIN_ID_LEN ||
         gf_domain_id_check_char(out) != out[17]))
        abort();
    if (gf_domain_date_parse(s, size, &d, NULL) == 0) {
        size_t n = gf_domain_date_format(&d, buf);
        if (gf_domain_date_parse(buf, n, &d2, NULL) != 0 || d.year != d2.year ||
            d.month != d2.month || d.day != d2.day || d.hour != d2.hour ||
            d.min != d2.min || d.sec != d2.sec || d.has_time != d2.has_time ||
            gf_domain_date_seconds(&d) != gf_domain_date_seconds(&d2))
            abort();
    }
    gf_domain_bool_parse(s, size, &b);
    gf_domain_int_parse(s, size, &i);
    gf_domain_float_parse(s, size, &f);
    for (size_t k = 0; k < gf_domain_nschemas; k++)
        gf_domain_schema_field_by_label(&gf_domain_schemas[k], s, size);
    return 0;
}
