# A shell on myst: run by tests/tools/exec_debian_apps.sh with Debian's
# busybox sh (its applets on PATH) under `myst exec-linux` and natively; the
# outputs must be equal. Pipelines, command substitution, redirections,
# && and ||, exit statuses through pipes, background jobs with wait, read
# from a pipe, here-documents, subshells, traps and signals to jobs.
echo "pipeline: $(echo one two three | tr ' ' '\n' | sort -r | head -n 2 | tr '\n' ' ')"
echo "nested: $(echo "$(echo inner | tr a-z A-Z)")"
false | true; echo "false | true: $?"
true | false; echo "true | false: $?"
set -o pipefail
false | true; echo "pipefail: $?"
set +o pipefail
true && echo "and: ran"
false && echo "and: wrongly ran"
false || echo "or: ran"
work=/tmp/shell-test.$$
mkdir -p "$work"
echo first >"$work/file"
echo second >>"$work/file"
wc -l <"$work/file" | tr -d ' '
cat "$work/file" 2>&1 >/dev/null | wc -c | tr -d ' '
ls "$work/missing" 2>"$work/err" || echo "stderr redirected: $(wc -l <"$work/err" | tr -d ' ') line"
printf 'a b\nc d\n' | while read -r left right; do echo "read: $right $left"; done
echo "piped" | { read -r line; echo "group read: $line"; }
cat <<DOC
here-doc: $((6 * 7))
DOC
(exit 4); echo "subshell status: $?"
(cd "$work")
[ "$(pwd)" != "$work" ] && echo "a subshell's cd stays in the subshell"
sleep 0.2 & first=$!
(sleep 0.1; exit 3) & second=$!
wait "$second"; echo "background status: $?"
wait "$first"; echo "first job: $?"
sleep 10 & victim=$!
kill "$victim"; wait "$victim"; echo "killed job: $?"
trap 'echo "trap: USR1"' USR1
kill -USR1 $$
sh -c 'exit 9'; echo "child shell: $?"
count=0
for word in $(seq 1 50); do count=$((count + word)); done
echo "sum: $count"
echo "xargs: $(printf '1\n2\n3\n' | xargs echo)"
rm -r "$work"
echo done
