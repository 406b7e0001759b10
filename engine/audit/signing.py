"""Ed25519 signing of log entries and checkpoints (optional; `cryptography`, imported lazily).

Signing is on when a private key is configured: `MLADVISOR_AUDIT_KEY` names a PEM file, or
`mladvisor audit keygen` has written `MLADVISOR_HOME/keys/audit-ed25519.pem`. Setting
`MLADVISOR_AUDIT_KEY=off` turns signing off. Every public key ever generated stays in
`MLADVISOR_HOME/keys/<key_id>.pub`: those files are the default trust store `verify` checks
against, kept outside the database so that whoever can rewrite the database cannot also vouch
for it. `verify --pubkey FILE` replaces that store entirely (see engine/audit/__init__.py).
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from engine.errors import AuditError, InputError
from engine.util.files import atomic_write

KEY_ENV = "MLADVISOR_AUDIT_KEY"
KEY_FILE = "audit-ed25519.pem"
_OFF = {"", "0", "off", "none", "false", "no"}


def key_dir(home: Path) -> Path:
    return home / "keys"


def key_id_of(public_raw: bytes) -> str:
    """A short, stable name for a public key: the first 16 hex digits of its sha256."""
    return hashlib.sha256(public_raw).hexdigest()[:16]


@dataclass(frozen=True)
class Signer:
    """A loaded private key; signs the ASCII hex of an entry hash or a checkpoint's bytes."""

    key_id: str
    public_b64: str
    _private: object

    def sign(self, data: bytes) -> str:
        return base64.b64encode(self._private.sign(data)).decode("ascii")  # type: ignore[attr-defined]


def _raw_public(private: object) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return private.public_key().public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def configured_key_path(home: Path) -> Path | None:
    """The private key signing should use, or None when signing is off."""
    env = os.environ.get(KEY_ENV)
    if env is not None:
        return None if env.strip().lower() in _OFF else Path(env)
    default = key_dir(home) / KEY_FILE
    return default if default.is_file() else None


def load_signer(home: Path) -> Signer | None:
    path = configured_key_path(home)
    if path is None:
        return None
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as error:
        raise InputError(str(path), KEY_ENV, "a readable unencrypted Ed25519 PEM private key",
                         type(error).__name__) from None
    if not isinstance(private, Ed25519PrivateKey):
        raise InputError(str(path), KEY_ENV, "an Ed25519 private key", type(private).__name__)
    raw = _raw_public(private)
    return Signer(key_id_of(raw), base64.b64encode(raw).decode("ascii"), private)


def keygen(home: Path, force: bool = False) -> tuple[str, Path, Path]:
    """Write a new signing key into MLADVISOR_HOME/keys; returns (key id, private, public path).

    The old public key file stays, so records signed before a rotation still verify.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from engine.audit.store import LOG_FILE, check_home

    check_home(home, home / LOG_FILE, create=True)
    directory = key_dir(home)
    private_path = directory / KEY_FILE
    if private_path.exists() and not force:
        raise InputError(str(private_path), "", "a signing key already exists here; to replace"
                         " it run `mladvisor audit keygen --force` (records signed with the old"
                         " key still verify: its public key stays trusted)")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        from engine.audit.store import LogLocationError

        raise LogLocationError(directory, "cannot create the folder for signing keys",
                               error.strerror or type(error).__name__) from None
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    key_id = key_id_of(_raw_public(private))
    atomic_write(private_path, pem, mode=0o600)  # a secret: 0600 whatever the umask
    public_path = directory / f"{key_id}.pub"
    public_path.write_bytes(public_pem)
    return key_id, private_path, public_path


def load_public_key(path: Path) -> tuple[str, str]:
    """(key id, base64 raw public key) of a PEM public key file."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        public = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as error:
        raise InputError(str(path), "", "a PEM Ed25519 public key", type(error).__name__) from None
    if not isinstance(public, Ed25519PublicKey):
        raise InputError(str(path), "", "an Ed25519 public key", type(public).__name__)
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return key_id_of(raw), base64.b64encode(raw).decode("ascii")


def trusted_keys(home: Path, extra: list[Path] | None = None) -> dict[str, str]:
    """Public keys kept outside the database: {key id: base64 raw key}."""
    found: dict[str, str] = {}
    directory = key_dir(home)
    paths = sorted(directory.glob("*.pub")) if directory.is_dir() else []
    for path in [*paths, *(extra or [])]:
        key_id, public = load_public_key(path)
        found[key_id] = public
    return found


class SignatureChecker:
    """Verifies Ed25519 signatures, caching one loaded public key per key id."""

    def __init__(self) -> None:
        self._keys: dict[str, object] = {}

    def check(self, public_b64: str, signature_b64: str, data: bytes) -> bool:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        key = self._keys.get(public_b64)
        if key is None:
            try:
                key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_b64))
            except ValueError as error:
                raise AuditError(f"unusable public key: {error}") from None
            self._keys[public_b64] = key
        try:
            key.verify(base64.b64decode(signature_b64, validate=True), data)  # type: ignore[attr-defined]
        except (InvalidSignature, ValueError):
            return False
        return True
