"""GitHub App authentication: the App's key pair, JWT checks, installation tokens.

Mirrors
https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app
and
https://docs.github.com/en/rest/apps/apps#create-an-installation-access-token-for-an-app :

* the JWT is RS256-signed with the App's private key, ``iss`` is the App's id (or its
  client id), ``iat`` must not be in the future (GitHub recommends 60 s in the past to
  allow for clock drift), ``exp`` must not be past and at most 10 minutes ahead;
* failures answer 401 with the messages GitHub sends (seen in the wild, e.g.
  octokit/auth-app.js#698, probot/probot#942, sigmavirus24/github3.py#1050):
  "A JSON web token could not be decoded",
  "'Expiration time' claim ('exp') is too far in the future",
  "'Expiration time' claim ('exp') must be a numeric value representing the future time
  at which the assertion expires",
  "'Issued at' claim ('iat') must be an Integer representing the time that the assertion
  was issued";
* an installation access token (``ghs_`` + 36 characters) lasts one hour.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

JWT_MAX_FUTURE = 600  # "no more than 10 minutes into the future"
CLOCK_DRIFT = 60  # GitHub's recommended back-dating of iat

MSG_UNDECODABLE = "A JSON web token could not be decoded"
MSG_EXP_TOO_FAR = "'Expiration time' claim ('exp') is too far in the future"
MSG_EXP_PAST = (
    "'Expiration time' claim ('exp') must be a numeric value representing the future time "
    "at which the assertion expires"
)
MSG_IAT = "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"


def generate_key_pair(bits: int = 2048) -> tuple[str, str]:
    """A fresh RSA key pair as ``(private PEM, public PEM)``, like the one GitHub lets an
    App owner download."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem


def check_app_jwt(token: str, app_id: int, client_id: str, public_pem: str, now: float) -> str | None:
    """Validate an App JWT as GitHub does; return GitHub's 401 message, or None if valid."""
    try:
        claims = jwt.decode(
            token,
            public_pem,
            algorithms=["RS256"],
            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False, "verify_aud": False},
        )
    except jwt.PyJWTError:
        return MSG_UNDECODABLE
    if str(claims.get("iss")) not in (str(app_id), client_id):
        return MSG_UNDECODABLE
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(iat, int) or isinstance(iat, bool) or iat > now + CLOCK_DRIFT:
        return MSG_IAT
    if not isinstance(exp, (int, float)) or isinstance(exp, bool) or exp <= now:
        return MSG_EXP_PAST
    # "no more than 10 minutes into the future"; a JWT may also not live longer than
    # 10 minutes from its iat (allowing the recommended 60 s of back-dating).
    if exp > now + JWT_MAX_FUTURE or exp - iat > JWT_MAX_FUTURE + CLOCK_DRIFT:
        return MSG_EXP_TOO_FAR
    return None


def new_token() -> str:
    """An installation access token in GitHub's format (``ghs_`` + 36 alphanumerics)."""
    alphabet = string.ascii_letters + string.digits
    return "ghs_" + "".join(secrets.choice(alphabet) for _ in range(36))


@dataclass
class InstallationToken:
    """An issued installation access token."""

    token: str
    installation_id: int
    expires_at: float
    permissions: dict[str, str] = field(default_factory=dict)
    revoked: bool = False

    def valid(self, now: float) -> bool:
        return not self.revoked and now < self.expires_at
