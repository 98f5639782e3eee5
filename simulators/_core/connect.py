"""Connect a simulator to cimbus over a transport (embedded, AMQP, MQTT).

Simulators reach cimbus only over the wire: through the endpoint *clients* (the same ones an
integrator's script would use), never through the routing core.

A broker URL is checked before anything connects (:func:`broker_url`): the scheme of its
transport, a host, a port of 1-65535 when one is given. A wrong one is a ValueError naming the
URL with its password hidden (:func:`masked`), not a client that retries forever.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

__all__ = ["DEFAULT_URLS", "SCHEMES", "TRANSPORTS", "broker_url", "connect", "masked"]

TRANSPORTS = ("embedded", "amqp", "mqtt")
#: the URL schemes each broker transport's client accepts
SCHEMES = {"amqp": ("amqp", "amqps"), "mqtt": ("mqtt", "mqtts", "tcp", "ssl")}
#: without a URL: the environment variable, else the local broker
DEFAULT_URLS = {
    "amqp": ("CIMBUS_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F"),
    "mqtt": ("CIMBUS_MQTT_URL", "mqtt://127.0.0.1:1884"),
}


def masked(url: str) -> str:
    """``url`` with its password shown as ``***`` (also when it does not parse: everything
    between the user name and the last ``@`` is hidden)."""
    head, at, tail = url.rpartition("@")
    if not at:
        return url
    prefix, sep, userinfo = head.rpartition("://")
    user, colon, _password = userinfo.partition(":")
    if not colon:
        return url
    return f"{prefix}{sep}{user}:***@{tail}"


def broker_url(transport: str, url: str | None = None, *, what: str = "url") -> str:
    """The broker URL ``transport`` (amqp / mqtt) connects to: ``url``, else the environment
    variable of :data:`DEFAULT_URLS`, else the local broker; checked whole. ``what`` names
    where ``url`` comes from in the message (e.g. ``--url``). Raises ValueError."""
    if transport not in SCHEMES:
        raise ValueError(f"the {transport} transport takes no broker URL")
    variable, default = DEFAULT_URLS[transport]
    if url is None:
        from_env = os.environ.get(variable)
        url, what = (from_env, variable) if from_env is not None else (default, "default url")
    named = f"{what} {masked(url)!r}"
    schemes = SCHEMES[transport]
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # an unclosed [IPv6 bracket, a bracketed non-address
        raise ValueError(f"{named} is not a URL: {exc}") from None
    if parts.scheme not in schemes:
        raise ValueError(
            f"{named} is not an {transport.upper()} URL: "
            f"it must start with {' or '.join(f'{s}://' for s in schemes[:2])}"
        )
    if not parts.hostname:
        raise ValueError(f"{named} names no host (use {schemes[0]}://HOST:PORT)")
    try:
        port = parts.port  # ValueError: not a number, or above 65535
    except ValueError:
        port = -1
    if port is not None and not 0 < port <= 65535:
        raise ValueError(f"{named}: the port must be a whole number from 1 to 65535")
    if transport == "amqp":
        _check_amqp(url, named)
    return url


def _check_amqp(url: str, named: str) -> None:
    """What pika makes of the URL (its query options: heartbeat, ssl_options, ...)."""
    try:
        import pika
    except ImportError:  # pragma: no cover - the AMQP client needs it anyway
        return
    try:
        pika.URLParameters(url)
    except Exception as exc:
        reason = str(exc).replace(url, masked(url))
        password = urlsplit(url).password
        if password:
            reason = reason.replace(password, "***")
        raise ValueError(f"{named} is not a usable AMQP URL: {reason}") from None


def connect(
    transport: str, system: str, *, broker: Any = None, url: str | None = None, **options: Any
) -> Any:
    """A BusClient for ``system``: ``embedded`` needs the in-process ``broker`` (and takes no
    ``url``); ``amqp`` and ``mqtt`` take ``url`` (default CIMBUS_AMQP_URL / CIMBUS_MQTT_URL or
    the local broker), checked by :func:`broker_url` first."""
    if not system or not system.strip():
        raise ValueError("a simulator connects as a named bus system (the name is empty)")
    if transport == "embedded":
        if url is not None:
            raise ValueError(
                "the embedded transport connects to the in-process broker and takes no url"
            )
        if broker is None:
            raise ValueError(
                "the embedded transport needs the in-process broker of a running cimbus"
            )
        from endpoints.embedded import EmbeddedClient

        return EmbeddedClient(broker, system, **options)
    if transport == "amqp":
        from endpoints.amqp import AmqpClient

        return AmqpClient(broker_url("amqp", url), system, **options)
    if transport == "mqtt":
        from endpoints.mqtt import MqttClient

        return MqttClient(broker_url("mqtt", url), system, **options)
    raise ValueError(
        f"unknown transport {transport!r}; simulators connect over {', '.join(TRANSPORTS)}"
    )
