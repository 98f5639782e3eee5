"""Transports only: wire <-> envelope. Every transport package has the same small surface:

* ``<X>Transport(bus, config)``: cimbus's side. ``start()`` / ``stop()``; inbound messages go
  to ``bus.handle`` and the reply is rendered on the wire; it registers an
  :class:`routing.transport.Outbound` so the core can reach systems over it.
* ``<X>Client``: the other systems' side (simulators, tests, integrators' scripts):
  ``request(body, timeout)`` -> reply bytes, ``send(body)`` (fire and forget),
  ``serve(handler)`` to answer what cimbus routes to this system, ``close()``.

Nothing above ``endpoints/`` imports a transport client library (pika, paho, httpx, zeep).
"""
