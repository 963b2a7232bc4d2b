.PHONY: setup demo test lint bench
setup:
	bash scripts/setup.sh
demo:
	bash scripts/demo.sh
test:
	bash scripts/test.sh
lint:
	.venv/bin/ruff check sfxstudio tests bench && .venv/bin/lint-imports && .venv/bin/mypy
bench:
	bash scripts/bench.sh
