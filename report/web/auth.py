"""Who may change decisions: passwords, the session key, and throttled sign-in.

The session cookie is ``SameSite=Lax``: another site's forms and scripts cannot send
it, while a link from elsewhere (an e-mail, a chat) still opens the page signed in
(``Strict`` would show the sign-in page there, and answering it would replace the
editor's session); no GET changes anything, and every form carries a CSRF token.
Passwords are hashed with argon2id (argon2-cffi's defaults, RFC 9106's low-memory
profile) and never stored or logged in clear; the store keeps only the hash. The
session cookie is signed with a key kept in a file beside the configuration,
created at first start (a random 256-bit key, mode 0600), so sessions survive a
restart and cannot be forged without the server's file. Sign-in failures are
counted per account and per address in a moving window (``limits``): after
``attempts`` failures for an account in 15 minutes (four times as many for an
address) further tries are refused without checking the password, so a guesser
gets a handful of guesses per quarter hour::

    >>> hashed = hash_password("correct horse")
    >>> verify_password(hashed, "correct horse"), verify_password(hashed, "wrong")
    (True, False)
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from ingest.errors import ConfigError

_HASHER = PasswordHasher()
MIN_PASSWORD_CHARS = 10


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise ConfigError("password", "(hidden)",
                          f"must have at least {MIN_PASSWORD_CHARS} characters")
    return _HASHER.hash(password)


def verify_password(hashed: str, password: str) -> bool:
    try:
        return _HASHER.verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(hashed: str) -> bool:
    return _HASHER.check_needs_rehash(hashed)


DUMMY_HASH = _HASHER.hash(secrets.token_hex(16))
"""Verified against when the account does not exist, so the answer takes as long."""


def session_key(path: Path) -> str:
    """The session-signing key in ``path``, created (random, mode 0600) if absent."""
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32) + "\n")
        key = path.read_text().strip()
    except OSError as exc:
        raise ConfigError("review.secret_key_file", str(path),
                          f"cannot create or read it ({exc.strerror}): the review app needs a "
                          "writable place for its session key, e.g. beside the database") from exc
    if len(key) < 32:
        raise ConfigError("review.secret_key_file", str(path),
                          "holds a key shorter than 32 characters: delete the file and a new "
                          "random key is made at the next start")
    return key


class LoginThrottle:
    """Failed sign-ins per account and per address in a 15-minute moving window."""

    WINDOW_MINUTES = 15

    def __init__(self, attempts: int = 5) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._account = RateLimitItemPerMinute(attempts, self.WINDOW_MINUTES)
        self._address = RateLimitItemPerMinute(4 * attempts, self.WINDOW_MINUTES)

    def allowed(self, account: str, address: str) -> bool:
        return (self._limiter.test(self._account, "account", account.casefold())
                and self._limiter.test(self._address, "address", address))

    def failed(self, account: str, address: str) -> None:
        self._limiter.hit(self._account, "account", account.casefold())
        self._limiter.hit(self._address, "address", address)
