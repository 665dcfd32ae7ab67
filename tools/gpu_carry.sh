#!/usr/bin/env bash
# gpu_carry.sh - prepares .carry/: the Debian libraries sensorgram's build
# needs besides libtorch, unpacked from their .debs, for a bare GPU machine
# that reaches no package registry (tools/gpu_check.sh builds against it).
#
#   tools/gpu_carry.sh [DIR]       (default .carry; gitignored)
#   DSA_SUBJECTS="p1"              subjects of data/dsa packed as DIR/dsa.tar.xz
#                                  for gpu_check.sh's short run ("" for none)
#
# Downloads each package with `apt-get download` (no root, no install),
# unpacks it with `dpkg -x` into DIR/root, drops what a build never reads
# (docs, man pages, static archives), makes absolute .so links relative,
# writes DIR/env.sh (CPATH, LIBRARY_PATH, LD_LIBRARY_PATH and the
# Makefile's explicit PKG_CFLAGS/PKG_LIBS, so no pkg-config is needed) and
# checks that every header and library the Makefile names is there and
# that the whole folder stays under the device call's 64 MiB carry limit.
#
# Carried: the runtime library and -dev package of libcsv, libpng, libdeflate, FFTW
# (single precision), libturbojpeg, cairo (and the X/font libraries it
# links, which a headless machine may lack), jansson, nettle, zlib,
# cmocka, libzip and libcurl (with the libraries libcurl links: TLS,
# Kerberos, LDAP, ...; the linker needs them too).  Not carried: a C compiler (the GPU machine's own gcc/g++ is
# used; gpu_check.sh stops with a message when there is none) and
# libtorch (the CUDA PyTorch package's own folder is the libtorch).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-.carry}
limit_mib=64

# runtime libraries (with their -dev headers and .so links where we link)
pkgs=(
    libcsv3 libcsv-dev
    libpng16-16 libpng-dev
    libdeflate0 libdeflate-dev
    zlib1g zlib1g-dev
    libfftw3-single3 libfftw3-dev
    libturbojpeg0 libturbojpeg0-dev
    libcairo2 libcairo2-dev
    libpixman-1-0 libfontconfig1 libfreetype6 libexpat1 libbrotli1
    libxcb1 libxcb-shm0 libxcb-render0 libx11-6 libxrender1 libxext6 libxau6 libxdmcp6
    libbsd0 libmd0
    fonts-dejavu-core
    libjansson4 libjansson-dev
    libnettle8 nettle-dev
    libcmocka0 libcmocka-dev
    libzip4 libzip-dev libbz2-1.0 libzstd1
    libcurl4 libcurl4-openssl-dev
    libnghttp2-14 libidn2-0 libunistring2 librtmp1 libssh2-1 libpsl5 libssl3
    libgssapi-krb5-2 libkrb5-3 libk5crypto3 libkrb5support0 libcom-err2 libkeyutils1
    libldap-2.5-0 libsasl2-2 libsasl2-modules-db libdb5.3
    libgnutls30 libhogweed6 libgmp10 libp11-kit0 libtasn1-6 libffi8
)

