#!/usr/bin/env bash
# Every pipeline shown in the documentation validates: each ```yaml block
# of README.md, docs/*.md and docs/plugins/*.md that has a top-level
# `stages:` key is written to a directory of its own and given to
# `gigflow validate`. A block whose first lines hold a comment starting
# with `# fragment` is an excerpt and skipped. Before validating, the
# inputs a snippet names are made where that is harmless: an empty file
# for each relative `path:` that is not a database and not under
# ${...}, a one-rule file for each `rules:`, a 32-byte key (mode 600) for
# each `pseudonymize_key_file:`. Errors about input files that still do
# not exist (an SQLite database) are allowed; any other error fails the
# test, naming the file and the block's number in it (counting the
# ```yaml blocks of that file from 1). It also checks that
# docs/plugins/README.md lists every plugin `gigflow inspect` finds, with
# the same kind and description, and that each has its page.
set -euo pipefail
: "${GIGFLOW:?set GIGFLOW to the gigflow binary}"
: "${GF_SOURCE_DIR:?set GF_SOURCE_DIR to the source tree}"
export LC_ALL=C.UTF-8
SRC=$(cd "$GF_SOURCE_DIR" && pwd)
case $GIGFLOW in /*) ;; */*) GIGFLOW=$PWD/$GIGFLOW ;; esac
T=$(mktemp -d "${TMPDIR:-/tmp}/gf-docs_snippets.XXXXXX")
trap 'rm -rf "$T"' EXIT
unset GIGFLOW_OUT

# Split the yaml blocks of one markdown file into $T/blocks/NAME.N.yaml
# (N counts the file's yaml blocks); print the names of those to check.
extract() { # $1 the markdown file, $2 the name to use
    awk -v out="$T/blocks/$2" '
        function flush() {
            if (keep && !fragment) { print out "." n ".yaml" }
            close(out "." n ".yaml")
        }
        /^[ \t]*```/ {
            if (!inblock && $0 ~ /^[ \t]*```yaml[ \t]*$/) {
                inblock = 1; n++; keep = 0; fragment = 0; head = 1
                match($0, /^[ \t]*/); indent = RLENGTH
                printf "" > (out "." n ".yaml")
                next
            }
            if (inblock) { inblock = 0; flush(); next }
        }
        inblock {
            line = substr($0, indent + 1)
            if (line ~ /^stages:/) keep = 1
            if (head && line ~ /^#[ \t]*fragment/) fragment = 1
            if (line !~ /^#/ && line !~ /^[ \t]*$/) head = 0
            print line > (out "." n ".yaml")
        }
        END { if (inblock) { print "unterminated yaml block " n > "/dev/stderr"; exit 1 } }
    ' "$1"
}

# The relative input files a snippet names, made so validate can look at it.
prepare() { # $1 the snippet, $2 its directory
    local key val
    sed -n -E 's/^[^#]*[{ ,]?(path|rules|pseudonymize_key_file):[ ]*("[^"]*"|[^ ,}#]+).*/\1 \2/p' "$1" |
    while read -r key val; do
        val=${val#\"}
        val=${val%\"}
        case $val in
        /* | - | *'$'* | '' | ..* ) continue ;;
        esac
        mkdir -p "$2/$(dirname "$val")"
        [ -e "$2/$val" ] && continue
        case $key in
        rules)
            printf 'rules:\n  - when: {kind: nothing}\n    drop: true\n' >"$2/$val" ;;
        pseudonymize_key_file)
            head -c 64 /dev/urandom >"$2/$val"
            chmod 600 "$2/$val" ;;
        path)
            case $val in
            *.db | *.sqlite | *.sqlite3 | *.xlsx | *.html) ;;
            *) : >"$2/$val" ;;
            esac ;;
        esac
    done
}

mkdir -p "$T/blocks"
checked=0
failed=()
files=("$SRC/README.md" "$SRC"/docs/*.md "$SRC"/docs/plugins/*.md)
for md in "${files[@]}"; do
    rel=${md#"$SRC"/}
    name=$(echo "$rel" | tr '/' '_')
    extract "$md" "$name" >"$T/list" || { echo "FAIL: $rel: cannot read its yaml blocks" >&2; exit 1; }
    while read -r snippet; do
        n=${snippet%.yaml}
        n=${n##*.}
        dir="$T/run/$name.$n"
        mkdir -p "$dir"
        cp "$snippet" "$dir/pipeline.yaml"
        prepare "$dir/pipeline.yaml" "$dir"
        checked=$((checked + 1))
        rc=0
        (cd "$dir" && timeout 20 "$GIGFLOW" validate pipeline.yaml) \
            >"$dir/out" 2>"$dir/err" || rc=$?
        [ "$rc" -eq 0 ] && continue
        # errors left once the missing inputs are excused
        if [ "$rc" -eq 2 ] && [ -s "$dir/err" ] &&
           ! grep -v -E 'No such file or directory|cannot open the database: unable to open database file' \
                "$dir/err" | grep -q .; then
            continue
        fi
        failed+=("$rel: yaml block $n (exit $rc):"$'\n'"$(sed 's/^/    /' "$dir/err")")
    done <"$T/list"
done

# The plugin index lists every plugin gigflow finds, with its kind and
# its description as `gigflow inspect` prints them, and each has a page.
index="$SRC/docs/plugins/README.md"
(unset GIGFLOW_PLUGIN_PATH; "$GIGFLOW" inspect) >"$T/inspect" || { echo "FAIL: gigflow inspect" >&2; exit 1; }
plugins=0
while read -r pname pkind _ rest; do
    [ "$pname" = NAME ] && continue
    desc=$(echo "$rest" | sed -E 's/[[:space:]]+[^[:space:]]+$//; s/[[:space:]]+/ /g')
    plugins=$((plugins + 1))
    grep -qF "| [$pname]($pname.md) | $pkind | $desc |" "$index" ||
        failed+=("docs/plugins/README.md: no row '| [$pname]($pname.md) | $pkind | $desc |'")
    [ -s "$SRC/docs/plugins/$pname.md" ] || failed+=("docs/plugins/$pname.md is missing")
done < <(sed -n '/^NAME /,/^$/p' "$T/inspect" | sed '/^$/d')
[ "$plugins" -ge 1 ] || failed+=("gigflow inspect listed no plugin")
rows=$(grep -cE '^\| \[[a-z_0-9]+\]\([a-z_0-9]+\.md\) \|' "$index" || true)
[ "$rows" -eq "$plugins" ] ||
    failed+=("docs/plugins/README.md lists $rows plugins, gigflow inspect $plugins")

[ "$checked" -ge 1 ] || { echo "FAIL: only $checked pipeline snippets found" >&2; exit 1; }
if [ "${#failed[@]}" -gt 0 ]; then
    echo "FAIL: ${#failed[@]} problems in the documentation ($checked pipelines checked):" >&2
    printf '%s\n' "${failed[@]}" >&2
    exit 1
fi
echo "ok: $checked documentation pipelines validate; the index lists the $plugins plugins"
