# Sourced by the bench scripts. measure RUNS CMD...: runs CMD RUNS times and
# prints "median_seconds peak_rss_kb" (GNU time's %e and %M).
measure() {
  local runs=$1 times=() rss=0 out m median
  shift
  for _ in $(seq "$runs"); do
    /usr/bin/time -o "$work/time" -f "%e %M" "$@" >/dev/null 2>&1 || true
    out=$(tail -1 "$work/time")
    times+=("${out% *}")
    m=${out#* }
    ((m > rss)) && rss=$m
  done
  median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  echo "$median $rss"
}
