"""Root conftest: kept thin. Test fixtures live in tests/conftest.py."""
