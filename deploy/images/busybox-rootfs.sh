#!/usr/bin/env bash
# Build the `busybox` test image's root filesystem from Debian's busybox-static, as a tar
# on stdout or in the file named by $1. Import it with:
#   shoal image import deploy/images/busybox.tar busybox:latest   (or: docker import)
# Nothing is downloaded: the binary comes from the installed package.
set -euo pipefail
BB=${BUSYBOX:-/bin/busybox}
[ -x "$BB" ] || { echo "busybox-rootfs: $BB not found; install Debian's busybox-static" >&2; exit 1; }
file -L "$BB" 2>/dev/null | grep -q "dynamically linked" && { echo "busybox-rootfs: $BB is not static (install busybox-static)" >&2; exit 1; }
out=${1:--}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,root,tmp,var/tmp,var/run,home,proc,sys,dev,run}
chmod 1777 "$root/tmp" "$root/var/tmp"
chmod 755 "$root"
chmod 700 "$root/root"
cp "$BB" "$root/bin/busybox"
chmod 755 "$root/bin/busybox"
# One hard link per applet at its canonical path, as busybox --install would make.
"$BB" --list-full | while read -r applet; do
  [ "$applet" = "bin/busybox" ] && continue
  mkdir -p "$root/$(dirname "$applet")"
  ln -f "$root/bin/busybox" "$root/$applet"
done
cat >"$root/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
P
cat >"$root/etc/group" <<'G'
root:x:0:
daemon:x:1:
bin:x:2:
tty:x:5:
www-data:x:33:
nogroup:x:65534:
G
cat >"$root/etc/hosts" <<'H'
127.0.0.1	localhost
::1	localhost ip6-localhost ip6-loopback
H
: >"$root/etc/resolv.conf"
echo "hosts: files dns" >"$root/etc/nsswitch.conf"
# Fixed times and owners make the tar, and so the image ID, reproducible.
find "$root" -exec touch -h -d @0 {} +
if [ "$out" = - ]; then
  tar --numeric-owner --owner=0 --group=0 --sort=name -C "$root" -cf - .
else
  tar --numeric-owner --owner=0 --group=0 --sort=name -C "$root" -cf "$out" .
fi
