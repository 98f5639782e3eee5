"""Step 4, authentication / authorisation hook (SEC-1, SEC-2).

The transport puts who the caller is into ``ex.meta["principal"]`` (WS-Security user, AMQP
user, TLS subject: later issues). The bus's ``authoriser`` decides; the default allows
everything, so deployments and later issues plug their policy in here without touching the
rest of the pipeline. A refusal is NotAuthorised (3.2) and reveals nothing about the object."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..bus import Bus
    from . import Exchange


class Authorise:
    name = "authorise"
    always = False

    def __call__(self, ex: Exchange, bus: Bus) -> None:
        assert ex.envelope is not None
        ex.principal = ex.meta.get("principal") or ex.envelope.user_id or ex.envelope.source
        bus.authoriser(ex.envelope, ex.principal)
