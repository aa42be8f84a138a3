#!/bin/sh
# Builds the Debian package from a built binary, with dpkg-deb only (no network, no debhelper):
#   packaging/debian/build.sh BINARY OUTDIR   -> OUTDIR/supervisor-rs_VERSION_amd64.deb
# `make deb` passes the static binary; the package test passes the debug build (and
# DEB_COMPRESSION=none: xz of a debug binary takes long).
# The files are those of `make install-files` with PREFIX=/usr, plus the Debian layout:
# /etc/supervisor/supervisord.conf (including conf.d/*.conf), /var/log/supervisor (postinst),
# the logrotate snippet, the systemd unit in /lib/systemd/system, gzipped man pages.
set -eu
bin=$1
out=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -n 1)
stage=$(mktemp -d)
chmod 0755 "$stage"
trap 'rm -rf "$stage"' EXIT
make -s --no-print-directory -C "$root" install-files BIN="$bin" DESTDIR="$stage" PREFIX=/usr \
    UNITDIR=/lib/systemd/system ZSHCOMPDIR=/usr/share/zsh/vendor-completions
gzip -9n "$stage"/usr/share/man/man*/*
install -D -m 0644 "$root/packaging/supervisord.conf" "$stage/etc/supervisor/supervisord.conf"
install -d -m 0755 "$stage/etc/supervisor/conf.d"
install -D -m 0644 "$root/packaging/supervisor.logrotate" "$stage/etc/logrotate.d/supervisor"
install -D -m 0644 "$root/README.md" "$stage/usr/share/doc/supervisor-rs/README.md"
install -d -m 0755 "$stage/DEBIAN"
size=$(du -sk "$stage" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@SIZE@/$size/" "$root/packaging/debian/control" \
    > "$stage/DEBIAN/control"
printf '%s\n' /etc/supervisor/supervisord.conf /etc/logrotate.d/supervisor \
    > "$stage/DEBIAN/conffiles"
for script in postinst prerm postrm; do
    install -m 0755 "$root/packaging/debian/$script" "$stage/DEBIAN/$script"
done
mkdir -p "$out"
dpkg-deb --root-owner-group "-Z${DEB_COMPRESSION:-xz}" --build "$stage" "$out/supervisor-rs_${version}_amd64.deb" >/dev/null
echo "$out/supervisor-rs_${version}_amd64.deb"
