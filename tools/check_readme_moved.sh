#!/usr/bin/env bash
# check_readme_moved.sh - nothing of an old README was lost when it was split
# into README.md and docs/*.md (issue 25).  A one-off check, kept for review.
#
#   tools/check_readme_moved.sh [REV]    the README of REV (default HEAD)
#
# Every non-empty line of `git show REV:README.md` (prose, tables, code) must
# still appear, as a whole line or inside one, in README.md or docs/*.md.
# Both sides are normalised first: blanks collapsed and trimmed, heading
# marks dropped (a section becomes a page: ## -> #), and links reduced to
# their text ([text](target) -> text), so a moved image or link whose path
# changed (figures/ -> ../figures/) or text that gained a link still matches.
# METHOD.md, moved to docs/method.md, is read as method.md.  Lines that match
# nowhere are printed; exit 1 if there are any besides the intended edits
# listed below.  Also lists every link target of the old README (by file
# name) that no new file links.
set -u
export LC_ALL=C.UTF-8
cd "$(dirname "$0")/.." || exit 1
rev=${1:-HEAD}

norm() {
    sed -E -e 's/[[:space:]]+/ /g' -e 's/^ //' -e 's/ $//' -e 's/^#+ //' \
           -e 's/!?\[([^]]*)\]\([^)]*\)/\1/g'
}
targets() {
    grep -oE '\]\([^)]*\)' | sed -E 's/^\]\(//; s/\)$//; s/#.*//; s#.*/##' | grep -v '^$' | sort -u
}

# old lines deliberately changed (normalised as above) @@ where, and why
intended=(
    "\`--magnitude\` left open, \`train\` trains the best recipe measured below, a four-member @@ docs/training.md: the measurements are no longer below but in accuracy.md (linked)"
    "| \`figures/\` | cairo figures and the run-file contract they read; \`figures/readme/\` the reference runs' figures shown above | @@ docs/layout.md: the figures are no longer above but in figures.md (linked)"
)

old=$(mktemp) new=$(mktemp)
trap 'rm -f "$old" "$new"' EXIT
git show "$rev:README.md" | sed 's/METHOD\.md/method.md/g' > "$old" || exit 1
cat README.md docs/*.md | norm > "$new"

total=0 lost=0 edited=0
while IFS= read -r line; do
    [ -n "$line" ] || continue
    total=$((total + 1))
    grep -qF -- "$line" "$new" && continue
    why=""
    for i in "${intended[@]}"; do
        [ "${i% @@ *}" = "$line" ] && why=${i##* @@ }
    done
    if [ -n "$why" ]; then
        edited=$((edited + 1))
        echo "check-readme-moved: intended edit ($why): $line"
    else
        lost=$((lost + 1))
        echo "check-readme-moved: not found: $line"
    fi
done < <(norm < "$old")

unlinked=0
while IFS= read -r t; do
    echo "check-readme-moved: link target no longer linked: $t"
    unlinked=$((unlinked + 1))
done < <(comm -23 <(targets < "$old") <(cat README.md docs/*.md | targets))
echo "check-readme-moved: $((total - lost - edited)) of $total non-empty lines of" \
     "$rev:README.md found in README.md and docs/*.md, $edited intended edits, $lost lost;" \
     "$unlinked old link targets unlinked"
[ $lost -eq 0 ] && [ $unlinked -eq 0 ]
