"""The pure parts of `issuewright check`: is the App's key usable, does PUBLIC_URL look
reachable, which models an endpoint names."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from bot.core.app_key import private_key_problem
from bot.core.checkup import model_names, public_url_problem
from tests.ghsim.fixtures import new_app_private_key


def test_the_key_github_hands_an_app_is_usable() -> None:
    assert private_key_problem(new_app_private_key()) is None


def _other_keys() -> dict[str, str]:
    rsa_pem = new_app_private_key()
    rsa_key = serialization.load_pem_private_key(rsa_pem.encode(), password=None)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    return {
        "not in PEM form": "notapem",
        "cut short": rsa_pem[:400] + "\n-----END RSA PRIVATE KEY-----\n",
        "public": rsa_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode(),
        "encrypted": rsa_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"passphrase"),
        ).decode(),
        "not RSA": ec_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
    }


@pytest.mark.parametrize(
    ("kind", "said"),
    [
        ("not in PEM form", "is not in PEM form"),
        ("cut short", "does not parse as a private key"),
        ("public", "does not parse as a private key"),
        ("encrypted", "is encrypted with a passphrase"),
        ("not RSA", "is not an RSA key"),
    ],
)
def test_a_key_that_cannot_sign_the_apps_token_says_why(kind: str, said: str) -> None:
    text = _other_keys()[kind]
    problem = private_key_problem(text)
    assert problem is not None and problem.startswith(said)
    body = [line for line in text.splitlines() if not line.startswith("-----")]
    assert not any(line in problem for line in body if len(line) > 8)  # never quotes the key


@pytest.mark.parametrize(
    "url",
    [
        "https://issuewright.example.com",
        "https://example.com:8443/bots/issuewright/",
        "http://localhost:3000",
        "http://127.0.0.1:3000",
        "http://[::1]:3000",
        "http://issuewright.localhost",
    ],
)
def test_reachable_looking_public_urls(url: str) -> None:
    assert public_url_problem(url) is None


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("issuewright.example.com", "must start with https://"),
        ("ftp://example.com", "must start with https://"),
        ("https://", "has no host name"),
        ("http://example.com", "must use https://"),
        ("https://example.com:port", "is not a URL"),
        ("https://example.com/?x=1", "must not have a query"),
    ],
)
def test_public_urls_github_could_not_use(url: str, said: str) -> None:
    problem = public_url_problem(url)
    assert problem is not None and problem.startswith(said)


def test_model_names_are_the_default_first_once_each_without_the_wildcard() -> None:
    assert model_names("b", ("a", "*", "b", "c")) == ["b", "a", "c"]
    assert model_names(None, ("*",)) == []
