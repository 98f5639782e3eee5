"""``cimbus send``, the input side: message files read, identified and checked before anything
is sent, and ``--fresh-ids``."""

from __future__ import annotations

import copy
import sys
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from cim_models.build import now_iso
from cim_models.codec import Codec
from cim_models.errors import CodecError
from cim_models.ids import new_message_id
from cim_models.safexml import DEFAULT_LIMITS, Limits, parse_bytes

from ._common import HEADER_ORDER, MSG, SOAP11, SOAP12, InputError


@dataclass
class Outgoing:
    """One message to send. ``message`` is the message element (the Body's child when the
    file was a SOAP envelope, which is kept in ``envelope`` and sent as it is over SOAP)."""

    name: str  # the file as the user named it ("-": standard input)
    message: etree._Element
    envelope: etree._Element | None = None
    form: str = "typed"
    header: dict[str, Any] = field(default_factory=dict)

    @property
    def element(self) -> str:
        return etree.QName(self.message).localname

    @property
    def qname(self) -> str:
        return self.message.tag

    @property
    def verb(self) -> str | None:
        return self.header.get("Verb") or None

    @property
    def noun(self) -> str | None:
        return self.header.get("Noun") or None

    @property
    def message_id(self) -> str | None:
        return self.header.get("MessageID") or None

    @property
    def source(self) -> str | None:
        return self.header.get("Source") or None

    @property
    def is_reply(self) -> bool:
        """A reply or fault sent to cimbus: nobody answers it on a broker."""
        return self.verb == "reply" or self.element.endswith("FaultMessage")

    def body(self) -> bytes:
        """The message (without any SOAP envelope), as sent on a broker."""
        return etree.tostring(self.message, encoding="UTF-8", xml_declaration=True)

    def describe(self) -> str:
        what = " ".join(x for x in (self.verb, self.noun) if x) or self.element
        return f"{what} {self.message_id or '(no MessageID)'}"


def read_messages(
    names: list[str],
    *,
    limits: Limits = DEFAULT_LIMITS,
    validate: bool = True,
    fresh_ids: bool = False,
    codec: Codec | None = None,
    stdin: Any = None,
) -> tuple[list[Outgoing], list[tuple[str, InputError]]]:
    """Every message to send, and (file, problem) for each that cannot be sent: it cannot be
    read, is not XML, is not an IEC 61968-100 message, or is not valid against cimbus's
    profiles."""
    codec = codec or Codec(limits=limits)
    out: list[Outgoing] = []
    problems: list[tuple[str, InputError]] = []
    for name in names:
        try:
            item = read_message(name, limits=limits, validate=validate, codec=codec, stdin=stdin)
            if fresh_ids:
                refresh_ids(item)
        except InputError as exc:
            problems.append((name, exc))
            continue
        out.append(item)
    return out, problems


def read_message(
    name: str,
    *,
    limits: Limits = DEFAULT_LIMITS,
    validate: bool = True,
    codec: Codec | None = None,
    stdin: Any = None,
) -> Outgoing:
    codec = codec or Codec(limits=limits)
    data = _read(name, limits, stdin)
    try:
        root = parse_bytes(data, limits)
    except CodecError as exc:
        raise InputError(exc.reason) from None
    envelope = None
    q = etree.QName(root)
    if q.localname == "Envelope" and q.namespace in (SOAP11, SOAP12):
        envelope = root
        body = [c for c in _children(root) if etree.QName(c).localname == "Body"]
        content = [c for c in _children(body[0])] if len(body) == 1 else []
        if len(content) != 1:
            raise InputError(
                "a SOAP envelope to send must hold exactly one message in one Body "
                f"(found {len(body)} Body, {len(content)} element(s) in it)"
            )
        message = content[0]
    else:
        message = root
    try:
        # identified (and validated) on a copy: the codec rewrites legacy namespaces, and the
        # message goes out as the file has it
        msg = codec.identify(copy.deepcopy(message))
    except CodecError as exc:
        raise InputError(exc.reason) from None
    if msg.form == "payload":
        raise InputError(
            f"{msg.element} is a bare payload, not an IEC 61968-100 message: put it in a "
            "message's Payload (with a Header saying verb, noun and MessageID)"
        )
    if validate:
        issues = codec.validate(msg)
        if issues:
            listed = "; ".join(str(i) for i in issues[:5])
            more = f" (and {len(issues) - 5} more)" if len(issues) > 5 else ""
            raise InputError(
                f"not valid against cimbus's XSD profiles: {listed}{more} "
                "(--no-validate sends it anyway)"
            )
    return Outgoing(name, message, envelope, msg.form, msg.header())


def _read(name: str, limits: Limits, stdin: Any) -> bytes:
    try:
        if name == "-":
            stream = stdin if stdin is not None else sys.stdin.buffer
            data = stream.read(limits.max_bytes + 1)
        else:
            with open(name, "rb") as fh:
                data = fh.read(limits.max_bytes + 1)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", unreadable=True) from None
    if isinstance(data, str):
        data = data.encode()
    if len(data) > limits.max_bytes:
        raise InputError(f"over the limit of {limits.max_bytes} bytes (--max-bytes)")
    return data


def _children(el: etree._Element) -> list[etree._Element]:
    return [c for c in el if isinstance(c.tag, str)]


def refresh_ids(item: Outgoing) -> bool:
    """A new MessageID and Timestamp in the message's Header (``--fresh-ids``), added in schema
    order when missing, so a golden file can be sent again without being answered as a
    duplicate of its first sending (REL-1 de-duplication by MessageID). A message without a
    Header (a FaultMessage) has no ids to renew: False, unchanged."""
    header = next(
        (c for c in _children(item.message) if etree.QName(c).localname == "Header"), None
    )
    if header is None:
        return False
    for name, value in (("MessageID", new_message_id()), ("Timestamp", now_iso())):
        _set_header(header, name, value)
        item.header[name] = value
    return True


def _set_header(header: etree._Element, name: str, value: str) -> None:
    """Set a Header field, in the namespace the Header's fields are written in (a message in
    a legacy namespace keeps it: a second field in the canonical one would be ignored)."""
    fields = [c for c in _children(header) if etree.QName(c).localname in HEADER_ORDER]
    for field_ in fields:
        if etree.QName(field_).localname == name:
            field_.text = value
            return
    namespace = etree.QName(fields[0]).namespace if fields else MSG
    new = etree.Element(f"{{{namespace}}}{name}")
    new.text = value
    rank = HEADER_ORDER.index(name)
    before = next((c for c in fields if HEADER_ORDER.index(etree.QName(c).localname) > rank), None)
    if before is None:
        header.append(new)
    else:
        before.addprevious(new)
