"""The TLS context of a transport: whom to trust, and what certificate to show.

Whom to trust, first match wins: the ``ca_bundle`` setting (a PEM file or a folder of
hashed certificates, as ``openssl rehash`` writes); else ``SSL_CERT_FILE`` or
``SSL_CERT_DIR`` from the environment, as httpx and the standard library read them; else
certifi's roots, as httpx's own default. A private CA therefore works either way: in the
configuration, or for every program at once in the environment. ``client_cert`` and
``client_key`` add a certificate for servers that ask for one (mutual TLS).

Contexts are cached by what they were built from: loading a trust store costs tens of
milliseconds, and a program that makes many clients for one server makes one context.
"""

from __future__ import annotations

import functools
import os
import ssl

from botticelli_error import ConfigurationError
from botticelli_transport.settings import TransportOptions

__all__ = ["tls_context"]


def tls_context(settings: TransportOptions, *, provider: str) -> ssl.SSLContext:
    """The context for ``settings``' server.

    A plain ``http://`` server (every local one) never speaks TLS: requests only go to
    paths under ``base_url`` and redirects are not followed. It gets a context that
    trusts no certificate at all, so that if it ever did, it would refuse rather than skip
    verification, and loading no trust store costs nothing.

    Raises:
        ConfigurationError: A CA bundle, certificate or key that cannot be loaded.
    """
    if not settings.base_url.startswith("https:"):
        return _trusting_nothing()
    env_file = os.environ.get("SSL_CERT_FILE") or None
    env_dir = os.environ.get("SSL_CERT_DIR") or None
    try:
        return _verifying(settings.ca_bundle, settings.client_cert, settings.client_key, env_file, env_dir)
    except (OSError, ssl.SSLError) as exc:
        problem = _problem(exc, settings, env_file, env_dir)
    raise ConfigurationError(problem, provider=provider)


@functools.cache
def _trusting_nothing() -> ssl.SSLContext:
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


@functools.lru_cache(maxsize=16)
def _verifying(
    ca_bundle: str | None,
    client_cert: str | None,
    client_key: str | None,
    env_file: str | None,
    env_dir: str | None,
) -> ssl.SSLContext:
    if ca_bundle is not None:
        folder = os.path.isdir(ca_bundle)
        context = ssl.create_default_context(cafile=None if folder else ca_bundle, capath=ca_bundle if folder else None)
    elif env_file is not None or env_dir is not None:
        context = ssl.create_default_context(cafile=env_file, capath=env_dir)
    else:
        import certifi  # noqa: PLC0415 - httpx's own dependency; only an https client needs it

        context = ssl.create_default_context(cafile=certifi.where())
    if client_cert is not None:
        context.load_cert_chain(client_cert, client_key)
    return context


def _problem(exc: OSError | ssl.SSLError, settings: TransportOptions, env_file: str | None, env_dir: str | None) -> str:
    """Which setting could not be loaded, and why, for the error message."""
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    if settings.client_cert is not None:
        try:
            _verifying(settings.ca_bundle, None, None, env_file, env_dir)
        except (OSError, ssl.SSLError):
            pass  # the trust store failed first
        else:
            key = f" with client_key {settings.client_key!r}" if settings.client_key else ""
            return f"cannot load client_cert {settings.client_cert!r}{key}: {reason}"
    if settings.ca_bundle is not None:
        trust = f"ca_bundle {settings.ca_bundle!r}"
    elif env_file is not None:
        trust = f"SSL_CERT_FILE {env_file!r}"
    elif env_dir is not None:
        trust = f"SSL_CERT_DIR {env_dir!r}"
    else:
        trust = "certifi's certificate authorities"
    return f"cannot load {trust}: {reason}"
