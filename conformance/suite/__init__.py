"""The conformance suite as pytest collects it: ``pytest --pyargs conformance.suite``."""
