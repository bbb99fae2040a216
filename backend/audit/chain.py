"""The audit chain's canonical forms, and checking the chain without writing anything.

Three things protect an audit event (docs/audit-chain.md has the reasoning):

- ``mac``: an HMAC-SHA256 over the event's content, written by the application in the same
  INSERT, keyed by a key derived from the deployment's signing key. A row inserted or changed by
  someone holding only database access has no valid MAC. It costs a hash, no coordination.
- ``seq``/``prev_hash``/``hash``: filled later by the sealer, in batches; each event's hash
  covers its canonical form and the hash of the one before it, so a changed, deleted or inserted
  event breaks the chain where it happened, checkable by anyone with a copy of the table.
- signed checkpoints of the chain head: an insider who rewrites the whole chain with fresh
  hashes is caught by anyone who kept an older checkpoint (and by ``yibao audit verify``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives import serialization

from backend.settings import get_settings

# The hash "before" the first event.
GENESIS = "0" * 64
CHECKPOINT_TYPE = "yibao.audit.checkpoint"
CONTENT_FIELDS = (
    "at",
    "actor_id",
    "actor_username",
    "actor_role",
    "device_id",
    "action",
    "entity_type",
    "entity_id",
    "before",
    "after",
    "request_id",
)


def _canonical(value: dict[str, Any]) -> bytes:
    # Sorted keys, no insignificant whitespace, UTF-8: the same bytes from any engine.
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def time_text(at: datetime | str) -> str:
    """A timestamp as the chain writes it: UTC, microseconds, ``Z``."""
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _plain(value: Any) -> Any:
    # PostgreSQL's jsonb gives 1e+16 back as 10000000000000000: integral floats are written as
    # integers so that the form is the same before and after storage on either engine.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _content(row: dict[str, Any]) -> dict[str, Any]:
    content = {name: _plain(row.get(name)) for name in CONTENT_FIELDS}
    content["at"] = time_text(row["at"])
    return content


@lru_cache(maxsize=4)
def _mac_key_for(raw_private: bytes) -> bytes:
    return hashlib.sha256(b"yibao audit event mac\x00" + raw_private).digest()


def mac_key() -> bytes:
    """The HMAC key of audit events, derived from the deployment's signing key (never stored)."""
    from backend.records.keys import signing_key

    private = signing_key(get_settings()).private
    raw = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return _mac_key_for(raw)


def _mac_over(nonce: str, row: dict[str, Any], key: bytes) -> str:
    body = _canonical({"nonce": nonce, **_content(row)})
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def make_mac(row: dict[str, Any], key: bytes | None = None) -> str:
    """The ``mac`` column of a new event: ``<nonce>.<HMAC>`` over its content. The random nonce
    makes a copied row recognisable (two events never share a MAC)."""
    nonce = secrets.token_hex(8)
    return f"{nonce}.{_mac_over(nonce, row, key or mac_key())}"


def mac_holds(row: dict[str, Any], key: bytes) -> bool:
    """Whether the stored ``mac`` matches the event's content."""
    nonce, _, value = (row.get("mac") or "").partition(".")
    return bool(value) and hmac.compare_digest(value, _mac_over(nonce, row, key))


def event_hash(row: dict[str, Any], seq: int, prev_hash: str) -> str:
    """SHA-256 hex of the event's canonical form at chain position ``seq`` after ``prev_hash``."""
    form = {**_content(row), "id": int(row["id"]), "mac": row.get("mac"), "seq": seq,
            "prev_hash": prev_hash}
    return hashlib.sha256(_canonical(form)).hexdigest()


def checkpoint_message(seq: int, head_hash: str, at: datetime | str, key_id: str) -> bytes:
    """The bytes a checkpoint's Ed25519 signature covers (canonical JSON)."""
    return _canonical(
        {
            "type": CHECKPOINT_TYPE,
            "algorithm": "Ed25519",
            "seq": int(seq),
            "head_hash": head_hash,
            "at": time_text(at),
            "key_id": key_id,
        }
    )


@dataclass
class Problem:
    """One broken place: the event (or checkpoint) and what is wrong there."""

    event_id: int | None
    at: str | None
    message: str

    def line(self) -> str:
        """One line for the console, naming the event (id and time)."""
        where = f"审计事件 #{self.event_id}（{self.at}）" if self.event_id is not None else "检查点"
        return f"{where}：{self.message}"


