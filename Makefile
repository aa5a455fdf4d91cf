# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# Qt's X11 plugin needs these Debian/Ubuntu packages; a fresh machine often lacks some.
QT_SYSTEM_LIBS := libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxkbcommon-x11-0 libxcb-image0 \
	libxcb-render-util0 libxcb-shape0 libxcb-randr0 libxcb-xkb1 libxcb-xinerama0 libegl1 libgl1 \
	libfontconfig1 libdbus-1-3

.PHONY: run test test-fast bench wheel clean qt-system-libs

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	# torch first and pinned: pip takes these two from the machine's local wheel store.
	$(PY) -m pip install torch==2.14.1 torchvision==0.29.1
	$(PY) -m pip install -e '.[test]'
	touch $(STAMP)

run: $(STAMP) qt-system-libs
	$(VENV)/bin/doodlepaint

qt-system-libs:
	@command -v dpkg >/dev/null || exit 0; \
	missing=$$(for p in $(QT_SYSTEM_LIBS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	[ -z "$$missing" ] && exit 0; \
	echo "installing the system libraries Qt needs: $$missing"; \
	if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq $$missing; \
	else sudo apt-get update -qq && sudo apt-get install -y -qq $$missing; fi

test: $(STAMP)
	$(VENV)/bin/lint-imports --no-cache
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

# For quick iteration: leaves out the tests marked slow (pyproject.toml says which). CI runs `make test`.
test-fast: $(STAMP)
	$(VENV)/bin/lint-imports --no-cache
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -m "not slow"

bench: $(STAMP)
	$(PY) bench/bench.py --device cpu --sizes 256 --presets Draft Normal --methods patch gram --ref-sizes 256 --cold

wheel: $(STAMP)
	$(PY) -m pip wheel --no-deps -w dist .

clean:
	rm -rf $(VENV) build dist *.egg-info
