#!/usr/bin/env bash
# A synthetic district through the gigflow CLI: ingest_synth ->
# classify_domain (2 workers) -> aggregate_coverage and aggregate_topk,
# with every generated record also written out. The coverage rows and the
# leaderboard are checked against the same figures computed by sqlite3
# from the generated records; a second run gives the same bytes; an
# aggregate asked for 2 workers is refused with a clear message.
. "$(dirname "$0")/runtime_lib.bash"
command -v sqlite3 >/dev/null || fail "sqlite3 is needed"

pipeline() { # $1 aggregate workers, $2 coverage output
    cat <<Y
name: pilot
stages:
  - name: district
    plugin: ingest_synth
    with: {members: 20000, stations: 800, districts: 2, projects: 50,
           demands: 2000, seed: 3}
  - name: all
    plugin: t_sink
    from: district
    with: {path: all.jsonl}
  - name: classify
    plugin: classify_domain
    workers: 2
    from: district
    with: {as_of: '2025-07-01'}
  - name: coverage
    plugin: aggregate_coverage
    workers: $1
    from: classify
  - name: leaders
    plugin: aggregate_topk
    from: classify
    with: {by: [district], field: points, k: 5, keep: [id]}
  - name: cov_out
    plugin: t_sink
    from: coverage
    with: {path: $2}
  - name: top_out
    plugin: t_sink
    from: leaders
    with: {path: leaders.jsonl}
Y
}
pipeline 1 coverage.jsonl >p.yaml
pipeline 2 coverage2.jsonl >p2.yaml

gf run p.yaml --quiet
expect_rc 0 "pilot run"
[ "$(lines all.jsonl)" -eq $((20000 + 2000 + 50 + 2 * 16 + 480)) ] ||
    fail "generated $(lines all.jsonl) records"

# JSON lines -> one JSON array, for sqlite3's json_each(readfile(...))
arr() { { echo '['; sed '$!s/$/,/' "$1"; echo ']'; } >"$2"; }
arr all.jsonl all.json
arr coverage.jsonl cov.json
arr leaders.jsonl top.json

got=$(sqlite3 -batch -noheader :memory: "
  select json_extract(value,'\$.set'), json_extract(value,'\$.district'),
         json_extract(value,'\$.stations'), json_extract(value,'\$.stations_covered'),
         json_extract(value,'\$.workers'), json_extract(value,'\$.party_members'),
         json_extract(value,'\$.mobile_party_members'), json_extract(value,'\$.attached'),
         printf('%.9f', json_extract(value,'\$.density'))
  from json_each(readfile('cov.json'));")
want=$(sqlite3 -batch -noheader :memory: "
  create table r as select value j from json_each(readfile('all.json'));
  create table m as select json_extract(j,'\$.district') d, json_extract(j,'\$.station') st,
    json_extract(j,'\$.party') party, json_extract(j,'\$.rel') rel,
    json_extract(j,'\$.org_id') org from r where json_extract(j,'\$.kind') = 'member';
  create table o as select json_extract(j,'\$.district') d, json_extract(j,'\$.station') st
    from r where json_extract(j,'\$.kind') = 'org' and json_extract(j,'\$.station') is not null;
  create table gs as select d, st from m union select d, st from o;
  select 'coverage', d, count(*), sum(st in (select st from o)),
    (select count(*) from m where m.d = g.d),
    (select count(*) from m where m.d = g.d and party),
    (select count(*) from m where m.d = g.d and party and rel = 'mobile'),
    (select count(*) from m where m.d = g.d and org is not null),
    printf('%.9f', 1000.0 * (select count(*) from m where m.d = g.d and party)
                          / (select count(*) from m where m.d = g.d))
  from gs g group by d order by d;")
[ "$got" = "$want" ] || fail "coverage differs:
$got
--- expected:
$want"

got=$(sqlite3 -batch -noheader :memory: "
  select json_extract(value,'\$.district'), json_extract(value,'\$.rank'),
         json_extract(value,'\$.id'), json_extract(value,'\$.points')
  from json_each(readfile('top.json'));")
want=$(sqlite3 -batch -noheader :memory: "
  create table m as select json_extract(value,'\$.district') d,
    json_extract(value,'\$.id') id, json_extract(value,'\$.points') p
    from json_each(readfile('all.json')) where json_extract(value,'\$.kind') = 'member';
  select d, rn, id, p from (select d, id, p, row_number() over
    (partition by d order by p desc, id) rn from m) where rn <= 5 order by d, rn;")
[ "$got" = "$want" ] || fail "leaderboard differs:
$got
--- expected:
$want"

# the same options, the same bytes (whatever the workers' timing)
mkdir again && cp p.yaml again/ && (cd again && gf run p.yaml --quiet)
expect_rc 0 "second run"
cmp all.jsonl again/all.jsonl || fail "generated records differ between runs"
cmp coverage.jsonl again/coverage.jsonl || fail "coverage differs between runs"
cmp leaders.jsonl again/leaders.jsonl || fail "leaderboard differs between runs"

# an aggregate cannot be split over workers (no merge of partial states):
# refused by the runtime (exit 2) or by the plugin's init (exit 1)
gf run p2.yaml --quiet
[ "$rc" -eq 1 ] || [ "$rc" -eq 2 ] || fail "aggregate with 2 workers: exit $rc"
expect_err "workers"
[ ! -e coverage2.jsonl ] || fail "a refused run wrote output"
echo "synth_pilot: ok"
