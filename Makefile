# examgate: `make demo` runs it, `make test` tests it. Both set up .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)

.PHONY: demo test fuzz faults lint bench bundle screenshots clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

# The suite in TEST_WORKERS processes (pytest-xdist), each test given to whichever is free.
TEST_WORKERS ?= 2

test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal

# Schemathesis with every check, a thousand examples per API operation (slower than make test).
fuzz: $(STAMP)
	EXAMGATE_FUZZ_EXAMPLES=1000 $(BIN)/python -m pytest -q -o timeout=3600 tests/server/test_openapi.py

# The fault tests at full size: 150 kills, 200 submissions through the failing network, 60
# candidates per database in the server crash, 300 model runs (over 10,000 steps).
faults: $(STAMP)
	EXAMGATE_KILLS=150 EXAMGATE_FAULT_SUBMISSIONS=200 EXAMGATE_CRASH_CANDIDATES=60 \
	EXAMGATE_MODEL_RUNS=300 $(BIN)/python -m pytest -q -s -o timeout=3600 tests/client/test_kill.py \
	tests/e2e/test_network_faults.py tests/e2e/test_server_crash.py tests/client/test_model.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python -m bench
	$(BIN)/python -m bench.delivery
	$(BIN)/python -m bench.measurement
	$(BIN)/python -m bench.certificates
	$(BIN)/python -m bench.burst --matrix small

# The desktop client as one folder with one program: build/desktop/dist/examgate-client/.
bundle: $(STAMP)
	$(BIN)/pyinstaller --noconfirm --log-level WARN --distpath build/desktop/dist \
	  --workpath build/desktop/work packaging/desktop/examgate-client.spec

# Every candidate screen as PNGs, at 1366x768 and at 200% scaling (screenshots/1x, 2x).
screenshots: $(STAMP)
	$(BIN)/python scripts/screenshots.py --scale 1
	$(BIN)/python scripts/screenshots.py --scale 2

clean:
	rm -rf $(VENV) demo-data bench/out screenshots build
