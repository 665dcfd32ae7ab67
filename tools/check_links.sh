#!/usr/bin/env bash
# check_links.sh - every relative link of the markdown files resolves
# (`make check-docs`, run by `make test`).
#
#   tools/check_links.sh [ROOT]      check README.md, ARCHITECTURE.md and
#                                    docs/*.md under ROOT (default: .)
#   tools/check_links.sh --self-test
#                                    copy the markdown files, break a link in
#                                    each way once and require the check to
#                                    fail every time
#
# Links are [text](target) and ![alt](target) outside fenced code blocks and
# code spans.  http:, https: and mailto: targets are not followed.  A target
# is a path relative to the file that holds the link (it must exist), with an
# optional #anchor; a bare #anchor refers to the same file.  An anchor must be
# the GitHub slug of a heading of that file: the heading text lowercased,
# everything but letters, digits, spaces, - and _ dropped, spaces turned into
# -, and -1, -2, ... added to repeated headings.
#
# Prints one line per broken link on stderr, `check-links: FILE:LINE: broken
# link TARGET (why)`, and exits 1 if there is one; otherwise one line, how
# many links in how many files resolve.
set -u
export LC_ALL=C.UTF-8

# the GitHub slug of a heading's text
slug_of() {
    local s=$1
    s=$(printf '%s' "$s" | sed -E -e 's/!?\[([^]]*)\]\([^)]*\)/\1/g' -e 's/<[^>]*>//g' \
                                -e 's/.*/\L&/' -e 's/[^[:alnum:] _-]//g' -e 's/ /-/g')
    printf '%s' "$s"
}

