/*
 * test_export_sqlite - export_sqlite through the plugin harness, read back
 * with the sqlite3 shell: typed tables per kind, a later field adding a
 * column, JSON text and 0/1 for nested values and bools, nothing visible
 * before commit and nothing left without it, type conflicts and
 * constraint failures rejected while the run goes on, append, upsert (last
 * record per key wins), replace, and option errors. Expected rows are
 * written out by hand.
 */
#define _GNU_SOURCE
#include "db_test_util.h"

static const char *const mixed[] = {
    "{\"kind\":\"org\",\"id\":\"o1\",\"name\":\"美团朝阳站支部\",\"members\":"
    "12,"
    "\"lat\":39.9,\"active\":true}",
    "{\"kind\":\"member\",\"id\":\"m1\",\"age\":31,\"points\":8.5,"
    "\"tags\":[\"骑手\",1],\"addr\":{\"city\":\"北京\"},\"note\":null}",
    "{\"kind\":\"member\",\"id\":\"m2\",\"age\":24,\"points\":3,"
    "\"platform\":\"饿了么\"}",
    "{\"kind\":\"org\",\"id\":\"o2\",\"name\":\"顺丰分拣中心\",\"members\":7,"
    "\"lat\":40,\"active\":false}",
    NULL,
};

static void test_tables_per_kind(void **state)
{
    (void)state;
    char *dir = io_tmpdir();
    char *db = io_fmt("%s/out.db", dir);
    gf_harness *h = io_open("export_sqlite", "path: out.db", dir);
    db_push_all(h, mixed);
    assert_int_equal(gf_harness_flush(h), GF_OK);
    assert_int_equal(gf_harness_commit(h), GF_OK);
    assert_int_equal(gf_harness_rejects(h), 0);
    gf_harness_destroy(&h);

    db_expect(db,
              "SELECT name FROM sqlite_master WHERE type='table' "
              "ORDER BY name;",
              "member\norg\n");
    db_expect(db, "SELECT name, type FROM pragma_table_info('org');",
              "kind|TEXT\nid|TEXT\nname|TEXT\nmembers|INTEGER\nlat|REAL\n"
              "active|BOOLEAN\n");
    db_expect(db, "SELECT name, type FROM pragma_table_info('member');",
              "kind|TEXT\nid|TEXT\nage|INTEGER\npoints|REAL\n"
              "tags|JSON TEXT\naddr|JSON TEXT\nnote|\nplatform|TEXT\n");
    db_expect(db,
              "SELECT id, name, members, typeof(members), lat, "
              "typeof(lat), active FROM org ORDER BY rowid;",
              "o1|美团朝阳站支部|12|integer|39.9|real|1\n"
              "o2|顺丰分拣中心|7|integer|40.0|real|0\n");
    db_expect(db,
              "SELECT id, age, points, typeof(points), tags, addr, "
              "note IS NULL, coalesce(platform, '-') FROM member "
              "ORDER BY rowid;",
              "m1|31|8.5|real|[\"骑手\",1]|{\"city\":\"北京\"}|1|-\n"
              "m2|24|3.0|real|||1|饿了么\n");
    free(db);
    io_rmdir(dir);
}

/* metric rows go to one table per set; other kinds still by kind */
static void test_metric_tables_per_set(void **state)
{
    (void)state;
    static const char *const rows[] = {
        "{\"kind\":\"metric\",\"set\":\"coverage\",\"district\":\"临湖区\","
        "\"coverage\":0.6}",
        "{\"kind\":\"metric\",\"set\":\"leaderboard\",\"rank\":1,"
        "\"points\":480}",
        "{\"kind\":\"metric\",\"set\":\"coverage\",\"district\":\"云溪区\","
        "\"coverage\":0.75}",
        "{\"kind\":\"metric\",\"rank\":2}",
        "{\"kind\":\"member\",\"id\":\"m1\"}",
        NULL,
    };
    char *dir = io_tmpdir();
    char *db = io_fmt("%s/m.db", dir);
    gf_harness *h = io_open("export_sqlite", "path: m.db", dir);
    db_push_all(h, rows);
    assert_int_equal(gf_harness_flush(h), GF_OK);
    assert_int_equal(gf_harness_commit(h), GF_OK);
    assert_int_equal(gf_harness_rejects(h), 0);
    gf_harness_destroy(&h);
    /* a metric row without a set keeps the kind's table */
    db_expect(db,
              "SELECT name FROM sqlite_master WHERE type='table' "
              "ORDER BY name;",
              "coverage\nleaderboard\nmember\nmetric\n");
    db_expect(db, "SELECT district, coverage FROM coverage ORDER BY rowid;",
              "临湖区|0.6\n云溪区|0.75\n");
    db_expect(db, "SELECT rank, points FROM leaderboard;", "1|480\n");
    free(db);
    io_rmdir(dir);
}

