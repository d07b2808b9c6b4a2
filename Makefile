# Two commands: `make run` and `make test`. Both set up a fresh Debian machine first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
APT_STAMP := /var/tmp/drama-live-studio.apt-stamp
# Node for the obs-websocket-js test: Debian's nodejs/npm only where no node is installed (a
# NodeSource node bundles npm, and Debian's npm would not install beside it)
NODE_APT := $(if $(shell command -v node 2>/dev/null),,nodejs npm)
NODE_DIR := tests/e2e/node
NODE_STAMP := $(NODE_DIR)/node_modules/.installed
APT_PACKAGES := libportaudio2 fonts-noto-cjk fonts-noto-color-emoji xvfb xauth chromium \
	libxkbcommon-x11-0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 \
	libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxcb-cursor0 \
	libegl1 libgl1 libfontconfig1 libdbus-1-3 binutils iptables iproute2 $(NODE_APT) \
	libsrt1.5-openssl nginx libnginx-mod-rtmp

.PHONY: run test setup system-deps lint package clean demo

run: setup
	$(BIN)/studio

setup: system-deps $(STAMP) $(NODE_STAMP)

# Debian packages: only when we are root on Debian/Ubuntu; otherwise say what is needed. The stamp
# holds the list it installed, so a package added to the list is installed on the next run.
system-deps:
	@if [ -f $(APT_STAMP) ] && [ "$$(cat $(APT_STAMP))" = "$(APT_PACKAGES)" ]; then exit 0; fi; \
	if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing system packages: $(APT_PACKAGES)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(APT_PACKAGES) >/dev/null && echo "$(APT_PACKAGES)" > $(APT_STAMP); \
	else \
		echo "Not root or not Debian: make sure these are installed: $(APT_PACKAGES)"; \
	fi

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

# obs-websocket-js for the remote control's end-to-end test (tests/e2e/node), pinned by its lock file
$(NODE_STAMP): $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		cd $(NODE_DIR) && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	else \
		echo "npm is not installed: the obs-websocket-js test will skip (apt-get install nodejs npm)"; \
	fi

lint: setup
	$(BIN)/ruff check studio scenes encoders widgets tests
	$(BIN)/mypy
	$(BIN)/lint-imports

# Runs headless; tests that need a real X server start Xvfb themselves.
test: setup lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -rs -p no:cacheprovider tests

package: setup
	$(BIN)/pyinstaller --noconfirm --clean build.spec

clean:
	rm -rf build dist $(VENV)
