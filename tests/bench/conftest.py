"""The benchmark suite is not part of ``pytest``: it is run with
``uv run python -m tests.bench`` (see run.py). Nothing here is collected."""

collect_ignore_glob = ["*"]
