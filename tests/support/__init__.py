"""Helpers shared by the test folders (``tests/`` is on ``sys.path``: the
rootdir conftest puts it there, so modules import ``support.polling`` etc.)."""
