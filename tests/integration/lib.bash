# Shared set-up of the integration tests that run the shipped pipelines
# (district_overview.sh, pilot_district.sh, district_pii.sh): sourced, not
# run. Needs GIGFLOW (the binary) and GF_SOURCE_DIR (the source tree); ctest
# sets both. Gives: SRC (the source tree, absolute), T (a temporary
# directory removed on exit), `needs TOOL...` (fail unless each is
# installed), `fail MESSAGE` (with the head of $T/gf.err, where the tests
# put gigflow's stderr), and coverage_sql, the expected coverage computed
# independently of gigflow.
set -euo pipefail
: "${GIGFLOW:?set GIGFLOW to the gigflow binary}"
: "${GF_SOURCE_DIR:?set GF_SOURCE_DIR to the source tree}"
export LC_ALL=C.UTF-8
SRC=$(cd "$GF_SOURCE_DIR" && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/gf-$(basename "$0" .sh).XXXXXX")
trap 'rm -rf "$T"' EXIT

fail() {
    echo "FAIL: $*" >&2
    [ -s "$T/gf.err" ] && { echo "--- gigflow stderr:" >&2; head -30 "$T/gf.err" >&2; }
    exit 1
}

needs() {
    local tool
    for tool; do
        command -v "$tool" >/dev/null || fail "$tool is needed"
    done
}

# The coverage metric set by one field, as sqlite3 text writing
# expect-SET.csv, by the rules of docs/plugins/aggregate_coverage.md: a
# group's stations are those its members (table m) or organisations (table
# o) name; one is covered when any organisation (of any group) names it.
coverage_sql() { # $1 the by field, $2 the set
    cat <<SQL
.output expect-$2.csv
with st as (select $1 g, station s from m where station is not null
            union select $1, station from o where station is not null),
     grp as (select $1 g from m union select $1 from o where station is not null),
     c as (select g.g g,
       (select count(distinct s) from st where st.g is g.g) stations,
       (select count(distinct s) from st where st.g is g.g
          and s in (select station from o)) covered,
       (select count(*) from m where m.$1 is g.g) workers,
       (select count(*) from m where m.$1 is g.g and party) party_members,
       (select count(*) from m where m.$1 is g.g and party and rel = 'mobile') mobile,
       (select count(*) from m where m.$1 is g.g and org_id is not null) attached
       from grp g)
select '$2' "set", g "$1", stations, covered stations_covered,
       covered * 1.0 / nullif(stations, 0) coverage, workers, party_members,
       mobile mobile_party_members, 1000.0 * party_members / nullif(workers, 0) density,
       attached, attached * 1.0 / nullif(workers, 0) attached_share
from c order by g;
SQL
}
