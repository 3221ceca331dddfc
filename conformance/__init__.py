"""graph-conformance: a contract-conformance suite for the Microsoft Graph QR code + PIN API."""

__version__ = "0.1.0"
