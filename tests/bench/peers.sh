#!/usr/bin/env bash
# The same computation as pipeline.yaml in the tools a user would pick
# instead. Each function reads $1 (the CSV) and writes district,sector,
# workers,party,points rows (no header) to stdout.
SECTOR_AWK='BEGIN { FS = ","
  s["美团"]="food_delivery"; s["饿了么"]="food_delivery"
  s["顺丰"]="express"; s["韵达"]="express"; s["申通"]="express"
  s["中通"]="express"; s["圆通"]="express"; s["闪送"]="express"
  s["滴滴"]="ride_hailing"; s["叮咚买菜"]="grocery"; s["盒马"]="grocery"
  s["货拉拉"]="freight" }
NR > 1 { k = $5 "," s[$4]; w[k]++; if ($8 == "true") p[k]++; pts[k] += $9 }
END { for (k in w) printf "%s,%d,%d,%d\n", k, w[k], p[k], pts[k] }'

peer_mawk() { mawk "$SECTOR_AWK" "$1"; }
peer_gawk() { gawk "$SECTOR_AWK" "$1"; }
peer_gawk_c() { LC_ALL=C gawk "$SECTOR_AWK" "$1"; }

peer_miller() {
  mlr --icsv --ocsv --headerless-csv-output \
    put '$sector = {"美团":"food_delivery","饿了么":"food_delivery","顺丰":"express","韵达":"express","申通":"express","中通":"express","圆通":"express","闪送":"express","滴滴":"ride_hailing","叮咚买菜":"grocery","盒马":"grocery","货拉拉":"freight"}[$platform]; $p = $party == "true" ? 1 : 0' \
    then stats1 -a count,sum -f p,points -g district,sector \
    then cut -o -f district,sector,p_count,p_sum,points_sum "$1"
}

peer_sqlite3() {
  sqlite3 :memory: <<SQL
.mode csv
.import $1 members
.mode list
.separator ,
CREATE TEMP TABLE sector(platform TEXT, sector TEXT);
INSERT INTO sector VALUES ('美团','food_delivery'),('饿了么','food_delivery'),
 ('顺丰','express'),('韵达','express'),('申通','express'),('中通','express'),
 ('圆通','express'),('闪送','express'),('滴滴','ride_hailing'),
 ('叮咚买菜','grocery'),('盒马','grocery'),('货拉拉','freight');
SELECT m.district, s.sector, count(*), sum(m.party = 'true'), sum(CAST(m.points AS INTEGER))
FROM members m JOIN sector s USING (platform) GROUP BY 1, 2;
SQL
}
