# The two quick-start commands: `make demo` (the main job) and `make test` (the whole suite).
# Both do all their own set-up on a fresh Debian 12 machine (run as root, or with sudo).

PY ?= python3
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# System packages, one line per concern (each line owned by its driver's build).
SYSDIG_APT := sysdig
EBPF_APT :=
KMOD_APT :=
APT_PACKAGES := $(SYSDIG_APT) $(EBPF_APT) $(KMOD_APT)

.PHONY: demo test setup system-deps

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

demo: setup
	$(PY) -m scapkit.cli info tests/data/curl_google.scap
	$(PY) -m scapkit.cli read tests/data/curl_google.scap | head -n 40

test: system-deps setup
	SCAPKIT_REQUIRE_SYSDIG=1 $(PY) -m pytest
