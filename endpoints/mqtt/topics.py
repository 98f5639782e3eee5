"""The MQTT topic scheme (BUS-6): one table, one builder, one parser.

Every topic cimbus uses or documents is built here from :data:`TOPICS` (docs/mqtt.md prints the
same table), under a configurable prefix (``[mqtt] topic_prefix``, default ``cimbus``):

=================  ===============================================  ====================================
kind               topic                                            who publishes / who subscribes
=================  ===============================================  ====================================
``inbound``        ``<prefix>/in/<source>/<noun>[/<device>]``       systems -> cimbus (``<prefix>/in/#``)
``system``         ``<prefix>/system/<name>/<noun>[/<device>]``     cimbus -> a system (``.../<name>/#``)
``reply``          ``<prefix>/reply/<worker>``                      systems -> the cimbus process waiting
``client_reply``   ``<prefix>/client/<client>/reply``               cimbus -> a client's request()
=================  ===============================================  ====================================

``<source>`` is the sending system, ``<noun>`` the IEC 61968-9 noun (``EndDeviceEvents``) and
``<device>`` an optional meter / end device identifier, so a head-end can publish last-gasp
events per meter and a broker ACL can grant a system exactly its own subtree. A reply to
cimbus may also go to ``<prefix>/in`` itself (matched by ``<prefix>/in/#``): that is the async
reply address cimbus hands out.

Segments are data, not syntax: ``/``, ``+``, ``#``, ``%`` and NUL are percent-encoded so a
device id such as ``MTR/42`` stays one segment and can never widen a subscription.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: kind -> (template, what it is for). The template's ``[/{device}]`` part is optional.
TOPICS: dict[str, tuple[str, str]] = {
    "inbound": (
        "{prefix}/in/{source}/{noun}[/{device}]",
        "systems -> cimbus: requests, events and replies (cimbus subscribes to {prefix}/in/#)",
    ),
    "system": (
        "{prefix}/system/{name}/{noun}[/{device}]",
        "cimbus -> system <name>: routed requests, fanned-out events (the system subscribes to "
        "{prefix}/system/<name>/#)",
    ),
    "reply": (
        "{prefix}/reply/{worker}",
        "systems -> the cimbus process waiting for a synchronous reply (its Response Topic)",
    ),
    "client_reply": (
        "{prefix}/client/{client}/reply",
        "cimbus -> a client: answers to MqttClient.request (its Response Topic)",
    ),
}

_UNSAFE = {"%": "%25", "/": "%2F", "+": "%2B", "#": "%23", "\x00": "%00"}


def encode_segment(value: str) -> str:
    """One topic level from a value (percent-encodes ``/ + # %`` and NUL)."""
    if not value:
        raise ValueError("an MQTT topic segment cannot be empty")
    return "".join(_UNSAFE.get(ch, ch) for ch in value)


_DECODE = {code: ch for ch, code in _UNSAFE.items()}
_ESCAPE = re.compile("|".join(re.escape(code) for code in _DECODE), re.IGNORECASE)


def decode_segment(segment: str) -> str:
    """The value of one topic level (inverse of :func:`encode_segment`, in one pass)."""
    return _ESCAPE.sub(lambda m: _DECODE[m.group(0).upper()], segment)


@dataclass(frozen=True, slots=True)
class TopicInfo:
    """What a topic says: its kind and the parties, noun and device it names."""

    kind: str  # inbound | system | reply | client_reply | unknown
    party: str | None = None  # source (inbound), system name, worker id or client id
    noun: str | None = None
    device: str | None = None


@dataclass(frozen=True, slots=True)
class TopicScheme:
    """The topics under one prefix (``[mqtt] topic_prefix``)."""

    prefix: str = "cimbus"

    def __post_init__(self) -> None:
        levels = self.prefix.split("/")
        if not self.prefix or any(not lv or set(lv) & set("+#\x00") for lv in levels):
            raise ValueError(
                f"MQTT topic prefix {self.prefix!r} must be non-empty levels without + # or NUL"
            )
        if self.prefix.startswith("$"):
            raise ValueError(f"MQTT topic prefix {self.prefix!r} must not start with $")

    # ------------------------------------------------------------------ builders
    def _build(self, kind: str, device: str | None = None, **parts: str) -> str:
        template = TOPICS[kind][0]
        base, _, optional = template.partition("[")
        topic = base.format(prefix=self.prefix, **{k: encode_segment(v) for k, v in parts.items()})
        if device is not None:
            topic += optional.rstrip("]").format(device=encode_segment(device))
        return topic

    def inbound(self, source: str, noun: str, device: str | None = None) -> str:
        return self._build("inbound", device, source=source, noun=noun)

    def system(self, name: str, noun: str, device: str | None = None) -> str:
        return self._build("system", device, name=name, noun=noun)

    def reply(self, worker: str) -> str:
        return self._build("reply", worker=worker)

    def client_reply(self, client: str) -> str:
        return self._build("client_reply", client=client)

    # ------------------------------------------------------------------ filters
    @property
    def inbound_root(self) -> str:
        """``<prefix>/in``: where a system may send replies to cimbus when it only knows the
        async reply address (``<prefix>/in/#`` matches it)."""
        return f"{self.prefix}/in"

    @property
    def inbound_filter(self) -> str:
        return f"{self.prefix}/in/#"

    def system_filter(self, name: str) -> str:
        return f"{self.prefix}/system/{encode_segment(name)}/#"

    def under(self, base: str, noun: str | None, device: str | None = None) -> str:
        """``base/<noun>[/<device>]``: a delivery to a system's topic prefix (its configured
        address, default ``<prefix>/system/<name>``)."""
        topic = base.rstrip("/")
        if noun:
            topic += "/" + encode_segment(noun)
            if device:
                topic += "/" + encode_segment(device)
        return topic

    # ------------------------------------------------------------------ parser
    def parse(self, topic: str) -> TopicInfo:
        """Read a topic of this scheme; anything else is ``kind="unknown"``."""
        head = self.prefix + "/"
        if not topic.startswith(head):
            return TopicInfo("unknown")
        rest = topic[len(head) :].split("/")
        kind, args = rest[0], [decode_segment(s) for s in rest[1:]]
        if kind == "in":
            if len(args) > 3:
                return TopicInfo("unknown")
            padded = [*args, None, None, None]
            return TopicInfo("inbound", padded[0], padded[1], padded[2])
        if kind == "system" and 2 <= len(args) <= 3:
            return TopicInfo("system", args[0], args[1], args[2] if len(args) == 3 else None)
        if kind == "system" and len(args) == 1:
            return TopicInfo("system", args[0])
        if kind == "reply" and len(args) == 1:
            return TopicInfo("reply", args[0])
        if kind == "client" and len(args) == 2 and args[1] == "reply":
            return TopicInfo("client_reply", args[0])
        return TopicInfo("unknown")

    def rows(self) -> list[dict[str, str]]:
        """The scheme as rows (docs, ``cimbus`` listings)."""
        return [
            {
                "kind": kind,
                "topic": template.replace("{prefix}", self.prefix),
                "use": use.replace("{prefix}", self.prefix),
            }
            for kind, (template, use) in TOPICS.items()
        ]


__all__ = ["TOPICS", "TopicInfo", "TopicScheme", "decode_segment", "encode_segment"]
