#!/usr/bin/env bash
# Installs the Debian packages sensorgram needs (build, tests, oracles;
# chromium only for the browser check of report.html in make test).
# Not root: prints the apt-get line to run instead.
set -eu
pkgs=(build-essential pkg-config clang libclang-rt-14-dev
      libtorch-dev libgloo-dev libcsv-dev libpng-dev libfftw3-dev libturbojpeg0-dev
      libcairo2-dev fonts-dejavu-core libjansson-dev libcmocka-dev nettle-dev
      libzip-dev libcurl4-openssl-dev libdeflate-dev
      python3 python3-numpy python3-torch python3-torchvision python3-pil
      python3-sklearn python3-scipy
      curl ca-certificates xz-utils
      chromium)   # tests only: tools/report_check.py opens report.html headless
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "deps: all ${#pkgs[@]} packages present"
    exit 0
fi
line="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing packages; run as root:"
    echo "  apt-get update && $line"
    exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
$line
