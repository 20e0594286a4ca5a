/*
 * test_ingest_synth - the synthetic district generator through the harness:
 * determinism (same seed, same bytes; another seed, other bytes), the
 * referential consistency of the family (checked by SQL over the JSON
 * output in the sqlite3 shell), the pilot district's figures with the
 * default options, personal data that look real (GB 11643 check digits
 * recomputed here, birth dates that agree with ages, mobile numbers), the
 * `kinds` option, option errors, and a throughput figure.
 */
#include <time.h>

#include "synth_helpers.h"

#define SMALL "members: 3000\nstations: 120\nprojects: 40\ndemands: 500\n"

static gf_harness *run(const char *yaml)
{
    gf_harness *h = th_new("ingest_synth", yaml);
    th_produce(h);
    return h;
}

static void test_same_seed_same_bytes(void **state)
{
    (void)state;
    gf_harness *a = run(SMALL "seed: 7");
    gf_harness *b = run(SMALL "seed: 7");
    gf_harness *c = run(SMALL "seed: 8");
    size_t n = gf_harness_count(a);
    assert_true(n > 3000 + 40 + 500);
    assert_int_equal(gf_harness_count(b), n);
    for (size_t i = 0; i < n; i++) {
        const gf_record *x = gf_harness_output(a, i),
                        *y = gf_harness_output(b, i);
        assert_int_equal(x->len, y->len);
        assert_memory_equal(x->data, y->data, x->len);
    }
    /* another seed: same shape, other records */
    size_t differ = 0, nc = gf_harness_count(c);
    for (size_t i = 0; i < n && i < nc; i++) {
        const gf_record *x = gf_harness_output(a, i),
                        *y = gf_harness_output(c, i);
        differ += x->len != y->len || memcmp(x->data, y->data, x->len) != 0;
    }
    assert_true(differ > n / 2);
    gf_harness_destroy(&a);
    gf_harness_destroy(&b);
    gf_harness_destroy(&c);
}

static void test_kind_order(void **state)
{
    (void)state;
    gf_harness *h = run(SMALL "seed: 3");
    static const char *const kinds[] = {"org", "member", "project", "demand"};
    size_t n = gf_harness_count(h), at = 0, counts[4] = {0};
    for (size_t i = 0; i < n; i++) {
        while (at < 4 && !th_str_is(h, i, "kind", kinds[at]))
            at++;
        assert_true(at < 4); /* never goes back to an earlier kind */
        counts[at]++;
    }
    assert_int_equal(counts[1], 3000);
    assert_int_equal(counts[2], 40);
    assert_int_equal(counts[3], 500);
    assert_true(counts[0] > 14);
    gf_harness_destroy(&h);
}

/* Every reference names a record of the family. */
static void test_references(void **state)
{
    (void)state;
    char *dir = th_tmpdir();
    char *json = th_path(dir, "all.json");
    gf_harness *h = run("members: 6000\nstations: 300\ndistricts: 3\n"
                        "projects: 90\ndemands: 900\nseed: 11");
    th_write_json(h, json);
    char *got = th_sql(
        dir,
        "create table r as select value j from "
        "json_each(readfile('all.json'));\n"
        "create table o as select json_extract(j,'$.id') id,"
        " json_extract(j,'$.parent_id') parent, json_extract(j,'$.station') st,"
        " json_extract(j,'$.district') d from r where "
        "json_extract(j,'$.kind')='org';\n"
        "create table m as select json_extract(j,'$.id') id,"
        " json_extract(j,'$.org_id') org, json_extract(j,'$.station') st,"
        " json_extract(j,'$.party') party, json_extract(j,'$.rel') rel,"
        " json_extract(j,'$.origin') origin, json_extract(j,'$.district') d"
        " from r where json_extract(j,'$.kind')='member';\n"
        "create table p as select json_extract(j,'$.org_id') org from r"
        " where json_extract(j,'$.kind')='project';\n"
        "create table q as select json_extract(j,'$.member_id') mid,"
        " json_extract(j,'$.org_id') org, json_extract(j,'$.raised') raised,"
        " json_extract(j,'$.resolved') resolved, json_extract(j,'$.status') "
        "status"
        " from r where json_extract(j,'$.kind')='demand';\n"
        "select (select count(*) from m where org is not null and org not in "
        "(select id from o)),"
        " (select count(*) from q where mid not in (select id from m)),"
        " (select count(*) from q where org is not null and org not in (select "
        "id from o)),"
        " (select count(*) from p where org is null or org not in (select id "
        "from o)),"
        " (select count(*) from o where parent is not null and parent not in "
        "(select id from o)),"
        " (select count(*) - count(distinct id) from o),"
        " (select count(*) - count(distinct id) from m),"
        " (select count(*) from m where party=1 and rel='mobile' and origin is "
        "null),"
        " (select count(*) from m where party=0 and (rel is not null or origin "
        "is not null)),"
        " (select count(*) from q where resolved is not null and resolved < "
        "raised),"
        " (select count(*) from q where (resolved is not null) <> "
        "(status='resolved')),"
        " (select count(*) from o join (select distinct st, d from m) x "
        "using(st) where o.d <> x.d);\n"
        "select count(distinct st) > 0 from o where st in (select st from "
        "m);\n");
    th_same("reference checks", got, "0|0|0|0|0|0|0|0|0|0|0|0\n1\n");
    free(got);
    free(json);
    gf_harness_destroy(&h);
    th_rmdir(dir);
}

