"""The API fixtures (``client``, ``token``, ``api_settings``) for the trend API tests."""

from tests.api.conftest import api_settings, client, token

__all__ = ["api_settings", "client", "token"]
