"""Settings of the rectification domain, read from ``YIBAO_*`` environment variables.

| variable | default | meaning |
|---|---|---|
| ``YIBAO_NOTICE_MODE`` | ``auto`` | ``auto``: a notice is numbered and issued in the submission's transaction; ``draft``: it waits for a supervisor to confirm it (the number is given then) |
| ``YIBAO_DEADLINE_DAYS`` | ``working`` | count an item's ``deadline_days`` in ``working`` days (China's official calendar) or ``calendar`` days |
| ``YIBAO_OBJECTION_WORKING_DAYS`` | ``10`` | objection window (申诉期), in working days after the notice is served |
| ``YIBAO_NOTICE_OFFICE`` | ``city`` | which office numbers a notice: ``city`` (the top-level region of the institution, e.g. 威) or ``county`` (the institution's own region, e.g. 环翠) |
| ``YIBAO_PUBLIC_BASE_URL`` | (the address the request came in on) | public address printed in the notices' QR codes, e.g. ``https://yb.example.cn`` |

They are read when used (cheap), so a change needs no restart of anything but the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from backend.settings import SettingsError

NOTICE_MODES = ("auto", "draft")
DEADLINE_BASES = ("working", "calendar")
OFFICE_LEVELS = ("city", "county")


def _choice(env: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> str:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return allowed[0]
    if raw not in allowed:
        raise SettingsError(f"{name} must be one of {', '.join(allowed)}, got {raw!r}")
    return raw


@dataclass(frozen=True)
class RectificationSettings:
    """Resolved rectification settings (see the module docstring)."""

    notice_mode: str = "auto"
    deadline_basis: str = "working"
    objection_working_days: int = 10
    office_level: str = "city"
    public_base_url: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RectificationSettings:
        """Read the settings.

        Raises:
            SettingsError: a variable is set to a value it can't take.
        """
        env = os.environ if environ is None else environ
        raw_days = env.get("YIBAO_OBJECTION_WORKING_DAYS", "").strip()
        try:
            days = int(raw_days) if raw_days else 10
        except ValueError:
            days = -1
        if not 1 <= days <= 60:
            raise SettingsError(
                f"YIBAO_OBJECTION_WORKING_DAYS must be an integer from 1 to 60, got {raw_days!r}"
            )
        base = env.get("YIBAO_PUBLIC_BASE_URL", "").strip().rstrip("/") or None
        if base is not None and not base.startswith(("http://", "https://")):
            raise SettingsError(f"YIBAO_PUBLIC_BASE_URL must start with http(s)://, got {base!r}")
        return cls(
            notice_mode=_choice(env, "YIBAO_NOTICE_MODE", NOTICE_MODES),
            deadline_basis=_choice(env, "YIBAO_DEADLINE_DAYS", DEADLINE_BASES),
            objection_working_days=days,
            office_level=_choice(env, "YIBAO_NOTICE_OFFICE", OFFICE_LEVELS),
            public_base_url=base,
        )
