# The README's commands. Each first installs what it needs (Debian packages, libvirt daemons).
SHELL := /bin/bash
export PATH := /opt/swift/usr/bin:$(PATH)
# The PostgreSQL role .ci/setup-host makes; the server tests create and drop their own databases with it.
export VBACKUP_TEST_POSTGRES ?= postgres://vbackup:vbackup@127.0.0.1:5432/vbackup

.PHONY: setup demo test rgw bench bench-store bench-agent bench-server bench-restore bench-s3

setup:
	bash .ci/setup-host

# (1) Build and run the main job on embedded defaults (demo VM, local store).
demo: setup
	swift build -c release --product vbackup
	.build/release/vbackup demo

# (2) The whole test suite: unit tests and integration tests against the real libvirtd, and the
# S3 tests against a real Ceph RADOS Gateway on 127.0.0.1 (.ci/rgw starts it if it is not up).
test: setup
	eval "$$(bash .ci/rgw start)" && swift test

# A real S3 server (Ceph RGW) for trying S3 stores by hand: prints the endpoint and test keys.
rgw: setup
	bash .ci/rgw start

# Speed and size, side by side with virtnbdbackup on the same VM in the same run.
bench: setup
	swift build -c release --product vbackup
	bash Tests/Benchmarks/compare-virtnbdbackup.sh .build/release/vbackup

# Verify and GC: throughput against restic, a million-chunk GC, cost as points accumulate.
bench-store: setup
	swift build -c release --product vbackup
	swift build -c release --product vbackup-storebench
	bash Tests/Benchmarks/store-maintenance.sh .build/release/vbackup .build/release/vbackup-storebench

# What backups cost a working VM: a tiny guest's disk workload alone, beside three unthrottled
# backups, and beside the agent's adaptive throttle (when the build has the agent).
bench-agent: setup
	swift build -c release --product vbackup
	bash Tests/Benchmarks/agent-workload.sh .build/release/vbackup

# The policy server under 1,000 simulated agents (SQLite and PostgreSQL), and an idle agent's cost.
bench-server: setup
	swift build -c release --product vbackup
	swift build -c release --product vbackup-serverbench
	bash Tests/Benchmarks/server-load.sh .build/release/vbackup .build/release/vbackup-serverbench

# How fast a VM comes back: full vs instant restore vs virtnbdrestore, restore throughput, drill RTO.
bench-restore: setup
	swift build -c release --product vbackup
	bash Tests/Benchmarks/restore-speed.sh .build/release/vbackup

# S3 (Ceph RGW on loopback) against the local store, and restic into the same RGW: throughput and requests per GiB.
bench-s3: setup
	swift build -c release --product vbackup
	bash Tests/Benchmarks/s3-throughput.sh .build/release/vbackup
