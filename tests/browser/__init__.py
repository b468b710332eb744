"""Browser tests of the published reports (a package, so its conftest does not shadow tests/conftest.py)."""
