"""Is a GitHub App's private key usable? (pure: parses the text, reads and sends nothing)

GitHub hands an App an unencrypted RSA key in PEM; githubkit signs the App's JWT (RS256) with
it. A key that does not parse would only fail at the first GitHub call, long after the server
said it was configured, so the settings refuse it at start and `GET /` does not count it.
"""

from __future__ import annotations

import functools

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key


@functools.lru_cache(maxsize=8)  # `Settings.missing` asks on every `GET /`; parsing costs ms
def private_key_problem(pem: str) -> str | None:
    """None when `pem` is an RSA private key in PEM; otherwise what is wrong with it, in words
    that never quote the key (they end up in logs and on the console)."""
    if "-----BEGIN" not in pem:
        return "is not in PEM form: give the text of the .pem file, BEGIN and END lines included"
    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except TypeError:  # cryptography's way of saying a password is needed
        return "is encrypted with a passphrase; use the .pem file exactly as GitHub gave it"
    except (ValueError, UnsupportedAlgorithm):
        return (
            "does not parse as a private key (cut short, altered, or a public key?); use the "
            ".pem file GitHub gave you, or generate a new key in the App's settings"
        )
    if not isinstance(key, rsa.RSAPrivateKey):
        return "is not an RSA key; a GitHub App's key is RSA: generate one in the App's settings"
    return None
