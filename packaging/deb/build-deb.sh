#!/usr/bin/env bash
# Builds Tern's Debian package from a built binary, with dpkg-deb from a staging tree (no
# debhelper): `TERN_BIN=build/tern packaging/deb/build-deb.sh OUTDIR`; prints the .deb's path.
# What the package holds and why: docs/packaging.md.
#
# Environment: TERN_BIN (default build/tern), DEB_REVISION (default 1), TERN_MAINTAINER (the
# Maintainer field), TERN_STRIP=0 to keep the binary's debug information.
set -euo pipefail

say() { printf 'build-deb: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/packaging/deb
(($# == 1)) || die "usage: TERN_BIN=PATH $0 OUTDIR"
OUT=$1
BIN=${TERN_BIN:-$ROOT/build/tern}
[[ -x $BIN ]] || die "no executable $BIN (build Tern first, or set TERN_BIN)"
for tool in dpkg-deb dpkg-shlibdeps objcopy; do
    command -v "$tool" >/dev/null || die "$tool missing (scripts/install-deps.sh deb)"
done

VERSION=$(sed -nE 's/^project\(tern VERSION ([0-9][0-9.]*)\b.*/\1/p' "$ROOT/CMakeLists.txt")
[[ -n $VERSION ]] || die "no project(tern VERSION ...) in CMakeLists.txt"
VERSION+=-${DEB_REVISION:-1}
ARCH=$(dpkg --print-architecture)
MAINTAINER=${TERN_MAINTAINER:-Tern maintainers <maintainers@users.noreply.h-seed-d1b10b57.example>}
# The changelog's date and the files' times (dpkg-deb clamps to SOURCE_DATE_EPOCH): the source's
# last commit, so two builds of one tree and binary give the same package.
if [[ -z ${SOURCE_DATE_EPOCH:-} ]]; then
    SOURCE_DATE_EPOCH=$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || date +%s)
fi
export SOURCE_DATE_EPOCH

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
STAGE=$WORK/stage
umask 022

# ---- files ---------------------------------------------------------------------------------------
install -D -m 0755 "$BIN" "$STAGE/usr/sbin/tern"
if [[ ${TERN_STRIP:-1} != 0 ]]; then
    # As dh_strip does; the debug information is most of a RelWithDebInfo binary.
    objcopy --strip-unneeded --remove-section=.comment --remove-section=.note "$STAGE/usr/sbin/tern"
fi
# Tern answers as sendmail or mailq when called by those names (docs/sendmail.md).
ln -s tern "$STAGE/usr/sbin/sendmail"
install -d "$STAGE/usr/bin" "$STAGE/usr/lib"
ln -s ../sbin/tern "$STAGE/usr/bin/mailq"
ln -s ../sbin/sendmail "$STAGE/usr/lib/sendmail"

# The unit as packaging/tern.service has it, with the packaged binary and without the comment
# that tells how to install it by hand.
UNIT=$STAGE/lib/systemd/system/tern.service
install -d "${UNIT%/*}"
{
    echo "# Tern's systemd unit as the tern package installs it (packaging/tern.service,"
    echo "# docs/operations.md)."
    sed -e '1,/^\[Unit\]/{/^\[Unit\]/!d}' -e 's|/usr/local/bin/tern|/usr/sbin/tern|g' \
        "$ROOT/packaging/tern.service"
} >"$UNIT"
chmod 0644 "$UNIT"
! grep -q /usr/local "$UNIT" || die "tern.service still names /usr/local"

install -D -m 0644 "$HERE/tern.toml" "$STAGE/etc/tern/tern.toml"
install -D -m 0644 "$HERE/aliases" "$STAGE/etc/tern/aliases"
install -D -m 0644 "$ROOT/packaging/tern.logrotate" "$STAGE/etc/logrotate.d/tern"

DOC=$STAGE/usr/share/doc/tern
install -D -m 0644 "$HERE/copyright" "$DOC/copyright"
for f in README.md docs/packaging.md docs/operations.md docs/configuration.md docs/sendmail.md \
    docs/local-delivery.md; do
    gzip -9nc "$ROOT/$f" >"$DOC/$(basename "$f").gz"
done
{
    printf 'tern (%s) unstable; urgency=medium\n\n' "$VERSION"
    printf '  * Built from the source tree by packaging/deb/build-deb.sh.\n\n'
    printf ' -- %s  %s\n' "$MAINTAINER" "$(LC_ALL=C date -u -R -d "@$SOURCE_DATE_EPOCH")"
} | gzip -9n >"$DOC/changelog.Debian.gz"
chmod 0644 "$DOC"/*

# ---- control -------------------------------------------------------------------------------------
install -d "$STAGE/DEBIAN"
for script in postinst prerm postrm; do
    install -m 0755 "$HERE/$script" "$STAGE/DEBIAN/$script"
done
(cd "$STAGE" && find etc -type f | sort | sed 's|^|/|') >"$STAGE/DEBIAN/conffiles"
# Checksums of the other files, for debsums and dpkg --verify (conffiles have theirs in dpkg's
# status), as dh_md5sums writes them.
(cd "$STAGE" && find . -type f ! -path './DEBIAN/*' ! -path './etc/*' -printf '%P\0' | sort -z |
    xargs -0 md5sum) >"$STAGE/DEBIAN/md5sums"

# dpkg-shlibdeps wants a source package around the binary: a debian/control of two stanzas.
mkdir -p "$WORK/src/debian"
printf 'Source: tern\n\nPackage: tern\nArchitecture: any\n' >"$WORK/src/debian/control"
SHLIBS=$(cd "$WORK/src" && dpkg-shlibdeps -O "$STAGE/usr/sbin/tern")
SHLIBS=${SHLIBS#shlibs:Depends=}
[[ -n $SHLIBS ]] || die "dpkg-shlibdeps found no library dependency"

SIZE=$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
cat >"$STAGE/DEBIAN/control" <<CONTROL
Package: tern
Version: $VERSION
Architecture: $ARCH
Maintainer: $MAINTAINER
Installed-Size: $SIZE
Depends: $SHLIBS, adduser
Recommends: ca-certificates
Provides: mail-transport-agent
Conflicts: mail-transport-agent
Replaces: mail-transport-agent
Section: mail
Priority: optional
Description: mail transfer agent with a durable spool
 Tern receives mail over SMTP (MX, submission with STARTTLS or implicit TLS
 and AUTH), keeps it in a durable spool, and delivers it to local Maildirs or
 relays it to other domains' mail exchangers. It verifies and signs SPF, DKIM,
 DMARC and ARC, and answers as /usr/sbin/sendmail and mailq.
 .
 The default configuration (/etc/tern/tern.toml) listens on loopback only and
 delivers mail for localhost to Maildirs under /var/lib/tern/mail.
CONTROL

mkdir -p "$OUT"
DEB=$OUT/tern_${VERSION}_${ARCH}.deb
dpkg-deb --root-owner-group -Zxz --build "$STAGE" "$DEB" >/dev/null
say "built $DEB"
printf '%s\n' "$DEB"
