"""The bureau's rules as configuration: ``YIBAO_POLICY_FILE`` names a YAML file whose keys
override the shipped defaults one by one (a file may give only some keys).

Resolution order, later wins: the shipped defaults, then the preset the file names (``preset:
weihai`` or ``preset: national2024``), then the file's own keys. Nested mappings are merged key by
key; lists (the assessment table) are replaced whole. Every default is documented with its
source in docs/rules.md.
"""

from __future__ import annotations

import copy
import os
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

POLICY_ENV = "YIBAO_POLICY_FILE"

# The shipped defaults. Physician points: the Weihai measures' rules (威人社发〔2018〕55号 第12–18条:
# 12 points a calendar year, two suspensions cancel with a two-year bar, the 2% rule), with the
# thresholds the measures leave to the city filled in from the national scheme (医保发〔2024〕23号:
# 9 points suspend, 12 points end the payment qualification). Assessment: the Jinan table
# (济南, seeds/assessment-methods.txt).
DEFAULTS: dict[str, Any] = {
    "preset": None,
    "physician_points": {
        "initial": 12,
        "suspend_at": 9,
        "suspend_months": 3,
        "cancel_at": 12,
        "suspensions_to_cancel": 2,
        "reapply_bar_years": 2,
        "one_time_reapply_bar_years": None,
        "credit_rating_share": Decimal("0.02"),
        "credit_rating_small_count": 1,
    },
    "assessment_rewards": [
        {"min": Decimal(95), "amount": Decimal(500)},
        {"min": Decimal(91), "amount": Decimal(300)},
        {"min": Decimal(90), "amount": Decimal(100)},
        {"min": Decimal(85), "amount": Decimal(-100)},
        {"min": Decimal(80), "amount": Decimal(-300)},
        {"min": Decimal(75), "amount": Decimal(-600)},
        {"min": Decimal(70), "amount": Decimal(-900)},
        {"min": Decimal(65), "amount": Decimal(-1200)},
        {"min": Decimal(0), "amount": Decimal(-1500)},
    ],
}

# Presets change only what differs from the defaults.
PRESETS: dict[str, dict[str, Any]] = {
    # 威海市医保医师管理暂行办法: the defaults are this preset (its thresholds completed as above).
    "weihai": {},
    # 医保发〔2024〕23号 as the provincial 实施细则 apply it: 9 points in a natural year suspend the
    # payment qualification for 1–6 months (the longest is taken here; a province may shorten it),
    # 12 points end it with no re-registration for 1 year (3 years when 12 points come at once);
    # there is no "n-th suspension cancels" rule.
    "national2024": {
        "physician_points": {
            "suspend_at": 9,
            "suspend_months": 6,
            "cancel_at": 12,
            "suspensions_to_cancel": 0,
            "reapply_bar_years": 1,
            "one_time_reapply_bar_years": 3,
        }
    },
}


class PolicyError(ValueError):
    """The policy file cannot be used; the message says what is wrong (in Chinese)."""


class PhysicianPointsPolicy(BaseModel):
    """Thresholds of physician points (see docs/rules.md for each key's meaning and source)."""

    model_config = ConfigDict(extra="forbid")

    initial: int = Field(ge=1, le=100)
    suspend_at: int = Field(ge=0, le=100, description="0: no suspension")
    suspend_months: int = Field(ge=0, le=60)
    cancel_at: int = Field(ge=0, le=100, description="0: no cancellation by points")
    suspensions_to_cancel: int = Field(ge=0, le=10, description="0: suspensions never cancel")
    reapply_bar_years: int = Field(ge=0, le=10)
    one_time_reapply_bar_years: int | None = Field(default=None, ge=0, le=10)
    credit_rating_share: Decimal = Field(ge=0, le=1)
    credit_rating_small_count: int = Field(ge=0)


