# work.sh - bash itself allocating: associative and indexed arrays, string
# building, command substitution, subshells and a pipeline.  $1: rounds.
n=${1:-3000}
declare -A seen
declare -a list
s=""
for ((i = 0; i < n; i++)); do
    k="k$(( (i * 7919) % 1000 ))"
    seen[$k]=$(( ${seen[$k]:-0} + 1 ))
    list+=("$k-$i")
    s+="${k:1}"
    (( i % 500 == 0 )) && s=${s:100}
    true
done
echo "keys ${#seen[@]} list ${#list[@]} string ${#s}"
printf '%s\n' "${list[@]}" | sort | uniq -c | sort -rn | head -n 3
total=0
for k in "${!seen[@]}"; do total=$((total + seen[$k])); done
echo "total $total"
words=$( (for w in ${list[@]:0:200}; do echo "${w%%-*}"; done) | sort -u | wc -l)
echo "distinct in the first 200: $words"
