# knockd itself judges every file in $CHECK_DIR: NAME.accept must start,
# NAME.refuse must be refused. Files are checked in parallel batches; a
# knockd still running after a second has accepted its file.
source "$LIB"
cd "$CHECK_DIR"
files=(*.accept *.refuse)
bad=0; n=0
for ((i = 0; i < ${#files[@]}; i += 16)); do
    pids=()
    for f in "${files[@]:i:16}"; do
        timeout 1 knockd -c "$f" -i lo >"$f.out" 2>&1 &
        pids+=($!)
    done
    for j in "${!pids[@]}"; do
        f=${files[i + j]}
        set +e; wait "${pids[j]}"; rc=$?; set -e
        n=$((n + 1))
        case "$f:$rc" in
            *.accept:124 | *.refuse:1) ;;
            *) bad=$((bad + 1)); echo "MISMATCH $f: knockd exit $rc: $(grep -v '^$' "$f.out" | head -n 2 | tr '\n' ' ')" ;;
        esac
    done
done
note "$n files judged by knockd, $bad disagreements"
[ $bad = 0 ] || fail "knockd disagrees on $bad files"
