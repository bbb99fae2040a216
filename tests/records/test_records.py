"""Sealed records: the seal written at submission, tampering caught by ``yibao records verify``,
the evidence ZIP checked offline by ``yibao records check``, and who may export it."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from backend.inspections.tables import Finding, Inspection, Photo
from backend.records.keys import load_public_pem
from backend.records.verify import check_zip, verify_records
from backend.settings import get_settings
from backend.storage import get_file_store
from tests.cli_helpers import run_yibao
from tests.rectification.helpers import make_tenant, submit

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture(scope="module")
async def sealed(client: httpx.AsyncClient, login) -> dict[str, Any]:
    """One submitted inspection (with failed items, photos and a notice) and its tenant."""
    tenant = await make_tenant(client, login)
    result = await submit(client, login, tenant)
    return {"tenant": tenant, "id": result["id"]}


async def _detail(client: httpx.AsyncClient, headers: dict[str, str], inspection_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/inspections/{inspection_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def _zip(client: httpx.AsyncClient, headers: dict[str, str], inspection_id: str) -> bytes:
    response = await client.get(f"/api/inspections/{inspection_id}/evidence.zip", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    return response.content


def _cli_verify(inspection_id: str) -> tuple[int, str]:
    done = run_yibao("records", "verify", "--inspection", inspection_id)
    return done.returncode, done.stdout + done.stderr


async def _verify(inspection_id: str) -> tuple[int, str]:
    """The same check in this process (the command itself is run where its exit code matters:
    a subprocess costs seconds)."""
    report = await verify_records(get_settings(), {inspection_id})
    return (0 if report.ok else 1), "\n".join(report.problems)


async def test_signing_key_is_public_and_checks_the_seal(
    client: httpx.AsyncClient, login, sealed: dict[str, Any]
) -> None:
    response = await client.get("/public/signing-key")
    assert response.status_code == 200
    key = response.json()
    assert set(key) == {"key_id", "algorithm", "public_key_pem"}
    assert key["algorithm"] == "Ed25519"
    assert key["public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----")
    public = load_pem_public_key(key["public_key_pem"].encode())
    assert isinstance(public, Ed25519PublicKey)

    detail = await _detail(client, await login("supervisor"), sealed["id"])
    seal = detail["seal"]
    assert seal["key_id"] == key["key_id"]
    assert len(seal["digest"]) == 64 and seal["short_digest"] == seal["digest"][:16]
    assert seal["sealed_at"]
    # The detail's seal is over exactly the bytes the export carries.
    data = await _zip(client, await login("supervisor"), sealed["id"])
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        record = z.read("record.json")
    assert hashlib.sha256(record).hexdigest() == seal["digest"]
    public.verify(base64.b64decode(seal["signature"]), record)  # raises when it does not hold


async def test_record_json_is_canonical_and_complete(
    client: httpx.AsyncClient, login, sealed: dict[str, Any]
) -> None:
    data = await _zip(client, await login("supervisor"), sealed["id"])
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        raw = z.read("record.json")
        names = z.namelist()
        signature = json.loads(z.read("signature.json"))
    record = json.loads(raw)
    assert raw == json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert set(signature) == {"digest", "signature", "key_id", "algorithm", "sealed_at"}
    tenant = sealed["tenant"]
    assert record["institution"] == {"id": tenant.institution_id, "code": tenant.code, "name": tenant.name}
    assert record["inspection"]["id"] == sealed["id"]
    assert isinstance(record["score"]["total"], str) and record["score"]["grade"]
    assert record["times"]["submitted_at"].endswith("Z")
    assert {i["id"] for i in record["inspectors"]} == set(tenant.inspectors)
    failed = {f["item"]: f for f in record["findings"] if f["result"] == "fail"}
    assert failed["price-posting.price-tags"]["occurrences"] == 3
    assert failed["records.rx-retention"]["sampled"] == 20
    assert "population" in failed["records.rx-retention"]
    hashes = [p["sha256"] for f in record["findings"] for p in f["photos"]]
    hashes += [s["photo"]["sha256"] for s in record["signatures"]]
    assert hashes and len(record["signatures"]) >= 3
    for digest in hashes:
        assert any(n.startswith(f"photos/{digest}.") for n in names), digest
    # The 整改通知书 was issued at submission: its PDF is in the export (when a font is installed).
    from backend.rectification.documents import _candidates

    if _candidates():
        assert "notice.pdf" in names


async def test_verify_names_changed_fields_and_passes_when_put_back(sealed: dict[str, Any]) -> None:
    inspection_id = sealed["id"]
    code, out = _cli_verify(inspection_id)
    assert code == 0, out
    assert "1 sealed records verified" in out

    finding = (
        await Finding.select(Finding.id, Finding.item_id, Finding.result, Finding.note)
        .where((Finding.inspection == inspection_id) & (Finding.item_id == "signage.complaint"))
        .first()
    )
    assert finding is not None and finding["result"] == "fail"
    score = (await Inspection.select(Inspection.score_total).where(Inspection.id == inspection_id).first())[
        "score_total"
    ]

    await Finding.update({Finding.result: "pass"}).where(Finding.id == finding["id"])
    code, out = _cli_verify(inspection_id)
    assert code == 1
    assert inspection_id in out and "findings[signage.complaint].result" in out, out
    await Finding.update({Finding.result: "fail"}).where(Finding.id == finding["id"])

    await Finding.update({Finding.note: "改过的说明"}).where(Finding.id == finding["id"])
    code, out = await _verify(inspection_id)
    assert code == 1 and "findings[signage.complaint].note" in out, out
    await Finding.update({Finding.note: finding["note"]}).where(Finding.id == finding["id"])

    await Inspection.update({Inspection.score_total: 99.5}).where(Inspection.id == inspection_id)
    code, out = await _verify(inspection_id)
    assert code == 1 and "score.total" in out and inspection_id in out, out
    await Inspection.update({Inspection.score_total: score}).where(Inspection.id == inspection_id)

    code, out = await _verify(inspection_id)
    assert code == 0, out


async def test_verify_names_a_damaged_photo_file(sealed: dict[str, Any]) -> None:
    inspection_id = sealed["id"]
    photo = (
        await Photo.select(Photo.id, Photo.storage_key)
        .where(Photo.inspection_id == inspection_id)
        .first()
    )
    path = get_file_store(get_settings()).path_for(photo["storage_key"])
    assert path is not None
    original = path.read_bytes()
    damaged = bytearray(original)
    damaged[len(damaged) // 2] ^= 0x01
    path.write_bytes(bytes(damaged))
    try:
        code, out = await _verify(inspection_id)
        assert code == 1
        assert f"photo {photo['id']}" in out and inspection_id in out, out
    finally:
        path.write_bytes(original)
    code, out = await _verify(inspection_id)
    assert code == 0, out


def _rewrite(data: bytes, replace: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            dst.writestr(name, replace.get(name, src.read(name)))
    return out.getvalue()


async def test_evidence_zip_checks_offline_and_names_what_fails(
    client: httpx.AsyncClient, login, sealed: dict[str, Any], tmp_path: Path
) -> None:
    data = await _zip(client, sealed["tenant"].manager, sealed["id"])
    key = (await client.get("/public/signing-key")).json()
    key_file = tmp_path / "key.pem"
    key_file.write_text(key["public_key_pem"])

    good = tmp_path / "good.zip"
    good.write_bytes(data)
    done = run_yibao("records", "check", str(good), "--key", str(key_file))
    assert done.returncode == 0, done.stdout + done.stderr

    # The lawyer's few lines of Python in docs/evidence.md verify it too, without this software.
    import re
    import subprocess
    import sys

    doc = (Path(__file__).resolve().parents[2] / "docs" / "evidence.md").read_text()
    snippet = re.search(r"```python\n(.*?)```", doc, re.S).group(1)
    (tmp_path / "evidence.zip").write_bytes(data)
    ran = subprocess.run([sys.executable, "-c", snippet], cwd=tmp_path, capture_output=True, text=True)
    assert ran.returncode == 0 and "verify" in ran.stdout, ran.stderr

    with zipfile.ZipFile(io.BytesIO(data)) as z:
        photo = next(n for n in z.namelist() if n.startswith("photos/"))
        photo_bytes = bytearray(z.read(photo))
        record = json.loads(z.read("record.json"))
        signature = json.loads(z.read("signature.json"))
    photo_bytes[-10] ^= 0x01
    flipped = tmp_path / "flipped.zip"
    flipped.write_bytes(_rewrite(data, {photo: bytes(photo_bytes)}))
    report = check_zip(flipped, load_public_pem(key["public_key_pem"]))
    assert len(report.problems) == 1, report.problems
    assert photo in report.problems[0] and "SHA-256" in report.problems[0]

    # record.json edited and re-hashed, but not re-signed (no key): the signature fails.
    record["score"]["total"] = "100.0"
    edited = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    signature["digest"] = hashlib.sha256(edited).hexdigest()
    forged = tmp_path / "forged.zip"
    forged.write_bytes(
        _rewrite(
            data,
            {"record.json": edited, "signature.json": json.dumps(signature).encode()},
        )
    )
    done = run_yibao("records", "check", str(forged), "--key", str(key_file))
    assert done.returncode == 1
    assert "signature.json: the signature does not verify over record.json" in done.stdout, done.stdout


async def test_evidence_zip_permissions(client: httpx.AsyncClient, login, sealed: dict[str, Any]) -> None:
    from tests.inspections.helpers import new_assignment

    tenant = sealed["tenant"]
    url = f"/api/inspections/{sealed['id']}/evidence.zip"
    for who in ("inspector", "supervisor", "admin"):
        assert (await client.get(url, headers=await login(who))).status_code == 200, who
    assert (await client.get(url, headers=tenant.manager)).status_code == 200
    # Another county's staff and another institution's manager: as if it did not exist.
    assert (await client.get(url, headers=await login("inspector3"))).status_code == 404
    assert (await client.get(url, headers=await login("manager.pharmacy"))).status_code == 404
    assert (await client.get(url)).status_code == 401

    # A draft has no seal and no export, for anyone; its manager does not even learn it exists.
    other = await make_tenant(client, login)
    assignment = await new_assignment(client, await login("supervisor"), other.code, other.inspectors)
    import uuid

    from tests.inspections.helpers import now_iso, push

    draft_id = str(uuid.uuid4())
    pushed = await push(
        client,
        other.inspector,
        [
            {
                "id": draft_id,
                "assignment_id": assignment["id"],
                "checklist_id": assignment["checklist"]["checklist_id"],
                "checklist_version": assignment["checklist"]["version"],
                "client_updated_at": now_iso(),
                "findings": [],
            }
        ],
    )
    assert pushed.status_code == 200, pushed.text
    draft_url = f"/api/inspections/{draft_id}/evidence.zip"
    assert (await client.get(draft_url, headers=other.inspector)).status_code == 404
    assert (await client.get(draft_url, headers=other.manager)).status_code == 404
    detail = await _detail(client, other.inspector, draft_id)
    assert detail["seal"] is None


async def test_notice_and_its_public_page_show_the_short_digest(
    client: httpx.AsyncClient, login, sealed: dict[str, Any]
) -> None:
    from tests.rectification.helpers import notice_of

    supervisor = await login("supervisor")
    short = (await _detail(client, supervisor, sealed["id"]))["seal"]["digest"][:16]
    notice = await notice_of(client, supervisor, sealed["id"])
    page = await client.get(f"/api/rectification/notices/{notice['id']}/document", headers=supervisor)
    assert page.status_code == 200
    assert f"检查记录摘要：{short}" in page.text
    assert notice["verify_url"]
    public = await client.get("/verify/" + notice["verify_url"].rsplit("/verify/", 1)[1])
    assert public.status_code == 200
    assert "检查记录摘要" in public.text and short in public.text


async def test_production_requires_the_signing_key(tmp_path: Path) -> None:
    import dataclasses

    from backend.records import keys
    from backend.settings import SettingsError

    prod = dataclasses.replace(get_settings(), env="production", data_dir=tmp_path)
    with pytest.raises(SettingsError, match="YIBAO_SIGNING_KEY_FILE"):
        keys._private_key(prod)
    assert not (tmp_path / "signing_key.pem").exists()
    # Given by path, it is used (and its id is the published one).
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (tmp_path / "key.pem").write_bytes(pem)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("YIBAO_SIGNING_KEY_FILE", str(tmp_path / "key.pem"))
        assert keys.signing_key(prod).key_id == keys.key_id_of(private.public_key())
        mp.delenv("YIBAO_SIGNING_KEY_FILE")
        mp.setenv("YIBAO_SIGNING_KEY", pem.decode())
        assert keys._private_key(prod).public_key().public_bytes_raw() == private.public_key().public_bytes_raw()


async def test_a_renamed_institution_or_inspector_reseals_keeping_the_earlier_seal(
    client: httpx.AsyncClient, login
) -> None:
    from backend.records.tables import RecordSeal

    tenant = await make_tenant(client, login)
    inspection_id = (await submit(client, login, tenant))["id"]
    admin = await login("admin")
    first = (await _detail(client, admin, inspection_id))["seal"]

    renamed = await client.patch(
        f"/api/admin/institutions/{tenant.institution_id}",
        json={"name": tenant.name + "（更名）"},
        headers=admin,
    )
    assert renamed.status_code == 200, renamed.text
    second = (await _detail(client, admin, inspection_id))["seal"]
    assert second["digest"] != first["digest"]
    seals = await RecordSeal.select(RecordSeal.digest, RecordSeal.reason).where(
        RecordSeal.inspection == inspection_id
    ).order_by(RecordSeal.id)
    assert [s["digest"] for s in seals] == [first["digest"], second["digest"]]
    assert seals[1]["reason"] == "change"
    from backend.audit.tables import AuditEvent

    logged = await AuditEvent.select(AuditEvent.after).where(
        (AuditEvent.action == "record.seal") & (AuditEvent.entity_id == inspection_id)
    ).output(load_json=True)
    assert [e["after"]["digest"] for e in logged] == [first["digest"], second["digest"]]
    assert (await _verify(inspection_id)) == (0, "")

    inspector = (await client.get("/api/auth/me", headers=tenant.inspector)).json()["username"]
    renamed = await client.patch(
        f"/api/admin/users/{inspector}", json={"display_name": "更名后的检查员"}, headers=admin
    )
    assert renamed.status_code == 200, renamed.text
    assert (await _detail(client, admin, inspection_id))["seal"]["digest"] != second["digest"]
    assert (await _verify(inspection_id)) == (0, "")