static void test_atomic(void **state)
{
    (void)state;
    char *dir = io_tmpdir();
    char *db = io_fmt("%s/a.db", dir);
    /* a new file: nothing is left when the run does not commit */
    gf_harness *h = io_open("export_sqlite", "path: a.db", dir);
    db_push_all(h, mixed);
    assert_int_equal(gf_harness_flush(h), GF_OK);
    gf_harness_destroy(&h);
    assert_int_equal(io_dir_count(dir, NULL, 0), 0);

    /* an existing database: unchanged without commit, and readers see the
       old rows until commit */
    db_expect(db,
              "CREATE TABLE member(id TEXT, age INTEGER);"
              "INSERT INTO member VALUES('m0', 50);",
              "");
    h = io_open("export_sqlite", "{path: a.db, mode: append}", dir);
    db_push_all(h, mixed);
    assert_int_equal(gf_harness_flush(h), GF_OK);
    db_expect(db, "SELECT count(*) FROM member;", "1\n");
    gf_harness_destroy(&h);
    db_expect(db,
              "SELECT count(*) FROM member; SELECT count(*) FROM "
              "sqlite_master WHERE name='org';",
              "1\n0\n");

    h = io_open("export_sqlite", "{path: a.db, mode: append}", dir);
    db_push_all(h, mixed);
    db_expect(db, "SELECT count(*) FROM member;", "1\n");
    assert_int_equal(gf_harness_commit(h), GF_OK);
    db_expect(db, "SELECT id, age FROM member ORDER BY rowid;",
              "m0|50\nm1|31\nm2|24\n");
    gf_harness_destroy(&h);
    free(db);
    io_rmdir(dir);
}

static void test_type_conflict(void **state)
{
    (void)state;
    char *dir = io_tmpdir();
    char *db = io_fmt("%s/t.db", dir);
    static const char *const recs[] = {
        "{\"kind\":\"member\",\"id\":\"m1\",\"age\":31}",
        "{\"kind\":\"member\",\"id\":\"m2\",\"age\":\"thirty\"}",
        "{\"kind\":\"member\",\"id\":\"m3\",\"age\":40.5}",
        "{\"kind\":\"member\",\"id\":42,\"age\":33}",
        "{\"kind\":\"member\",\"id\":\"m5\",\"age\":[1,2]}",
        "{\"id\":\"nokind\"}",
        "{\"kind\":\"sqlite_stat9\",\"a\":1}",
        "{\"kind\":\"member\",\"id\":\"m7\",\"age\":29}",
        NULL,
    };
    gf_harness *h = io_open("export_sqlite", "path: t.db", dir);
    db_push_all(h, recs);
    assert_int_equal(gf_harness_commit(h), GF_OK);
    assert_int_equal(gf_harness_rejects(h), 4);
    db_expect_reject(h, 0,
                     "record 2: table member, column age: a TEXT "
                     "value does not fit the INTEGER column");
    db_expect_reject(h, 0, "\"thirty\"");
    db_expect_reject(h, 1, "record 5: table member, column age: an array");
    db_expect_reject(h, 2, "record 6: no table");
    db_expect_reject(h, 3,
                     "record 7: table names starting with sqlite_ are "
                     "reserved");
    gf_harness_destroy(&h);
    /* a real in an INTEGER column and a number in a TEXT column are kept */
    db_expect(db, "SELECT id, age, typeof(age) FROM member ORDER BY rowid;",
              "m1|31|integer\nm3|40.5|real\n42|33|integer\nm7|29|integer\n");
    free(db);
    io_rmdir(dir);
}

