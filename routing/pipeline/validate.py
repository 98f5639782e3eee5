"""Step 3, schema validation (SEC-3): the whole message against cimbus's XSD profiles with
lxml. Every violation is reported (line, path, message); the first is the reason of the
InvalidMessage (2.2) and the others follow as further Reply/Error entries."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cim_models.errors import SchemaValidationError

from ..errors import from_codec

if TYPE_CHECKING:
    from ..bus import Bus
    from . import Exchange


class Validate:
    name = "validate"
    always = False

    def __call__(self, ex: Exchange, bus: Bus) -> None:
        assert ex.message is not None
        issues = bus.codec.validate(ex.message)
        if issues:
            first = issues[0]
            more = f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""
            raise from_codec(
                SchemaValidationError(
                    f"{ex.message.element} breaks its schema: {first.message}{more}", issues=issues
                )
            )
