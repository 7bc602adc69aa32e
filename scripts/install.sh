#!/usr/bin/env bash
# Installs everything Clusterdesk needs on a Debian machine (run as root): the Debian packages for libvirt (the
# binding builds against libvirt-dev), sshd (test machines), Chromium (E2E tests, icon rendering), python3-libvirt (the
# refresh bench's baseline), PostgreSQL (the team state backend's tests start private servers with it), then `npm ci`.
# Safe to run again. `--without-qemu` leaves out the QEMU test tier's packages (a libvirt daemon, QEMU, dnsmasq,
# iptables, busybox-static: `npm run test:qemu`, scripts/qemu/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libvirt-dev libvirt0 openssh-server openssh-client chromium ca-certificates python3 python3-libvirt make g++ tar procps passwd e2fsprogs postgresql)
# The QEMU tier (real VMs under a namespaced libvirtd); keep in sync with QEMU_PACKAGES in scripts/qemu/tier.ts.
qemu_packages=(libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86 qemu-utils iptables dnsmasq-base busybox-static util-linux iproute2)
[ "${1:-}" = "--without-qemu" ] || packages+=("${qemu_packages[@]}")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "Installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# sshd's privilege-separation directory (absent until the service has run once).
mkdir -p /run/sshd && chmod 0755 /run/sshd

# Node 22 comes from the `node` devDependency (Electron 45 embeds Node 22); npm scripts run it first on PATH.
npm ci --no-audit --no-fund
