#!/usr/bin/env bash
# Installs every package Tern needs to build, test, fuzz and benchmark, from Debian's archive.
# Idempotent: when everything is present it changes nothing and returns at once.
set -euo pipefail

packages=(
    # build
    g++ cmake ninja-build pkg-config make
    libboost1.81-dev libtomlplusplus-dev libcli11-dev libspdlog-dev libfmt-dev
    libunbound-dev libargon2-dev libsqlite3-dev libssl-dev nlohmann-json3-dev zlib1g-dev
    libgtest-dev libgmock-dev
    # fuzzing and the sanitizer runtime for clang
    clang-19 libclang-rt-19-dev clang-format
    # real peers used by the integration tests and benchmarks
    python3-pytest python3-aiosmtpd python3-dnslib python3-cryptography swaks libnet-ssleay-perl
    python3-dkim python3-authres
    libauthen-sasl-perl libdigest-hmac-perl postfix s-nail
    unbound ldnsutils nsd dnsutils testssl.sh openssl
    procps iproute2 psmisc util-linux e2fsprogs
    # the power-cut test: a FUSE disk recorder (python3-llfuse) and its control (eatmydata)
    python3-llfuse eatmydata
)

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [[ $status == "install ok installed" ]] || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0

echo "install-deps: installing ${missing[*]}"
sudo=()
((EUID == 0)) || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
# Postfix is only a test peer: install it unconfigured so it never starts a system instance.
echo "postfix postfix/main_mailer_type select No configuration" | "${sudo[@]}" debconf-set-selections
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