command -v apt-get >/dev/null || { echo "gpu_carry: apt-get not found (needs a Debian machine)" >&2; exit 1; }
command -v dpkg >/dev/null || { echo "gpu_carry: dpkg not found" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
new="$tmp/carry"
mkdir -p "$new/root" "$tmp/debs"
chmod 755 "$tmp"
chmod 777 "$tmp/debs" # apt-get download drops to the _apt user

echo "gpu_carry: downloading ${#pkgs[@]} packages"
(cd "$tmp/debs" && apt-get download -q "${pkgs[@]}" >/dev/null) || {
    echo "gpu_carry: apt-get download failed (run apt-get update, check the package names)" >&2
    exit 1
}
for deb in "$tmp"/debs/*.deb; do
    dpkg -x "$deb" "$new/root"
done
ls "$tmp"/debs | sed 's/_amd64.deb$//; s/_all.deb$//' >"$new/packages.txt"

# what no build or run reads
r="$new/root"
rm -rf "$r/usr/share/doc" "$r/usr/share/man" "$r/usr/share/info" "$r/usr/share/lintian" \
       "$r/usr/share/bug" "$r/usr/bin" "$r/usr/share/fftw3"
find "$r" -name '*.a' -delete
# FFTW: only single precision is linked
find "$r" \( -name 'libfftw3.so*' -o -name 'libfftw3l*' -o -name 'libfftw3q*' -o -name 'libfftw3_*' \) -delete
# absolute links (libz.so -> /lib/...) would point outside the carry
find "$r" -type l | while read -r link; do
    target=$(readlink "$link")
    case $target in
        /*) ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$r$target")" "$link" ;;
    esac
done
# .so links of libraries not carried (libhogweed, cairo-gobject): unused
find "$r" -xtype l -delete

# The newest glibc symbol version each library needs (bookworm has 2.36):
# gpu_check.sh sets aside those a machine with an older glibc cannot load
# and that it has its own copy of (libexpat needs 2.36, Ubuntu 22.04 has 2.35).
if command -v objdump >/dev/null; then
    (cd "$r" && find . -name 'lib*.so.*' -type f | sort | while read -r f; do
        v=$(objdump -T "$f" 2>/dev/null | grep -o 'GLIBC_2\.[0-9]*' | sort -t. -k2,2n -u | tail -n 1)
        echo "${f#./} ${v#GLIBC_}"
    done) >"$new/glibc_needs.txt"
fi

multi=usr/lib/x86_64-linux-gnu
cat >"$new/env.sh" <<EOF
# sourced by tools/gpu_check.sh: the carried Debian libraries of
# tools/gpu_carry.sh (generated; do not edit).  CARRY is this folder.
CARRY=\${CARRY:-\$(cd "\$(dirname "\${BASH_SOURCE[0]}")" && pwd)}
export CPATH="\$CARRY/root/usr/include:\$CARRY/root/usr/include/x86_64-linux-gnu:\$CARRY/root/usr/include/libpng16:\$CARRY/root/usr/include/cairo\${CPATH:+:\$CPATH}"
export LIBRARY_PATH="\$CARRY/root/$multi:\$CARRY/root/lib/x86_64-linux-gnu\${LIBRARY_PATH:+:\$LIBRARY_PATH}"
export LD_LIBRARY_PATH="\$CARRY/root/$multi:\$CARRY/root/lib/x86_64-linux-gnu\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
# the Makefile's pkg-config output, given explicitly
export PKG_CFLAGS="-I\$CARRY/root/usr/include/libpng16 -I\$CARRY/root/usr/include/cairo"
export PKG_LIBS="-L\$CARRY/root/$multi -Wl,--disable-new-dtags -Wl,-rpath,\$CARRY/root/$multi -Wl,-rpath,\$CARRY/root/lib/x86_64-linux-gnu -lpng16 -lfftw3f -lturbojpeg -lcairo -ljansson -lnettle -lzip -lcurl -lz"
# fontconfig's configuration and the DejaVu fonts for figures
export FONTCONFIG_FILE="\$CARRY/fonts.conf"
EOF
cat >"$new/fonts.conf" <<'EOF'
<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig>
  <dir prefix="relative">root/usr/share/fonts</dir>
  <dir>/usr/share/fonts</dir>
  <cachedir prefix="xdg">fontconfig</cachedir>
</fontconfig>
EOF

# everything the Makefile includes or links must be there
missing=0
for h in csv.h png.h zlib.h fftw3.h turbojpeg.h cairo/cairo.h cairo/cairo-svg.h cairo/cairo-pdf.h \
         jansson.h nettle/sha2.h cmocka.h zip.h zipconf.h x86_64-linux-gnu/curl/curl.h; do
    [ -e "$r/usr/include/$h" ] || { echo "gpu_carry: missing header $h" >&2; missing=1; }
done
for l in csv png16 z fftw3f turbojpeg cairo jansson nettle cmocka zip curl; do
    [ -e "$r/$multi/lib$l.so" ] || [ -e "$r/lib/x86_64-linux-gnu/lib$l.so" ] ||
        { echo "gpu_carry: missing library lib$l.so" >&2; missing=1; }
done
[ -n "$(find "$r/usr/share/fonts" -name 'DejaVuSans.ttf' 2>/dev/null)" ] ||
    { echo "gpu_carry: missing DejaVuSans.ttf" >&2; missing=1; }
[ "$missing" -eq 0 ] || exit 1

# A part of the DSA recordings for the short GPU run (the whole set, 318
# MB of text, is over the limit; each subject is ~15 MB as xz): every
# activity of DSA_SUBJECTS.
subjects=${DSA_SUBJECTS-p1}
shared_dsa=${SG_SHARED:-../shared}/data/daily-sports-activities-p1-p6.tar.xz
if [ -n "$subjects" ]; then
    src=data
    if [ ! -d data/dsa/a01 ]; then
        # no prepared data/dsa: the subjects straight from the shared archive
        [ -f "$shared_dsa" ] || { echo "gpu_carry: no data/dsa and no $shared_dsa" >&2; exit 1; }
        mkdir -p "$tmp/src/dsa"
        wild=()
        for p in $subjects; do wild+=("data/a*/$p/*"); done
        tar -C "$tmp/src/dsa" --strip-components=1 --wildcards -xJf "$shared_dsa" "${wild[@]}" ||
            { echo "gpu_carry: cannot extract $subjects from $shared_dsa" >&2; exit 1; }
        src="$tmp/src"
    fi
    paths=()
    for a in "$src"/dsa/a*; do
        for p in $subjects; do
            [ -d "$a/$p" ] || { echo "gpu_carry: $a/$p missing" >&2; exit 1; }
            paths+=("dsa/$(basename "$a")/$p")
        done
    done
    tar -C "$src" -cf - "${paths[@]}" | xz -4 -T2 >"$new/dsa.tar.xz"
    echo "$subjects" >"$new/dsa_subjects.txt"
fi

kib=$(du -sk "$new" | cut -f1)
if [ "$kib" -ge $((limit_mib * 1024)) ]; then
    echo "gpu_carry: $((kib / 1024)) MiB is over the ${limit_mib} MiB carry limit" >&2
    exit 1
fi
rm -rf "$dir"
mv "$new" "$dir"
echo "gpu_carry: $dir ready: $(wc -l <"$dir/packages.txt") packages, $((kib / 1024)).$(((kib % 1024) * 10 / 1024)) MiB" \
     "(limit $limit_mib MiB); source $dir/env.sh"
