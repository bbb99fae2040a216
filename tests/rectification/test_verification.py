"""The verification token: made with the secret key, refused when forged or altered."""

from __future__ import annotations

import uuid

from backend.rectification import verification

KEY = "k" * 40


def test_a_token_round_trips() -> None:
    notice_id = uuid.uuid4()
    nonce = verification.new_nonce()
    token = verification.make_token(KEY, notice_id, nonce)
    assert verification.parse_token(KEY, token) == (notice_id, nonce)
    assert verification.verify_url("https://yb.example.cn/", token) == (
        f"https://yb.example.cn/verify/{token}"
    )


def test_forged_and_altered_tokens_are_refused() -> None:
    notice_id = uuid.uuid4()
    nonce = verification.new_nonce()
    token = verification.make_token(KEY, notice_id, nonce)
    id_part, nonce_part, signature = token.split(".")
    other = verification.make_token(KEY, uuid.uuid4(), nonce).split(".")[0]
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    forged = [
        verification.make_token("another-key" * 4, notice_id, nonce),  # wrong key
        f"{other}.{nonce_part}.{signature}",  # another notice's id under this signature
        f"{id_part}.{verification.new_nonce()}.{signature}",  # another nonce
        f"{id_part}.{nonce_part}.{flipped}",  # one character of the signature changed
        token[:-1],  # truncated
        token + "A",
        "",
        "not-a-token",
        token.replace(".", "-"),
    ]
    # Every other last character of each part: the same bytes spelled differently, or others.
    for n, part in enumerate((id_part, nonce_part, signature)):
        for char in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_":
            if char != part[-1]:
                parts = [id_part, nonce_part, signature]
                parts[n] = part[:-1] + char
                forged.append(".".join(parts))
    for candidate in forged:
        assert verification.parse_token(KEY, candidate) is None, candidate