class RewardRow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min: Decimal = Field(ge=0, le=100)
    amount: Decimal = Field(max_digits=12, decimal_places=2)

    @field_validator("min", "amount", mode="before")
    @classmethod
    def _no_float(cls, value: Any) -> Any:
        # YAML reads 95.5 as a float: go through its text so 0.1 stays 0.1, never 0.1000000000000000055.
        return Decimal(str(value)) if isinstance(value, float) else value


class Policy(BaseModel):
    """The effective policy. Sections other issues add (notice mode, deadlines, 违约金) are kept
    as given (``extra="allow"``) so that one file serves every rule."""

    model_config = ConfigDict(extra="allow")

    preset: Literal["weihai", "national2024"] | None = None
    physician_points: PhysicianPointsPolicy
    assessment_rewards: list[RewardRow] = Field(min_length=1)

    @field_validator("physician_points", mode="before")
    @classmethod
    def _share_not_float(cls, value: Any) -> Any:
        if isinstance(value, dict) and isinstance(value.get("credit_rating_share"), float):
            value = {**value, "credit_rating_share": Decimal(str(value["credit_rating_share"]))}
        return value

    @model_validator(mode="after")
    def _table_ordered(self) -> Policy:
        mins = [row.min for row in self.assessment_rewards]
        if mins != sorted(mins, reverse=True) or len(set(mins)) != len(mins):
            raise ValueError("assessment_rewards 须按 min 从高到低排列，且 min 不重复")
        if mins[-1] != 0:
            # Without a 0 row a low score would fall outside the table.
            raise ValueError("assessment_rewards 的最后一行须为 min: 0（任何得分都有对应金额）")
        return self

    def reward_for(self, score: Decimal) -> Decimal:
        """The amount for a score: the first row (highest first) whose ``min`` it reaches."""
        for row in self.assessment_rewards:
            if score >= row.min:
                return row.amount
        return self.assessment_rewards[-1].amount  # unreachable: the last row is min 0

    def to_yaml(self) -> str:
        """The effective policy as YAML (decimals written as plain numbers)."""
        return yaml.safe_dump(
            _plain(self.model_dump(mode="python")),
            allow_unicode=True,
            sort_keys=False,
        )


def _plain(value: Any) -> Any:
    """Decimals to int or float text YAML can print without tags (for display only)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``override``'s keys on top: mappings merged key by key, anything else
    (numbers, lists) replaced."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def build(overrides: dict[str, Any] | None = None) -> Policy:
    """The effective policy from the defaults, the named preset and ``overrides``.

    Raises:
        PolicyError: an unknown preset or a value out of range.
    """
    overrides = overrides or {}
    if not isinstance(overrides, dict):
        raise PolicyError("策略文件的顶层须为键值映射（YAML mapping）")
    preset = overrides.get("preset")
    if preset is not None and preset not in PRESETS:
        raise PolicyError(f"未知的预设 preset: {preset!r}，可选 weihai、national2024")
    data = merge(DEFAULTS, PRESETS.get(preset, {}) if preset else {})
    data = merge(data, overrides)
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        problems = "；".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise PolicyError(f"策略文件有误：{problems}") from None


def load(path: Path | None = None) -> Policy:
    """The policy from ``path`` (default: ``YIBAO_POLICY_FILE``; none: the defaults).

    Raises:
        PolicyError: the file is missing, is not YAML, or holds values out of range.
    """
    if path is None:
        raw = os.environ.get(POLICY_ENV, "").strip()
        path = Path(raw).expanduser() if raw else None
    if path is None:
        return build({})
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"无法读取策略文件 {path}：{exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"策略文件 {path} 不是有效的 YAML：{exc}") from None
    return build(data or {})


@lru_cache(maxsize=1)
def _cached(path_text: str) -> Policy:
    return load(Path(path_text) if path_text else None)


def get_policy() -> Policy:
    """The effective policy for this process (read once per ``YIBAO_POLICY_FILE`` value)."""
    return _cached(os.environ.get(POLICY_ENV, "").strip())


def clear_cache() -> None:
    """Forget the loaded policy (tests that change ``YIBAO_POLICY_FILE``)."""
    _cached.cache_clear()