static void test_append_upsert_replace(void **state)
{
    (void)state;
    char *dir = io_tmpdir();
    char *db = io_fmt("%s/u.db", dir);
    static const char *const run1[] = {
        "{\"kind\":\"project\",\"id\":\"p1\",\"budget\":100,\"status\":"
        "\"open\"}",
        "{\"kind\":\"project\",\"id\":\"p2\",\"budget\":200,\"status\":"
        "\"open\"}",
        NULL,
    };
    static const char *const run2[] = {
        "{\"kind\":\"project\",\"id\":\"p3\",\"budget\":300}",
        NULL,
    };
    static const char *const run3[] = {
        "{\"kind\":\"project\",\"id\":\"p2\",\"status\":\"closed\"}",
        "{\"kind\":\"project\",\"id\":\"p4\",\"budget\":400,\"status\":"
        "\"new\"}",
        "{\"kind\":\"project\",\"id\":\"p4\",\"budget\":450}",
        "{\"kind\":\"project\",\"budget\":1}",
        NULL,
    };
    gf_harness *h = io_open("export_sqlite", "{path: u.db, table: proj}", dir);
    db_push_all(h, run1);
    assert_int_equal(gf_harness_commit(h), GF_OK);
    gf_harness_destroy(&h);
    h = io_open("export_sqlite", "{path: u.db, table: proj, mode: append}",
                dir);
    db_push_all(h, run2);
    assert_int_equal(gf_harness_commit(h), GF_OK);
    gf_harness_destroy(&h);
    db_expect(db,
              "SELECT id, budget, coalesce(status,'-') FROM proj "
              "ORDER BY id;",
              "p1|100|open\np2|200|open\np3|300|-\n");

    h = io_open("export_sqlite",
                "{path: u.db, table: proj, mode: upsert, "
                "key: [id]}",
                dir);
    db_push_all(h, run3);
    assert_int_equal(gf_harness_commit(h), GF_OK);
    assert_int_equal(gf_harness_rejects(h), 1);
    db_expect_reject(h, 0, "the key field id is missing");
    gf_harness_destroy(&h);
    /* p2 keeps its budget (absent field), p4 is inserted then updated */
    db_expect(db,
              "SELECT id, budget, coalesce(status,'-') FROM proj "
              "ORDER BY id;",
              "p1|100|open\np2|200|closed\np3|300|-\np4|450|new\n");
    db_expect(db,
              "SELECT count(*) FROM pragma_index_list('proj') "
              "WHERE \"unique\";",
              "1\n");

    /* append with the key: a duplicate is rejected, the run goes on */
    h = io_open("export_sqlite",
                "{path: u.db, table: proj, mode: append, "
                "key: id}",
                dir);
    assert_int_equal(gf_harness_push_json(h, "{\"id\":\"p1\",\"budget\":1}"),
                     GF_OK);
    assert_int_equal(gf_harness_push_json(h, "{\"id\":\"p9\",\"budget\":9}"),
                     GF_OK);
    assert_int_equal(gf_harness_commit(h), GF_OK);
    assert_int_equal(gf_harness_rejects(h), 1);
    db_expect_reject(h, 0, "UNIQUE constraint failed: proj.id");
    gf_harness_destroy(&h);
    db_expect(db, "SELECT count(*), sum(budget) FROM proj;", "5|1059\n");

    /* replace: the old table and its columns are gone */
    h = io_open("export_sqlite", "{path: u.db, table: proj}", dir);
    assert_int_equal(gf_harness_push_json(h, "{}"), GF_OK);
    assert_int_equal(gf_harness_push_json(h, "{\"code\":7}"), GF_OK);
    assert_int_equal(gf_harness_commit(h), GF_OK);
    assert_int_equal(gf_harness_rejects(h), 1);
    db_expect_reject(h, 0, "the record has no fields to write");
    gf_harness_destroy(&h);
    db_expect(db,
              "SELECT name FROM pragma_table_info('proj'); "
              "SELECT code FROM proj;",
              "code\n7\n");
    free(db);
    io_rmdir(dir);
}

static void test_bad_options(void **state)
{
    (void)state;
    char *dir = io_tmpdir();
    char *err =
        io_open_fails("export_sqlite", "{path: x.db, mode: merge}", dir);
    assert_non_null(strstr(err, "unknown mode 'merge'"));
    free(err);
    err = io_open_fails("export_sqlite", "{path: x.db, mode: upsert}", dir);
    assert_non_null(strstr(err, "mode upsert needs `key`"));
    free(err);
    err = io_open_fails("export_sqlite", "path: no/such/x.db", dir);
    char *want = io_fmt("the directory %s/no/such does not exist", dir);
    if (!strstr(err, want))
        fail_msg("unexpected: %s", err);
    free(want);
    free(err);
    /* not a database */
    char *junk = io_fmt("%s/junk.db", dir);
    io_write(junk, "this is not a database, just some text\n", 39);
    err = io_open_fails("export_sqlite", "path: junk.db", dir);
    assert_non_null(strstr(err, "file is not a database"));
    free(err);
    free(junk);
    io_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tables_per_kind),
        cmocka_unit_test(test_metric_tables_per_set),
        cmocka_unit_test(test_atomic),
        cmocka_unit_test(test_type_conflict),
        cmocka_unit_test(test_append_upsert_replace),
        cmocka_unit_test(test_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
