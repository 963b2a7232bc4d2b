.PHONY: setup demo test lint bench docs-shots
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
docs-shots:
	.venv/bin/sfxstudio demo --out demo_out
	xvfb-run -a -s "-screen 0 1440x900x24" .venv/bin/python scripts/docs_screenshots.py demo_out/demo.sfxproj
