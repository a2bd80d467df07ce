"""Encryption of webstore secrets at rest (Fernet, key from the app's configuration)."""

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app


class SecretUnreadable(Exception):
    """The stored secret was encrypted with another key."""


def _fernet() -> Fernet:
    return Fernet(current_app.config["WEBSTORE_SECRETS_KEY"].encode())


def encrypt(plain: str) -> bytes:
    return _fernet().encrypt(plain.encode())


def decrypt(token: bytes) -> str:
    try:
        return _fernet().decrypt(token).decode()
    except InvalidToken as error:
        raise SecretUnreadable(
            "The stored secret cannot be decrypted with this WEBSTORE_SECRETS_KEY: "
            "enter the secret again in the webstore setup."
        ) from error
