# Deterministic members CSV for the benchmark: N rows (-v n=...), about
# 100 bytes each, UTF-8, Chinese platform and district names.
BEGIN {
  srand(42)
  np = split("美团,饿了么,顺丰,韵达,申通,中通,圆通,滴滴,叮咚买菜,盒马,货拉拉,闪送", plat, ",")
  nd = split("朝阳区,海淀区,丰台区,西城区,东城区,通州区,昌平区,大兴区", dist, ",")
  print "id,name,phone,platform,district,station,age,party,points,active_days"
  for (i = 1; i <= n; i++) {
    p = plat[1 + int(rand() * np)]
    d = dist[1 + int(rand() * nd)]
    printf "M%08d,骑手%d,1%05d%05d,%s,%s,STN-%04d,%d,%s,%d,%d\n", \
      i, i, int(rand() * 100000), int(rand() * 100000), p, d, int(rand() * 2000), \
      18 + int(rand() * 40), (rand() < 0.08 ? "true" : "false"), \
      int(rand() * 500), int(rand() * 31)
  }
}
