"""Field cipher: SM4-GCM and AES-256-GCM, tagged ciphertexts, key rotation, blind index rebuild.

Rotation runs on a real database of each engine: cases written under the first release's key are
still readable under a new key ring, ``fengqiao keys rotate`` (a real subprocess) moves every
value to the current key and recomputes blind indexes, and afterwards a deployment holding only
the new key (a different ``secret_key``) reads everything.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.crypto import CryptoConfigError, DecryptError, FieldCipher, _derive, sm4_available
from core.settings import SettingsError, load_settings

SECRET = "test-secret-key-not-for-production-0123456789"
K1 = "first-rotated-key-0123456789-abcdefghijkl"
K2 = "second-rotated-key-0123456789-abcdefghijk"
IDN = "110101199003071233"


def legacy_encrypt(secret: str, plaintext: str, context: str) -> str:
    """What the first release wrote: ``v1:`` + AES-256-GCM under HKDF(secret, "field-encryption")."""
    nonce = os.urandom(12)
    ct = AESGCM(_derive(secret, b"field-encryption")).encrypt(nonce, plaintext.encode(), context.encode())
    return "v1:" + base64.urlsafe_b64encode(nonce + ct).decode()


def test_sm4_gcm_is_offered_by_the_installed_cryptography():
    # cryptography 50 / OpenSSL 3+ here: SM4-GCM must be selectable (docs/security.md relies on it)
    assert sm4_available()


@pytest.mark.parametrize("algorithm,tag", [("aes-256-gcm", "a256gcm"), ("sm4-gcm", "sm4gcm")])
def test_round_trip_tagged_and_authenticated(algorithm, tag):
    c = FieldCipher.from_config(SECRET, {"algorithm": algorithm, "keys": {"k1": K1}})
    token = c.encrypt(IDN, "id_number")
    assert token.startswith(f"{tag}:k1:") and IDN not in token
    assert FieldCipher.describe(token) == (algorithm, "k1")
    assert c.decrypt(token, "id_number") == IDN
    assert c.encrypt(IDN, "id_number") != token  # fresh nonce each time
    with pytest.raises(DecryptError):  # bound to its column
        c.decrypt(token, "phone")
    body = token.rsplit(":", 1)[1]
    flipped = base64.urlsafe_b64encode(bytes([base64.urlsafe_b64decode(body)[0] ^ 1]) + base64.urlsafe_b64decode(body)[1:])
    with pytest.raises(DecryptError):  # tampered
        c.decrypt(f"{tag}:k1:{flipped.decode()}", "id_number")
    other = "sm4gcm" if tag == "a256gcm" else "a256gcm"
    with pytest.raises(DecryptError):  # relabelled algorithm
        c.decrypt(f"{other}:k1:{body}", "id_number")
    with pytest.raises(DecryptError):  # relabelled key id (v1 exists too)
        c.decrypt(f"{tag}:v1:{body}", "id_number")
    for junk in ("nonsense", "a256gcm:k1:!!!", "a256gcm:k1:AAAA", "zz:k1:AAAA"):
        with pytest.raises(DecryptError):
            c.decrypt(junk, "id_number")


def test_first_release_tokens_stay_readable():
    legacy = legacy_encrypt(SECRET, IDN, "id_number")
    c = FieldCipher.from_config(SECRET, {"algorithm": "sm4-gcm", "keys": {"k2": K2}})
    assert c.decrypt(legacy, "id_number") == IDN
    assert not c.is_current(legacy)
    # the default cipher: the built-in key, SM4-GCM (available here), the tagged format
    default = FieldCipher.from_secret(SECRET)
    assert default.decrypt(legacy, "id_number") == IDN
    assert default.encrypt(IDN, "x").startswith("sm4gcm:v1:")
    assert FieldCipher.from_secret(SECRET, "aes-256-gcm").encrypt(IDN, "x").startswith("a256gcm:v1:")
    assert not default.is_current(legacy)  # untagged → rewritten by a rotation


def test_unknown_key_is_refused_not_guessed():
    token = FieldCipher.from_config(SECRET, {"keys": {"k1": K1}}).encrypt(IDN, "id_number")
    with pytest.raises(DecryptError, match="k1"):
        FieldCipher.from_secret(SECRET).decrypt(token, "id_number")


def test_blind_index_survives_data_key_rotation_and_changes_with_index_key():
    a = FieldCipher.from_secret(SECRET)
    b = FieldCipher.from_config(SECRET, {"algorithm": "sm4-gcm", "keys": {"k2": K2}})
    assert a.blind_index(IDN) == b.blind_index(IDN) != a.blind_index("110101199003071241")
    c = FieldCipher.from_config(SECRET, {"keys": {"k2": K2}, "index_key": K1})
    assert c.blind_index(IDN) != a.blind_index(IDN)


@pytest.mark.parametrize("conf,fragment", [
    ({"algorithm": "des"}, "algorithm"),
    ({"keys": {"k1": "short"}}, "k1"),
    ({"keys": {"bad id!": K1}}, "key id"),
    ({"keys": {"v1": K1}}, "reserved"),
    ({"keys": {"k1": K1}, "current_key": "k9"}, "k9"),
    ({"index_key": "short"}, "index_key"),
    ({"kyes": {}}, "kyes"),
])
def test_bad_key_settings_are_named(conf, fragment):
    with pytest.raises(CryptoConfigError, match=fragment):
        FieldCipher.from_config(SECRET, conf)


def test_settings_from_environment_and_toml(tmp_path):
    env = {"FENGQIAO_DATA_DIR": str(tmp_path), "FENGQIAO_SECRET_KEY": SECRET,
           "FENGQIAO_FIELD_KEYS": f"k1={K1}, k2={K2}", "FENGQIAO_FIELD_ALGORITHM": "sm4-gcm"}
    s = load_settings(env=env)
    c = FieldCipher.from_settings(s)
    assert (c.current, c.algorithm, sorted(c.keys)) == ("k2", "sm4-gcm", ["k1", "k2", "v1"])
    s = load_settings(env={**env, "FENGQIAO_FIELD_CURRENT_KEY": "k1"})
    assert FieldCipher.from_settings(s).current == "k1"
    with pytest.raises(SettingsError, match="FENGQIAO_FIELD_KEYS"):
        load_settings(env={**env, "FENGQIAO_FIELD_KEYS": "k1"})
    with pytest.raises(SettingsError, match="algorithm"):
        load_settings(env={**env, "FENGQIAO_FIELD_ALGORITHM": "rot13"})
    (tmp_path / "fengqiao.toml").write_text(
        f'[field_encryption]\nalgorithm = "aes-256-gcm"\ncurrent_key = "old"\n[field_encryption.keys]\nold = "{K1}"\n')
    c = FieldCipher.from_settings(load_settings(env={"FENGQIAO_DATA_DIR": str(tmp_path), "FENGQIAO_SECRET_KEY": SECRET}))
    assert (c.current, c.algorithm) == ("old", "aes-256-gcm")


# --------------------------------------------------------------------------- rotation on a database


def _stored(arun):
    from core.handoff.tables import Partner
    from core.tables import Party

    parties = arun(Party.select(Party.id, Party.id_number_enc, Party.id_number_index, Party.phone_enc).order_by(Party.id))
    partners = arun(Partner.select(Partner.id, Partner.secret_enc))
    return parties, partners


def _fengqiao(settings, tmp_path: Path, *args: str, **env_extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FENGQIAO_")}
    env.update(FENGQIAO_DATA_DIR=str(tmp_path / "cli"), FENGQIAO_DATABASE_URL=settings.database_url,
               FENGQIAO_SECRET_KEY=SECRET, **env_extra)
    return subprocess.run([str(Path(sys.executable).with_name("fengqiao")), *args], env=env, capture_output=True,
                          text=True, timeout=120)


def test_rotation_moves_every_value_to_the_current_key(settings, world, make_case, registry, arun, tmp_path):
    from core.cases import reveal_party
    from core.handoff.partners import create_partner, partner_secret
    from core.handoff.tables import Partner
    from core.tables import CaseParty

    old = FieldCipher.from_secret(SECRET)
    med = world["users"]["med-a"]
    cases = [make_case(world["rooms"]["a"], med) for _ in range(3)]
    arun(create_partner("court-x", channel="general", room_id="room-a", callback_url="http://127.0.0.1:9/cb",
                        cipher=old, name="X", known_channels={"general"}))
    # one party row in the first release's untagged format
    from core.tables import Party

    first = arun(Party.select(Party.id).order_by(Party.id).first())["id"]
    arun(Party.update({Party.id_number_enc: legacy_encrypt(SECRET, IDN, "id_number")}).where(Party.id == first))
    parties, partners = _stored(arun)
    secret_before = arun(partner_secret(partners[0], old))

    new_env = {"FENGQIAO_FIELD_KEYS": f"k2={K2}", "FENGQIAO_FIELD_ALGORITHM": "sm4-gcm", "FENGQIAO_FIELD_INDEX_KEY": K1}
    status = _fengqiao(settings, tmp_path, "keys", "status", **new_env)
    assert status.returncode == 0, status.stderr
    assert "current: sm4-gcm key k2" in status.stdout and "aes-256-gcm" in status.stdout

    res = _fengqiao(settings, tmp_path, "keys", "rotate", "--batch", "2", **new_env)
    assert res.returncode == 0, res.stderr
    with_ids = sum(1 for p in parties if p["id_number_enc"])
    with_phones = sum(1 for p in parties if p["phone_enc"])
    assert f"re-encrypted {with_ids + with_phones + 1} value(s)" in res.stdout, res.stdout
    assert f"{with_ids} blind index(es) recomputed" in res.stdout

    # a deployment that holds only the new keys (another secret_key, so no v1) reads everything
    only_new = FieldCipher.from_config("a-completely-different-secret-key-0123456789",
                                       {"algorithm": "sm4-gcm", "keys": {"k2": K2}, "index_key": K1})
    after, partners_after = _stored(arun)
    for row in after:
        for col in ("id_number_enc", "phone_enc"):
            if row[col]:
                assert row[col].startswith("sm4gcm:k2:"), row
        if row["id_number_enc"]:
            plain = only_new.decrypt(row["id_number_enc"], "id_number")
            assert plain == IDN
            assert row["id_number_index"] == only_new.blind_index(IDN) != old.blind_index(IDN)
    assert arun(partner_secret(partners_after[0], only_new)) == secret_before
    link = arun(CaseParty.select(CaseParty.id).where(CaseParty.case == cases[0]["id"]).first())["id"]
    revealed = arun(reveal_party(registry, cases[0]["id"], link, world["users"]["sup-1"], only_new))
    assert revealed["id_number"] == IDN and revealed["phone"] == "13800138000"

    # idempotent: nothing left to do
    again = _fengqiao(settings, tmp_path, "keys", "rotate", **new_env)
    assert again.returncode == 0 and "re-encrypted 0 value(s)" in again.stdout, again.stdout
    assert "0 blind index(es)" in again.stdout


def test_rotation_leaves_unreadable_values_alone_and_fails_loudly(settings, world, make_case, arun, tmp_path):
    from core.tables import Party

    make_case(world["rooms"]["a"], world["users"]["med-a"])
    foreign = FieldCipher.from_config(SECRET, {"keys": {"gone": K1}}).encrypt(IDN, "id_number")
    pid = arun(Party.select(Party.id).where(Party.id_number_enc != "").first())["id"]
    arun(Party.update({Party.id_number_enc: foreign}).where(Party.id == pid))
    res = _fengqiao(settings, tmp_path, "keys", "rotate", FENGQIAO_FIELD_KEYS=f"k2={K2}")
    assert res.returncode != 0 and "Traceback" not in res.stderr
    assert "1 value(s) could not be decrypted" in res.stderr
    assert arun(Party.select(Party.id_number_enc).where(Party.id == pid).first())["id_number_enc"] == foreign


def test_rotation_never_overwrites_a_concurrent_edit(settings, world, make_case, arun, monkeypatch):
    """Compare-and-set: a row the app rewrites between rotation's read and its write keeps the new value."""
    import core.keyrotation as kr
    from core.tables import Party

    make_case(world["rooms"]["a"], world["users"]["med-a"])
    new = FieldCipher.from_config(SECRET, {"keys": {"k2": K2}})
    pid = arun(Party.select(Party.id).where(Party.phone_enc != "").first())["id"]
    edited = new.encrypt("13900000000", "phone")
    real_decrypt = FieldCipher.decrypt
    armed = [True]

    def racing_decrypt(self, token, context=""):
        if armed[0] and context == "phone":  # rotation has read the batch; the app edits now
            armed[0] = False
            _concurrent_edit(settings.database_url, pid, edited)
        return real_decrypt(self, token, context)

    monkeypatch.setattr(FieldCipher, "decrypt", racing_decrypt)
    report = arun(kr.rotate(new, batch=50))
    assert not armed[0]
    assert report.skipped_concurrent == 1
    assert arun(Party.select(Party.phone_enc).where(Party.id == pid).first())["phone_enc"] == edited


def _concurrent_edit(url: str, pid: int, value: str) -> None:
    """Write through a separate connection, as another process would, committing at once."""
    if url.startswith("sqlite:///"):
        import sqlite3

        con = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=30)
        try:
            con.execute("UPDATE core_party SET phone_enc = ? WHERE id = ?", (value, pid))
            con.commit()
        finally:
            con.close()
        return
    import asyncio
    import threading

    import asyncpg

    async def go():
        con = await asyncpg.connect(url)
        try:
            await con.execute("UPDATE core_party SET phone_enc = $1 WHERE id = $2", value, pid)
        finally:
            await con.close()

    t = threading.Thread(target=lambda: asyncio.run(go()))
    t.start()
    t.join(30)
