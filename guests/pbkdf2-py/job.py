"""The PBKDF2 job in Python: the same payload, tasks and results as the Rust guest
(`guests/pbkdf2`), free of bindings so that `python3 -m unittest` runs it natively.

CPython in componentize-py has no OpenSSL, so `hashlib.pbkdf2_hmac` is absent there; the
derivation is RFC 8018's loop over the standard library's `hashlib` digests (HACL* C code
inside the component), with the HMAC pads hashed once per key.
"""

import hashlib
import json
import secrets

DESCRIPTION = "PBKDF2-HMAC-SHA512/SHA256 of a list of passwords, one task per password (CPU-bound; Python)"
DEFAULT_PASSWORDS = ["password", "password1", "password2", "password3"]
MAX_KEY_LENGTH = 1024
FIELDS = {"passwords", "iterations", "hash", "keyLength", "salt"}


def plan(payload: str) -> list[str]:
    """One task per password; ValueError with the Rust guest's words for a bad payload."""
    try:
        p = json.loads(payload) if payload.strip() else {}
    except ValueError as e:
        raise ValueError(f"invalid pbkdf2 payload: {e}") from e
    p = {} if p is None else p
    if not isinstance(p, dict):
        raise ValueError("invalid pbkdf2 payload: expected an object")
    unknown = sorted(set(p) - FIELDS)
    if unknown:
        raise ValueError(f"invalid pbkdf2 payload: unknown field `{unknown[0]}`")
    iterations = p.get("iterations", 1_000_000)
    if not isinstance(iterations, int) or iterations < 1:
        raise ValueError("invalid pbkdf2 payload: `iterations` must be at least 1")
    key_length = p.get("keyLength", 64)
    if not isinstance(key_length, int) or not 1 <= key_length <= MAX_KEY_LENGTH:
        raise ValueError(
            f"invalid pbkdf2 payload: `keyLength` must be 1..={MAX_KEY_LENGTH} bytes, got {key_length}"
        )
    passwords = p.get("passwords", DEFAULT_PASSWORDS)
    if not passwords:
        raise ValueError("invalid pbkdf2 payload: `passwords` is empty")
    hash_name = p.get("hash", "sha512")
    if hash_name not in ("sha256", "sha512"):
        raise ValueError(f"invalid pbkdf2 payload: unknown `hash` {hash_name!r}")
    return [
        json.dumps(
            {
                "password": password,
                "salt": p.get("salt") or secrets.token_hex(16),
                "iterations": iterations,
                "hash": hash_name,
                "keyLength": key_length,
            }
        )
        for password in passwords
    ]


def run(task: str) -> str:
    """Derives the key of one task: `{"password", "salt", "key"}` with the key in hex."""
    try:
        t = json.loads(task)
        key = pbkdf2(t["hash"], t["password"].encode(), t["salt"].encode(), t["iterations"], t["keyLength"])
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(f"invalid pbkdf2 task: {e}") from e
    return json.dumps({"password": t["password"], "salt": t["salt"], "key": key.hex()})


def pbkdf2(hash_name: str, password: bytes, salt: bytes, iterations: int, key_length: int) -> bytes:
    """RFC 8018 PBKDF2 with HMAC over `hashlib.<hash_name>`."""
    digest = getattr(hashlib, hash_name)
    block = digest().block_size
    key = password if len(password) <= block else digest(password).digest()
    key = key.ljust(block, b"\0")
    inner = digest(bytes(b ^ 0x36 for b in key))
    outer = digest(bytes(b ^ 0x5C for b in key))

    def prf(message: bytes) -> bytes:
        i = inner.copy()
        i.update(message)
        o = outer.copy()
        o.update(i.digest())
        return o.digest()

    out = b""
    index = 1
    while len(out) < key_length:
        u = prf(salt + index.to_bytes(4, "big"))
        acc = int.from_bytes(u, "big")
        for _ in range(iterations - 1):
            u = prf(u)
            acc ^= int.from_bytes(u, "big")
        out += acc.to_bytes(len(u), "big")
        index += 1
    return out[:key_length]
