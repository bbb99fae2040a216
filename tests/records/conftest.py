"""The browser harness's fixtures, for the desk test of sealed records (tests/pwa/conftest.py)."""

from tests.pwa.conftest import (  # noqa: F401  (fixtures, used by name)
    browser,
    context,
    new_context,
    page,
    playwright_driver,
    pwa_server,
    start_server,
)
