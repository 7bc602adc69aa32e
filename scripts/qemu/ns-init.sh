#!/usr/bin/env bash
# PID 1 of the QEMU tier's namespace (started by daemon.sh under `unshare`): binds the private copies over the
# system paths, brings up the namespace's loopback, then runs libvirtd and reaps orphans (QEMU, dnsmasq) until
# it is killed. Everything here happens inside the new mount and network namespaces only.
set -euo pipefail
run="$1"
cache="$2"
# passwd/group/shadow: an overlay on /etc whose upper layer holds our copies. Not bind mounts of the files: when
# the host replaces /etc/passwd (useradd renames a new file over it), the kernel detaches mounts on the old file in
# every namespace, and the namespace would silently see the host's passwd again. Bind mounts are the fallback where
# overlayfs is unavailable.
if ! mount -t overlay overlay -o "lowerdir=/etc,upperdir=$run/etc-upper,workdir=$run/etc-work" /etc 2>/dev/null; then
  for f in passwd group shadow; do mount --bind "$run/etc-upper/$f" "/etc/$f"; done
fi
mount --bind "$run/etc/libvirt" /etc/libvirt
mount --bind "$run/lib" /var/lib/libvirt
mount --bind "$run/run" /run/libvirt
mount --bind "$run/log" /var/log/libvirt
mount --bind "$cache" /var/cache/libvirt
ip link set lo up
echo $$ > "$run/nspid1.inner"
# The host's view of our PID (for nsenter) and of the network namespace (for teardown by PID).
stat -L -c %i /proc/self/ns/net > "$run/netns.inode"
libvirtd > "$run/libvirtd.log" 2>&1 &
daemon=$!
echo "$daemon" > "$run/libvirtd.pid.inner"
# Reap every child, including orphaned QEMU processes, so none lingers as a zombie that libvirt takes for alive.
while :; do
  wait || true
  sleep 1
done