/* GB 11643-1999, computed here independently of gf_domain. */
static bool id_ok(const char *id)
{
    static const int w[17] = {7, 9, 10, 5,  8, 4, 2, 1, 6,
                              3, 7, 9,  10, 5, 8, 4, 2};
    if (strlen(id) != 18)
        return false;
    int sum = 0;
    for (int i = 0; i < 17; i++) {
        if (id[i] < '0' || id[i] > '9')
            return false;
        sum += (id[i] - '0') * w[i];
    }
    return id[17] == "10X98765432"[sum % 11];
}

static void test_personal_data(void **state)
{
    (void)state;
    gf_harness *h = run("members: 5000\nprojects: 0\ndemands: 0\nseed: 5");
    size_t n = gf_harness_count(h), members = 0;
    char id[64], phone[64], age[16];
    for (size_t i = 0; i < n; i++) {
        if (!th_str_is(h, i, "kind", "member"))
            continue;
        members++;
        th_text(h, i, "id_number", id, sizeof id);
        th_text(h, i, "phone", phone, sizeof phone);
        th_text(h, i, "age", age, sizeof age);
        if (!id_ok(id))
            fprintf(stderr, "bad ID number %s\n", id);
        assert_true(id_ok(id));
        /* the age as of 2025-06-30 agrees with the birth date */
        int y = atoi((char[]){id[6], id[7], id[8], id[9], 0});
        int md = atoi((char[]){id[10], id[11], id[12], id[13], 0});
        assert_int_equal(atoi(age), 2025 - y - (md > 630));
        assert_in_range(atoi(age), 18, 61);
        assert_int_equal(strlen(phone), 11);
        assert_true(phone[0] == '1' && phone[1] >= '3' && phone[1] <= '9');
        assert_int_equal(strspn(phone, "0123456789"), 11);
    }
    assert_int_equal(members, 5000);
    gf_harness_destroy(&h);
}

/* The pilot district with no options at all. */
static void test_pilot_defaults(void **state)
{
    (void)state;
    char *dir = th_tmpdir();
    char *json = th_path(dir, "all.json");
    gf_harness *h = run(NULL);
    th_write_json(h, json);
    char *got = th_sql(
        dir,
        "create table r as select value j from "
        "json_each(readfile('all.json'));\n"
        "create table m as select json_extract(j,'$.active_days') act,"
        " json_extract(j,'$.party') party, json_extract(j,'$.rel') rel,"
        " json_extract(j,'$.platform') pl, json_extract(j,'$.station') st,"
        " json_extract(j,'$.form') form"
        " from r where json_extract(j,'$.kind')='member';\n"
        "create table o as select json_extract(j,'$.station') st from r"
        " where json_extract(j,'$.kind')='org';\n"
        "create table q as select json_extract(j,'$.level') lv,"
        " json_extract(j,'$.resolved') res from r where "
        "json_extract(j,'$.kind')='demand';\n"
        "select count(*),"
        " (select count(*) from m where act > 0) between 34000 and 36000,"
        " (select count(*) from m where party) between 3700 and 4300,"
        " (select 1.0*sum(rel='mobile')/count(*) from m where party) between "
        "0.37 and 0.43,"
        " (select count(distinct st) from o where st is not null),"
        " (select count(distinct st) from m) between 1990 and 2000,"
        " (select 1.0*sum(pl='meituan')/count(*) from m) between 0.43 and 0.47,"
        " (select 1.0*sum(pl='eleme')/count(*) from m) between 0.28 and 0.32,"
        " (select count(distinct pl) from m) >= 10,"
        " (select count(*) from m where pl in ('sf','yunda','sto','zto','yto')"
        "   and form <> 'express'),"
        " (select count(distinct lv) from q),"
        " (select count(*) from q where res is null) between 200 and 1200"
        " from m;\n");
    /* 50,000 members; 60% of 2,000 stations = 1,200 covered exactly */
    th_same("pilot figures", got, "50000|1|1|1|1200|1|1|1|1|0|5|1\n");
    free(got);
    free(json);
    gf_harness_destroy(&h);
    th_rmdir(dir);
}

/* Every record passes classify_schema (docs/records.md), strict, and
   comes out unchanged: the generator writes canonical records. */
