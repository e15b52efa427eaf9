"""Stocky's benchmark suite ("proof under load and faults").

Run it with ``uv run python -m tests.bench`` (``--quick`` for a smoke run,
``--help`` for the options). It is not collected by ``pytest``.
"""
