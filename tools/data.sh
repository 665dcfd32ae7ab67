#!/usr/bin/env bash
# data.sh - prepare data/dsa, the UCI Daily and Sports Activities tree
# (data/dsa/a01/p1/s01.txt ...), for `make data`.
#
#   tools/data.sh [SHARED]
#
# 1. data/dsa already there: nothing to do.
# 2. SHARED/data/daily-sports-activities-p1-p6.tar.xz present: extract it
#    (subjects p1-p6; the tar holds data/aNN/pM/sKK.txt).
# 3. Otherwise download the official UCI archive (all 8 subjects) with
#    curl and check its SHA-256 before unpacking.
#
# Every path extracts into a temporary folder beside data/dsa and renames
# it into place, so an interrupted run never leaves a half-filled data/dsa.
set -euo pipefail

# The UCI archive's SHA-256.  It could not be verified from the machine
# this script was written on (no network): DSA_SHA256 is therefore empty
# and the script refuses an unverified download unless the expected hash
# is given in SG_DSA_SHA256 (or filled in here once confirmed).  The hash
# of what was downloaded is always printed so it can be recorded.
DSA_SHA256=""
DSA_URL="https://archive.ics.uci.edu/static/public/256/daily+and+sports+activities.zip"

shared=${1:-../shared}
dest=data/dsa
tarball="$shared/data/daily-sports-activities-p1-p6.tar.xz"

if [ -d "$dest" ]; then
    echo "data.sh: $dest already exists"
    exit 0
fi
mkdir -p data
tmp=$(mktemp -d data/.dsa.tmp.XXXXXX)
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT

if [ -f "$tarball" ]; then
    echo "data.sh: extracting $tarball into $dest"
    # data/aNN/pM/sKK.txt -> aNN/pM/sKK.txt
    tar -xJf "$tarball" -C "$tmp" --strip-components=1
else
    expected=${SG_DSA_SHA256:-$DSA_SHA256}
    command -v curl >/dev/null || { echo "data.sh: curl is needed to download $DSA_URL" >&2; exit 1; }
    command -v unzip >/dev/null || { echo "data.sh: unzip is needed (apt-get install unzip)" >&2; exit 1; }
    echo "data.sh: downloading $DSA_URL"
    curl -fL --retry 3 -o "$tmp/dsa.zip" "$DSA_URL"
    got=$(sha256sum "$tmp/dsa.zip" | cut -d' ' -f1)
    echo "data.sh: sha256 of the download: $got"
    if [ -z "$expected" ]; then
        echo "data.sh: no expected SHA-256 known; refusing to use an unverified archive." >&2
        echo "data.sh: confirm the hash above (e.g. against a trusted copy) and rerun with" >&2
        echo "data.sh:   SG_DSA_SHA256=$got make data" >&2
        exit 1
    fi
    if [ "$got" != "$expected" ]; then
        echo "data.sh: SHA-256 mismatch: expected $expected, got $got" >&2
        exit 1
    fi
    mkdir "$tmp/unz"
    unzip -q "$tmp/dsa.zip" -d "$tmp/unz"
    # The archive holds data/aNN/... (possibly inside a nested zip).
    inner=$(find "$tmp/unz" -maxdepth 2 -name '*.zip' | head -n 1)
    if [ -n "$inner" ]; then
        unzip -q "$inner" -d "$tmp/unz"
    fi
    a01=$(find "$tmp/unz" -type d -name a01 | head -n 1)
    [ -n "$a01" ] || { echo "data.sh: archive has no a01 folder" >&2; exit 1; }
    mv "$(dirname "$a01")"/a[0-9][0-9] "$tmp/"
    rm -rf "$tmp/unz" "$tmp/dsa.zip"
fi

[ -f "$tmp/a01/p1/s01.txt" ] || { echo "data.sh: extracted tree lacks a01/p1/s01.txt" >&2; exit 1; }
mv "$tmp" "$dest"
trap - EXIT
echo "data.sh: ready: $(find "$dest" -name '*.txt' | wc -l) segment files in $dest"
