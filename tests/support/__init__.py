"""Helpers shared by the test folders: ``polling`` (waiting with a deadline)
and ``kitchens`` (seed locations, scanners and data directories). ``tests/``
is on ``sys.path`` (the rootdir conftest puts it there), so modules import
``support.polling`` and ``support.kitchens`` by those names."""
