"""Certificate verification per base URL."""

from __future__ import annotations

import ssl

__all__ = ["tls_context"]


def tls_context(base_url: str) -> ssl.SSLContext | bool:
    """Certificate verification for ``base_url``: the default trust store for https.

    A plain ``http://`` server (every local one) needs no TLS, and loading the trust
    store costs tens of milliseconds per client. Requests only ever go to paths under
    ``base_url`` and redirects are not followed, so such a client never speaks TLS; it
    gets a context that trusts no certificate at all, so that if it ever did, it would
    refuse rather than skip verification.
    """
    if base_url.startswith("https:"):
        return True
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