static void test_schema_conformance(void **state)
{
    (void)state;
    gf_harness *g = run("members: 4000\nstations: 150\ndistricts: 2\n"
                        "projects: 100\ndemands: 800\nseed: 13");
    gf_harness *h = th_new("classify_schema", "strict: true");
    th_chain(g, h);
    for (size_t i = 0; i < gf_harness_rejects(h) && i < 5; i++)
        fprintf(stderr, "rejected: %s\n", gf_harness_reject(h, i));
    assert_int_equal(gf_harness_rejects(h), 0);
    assert_int_equal(gf_harness_count(h), gf_harness_count(g));
    for (size_t i = 0; i < gf_harness_count(g); i++) {
        const gf_record *a = gf_harness_output(g, i),
                        *b = gf_harness_output(h, i);
        if (a->len != b->len || memcmp(a->data, b->data, a->len) != 0) {
            char *x = gf_harness_output_json(g, i),
                 *y = gf_harness_output_json(h, i);
            fprintf(stderr, "rewritten:\n%s\n%s\n", x, y);
            free(x);
            free(y);
        }
        assert_int_equal(a->len, b->len);
        assert_memory_equal(a->data, b->data, a->len);
    }
    gf_harness_destroy(&h);
    gf_harness_destroy(&g);
}

static void test_kinds_option(void **state)
{
    (void)state;
    gf_harness *h = run(SMALL "kinds: [member, demands]");
    size_t n = gf_harness_count(h), m = 0, d = 0;
    for (size_t i = 0; i < n; i++) {
        m += th_str_is(h, i, "kind", "member");
        d += th_str_is(h, i, "kind", "demand");
    }
    assert_int_equal(m, 3000);
    assert_int_equal(d, 500);
    assert_int_equal(n, 3500);
    gf_harness_destroy(&h);
}

static void refused(const char *yaml, const char *needle)
{
    char *err = th_refused("ingest_synth", yaml);
    if (!strstr(err, needle))
        fprintf(stderr, "error '%s' does not mention '%s'\n", err, needle);
    assert_non_null(strstr(err, needle));
    free(err);
}

static void test_bad_options(void **state)
{
    (void)state;
    refused("members: -5", "members");
    refused("coverage: 1.5", "coverage");
    refused("party_share: -0.1", "party_share");
    refused("kinds: [orgs, people]", "people");
    refused("orgs: 3", "orgs");
    refused("stations: 2\ndistricts: 5", "stations");
    refused("members: 0", "demands");
    /* no demands wanted: no members needed */
    gf_harness *h = run("members: 0\nkinds: [org]");
    assert_true(gf_harness_count(h) > 0);
    gf_harness_destroy(&h);
    refused("members: many", "members");
    refused("colour: blue", "colour");
}

/* Orgs given explicitly: more than the automatic number adds second
   branches at covered stations; fewer covers fewer stations. */
static void test_orgs_option(void **state)
{
    (void)state;
    static const char *const yaml[2] = {
        "members: 100\nstations: 50\ncoverage: 0.4\norgs: 40\nkinds: org\n",
        "members: 100\nstations: 50\ncoverage: 0.4\norgs: 24\nkinds: org\n",
    };
    /* 16 upper orgs (2 committees, 11 enterprise orgs, 3 mass orgs);
       coverage 0.4 of 50 = 20 stations */
    static const size_t want_orgs[2] = {40, 24}, want_cov[2] = {20, 8};
    for (int t = 0; t < 2; t++) {
        gf_harness *h = run(yaml[t]);
        size_t n = gf_harness_count(h), with_station = 0;
        char seen[64][16] = {{0}};
        size_t nseen = 0;
        char st[16];
        for (size_t i = 0; i < n; i++) {
            if (!*th_text(h, i, "station", st, sizeof st))
                continue;
            with_station++;
            size_t k = 0;
            while (k < nseen && strcmp(seen[k], st) != 0)
                k++;
            if (k == nseen)
                strcpy(seen[nseen++], st);
        }
        assert_int_equal(n, want_orgs[t]);
        assert_int_equal(with_station, want_orgs[t] - 16);
        assert_int_equal(nseen, want_cov[t]);
        gf_harness_destroy(&h);
    }
}

static void test_throughput(void **state)
{
    (void)state;
    gf_harness *h = th_new("ingest_synth", "members: 200000\nstations: 8000\n"
                                           "demands: 20000");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    th_produce(h);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs =
        (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    size_t n = gf_harness_count(h);
    printf("ingest_synth: %zu records in %.3f s = %.0f records/s "
           "(harness, this build)\n",
           n, secs, (double)n / secs);
    assert_true(n > 220000);
    gf_harness_destroy(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_seed_same_bytes),
        cmocka_unit_test(test_kind_order),
        cmocka_unit_test(test_references),
        cmocka_unit_test(test_personal_data),
        cmocka_unit_test(test_pilot_defaults),
        cmocka_unit_test(test_schema_conformance),
        cmocka_unit_test(test_kinds_option),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_orgs_option),
        cmocka_unit_test(test_throughput),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
