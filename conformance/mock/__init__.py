"""The reference Graph mock of the QR code + PIN API: ``create_app()`` is an ASGI app."""

from conformance.mock.app import GraphMock, MockOptions, create_app
from conformance.mock.rules import DOCUMENTED_RULES, Rules

__all__ = ["DOCUMENTED_RULES", "GraphMock", "MockOptions", "Rules", "create_app"]
