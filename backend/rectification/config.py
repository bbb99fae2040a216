"""Settings of the rectification domain, read from ``YIBAO_*`` environment variables.

| variable | default | meaning |
|---|---|---|
| ``YIBAO_NOTICE_MODE`` | ``auto`` | ``auto``: a notice is numbered and issued in the submission's transaction; ``draft``: it waits for a supervisor to confirm it (the number is given then) |
| ``YIBAO_NOTICE_MODE_REGIONS`` | (none) | per region, e.g. ``371002=draft,371000=auto``: the mode of the nearest listed region of the institution wins over ``YIBAO_NOTICE_MODE`` |
| ``YIBAO_DEADLINE_DAYS`` | ``calendar`` | how an item's ``deadline_days`` count when the item gives no ``deadline_basis``: ``calendar`` (自然日) or ``working`` days; objection windows are always working days |
| ``YIBAO_PENALTY_MULTIPLE`` | ``1`` | 违约金 as a multiple of the amount to be returned (追回), as the service agreement sets it |

The policy file (``YIBAO_POLICY_FILE``, :mod:`backend.rules.policy`) may set the same under
``notice``: ``mode``, ``mode_by_region`` (region code → auto|draft), ``deadline_basis`` and
``penalty_multiple``; the file wins over the environment.
| ``YIBAO_OBJECTION_WORKING_DAYS`` | ``10`` | objection window (申诉期), in working days after the notice is served |
| ``YIBAO_NOTICE_OFFICE`` | ``city`` | which office numbers a notice when no regional supervisor organised the inspection (otherwise the organiser's bureau does): ``city`` (the top-level region of the institution, e.g. 威) or ``county`` (the institution's own region, e.g. 环翠) |
| ``YIBAO_PUBLIC_BASE_URL`` | (the address the request came in on) | public address printed in the notices' QR codes, e.g. ``https://yb.example.cn`` |

They are read when used (cheap), so a change needs no restart of anything but the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from backend.settings import SettingsError

NOTICE_MODES = ("auto", "draft")
DEADLINE_BASES = ("calendar", "working")
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
    deadline_basis: str = "calendar"
    objection_working_days: int = 10
    office_level: str = "city"
    public_base_url: str | None = None
    mode_by_region: tuple[tuple[str, str], ...] = ()
    penalty_multiple: Decimal = Decimal(1)

    def mode_for(self, region_codes: list[str]) -> str:
        """The notice mode for an institution whose regions are ``region_codes``, nearest
        first: the first one configured, else the default mode."""
        by_region = dict(self.mode_by_region)
        for code in region_codes:
            if code in by_region:
                return by_region[code]
        return self.notice_mode

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
        by_region = _modes(env.get("YIBAO_NOTICE_MODE_REGIONS", ""))
        mode = _choice(env, "YIBAO_NOTICE_MODE", NOTICE_MODES)
        basis = _choice(env, "YIBAO_DEADLINE_DAYS", DEADLINE_BASES)
        multiple = _multiple(env.get("YIBAO_PENALTY_MULTIPLE", "").strip() or "1")
        policy = _policy_notice()
        if policy:
            if "mode" in policy:
                mode = _checked(policy["mode"], NOTICE_MODES, "notice.mode")
            if "deadline_basis" in policy:
                basis = _checked(policy["deadline_basis"], DEADLINE_BASES, "notice.deadline_basis")
            if "penalty_multiple" in policy:
                multiple = _multiple(str(policy["penalty_multiple"]))
            for code, value in (policy.get("mode_by_region") or {}).items():
                by_region[str(code)] = _checked(
                    value, NOTICE_MODES, f"notice.mode_by_region.{code}"
                )
        return cls(
            notice_mode=mode,
            deadline_basis=basis,
            objection_working_days=days,
            office_level=_choice(env, "YIBAO_NOTICE_OFFICE", OFFICE_LEVELS),
            public_base_url=base,
            mode_by_region=tuple(sorted(by_region.items())),
            penalty_multiple=multiple,
        )


def _checked(value: object, allowed: tuple[str, ...], name: str) -> str:
    text = str(value).strip().lower()
    if text not in allowed:
        raise SettingsError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return text


def _modes(raw: str) -> dict[str, str]:
    modes: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        code, _, mode = part.partition("=")
        if not code.strip():
            raise SettingsError(f"YIBAO_NOTICE_MODE_REGIONS: {part!r} is not CODE=auto|draft")
        modes[code.strip()] = _checked(mode, NOTICE_MODES, f"YIBAO_NOTICE_MODE_REGIONS {code}")
    return modes


def _multiple(raw: str) -> Decimal:
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = Decimal(-1)
    if not value.is_finite() or not Decimal(0) <= value <= Decimal(10):
        raise SettingsError(f"the 违约金 multiple must be a number from 0 to 10, got {raw!r}")
    return value


def _policy_notice() -> dict[str, object]:
    """The ``notice`` section of the policy file, if the rules module and a file are there."""
    try:
        from backend.rules.policy import get_policy
    except ImportError:
        return {}
    extra = get_policy().model_extra or {}
    section = extra.get("notice")
    return section if isinstance(section, dict) else {}