# anchor_cache[FILE]: the anchors of a markdown file, one per line (its
# headings outside code fences)
declare -A anchor_cache=()
load_anchors() {
    local f=$1 line text slug fence=0 out="" n
    declare -A seen=()
    [ -n "${anchor_cache[$f]+x}" ] && return
    while IFS= read -r line || [ -n "$line" ]; do
        if [[ $line =~ ^\ {0,3}(\`\`\`|~~~) ]]; then
            fence=$((1 - fence))
            continue
        fi
        [ $fence -eq 1 ] && continue
        [[ $line =~ ^\ {0,3}#{1,6}(\ |$) ]] || continue
        text=$(printf '%s' "$line" | sed -E -e 's/^ {0,3}#{1,6} *//' -e 's/ +#+ *$//' -e 's/ +$//')
        slug=$(slug_of "$text")
        n=${seen[$slug]:-0}
        seen[$slug]=$((n + 1))
        [ "$n" -gt 0 ] && slug="$slug-$n"
        out+="$slug"$'\n'
    done < "$f"
    anchor_cache[$f]=$out
}

has_anchor() { # FILE ANCHOR
    load_anchors "$1"
    grep -qxF -- "$2" <<< "${anchor_cache[$1]}"
}

n_links=0
# check_file ROOT REL: prints broken links, returns 1 if any
check_file() {
    local root=$1 rel=$2 f="$1/$2" dir line lineno=0 fence=0 open=0 clean link target
    local path anchor full bad=0
    dir=$(dirname "$f")
    while IFS= read -r line || [ -n "$line" ]; do
        lineno=$((lineno + 1))
        if [[ $line =~ ^[[:space:]]*(\`\`\`|~~~) ]]; then
            fence=$((1 - fence))
            open=0
            continue
        fi
        [ $fence -eq 1 ] && continue
        # code spans out; one left open runs on to the next line of the paragraph
        if [[ $line =~ ^[[:space:]]*$ ]]; then
            open=0
            continue
        fi
        clean=$line
        [ $open -eq 1 ] && clean="\`$clean"
        while [[ $clean =~ ^([^\`]*)\`[^\`]*\`(.*)$ ]]; do
            clean="${BASH_REMATCH[1]}C${BASH_REMATCH[2]}"
        done
        if [[ $clean == *\`* ]]; then
            open=1
            clean=${clean%%\`*}
        else
            open=0
        fi
        [[ $clean == *\]\(* ]] || continue
        while IFS= read -r link; do
            [ -n "$link" ] || continue
            target=$(printf '%s' "$link" | sed -E 's/^!?\[[^]]*\]\(//; s/\)$//')
            target=${target#"${target%%[! ]*}"}   # leading blanks
            target=${target%% *}                   # a "title" after the target
            target=${target#<}; target=${target%>}
            case $target in
                http://*|https://*|mailto:*) continue ;;
            esac
            n_links=$((n_links + 1))
            if [ -z "$target" ]; then
                echo "check-links: $rel:$lineno: broken link $link (empty target)" >&2
                bad=1; continue
            fi
            path=${target%%#*}
            anchor=""
            [[ $target == *#* ]] && anchor=${target#*#}
            path=${path//%20/ }
            if [ -z "$path" ]; then
                full=$f
            elif [[ $path == /* ]]; then
                full="$root$path"
            else
                full="$dir/$path"
            fi
            if [ -n "$path" ] && [ ! -e "$full" ]; then
                echo "check-links: $rel:$lineno: broken link $target (no such file)" >&2
                bad=1; continue
            fi
            if [ -n "$anchor" ]; then
                if [ -d "$full" ] || [[ $full != *.md ]]; then
                    echo "check-links: $rel:$lineno: broken link $target (an anchor in a file that is not markdown)" >&2
                    bad=1
                elif ! has_anchor "$full" "$anchor"; then
                    echo "check-links: $rel:$lineno: broken link $target (no heading #$anchor in ${path:-this file})" >&2
                    bad=1
                fi
            fi
        done < <(printf '%s\n' "$clean" | grep -oE '!?\[[^]]*\]\([^)]*\)')
    done < "$f"
    return $bad
}

check_tree() {
    local root=$1 bad=0 n_files=0 rel f
    n_links=0
    anchor_cache=()
    for f in "$root/README.md" "$root/ARCHITECTURE.md" "$root"/docs/*.md; do
        [ -f "$f" ] || continue
        rel=${f#"$root"/}
        n_files=$((n_files + 1))
        check_file "$root" "$rel" || bad=1
    done
    if [ $bad -eq 0 ]; then
        echo "check-links: $n_links links in $n_files files resolve"
    fi
    return $bad
}

self_test() {
    local fails=0 case_ tmp e out name file text
    links_tmp=$(mktemp -d) || exit 1
    trap 'rm -rf "$links_tmp"' EXIT
    tmp=$links_tmp
    # must fail: each line is CASE|FILE|TEXT appended to FILE
    local broken=(
        "file|docs/README.md|See [the options](no-such-page.md)."
        "image|README.md|![a figure](figures/readme/no-such-figure.png)"
        "anchor|README.md|See [below](#no-such-heading)."
        "file-anchor|docs/training.md|See [the table](accuracy.md#no-such-heading)."
    )
    # must pass: a link in a code fence is no link; a heading with code and
    # punctuation has GitHub's slug
    local valid=(
        "fence|README.md|"$'\n```\n'"[not a link](no-such-file.md)"$'\n```'
        "slug|docs/README.md|"$'\n## A `code` heading (with, punctuation) & more\n\n'"[up](#a-code-heading-with-punctuation--more)"
    )
    make_copy() {
        rm -rf "$tmp/t"; mkdir -p "$tmp/t"
        for e in * .[!.]*; do
            [ -e "$e" ] || continue
            case $e in
                README.md|ARCHITECTURE.md|docs) cp -r "$e" "$tmp/t/" ;;
                .git) ;;
                *) ln -s "$PWD/$e" "$tmp/t/$e" ;;
            esac
        done
    }
    make_copy
    if ! out=$(check_tree "$tmp/t" 2>&1); then
        echo "check-links self-test: the unchanged copy does not pass:" >&2
        printf '%s\n' "$out" >&2
        return 1
    fi
    for case_ in "${broken[@]}"; do
        name=${case_%%|*}; e=${case_#*|}; file=${e%%|*}; text=${e#*|}
        make_copy
        printf '\n%s\n' "$text" >> "$tmp/t/$file"
        if out=$(check_tree "$tmp/t" 2>&1); then
            echo "check-links self-test: a broken link ($name, in $file) was not caught" >&2
            fails=1
        elif ! printf '%s\n' "$out" | grep -q "^check-links: $file:[0-9]*: broken link"; then
            echo "check-links self-test: a broken link ($name) was not reported as $file:LINE" >&2
            fails=1
        fi
    done
    for case_ in "${valid[@]}"; do
        name=${case_%%|*}; e=${case_#*|}; file=${e%%|*}; text=${e#*|}
        make_copy
        printf '\n%s\n' "$text" >> "$tmp/t/$file"
        if ! out=$(check_tree "$tmp/t" 2>&1); then
            echo "check-links self-test: a valid case ($name, in $file) failed:" >&2
            printf '%s\n' "$out" >&2
            fails=1
        fi
    done
    [ $fails -eq 0 ] &&
        echo "check-links: self-test caught all ${#broken[@]} broken links and passed ${#valid[@]} valid cases"
    return $fails
}

cd "$(dirname "$0")/.." || exit 1
if [ "${1:-}" = "--self-test" ]; then
    self_test
    exit $?
fi
root=${1:-.}
check_tree "$root" || exit 1
