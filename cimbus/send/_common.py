"""What the parts of ``cimbus send`` share: names, result kinds, errors, masking secrets."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from cim_models import namespaces as ns

MSG = ns.MSG_NS
SOAP11 = ns.SOAP11_NS
SOAP12 = ns.SOAP12_NS
GENERIC = ("RequestMessage", "EventMessage", "ResponseMessage")
#: IEC 61968-100 Header elements in schema order (a MessageID added by ``--fresh-ids`` goes
#: where the schema wants it)
HEADER_ORDER = (
    "Verb",
    "Noun",
    "Revision",
    "ReplayDetection",
    "Context",
    "Timestamp",
    "Source",
    "AsyncReplyFlag",
    "ReplyAddress",
    "AckRequired",
    "User",
    "MessageID",
    "CorrelationID",
    "Comment",
    "Property",
)
#: results that end the command with exit 0: an answer OK, a reply published to a broker, a
#: one-way operation's HTTP 202
SUCCESS = frozenset({"OK", "SENT", "ACCEPTED"})
DEFAULT_SOAP = "http://127.0.0.1:8080"


class InputError(Exception):
    """A message file cannot be sent as it is (nothing is sent). ``unreadable``: the file could
    not be read at all (a usage error, exit 2), rather than refused (exit 1)."""

    def __init__(self, reason: str, *, unreadable: bool = False) -> None:
        super().__init__(reason)
        self.unreadable = unreadable


class TargetError(Exception):
    """The target cannot take a message: no WSDL, no operation for it (that message is not
    sent: UNSENT), or, ``fatal``, the target cannot be used at all (the run stops there,
    exit 2)."""

    def __init__(self, reason: str, *, fatal: bool = False) -> None:
        super().__init__(reason)
        self.fatal = fatal


def masked(url: str) -> str:
    """``url`` with its password shown as ``***``."""
    from routing.config import masked as mask

    return mask(url)


class Secrets:
    """Passwords given in URLs (``--to``, ``--wsdl``): never printed, whatever the library that
    quotes the URL back in an error message (requests does, in full)."""

    def __init__(self, *urls: str | None) -> None:
        self.values: list[str] = []
        for url in urls:
            if not url:
                continue
            userinfo = url.rpartition("@")[0].partition("://")[2] if "@" in url else ""
            password = userinfo.partition(":")[2]
            try:
                parsed = urlsplit(url).password
            except ValueError:
                parsed = None
            for value in (password, parsed, unquote(password) if password else None):
                if value and value not in self.values:
                    self.values.append(value)
        self.values.sort(key=len, reverse=True)

    def mask(self, text: str) -> str:
        """``text`` with each password hidden where a URL carries it (``:password@``) and, when
        it is long enough not to be an ordinary word (6 characters or more), anywhere: a
        password ``guest`` or ``a`` must not blank out every ``guest`` or ``a`` printed."""
        for value in self.values:
            text = text.replace(f":{value}@", ":***@")
            if len(value) >= 6:
                text = text.replace(value, "***")
        return text


__all__ = [
    "DEFAULT_SOAP",
    "GENERIC",
    "HEADER_ORDER",
    "MSG",
    "SOAP11",
    "SOAP12",
    "SUCCESS",
    "InputError",
    "Secrets",
    "TargetError",
    "masked",
]
