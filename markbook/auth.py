"""Passwords, student access codes and sign-in sessions.

* Teacher passwords: argon2id (argon2-cffi), re-hashed on sign-in when the
  parameters change.
* Student access codes: 8 characters from an alphabet without look-alikes
  (no 0/O, 1/I/L), shown to the teacher once when issued. The row keeps the
  first two characters in clear (to find the student without trying every
  hash) and an argon2 hash of the whole code.
* Sessions: a random token lives in ``st.session_state``; the database keeps
  only its SHA-256 and a sliding expiry (8 h for teachers, 2 h for students),
  checked on every script run.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0 O 1 I L
CODE_LENGTH = 8
CODE_PREFIX = 2
SESSION_IDLE = {"teacher": timedelta(hours=8), "student": timedelta(hours=2)}
MIN_PASSWORD = 8

_hasher = PasswordHasher()


class AuthError(Exception):
    """Sign-in refused (wrong password, unknown code, expired session...)."""


class PermissionDenied(Exception):
    """The signed-in user may not see or change this object."""


@dataclass(frozen=True)
class Principal:
    """Who is acting: a teacher or a student, by id."""

    kind: str  # "teacher" | "student"
    id: int
    name: str = ""

    @property
    def is_teacher(self) -> bool:
        return self.kind == "teacher"


def hash_secret(secret: str) -> str:
    return _hasher.hash(secret)


def verify_secret(stored: str, secret: str) -> bool:
    try:
        return _hasher.verify(stored, secret)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    try:
        return _hasher.check_needs_rehash(stored)
    except InvalidHashError:
        return True


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"Choose a password of at least {MIN_PASSWORD} characters.")


def new_access_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(code: str) -> str:
    """Codes are typed by children: ignore case, spaces and dashes."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def format_code(code: str) -> str:
    """ABCD-EFGH: easier to read aloud and copy."""
    return f"{code[:4]}-{code[4:]}"


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
