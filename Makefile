# The two quick-start commands: `make demo` (the main job) and `make test` (the whole suite).
# Both do all their own set-up on a fresh Debian 12 machine (run as root, or with sudo).

PY ?= python3
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# System packages, one line per concern (each line owned by its driver's build).
SYSDIG_APT := sysdig
EBPF_APT := clang llvm libbpf-dev bpftool
KMOD_APT := linux-headers-amd64 linux-image-amd64 qemu-system-x86 busybox-static make gcc
APT_PACKAGES := $(SYSDIG_APT) $(EBPF_APT) $(KMOD_APT)

.PHONY: demo test setup system-deps ebpf

setup:
	$(PY) -m pip install -q -e '.[test,tui]'

# sysdig 0.29.3 is the compatibility oracle; --no-install-recommends keeps it to the
# tool alone (no dkms, kernel headers or module build).
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# Record a real capture (root and the eBPF driver needed) and show its timeline; where
# recording is impossible, say why and show the bundled capture instead.
DEMO_CAPTURE ?= $${TMPDIR:-/tmp}/scapkit-demo.scap
# The timeline of the recorded commands: processes, and what they did with the files.
DEMO_FILTER := (evt.type in (execve, vfork, clone) and evt.dir=< and evt.rawres>=0) or \
  evt.type in (procexit, write, getdents64) or (fd.name in (/etc/hostname, /tmp) and evt.dir=<)
demo: setup
	@cap=$(DEMO_CAPTURE); \
	echo "$$ scap record -w $$cap -- sh -c 'cat /etc/hostname; ls /tmp > /dev/null'"; \
	if $(SUDO) "$$(command -v $(PY))" -m scapkit.cli record -w $$cap -- sh -c 'cat /etc/hostname; ls /tmp > /dev/null'; then \
	  [ -z "$(SUDO)" ] || $(SUDO) chown "$$(id -u):$$(id -g)" $$cap; \
	else \
	  echo "demo: recording is not possible here (see above); showing the bundled capture instead"; \
	  cap=tests/data/curl_google.scap; \
	fi; \
	echo "$$ scap info $$cap"; $(PY) -m scapkit.cli info $$cap; \
	if [ "$$cap" = tests/data/curl_google.scap ]; then \
	  echo "$$ scap read $$cap | head -n 40"; $(PY) -m scapkit.cli read $$cap | head -n 40; \
	else \
	  echo "$$ scap read $$cap '$(DEMO_FILTER)'"; $(PY) -m scapkit.cli read $$cap '$(DEMO_FILTER)'; \
	fi

# Build the eBPF probe and its loader into the scapkit cache (otherwise done on first use).
ebpf: system-deps setup
	$(PY) -m scapkit.ebpf.build

test: system-deps setup
	SCAPKIT_REQUIRE_SYSDIG=1 $(PY) -m pytest
