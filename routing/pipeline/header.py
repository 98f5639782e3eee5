"""Step 2, check the header (BUS-1, BUS-2): Verb and Noun present and consistent with the
message element, MessageID present where the bus needs it (de-duplication, correlation), a
CorrelationID on every reply. Violations are HeaderError (2.3)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cim_models import namespaces as ns

from ..errors import HeaderError

if TYPE_CHECKING:
    from ..bus import Bus
    from . import Exchange


def expected_verb(element: str, noun: str) -> str | None:
    """The verb a typed wrapper element implies (CreateX -> create, XResponseMessage -> reply)."""
    if element == f"Get{noun}":
        return "get"
    if element == f"{noun}ResponseMessage":
        return "reply"
    for verb, prefix in ns.VERB_PREFIX.items():
        if element == f"{prefix}{noun}":
            return verb
    return None


class CheckHeader:
    name = "header"
    always = False

    def __call__(self, ex: Exchange, bus: Bus) -> None:
        env = ex.envelope
        assert env is not None and ex.message is not None
        if ex.message.form == "payload":
            raise HeaderError(
                f"a bare {ex.message.element} payload is not a message: wrap it in an IEC 61968-100 "
                "envelope (e.g. Created<Noun> or RequestMessage) with a Header"
            )
        if env.element.endswith("FaultMessage"):
            env.verb = "reply"  # a FaultMessage has no header: it answers a request
            if not env.noun and ex.message.noun:
                env.noun = ex.message.noun
            return
        if not env.verb:
            raise HeaderError("the Header has no Verb", xpath="Header/Verb")
        if env.verb not in ns.VERBS:
            raise HeaderError(
                f"Verb {env.verb!r} is not an IEC 61968-100 verb", xpath="Header/Verb"
            )
        if not env.noun:
            raise HeaderError("the Header has no Noun", xpath="Header/Noun")
        if ex.message.form in ("typed", "get"):
            wrapper_noun = ex.message.noun
            # Real peers sometimes write the Get element's name as Noun (GetEndDeviceEvents)
            if env.noun != wrapper_noun and env.noun != f"Get{wrapper_noun}":
                raise HeaderError(
                    f"Header Noun {env.noun!r} does not match the message {env.element} "
                    f"(noun {wrapper_noun!r})",
                    xpath="Header/Noun",
                )
            env.noun = wrapper_noun or env.noun
            verb = expected_verb(env.element, env.noun)
            if verb is not None and verb != env.verb:
                raise HeaderError(
                    f"Header Verb {env.verb!r} does not match the message {env.element} "
                    f"(which means {verb!r})",
                    xpath="Header/Verb",
                )
        if env.verb == "reply":
            if not env.correlation_id:
                raise HeaderError(
                    "a reply needs a CorrelationID (the MessageID of the request it answers)",
                    xpath="Header/CorrelationID",
                )
        elif bus.config.bus.require_message_id and not env.message_id:
            raise HeaderError(
                f"'{env.verb} {env.noun}' needs a MessageID: cimbus uses it to de-duplicate and to "
                "correlate the reply",
                xpath="Header/MessageID",
            )
