"""Field encryption for personal data (ID numbers, phones, partner secrets) and a keyed blind index.

Authenticated encryption only, from the maintained ``cryptography`` library:

- ``sm4-gcm`` (the default where available) — the Chinese national block cipher SM4 (GB/T 32907)
  in GCM mode, offered by ``cryptography`` (through OpenSSL) as ``algorithms.SM4`` with
  ``modes.GCM``; graded protection (等保) and commercial-cryptography assessment (密评) expect
  SM-series algorithms;
- ``aes-256-gcm`` — AES-256 in GCM mode: the default only where the OpenSSL build lacks SM4
  (some FIPS builds), and what the first release wrote.

:func:`sm4_available` checks the running OpenSSL; selecting ``sm4-gcm`` where it is missing is a
one-line settings error, never a silent fallback.

**Keys and rotation.** A deployment names its keys in settings (``[field_encryption]`` in
``fengqiao.toml`` or ``FENGQIAO_FIELD_*``; see :meth:`FieldCipher.from_settings`). New values are
encrypted with the *current* key and algorithm; every key that is still listed keeps decrypting.
Each ciphertext is tagged with both::

    <algorithm tag>:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>      e.g. sm4gcm:2027a:…

and the tag, key id and field context are bound into the GCM associated data, so a ciphertext
cannot be relabelled or moved to another column. The key id ``v1`` is always present: it is derived
(HKDF-SHA256) from the deployment's ``secret_key``, which is what the first release used, and that
release's untagged ``v1:<base64>`` tokens still decrypt. ``fengqiao keys rotate``
(:mod:`core.keyrotation`) re-encrypts every stored value to the current key; after it reports
nothing left under an old key, that key can be removed from settings.

**Blind index.** An HMAC-SHA256 (truncated to 128 bits) of the normalised value under a separate
index key, for exact search without decrypting. It does not depend on the encryption key, so data
key rotation leaves it valid. The index key is derived from ``secret_key`` unless
``field_encryption.index_key`` is set; after changing it, ``fengqiao keys rotate`` recomputes every
index from the decrypted values.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["ALGORITHMS", "CryptoConfigError", "DecryptError", "FieldCipher", "FieldKey", "sm4_available"]

ALGORITHMS = {"aes-256-gcm": "a256gcm", "sm4-gcm": "sm4gcm"}
"""Selectable algorithm names → the tag written into ciphertexts."""
_BY_TAG = {tag: name for name, tag in ALGORITHMS.items()}
_KEY_LEN = {"aes-256-gcm": 32, "sm4-gcm": 16}
_KID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
BUILTIN_KID = "v1"
NONCE = 12
TAG = 16


def _default_algorithm() -> str:
    return "sm4-gcm" if sm4_available() else "aes-256-gcm"


class CryptoConfigError(ValueError):
    """The field-encryption settings are malformed; the message names the setting."""


class DecryptError(ValueError):
    """A ciphertext is malformed, names an unknown key, or fails authentication."""


def sm4_available() -> bool:
    """Whether this ``cryptography``/OpenSSL build offers SM4 in GCM mode."""
    if not hasattr(algorithms, "SM4"):
        return False
    try:
        enc = Cipher(algorithms.SM4(b"\0" * 16), modes.GCM(b"\0" * NONCE)).encryptor()
        enc.update(b"x")
        enc.finalize()
        return True
    except Exception:  # UnsupportedAlgorithm and friends
        return False


def _derive(secret: str, info: bytes, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=b"fengqiao", info=info).derive(secret.encode())


@functools.lru_cache(maxsize=64)
def _key_bytes(secret: str, algorithm: str) -> bytes:
    # "field-encryption" for AES-256 is the first release's derivation (its v1 tokens stay readable)
    info = b"field-encryption" if algorithm == "aes-256-gcm" else b"field-encryption:" + algorithm.encode()
    return _derive(secret, info, _KEY_LEN[algorithm])


def _seal(algorithm: str, key: bytes, nonce: bytes, data: bytes, aad: bytes) -> bytes:
    if algorithm == "aes-256-gcm":
        return AESGCM(key).encrypt(nonce, data, aad)
    enc = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    enc.authenticate_additional_data(aad)
    return enc.update(data) + enc.finalize() + enc.tag


def _open(algorithm: str, key: bytes, nonce: bytes, data: bytes, aad: bytes) -> bytes:
    if algorithm == "aes-256-gcm":
        return AESGCM(key).decrypt(nonce, data, aad)
    if len(data) < TAG:
        raise InvalidTag()
    dec = Cipher(algorithms.SM4(key), modes.GCM(nonce, data[-TAG:])).decryptor()
    dec.authenticate_additional_data(aad)
    return dec.update(data[:-TAG]) + dec.finalize()


@dataclass(frozen=True)
class FieldKey:
    """One named key. The secret is kept (not the derived bytes) because a key may serve either
    algorithm: the algorithm tag of a ciphertext picks the derivation."""

    kid: str
    secret: str = field(repr=False)

    def material(self, algorithm: str) -> bytes:
        return _key_bytes(self.secret, algorithm)


@dataclass(frozen=True)
class FieldCipher:
    """Encrypts and decrypts short text fields with a key ring; computes blind indexes."""

    keys: Mapping[str, FieldKey]
    current: str
    algorithm: str
    index_key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if self.algorithm not in ALGORITHMS:
            raise CryptoConfigError(f"field_encryption.algorithm must be one of {', '.join(ALGORITHMS)}, "
                                    f"got {self.algorithm!r}")
        if self.algorithm == "sm4-gcm" and not sm4_available():
            raise CryptoConfigError("field_encryption.algorithm = 'sm4-gcm' but this cryptography/OpenSSL build "
                                    "has no SM4-GCM; use 'aes-256-gcm'")
        if self.current not in self.keys:
            raise CryptoConfigError(f"field_encryption.current_key {self.current!r} is not among the keys "
                                    f"({', '.join(sorted(self.keys))})")

    # -- construction ---------------------------------------------------------------------------
    @classmethod
    def from_secret(cls, secret: str, algorithm: str | None = None) -> FieldCipher:
        """Only the built-in key ``v1`` derived from the deployment secret (the default set-up)."""
        return cls(keys={BUILTIN_KID: FieldKey(BUILTIN_KID, secret)}, current=BUILTIN_KID,
                   algorithm=algorithm or _default_algorithm(),
                   index_key=_derive(secret, b"blind-index"))

    @classmethod
    def from_config(cls, secret: str, config: Mapping[str, Any] | None) -> FieldCipher:
        """Build from a ``[field_encryption]`` table::

            algorithm = "sm4-gcm"          # or "aes-256-gcm"; default sm4-gcm where OpenSSL has it
            current_key = "2027a"          # default: the last key listed, else "v1"
            index_key = "…"                # optional; default derived from secret_key
            [field_encryption.keys]
            2026a = "…long random string…"  # old key: still decrypts until rotated away
            2027a = "…long random string…"

        Raises:
            CryptoConfigError: a malformed key id, a short key, an unknown algorithm or current key.
        """
        config = dict(config or {})
        unknown = set(config) - {"algorithm", "current_key", "index_key", "keys"}
        if unknown:
            raise CryptoConfigError(f"field_encryption: unknown setting(s) {', '.join(sorted(unknown))}")
        keys: dict[str, FieldKey] = {BUILTIN_KID: FieldKey(BUILTIN_KID, secret)}
        raw_keys = config.get("keys") or {}
        if not isinstance(raw_keys, Mapping):
            raise CryptoConfigError("field_encryption.keys must be a table of key id = secret")
        for kid, value in raw_keys.items():
            if not isinstance(kid, str) or not _KID.match(kid):
                raise CryptoConfigError(f"field_encryption.keys: key id {kid!r} must be 1-32 of A-Z a-z 0-9 _ -")
            if kid == BUILTIN_KID:
                raise CryptoConfigError("field_encryption.keys: 'v1' is reserved for the key derived from secret_key")
            if not isinstance(value, str) or len(value) < 32:
                raise CryptoConfigError(f"field_encryption.keys.{kid} must be a random string of at least 32 characters")
            keys[kid] = FieldKey(kid, value)
        current = config.get("current_key") or (list(raw_keys)[-1] if raw_keys else BUILTIN_KID)
        index_secret = config.get("index_key")
        if index_secret is not None and (not isinstance(index_secret, str) or len(index_secret) < 32):
            raise CryptoConfigError("field_encryption.index_key must be a random string of at least 32 characters")
        index_key = _derive(index_secret, b"blind-index:configured") if index_secret else _derive(secret, b"blind-index")
        return cls(keys=keys, current=str(current), algorithm=str(config.get("algorithm") or _default_algorithm()),
                   index_key=index_key)

    @classmethod
    def from_settings(cls, settings: Any) -> FieldCipher:
        return cls.from_config(settings.secret_key, getattr(settings, "field_encryption", None))

    # -- use ------------------------------------------------------------------------------------
    def encrypt(self, plaintext: str, context: str = "") -> str:
        if not plaintext:
            return ""
        tag = ALGORITHMS[self.algorithm]
        nonce = os.urandom(NONCE)
        aad = f"{context}\0{tag}\0{self.current}".encode()
        ct = _seal(self.algorithm, self.keys[self.current].material(self.algorithm), nonce, plaintext.encode(), aad)
        return f"{tag}:{self.current}:" + base64.urlsafe_b64encode(nonce + ct).decode()

    @staticmethod
    def describe(token: str) -> tuple[str, str]:
        """``(algorithm, key id)`` of a ciphertext (``DecryptError`` when it is malformed)."""
        parts = token.split(":")
        if len(parts) == 2 and parts[0] == BUILTIN_KID:  # first release: "v1:<b64>", AES-256-GCM
            return "aes-256-gcm", BUILTIN_KID
        if len(parts) == 3 and parts[0] in _BY_TAG:
            return _BY_TAG[parts[0]], parts[1]
        raise DecryptError("malformed ciphertext")

    def is_current(self, token: str) -> bool:
        """True when ``token`` is empty or already under the current key and algorithm (and format)."""
        if not token:
            return True
        return token.count(":") == 2 and self.describe(token) == (self.algorithm, self.current)

    def decrypt(self, token: str, context: str = "") -> str:
        if not token:
            return ""
        algorithm, kid = self.describe(token)
        key = self.keys.get(kid)
        if key is None:
            raise DecryptError(f"ciphertext under key {kid!r}, which is not configured")
        if algorithm == "sm4-gcm" and not sm4_available():
            raise DecryptError("ciphertext uses SM4-GCM, which this OpenSSL build lacks")
        legacy = token.count(":") == 1
        aad = context.encode() if legacy else f"{context}\0{ALGORITHMS[algorithm]}\0{kid}".encode()
        try:
            raw = base64.urlsafe_b64decode(token.rsplit(":", 1)[1])
            if len(raw) < NONCE + TAG:
                raise DecryptError("malformed ciphertext")
            return _open(algorithm, key.material(algorithm), raw[:NONCE], raw[NONCE:], aad).decode()
        except (InvalidTag, ValueError) as exc:
            if isinstance(exc, DecryptError):
                raise
            raise DecryptError("ciphertext failed authentication") from None

    def blind_index(self, value: str) -> str:
        if not value:
            return ""
        return hmac.new(self.index_key, value.encode(), hashlib.sha256).hexdigest()[:32]
