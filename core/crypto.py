"""Field encryption for personal data (ID numbers, phones) and a keyed blind index.

AES-256-GCM (authenticated) from ``cryptography``; keys are derived with HKDF from the deployment's
secret key, one for encryption and one for the blind index. Ciphertexts carry a key-version prefix
(``v1:``) so that keys can be rotated later.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["FieldCipher"]


def _derive(secret: str, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"fengqiao", info=info).derive(
        secret.encode()
    )


@dataclass(frozen=True)
class FieldCipher:
    """Encrypts and decrypts short text fields; computes blind indexes for exact search."""

    enc_key: bytes
    index_key: bytes
    version: str = "v1"

    @classmethod
    def from_secret(cls, secret: str) -> FieldCipher:
        return cls(enc_key=_derive(secret, b"field-encryption"), index_key=_derive(secret, b"blind-index"))

    def encrypt(self, plaintext: str, context: str = "") -> str:
        if not plaintext:
            return ""
        nonce = os.urandom(12)
        ct = AESGCM(self.enc_key).encrypt(nonce, plaintext.encode(), context.encode())
        return f"{self.version}:" + base64.urlsafe_b64encode(nonce + ct).decode()

    def decrypt(self, token: str, context: str = "") -> str:
        if not token:
            return ""
        version, _, body = token.partition(":")
        if version != self.version:
            raise ValueError(f"unknown key version {version!r}")
        raw = base64.urlsafe_b64decode(body)
        return AESGCM(self.enc_key).decrypt(raw[:12], raw[12:], context.encode()).decode()

    def blind_index(self, value: str) -> str:
        if not value:
            return ""
        return hmac.new(self.index_key, value.encode(), hashlib.sha256).hexdigest()[:32]
