"""Open a store from a URL, letting plugins supply schemes (``postgresql://`` …).

The scheme is resolved through a :class:`~zhenshen_core.plugins.PluginHost` rather than a table
here, so a backend plugin needs no change to this module, and an unknown scheme is answered
with the list of schemes the loaded plugins offer.
"""

from __future__ import annotations

from zhenshen_core.errors import StoreURLError, UnknownNameError
from zhenshen_core.plugins.host import PluginConfig, PluginHost
from zhenshen_core.storage.protocol import CaseStore


def open_store(url: str, host: PluginHost | None = None) -> CaseStore:
    """Open the store ``url`` names: ``memory://``, ``sqlite:///path.db`` or a plugin's scheme.

    Without ``host`` only the built-in backends are available (entry points are not loaded), so
    a library call never imports third-party code implicitly.
    """
    if "://" not in url:
        raise StoreURLError(
            f"not a store URL: {url!r}; expected SCHEME://…, e.g. sqlite:///cases.db or memory://"
        )
    host = host or PluginHost(PluginConfig(autoload=False))
    try:
        backend = host.storage_backend(url)
    except UnknownNameError as exc:
        raise StoreURLError(f"cannot open store {url!r}: {exc}") from None
    return backend.factory(url)
