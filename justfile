# Every gate CI runs is one recipe here; `.ci/run` installs and then runs `just ci`.
set shell := ["bash", "-euo", "pipefail", "-c"]

default: ci

# ruff lint and format checks
lint:
    ruff check .
    ruff format --check .

# rewrite files with ruff's fixes and formatting
fmt:
    ruff check --fix .
    ruff format .

# mypy --strict over src, tests and benchmarks
typecheck:
    mypy

# the unit suite and doctests: no server, no network; coverage of src/ >= 85%
test-local *ARGS:
    pytest tests/local src docs README.md --doctest-modules --doctest-glob="*.md" -m "not api" --cov --cov-report=term --cov-fail-under=85 {{ARGS}}

# the suite against a real inference engine on 127.0.0.1 (installed and started by the tests)
test-api *ARGS:
    pytest tests/api -m api {{ARGS}}

# the documentation site, with warnings as errors
docs:
    NO_MKDOCS_2_WARNING=1 mkdocs build --strict --site-dir site

# compare botticelli with its peers on a local canned server and real tiny-model servers (prints tables; never fails on a timing)
bench *ARGS:
    python benchmarks/run.py {{ARGS}}

# the same comparison in instructions counted by callgrind, which do not move with the machine's load
bench-instructions *ARGS:
    python benchmarks/instructions.py {{ARGS}}

# stream a generation from a real local engine, through GenerativeModel
demo:
    python -m botticelli demo

ci: lint typecheck docs test-local test-api
