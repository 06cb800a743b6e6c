"""A GitHub App for tests: a key pair made once, and the emulator's configuration of it."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ghsync.emulator.apps import AppConfig, InstallationConfig

APP_ID = 4242
SLUG = "ghsync-test"


def _pem_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


PRIVATE_KEY, PUBLIC_KEY = _pem_pair()
OTHER_PRIVATE_KEY, _ = _pem_pair()
"""A key that is not the app's."""


def app_config(*installations: InstallationConfig) -> AppConfig:
    """The test app, installed as given."""
    return AppConfig(APP_ID, PUBLIC_KEY, installations, slug=SLUG)
