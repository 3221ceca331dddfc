"""The reference Graph mock of the QR code + PIN API: ``create_app()`` is an ASGI app."""

from conformance.mock.app import MockOptions, create_app

__all__ = ["MockOptions", "create_app"]
