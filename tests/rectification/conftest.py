"""Fixtures of the rectification tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from backend.rectification import notify
from tests.rectification.helpers import RecordingNotifier


@pytest.fixture
def notifier() -> Iterator[RecordingNotifier]:
    """A recording notifier installed for one test."""
    recording = RecordingNotifier()
    previous = notify.set_notifier(recording)
    yield recording
    notify.set_notifier(previous)
