"""The notice as HTML and PDF (text extracted with pdftotext, QR code decoded from the rendered
page), and the public verification its QR code opens."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
import zxingcpp
from PIL import Image

from backend.rectification import documents
from tests.rectification.helpers import make_tenant, notice_of, submit


def _need(tool: str) -> str:
    """The path of a poppler-utils tool; a failure under CI=true, a skip elsewhere."""
    path = shutil.which(tool)
    if path is None:
        message = f"{tool} is missing: apt-get install poppler-utils"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="module")
async def issued(client: httpx.AsyncClient, login) -> dict:
    tenant = await make_tenant(client, login)
    result = await submit(client, login, tenant)
    return await notice_of(client, tenant.manager, result["inspection_id"])


async def test_pdf_text_and_qr_code(
    client: httpx.AsyncClient, login, issued: dict, tmp_path: Path
) -> None:
    pdftotext, pdftoppm = _need("pdftotext"), _need("pdftoppm")
    response = await client.get(issued["pdf_url"], headers=await login("supervisor"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    pdf = tmp_path / "notice.pdf"
    pdf.write_bytes(response.content)
    assert b"/FontFile2" in response.content  # the TrueType subset is embedded

    text = subprocess.run(
        [pdftotext, "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = "".join(text.split())  # lines wrap anywhere in Chinese text
    assert issued["number"] in flat
    assert issued["institution"]["name"] in flat
    for task in issued["tasks"]:
        assert "".join(task["item_text"].split()) in flat, task["item_text"]
        assert "".join(task["required_action"].split()) in flat
        assert f"问题{task['seq']}" in flat
    assert "申诉" in flat and "10个工作日" in flat and "威海市医疗保障局" in flat

    # Render the page and decode the QR code: it is the verification URL.
    subprocess.run([pdftoppm, "-r", "150", "-png", str(pdf), str(tmp_path / "page")], check=True)
    decoded = []
    for page in sorted(tmp_path.glob("page*.png")):
        decoded += [r.text for r in zxingcpp.read_barcodes(Image.open(page))]
    assert issued["verify_url"] in decoded


async def test_html_document(client: httpx.AsyncClient, login, issued: dict) -> None:
    response = await client.get(issued["document_url"], headers=await login("inspector"))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = response.text
    assert issued["number"] in page and issued["institution"]["name"] in page
    assert all(t["item_text"] in page for t in issued["tasks"])
    assert "data:image/png;base64," in page  # the QR code travels with the page
    import base64
    import re

    qr = re.search(r'alt="核验二维码" src="data:image/png;base64,([^"]+)"', page)
    assert qr is not None
    image = Image.open(io.BytesIO(base64.b64decode(qr.group(1))))
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [issued["verify_url"]]


async def test_public_verification(client: httpx.AsyncClient, issued: dict) -> None:
    path = issued["verify_url"].removeprefix("http://testserver")
    token = path.rsplit("/", 1)[1]
    page = await client.get(path)  # no login
    assert page.status_code == 200
    assert issued["number"] in page.text and issued["institution"]["name"] in page.text
    assert "真实有效" in page.text
    # Nothing else: no task, no score, no finding.
    for task in issued["tasks"]:
        assert task["item_text"] not in page.text
    assert "得分" not in page.text
    data = (await client.get(f"/api/public/notices/verify/{token}")).json()
    assert data == {
        "genuine": True,
        "number": issued["number"],
        "institution_name": issued["institution"]["name"],
        "issue_date": issued["issue_date"],
        "status": "issued",
        "status_label": "整改中",
    }

    id_part, nonce, signature = token.split(".")
    tampered = [
        f"{id_part}.{nonce}.{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}",
        f"{id_part}.{nonce[::-1]}.{signature}",
        "forged.token.value",
        token[:-3],
    ]
    for bad in tampered:
        refused = await client.get(f"/verify/{bad}")
        assert refused.status_code == 404 and "未能核验" in refused.text
        assert issued["number"] not in refused.text
        api = await client.get(f"/api/public/notices/verify/{bad}")
        assert api.status_code == 404 and issued["number"] not in api.text


async def test_pdf_without_a_font_is_a_clear_503(
    client: httpx.AsyncClient, login, issued: dict, monkeypatch
) -> None:
    def missing() -> str:
        raise documents.FontMissing("no font")

    monkeypatch.setattr(documents, "_register_font", missing)
    response = await client.get(issued["pdf_url"], headers=await login("supervisor"))
    assert response.status_code == 503 and "中文字体" in response.json()["detail"]