@dataclass
class VerifyReport:
    """What ``verify`` found: sealed and unsealed counts, the head, and the problems in chain order."""

    sealed: int = 0
    unsealed: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    checkpoints: int = 0
    oldest_unsealed: tuple[int, str] | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing is broken (unsealed events are not a break)."""
        return not self.problems


PAGE = 2000


async def verify() -> VerifyReport:
    """Check the whole audit log without writing: every sealed event's link and hash, every
    event's MAC, every checkpoint's signature and head. Unsealed events are counted."""
    from backend.audit.tables import AuditCheckpoint, AuditEvent
    from backend.records.keys import signing_key, verify_signature

    report = VerifyReport()
    key = mac_key()
    seen_macs: set[str] = set()
    mac_era = False  # after the first event written with a MAC, every event must have one
    hashes_at: dict[int, tuple[int, str, str]] = {}

    def check_mac(row: dict[str, Any], at: str) -> None:
        nonlocal mac_era
        mac = row.get("mac")
        if mac is None:
            if mac_era:
                report.problems.append(
                    Problem(row["id"], at, "没有应用写入时的校验码（MAC），是在应用之外插入的")
                )
            return
        mac_era = True
        if mac in seen_macs:
            report.problems.append(Problem(row["id"], at, "与另一事件的校验码相同，是复制插入的"))
        elif not mac_holds(row, key):
            report.problems.append(
                Problem(row["id"], at, "内容与写入时的校验码（MAC）不符，写入后被修改或在应用之外插入")
            )
        seen_macs.add(mac)

    expected_seq, prev_hash, prev_id = 1, GENESIS, None
    while True:
        rows = await (
            AuditEvent.select()
            .where(AuditEvent.seq >= expected_seq)
            .order_by(AuditEvent.seq)
            .limit(PAGE)
            .output(load_json=True)
        )
        for row in rows:
            at = time_text(row["at"])
            seq = row["seq"]
            if seq != expected_seq:
                missing = ""
                if prev_id is not None and row["id"] - prev_id == 2:
                    missing = f"（缺失的应为审计事件 #{prev_id + 1}）"
                elif prev_id is not None and row["id"] - prev_id > 2:
                    missing = f"（缺失的应在审计事件 #{prev_id + 1}–#{row['id'] - 1} 之间）"
                report.problems.append(
                    Problem(
                        row["id"], at,
                        f"链序号 {expected_seq}–{seq - 1} 的事件被删除{missing}",
                    )
                )
            if row["prev_hash"] != prev_hash:
                if seq == expected_seq:
                    report.problems.append(
                        Problem(row["id"], at, "前一事件的哈希不符：其前面的事件被删除、插入或改动")
                    )
            elif row["hash"] != event_hash(row, seq, prev_hash):
                report.problems.append(Problem(row["id"], at, "内容与链上哈希不符：封存后被修改"))
            check_mac(row, at)
            hashes_at[seq] = (row["id"], row["hash"], at)
            report.sealed += 1
            expected_seq, prev_hash, prev_id = seq + 1, row["hash"], row["id"]
        if len(rows) < PAGE:
            break
    report.head_seq, report.head_hash = expected_seq - 1, prev_hash

    # Unsealed events, in the order the sealer will take them.
    after_id = -1
    while True:
        rows = await (
            AuditEvent.select()
            .where(AuditEvent.seq.is_null() & (AuditEvent.id > after_id))
            .order_by(AuditEvent.id)
            .limit(PAGE)
            .output(load_json=True)
        )
        for row in rows:
            at = time_text(row["at"])
            if report.oldest_unsealed is None:
                report.oldest_unsealed = (row["id"], at)
            if row["prev_hash"] is not None or row["hash"] is not None:
                report.problems.append(Problem(row["id"], at, "链字段残缺（有哈希而无链序号）"))
            check_mac(row, at)
            report.unsealed += 1
            after_id = row["id"]
        if len(rows) < PAGE:
            break

    # Checkpoints: signed by this deployment's key, and each names a head the chain still has.
    key_pair = signing_key(get_settings())
    for cp in await AuditCheckpoint.select().order_by(AuditCheckpoint.seq):
        report.checkpoints += 1
        at = time_text(cp["at"])
        label = f"检查点 #{cp['id']}（{at}，链序号 {cp['seq']}）"
        message = checkpoint_message(cp["seq"], cp["head_hash"], cp["at"], cp["key_id"])
        if cp["key_id"] != key_pair.key_id:
            report.problems.append(Problem(None, at, f"{label} 的签名密钥 {cp['key_id']} 不是本系统的密钥"))
            continue
        if not verify_signature(key_pair.public, message, cp["signature"]):
            report.problems.append(Problem(None, at, f"{label} 的签名无效"))
            continue
        found = hashes_at.get(cp["seq"])
        if found is None:
            report.problems.append(
                Problem(None, at, f"{label} 签署的链头已不在链中：其后的事件被删除或链被截断")
            )
        elif found[1] != cp["head_hash"]:
            report.problems.append(
                Problem(found[0], found[2], f"链头与{label} 签署的哈希不符：链被改写")
            )
    return report
