#!/usr/bin/env bash
# Defines (persistent: checkpoints survive restarts) a libvirt domain booting the tiny guest:
# TCG, 1 vCPU, 256 MiB, direct kernel boot of build.sh's vmlinux + initramfs, DISK as virtio
# vda (qcow2), the serial console written to SERIALLOG (readable while the VM runs), no network.
# RUN is the guest's job: workload, check or shell (see init). With --print, prints the XML
# instead of defining it.
#   TINYGUEST_DIR    build.sh's OUTDIR (default /var/lib/libvirt/images/vbackup-tinyguest)
#   VBGUEST_CMDLINE  more kernel command line, e.g. "vbguest.sync=1 vbguest.mib=128"
#   VBGUEST_AGENT=1  adds the QEMU guest agent's channel (org.qemu.guest_agent.0): the guest's
#                    minimal agent answers guest-ping on it
# QEMU runs as libvirt-qemu: the kernel, initrd and SERIALLOG's folder must be reachable by it
# (folders under /var/lib/libvirt/images are; build.sh makes its outputs world-readable).
# usage: define-guest.sh [--print] NAME DISK SERIALLOG RUN
set -euo pipefail
print=0
[ "${1:-}" = --print ] && { print=1; shift; }
name=${1:?usage: define-guest.sh [--print] NAME DISK SERIALLOG RUN}
disk=$(realpath "${2:?disk}")
log=$(realpath -m "${3:?serial log}")
run=${4:?run: workload, check or shell}
dir=$(realpath "${TINYGUEST_DIR:-/var/lib/libvirt/images/vbackup-tinyguest}")
for f in vmlinux initramfs.cpio.gz; do
  [ -s "$dir/$f" ] || { echo "define-guest.sh: no $dir/$f (run build.sh $dir)" >&2; exit 1; }
done

agent=""
[ "${VBGUEST_AGENT:-0}" = 1 ] && agent="    <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
"

xml=$(cat <<XML
<domain type='qemu'>
  <name>$name</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$dir/vmlinux</kernel>
    <initrd>$dir/initramfs.cpio.gz</initrd>
    <cmdline>console=ttyS0 quiet vbguest.run=$run ${VBGUEST_CMDLINE:-}</cmdline>
  </os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$disk'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <serial type='file'><source path='$log'/><target port='0'/></serial>
    <console type='file'><source path='$log'/><target type='serial' port='0'/></console>
${agent}    <video><model type='none'/></video>
    <memballoon model='none'/>
  </devices>
</domain>
XML
)
if [ $print = 1 ]; then
  echo "$xml"
else
  virsh -q -c qemu:///system define /dev/stdin <<< "$xml" >/dev/null
  echo "$name"
fi
