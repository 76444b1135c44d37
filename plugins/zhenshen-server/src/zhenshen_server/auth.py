"""Credentials → :class:`Principal`: an API key from the store, or a JWT checked on a JWKS.

``Authorization: Bearer <token>``. A token starting ``zsk_`` is an API key; anything else is a
JWT, accepted only with an asymmetric signature (RSA, RSA-PSS, EC, EdDSA) that a key of the
JWKS verifies, an ``exp`` in the future, and the configured ``iss`` and ``aud``. ``alg: none``
and HMAC are not in the accepted list, so a token signed with the public key as an HMAC secret
is refused before any key is tried. Its claims ``zhenshen_role``, ``zhenshen_desks``,
``zhenshen_department`` and ``zhenshen_pii`` play the key's part.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt

from zhenshen_server.errors import ApiError, unauthorized
from zhenshen_server.keycache import KeyCache
from zhenshen_server.keys import ApiKey, looks_like_key
from zhenshen_server.roles import Role

#: Asymmetric algorithms only: never ``none``, never HS* (the HMAC-with-public-key attack).
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512",
              "EdDSA")


@dataclass(frozen=True)
class Principal:
    """Who calls: ``subject`` is ``key:<id>`` or ``jwt:<sub>``; an empty ``desks`` is every desk."""

    subject: str
    role: Role
    desks: tuple[str, ...] = ()
    department: str | None = None
    pii: bool = False

    def reaches(self, desk: str) -> bool:
        return self.role is Role.ADMIN or not self.desks or desk in self.desks


@dataclass(frozen=True)
class JwtSettings:
    issuer: str
    audience: str
    jwks: str  # a file path or an https:// URL

    def verifier(self) -> JwtVerifier:
        return JwtVerifier(self)


class JwtVerifier:
    """Holds the JWKS: a file read once (a reload reads it again), a URL through PyJWT's
    caching client (keys fetched on first use and when an unknown ``kid`` appears)."""

    def __init__(self, settings: JwtSettings) -> None:
        self.settings = settings
        self._client: jwt.PyJWKClient | None = None
        self._set: jwt.PyJWKSet | None = None
        if settings.jwks.startswith(("https://", "http://")):
            self._client = jwt.PyJWKClient(settings.jwks, cache_keys=True, lifespan=300)
        else:
            data = json.loads(Path(settings.jwks).read_text(encoding="utf-8"))
            self._set = jwt.PyJWKSet.from_dict(data)

    def _key(self, token: str) -> Any:
        if self._client is not None:
            return self._client.get_signing_key_from_jwt(token).key
        assert self._set is not None
        kid = jwt.get_unverified_header(token).get("kid")
        keys = [k for k in self._set.keys if kid is None or k.key_id == kid]
        if not keys:
            raise jwt.InvalidTokenError("no key of the JWKS has this token's kid")
        return keys[0].key

    def claims(self, token: str) -> dict[str, Any]:
        header = jwt.get_unverified_header(token)
        if header.get("alg") not in ALGORITHMS:
            raise jwt.InvalidAlgorithmError("this algorithm is not accepted")
        decoded: dict[str, Any] = jwt.decode(
            token,
            self._key(token),
            algorithms=list(ALGORITHMS),
            audience=self.settings.audience,
            issuer=self.settings.issuer,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
        return decoded


def _principal_from_claims(claims: dict[str, Any]) -> Principal:
    try:
        role = Role(str(claims.get("zhenshen_role", "")))
    except ValueError:
        raise unauthorized("the token carries no known zhenshen_role") from None
    desks = claims.get("zhenshen_desks") or ()
    if isinstance(desks, str):
        desks = (desks,)
    department = claims.get("zhenshen_department")
    return Principal(
        subject=f"jwt:{claims['sub']}",
        role=role,
        desks=tuple(str(d) for d in desks),
        department=str(department) if department else None,
        pii=claims.get("zhenshen_pii") is True,
    )


def authenticate(
    header: str | None, keys: KeyCache, verifier: JwtVerifier | None
) -> Principal:
    """The caller, or a 401 that says why (never echoing the token)."""
    if not header:
        raise unauthorized("credentials required: Authorization: Bearer <key or token>")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise unauthorized("use Authorization: Bearer <key or token>")
    return principal_for_token(token, keys, verifier)


def key_principal(key: ApiKey) -> Principal:
    return Principal(f"key:{key.id}", key.role, key.desks, key.department, key.pii)


async def cached_principal(token: str, keys: KeyCache) -> Principal | None:
    """The caller of an API key memory can vouch for, on the event loop without reading the
    store; None: ask :func:`principal_for_token`."""
    if not looks_like_key(token):
        return None
    key = await keys.cached(token)
    return None if key is None else key_principal(key)


def principal_for_token(token: str, keys: KeyCache, verifier: JwtVerifier | None) -> Principal:
    """The caller of an API key (read from the store unless cached) or a JWT; 401 otherwise."""
    if looks_like_key(token):
        key = keys.verify(token)
        if key is None:
            raise unauthorized("unknown or revoked API key")
        return key_principal(key)
    if verifier is None:
        raise unauthorized("not an API key, and this service accepts no JWTs")
    try:
        claims = verifier.claims(token)
    except jwt.ExpiredSignatureError:
        raise unauthorized("the token has expired") from None
    except jwt.InvalidIssuerError:
        raise unauthorized("the token's issuer is not accepted") from None
    except jwt.InvalidAudienceError:
        raise unauthorized("the token's audience is not this service") from None
    except jwt.InvalidAlgorithmError:
        raise unauthorized("the token's algorithm is not accepted") from None
    except jwt.PyJWKClientConnectionError:
        raise ApiError(503, "unavailable", "the identity provider's JWKS cannot be fetched; "
                       "try again", headers={"Retry-After": "5"}) from None
    except jwt.PyJWKClientError:
        raise unauthorized("no key of the JWKS verifies the token") from None
    except jwt.InvalidTokenError as exc:
        raise unauthorized(f"invalid token ({type(exc).__name__})") from None
    return _principal_from_claims(claims)


__all__ = ["ALGORITHMS", "ApiError", "JwtSettings", "JwtVerifier", "Principal", "authenticate"]
