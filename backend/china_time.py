"""The bureaus' clock: China's time zone and today's date there.

Dates a user sees or a rule counts (a notice's issue day, a deadline, a poster's 打印日期, a
day's audit entries) are China's, whatever the server's own zone: between 16:00 and 24:00 UTC
the server's date is a day behind.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

CHINA_TZ = timezone(timedelta(hours=8))
"""Asia/Shanghai: one zone for the whole country, no daylight saving since 1991."""


def today_in_china(now: datetime | None = None) -> date:
    """The date in China at ``now`` (default: the current time)."""
    return (now or datetime.now(UTC)).astimezone(CHINA_TZ).date()
