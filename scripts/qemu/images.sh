#!/usr/bin/env bash
# Builds the guest images of the QEMU test tier into a cache folder (default ~/.cache/clusterdesk-qemu; override with
# CLUSTERDESK_QEMU_CACHE). Safe to run again: each file is rebuilt only when missing.
#
#   vmlinuz             Debian's kernel, extracted from the linux-image package fetched with `apt-get download`
#                       (only vmlinuz and the ten modules the guest loads are unpacked; nothing is installed).
#   initramfs.cpio.gz   busybox-static + /init (below) + those modules, ~1.5 MB.
#   base.qcow2          a 64 MiB empty qcow2 (the VMs' volumes are copy-on-write overlays of it; the guest never
#                       mounts it: it lives in its initramfs).
#
# The guest's /init prints marker lines on the serial console (ttyS0) and reads `cd.acpi=` from the kernel command
# line: `handle` loads evdev + button and powers off on the ACPI power button; `ignore` never reacts to it.
# Prints the cache folder on stdout.
set -euo pipefail

cache="${CLUSTERDESK_QEMU_CACHE:-${HOME:-/root}/.cache/clusterdesk-qemu}"
mkdir -p "$cache"
script="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
cd "$cache"
# One build at a time (two checkouts may run the tier at once).
exec 9>"$cache/.lock"
flock 9
# The initramfs is rebuilt whenever this script (its /init) changes.
recipe=$(sha256sum "$script" | cut -c1-16)
[ "$(cat initramfs.recipe 2>/dev/null)" = "$recipe" ] || rm -f initramfs.cpio.gz

# The modules the guest needs, in load order (virtio NIC, then the ACPI power button through evdev).
NET_MODULES=(virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net)
ACPI_MODULES=(evdev button)

if [ ! -s vmlinuz ] || [ ! -d modules ]; then
  kernel_package() { apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}'; }
  pkg=$(kernel_package)
  [ -n "$pkg" ] || { apt-get update -qq >/dev/null 2>&1 || true; pkg=$(kernel_package); }
  [ -n "$pkg" ] || { echo "images: cannot find the kernel package behind linux-image-amd64 (is this Debian with its main archive in the apt sources?)" >&2; exit 1; }
  tmp=$(mktemp -d "$cache/.kernel.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && apt-get download "$pkg" >/dev/null 2>&1) || { echo "images: apt-get download $pkg failed" >&2; exit 1; }
  deb=$(ls "$tmp"/*.deb)
  mkdir -p "$tmp/x"
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp/x" --wildcards './boot/vmlinuz-*' \
    './lib/modules/*/kernel/drivers/virtio/virtio*.ko' './lib/modules/*/kernel/drivers/net/virtio_net.ko' \
    './lib/modules/*/kernel/drivers/net/net_failover.ko' './lib/modules/*/kernel/net/core/failover.ko' \
    './lib/modules/*/kernel/drivers/input/evdev.ko' './lib/modules/*/kernel/drivers/acpi/button.ko'
  rm -rf modules.new && mkdir modules.new
  for m in "${NET_MODULES[@]}" "${ACPI_MODULES[@]}"; do
    f=$(find "$tmp/x/lib/modules" -name "$m.ko" | head -n 1)
    [ -n "$f" ] || { echo "images: $pkg has no $m.ko" >&2; exit 1; }
    cp "$f" modules.new/
  done
  cp "$tmp"/x/boot/vmlinuz-* vmlinuz.new
  echo "$pkg" > kernel-package
  rm -rf modules && mv modules.new modules && mv vmlinuz.new vmlinuz
  rm -rf "$tmp"
  trap - EXIT
  rm -f initramfs.cpio.gz # rebuilt with the new modules
fi

if [ ! -s initramfs.cpio.gz ]; then
  # busybox-static's binary: the initramfs has no libc for a dynamic one.
  busybox=/bin/busybox
  dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed' && [ -x "$busybox" ] || { echo "images: busybox-static is needed (apt-get install busybox-static)" >&2; exit 1; }
  root=$(mktemp -d "$cache/.initramfs.XXXXXX")
  trap 'rm -rf "$root"' EXIT
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,etc,lib/modules,run}
  cp "$busybox" "$root/bin/busybox"
  cp modules/*.ko "$root/lib/modules/"
  cat > "$root/etc/udhcpc.script" <<'SCRIPT'
#!/bin/sh
# udhcpc calls this with bound/renew: configure the address and say so on the console.
case "$1" in
  bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    echo "CLUSTERDESK-GUEST-DHCP ip=$ip" > /dev/console
    ;;
esac
exit 0
SCRIPT
  cat > "$root/init" <<SCRIPT
#!/bin/busybox sh
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec > /dev/console 2>&1
for m in ${NET_MODULES[*]}; do insmod /lib/modules/\$m.ko; done
acpi=\$(sed -n 's/.*cd\.acpi=\([a-z]*\).*/\1/p' /proc/cmdline)
mac=\$(cat /sys/class/net/eth0/address 2>/dev/null)
if [ "\$acpi" = handle ]; then
  for m in ${ACPI_MODULES[*]}; do insmod /lib/modules/\$m.ko; done
  sleep 1
  for ev in /sys/class/input/event*; do
    if grep -q 'Power Button' "\$ev/device/name" 2>/dev/null; then
      # Any event from the power button powers the guest off at once.
      ( head -c 1 "/dev/input/\${ev##*/}" >/dev/null; echo "CLUSTERDESK-GUEST-POWEROFF mac=\$mac"; poweroff -f ) &
    fi
  done
fi
ip link set lo up
ip link set eth0 up
echo "CLUSTERDESK-GUEST-UP mac=\$mac acpi=\${acpi:-ignore}"
udhcpc -i eth0 -s /etc/udhcpc.script -t 60 -T 2 -A 2 -b >/dev/null 2>&1 &
while :; do sleep 3600; done
SCRIPT
  chmod 0755 "$root/init" "$root/etc/udhcpc.script"
  (cd "$root" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -9) > initramfs.cpio.gz.new
  mv initramfs.cpio.gz.new initramfs.cpio.gz
  echo "$recipe" > initramfs.recipe
  rm -rf "$root"
  trap - EXIT
fi

if [ ! -s base.qcow2 ]; then
  qemu-img create -q -f qcow2 base.qcow2.new 64M
  mv base.qcow2.new base.qcow2
fi

echo "$cache"
