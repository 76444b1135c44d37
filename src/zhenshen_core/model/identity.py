"""Enterprise identity: the 18-character unified social credit code (统一社会信用代码).

Validation is delegated to python-stdnum (``stdnum.cn.uscc``), a maintained implementation of
GB 32100-2015; we only normalise what people actually type (full-width characters, lower case,
spaces and dashes) and turn the library's exceptions into messages that say which check failed.
"""

from __future__ import annotations

import unicodedata


def normalise_uscc(raw: str) -> str:
    """Full-width → half-width (NFKC), drop separators, upper-case."""
    text = unicodedata.normalize("NFKC", raw)
    return "".join(ch for ch in text if ch not in " -\u3000\t").upper()


def validate_uscc(raw: str) -> str:
    """Return the normalised code or raise ``ValueError`` naming the failed check."""
    # Imported here: python-stdnum pulls in ssl and urllib, and most cases carry no USCC.
    from stdnum import exceptions as stdnum_exceptions
    from stdnum.cn import uscc as stdnum_uscc

    code = normalise_uscc(raw)
    try:
        return str(stdnum_uscc.validate(code))
    except stdnum_exceptions.InvalidLength as exc:
        raise ValueError(
            f"统一社会信用代码 must have 18 characters, got {len(code)} ({code!r}); check: length"
        ) from exc
    except stdnum_exceptions.InvalidChecksum as exc:
        raise ValueError(
            f"统一社会信用代码 {code!r} fails the GB 32100-2015 mod-31 check character; "
            "check: checksum"
        ) from exc
    except stdnum_exceptions.InvalidFormat as exc:
        raise ValueError(
            f"统一社会信用代码 {code!r} has characters outside GB 32100-2015's alphabet "
            "(digits and upper-case letters except I, O, S, V, Z) or a bad "
            "registration-authority / organisation-code part; check: format"
        ) from exc
    except stdnum_exceptions.ValidationError as exc:  # pragma: no cover - future stdnum errors
        raise ValueError(f"统一社会信用代码 {code!r} is invalid: {exc}; check: other") from exc


def mask_phone(phone: str) -> str:
    """Keep the first 3 and last 4 digits of a phone number, as 12345 platforms display them.

    A value masked already (``139****5678``, a confidential requester's 保密) is returned as it
    is: masking it again must not join its visible digits into a shorter number."""
    if "*" in phone or "＊" in phone or not any(c.isdigit() for c in phone):
        return phone
    digits = [c for c in phone if c.isdigit()]
    if len(digits) < 7:
        return "*" * len(phone)
    return "".join(digits[:3]) + "*" * (len(digits) - 7) + "".join(digits[-4:])
