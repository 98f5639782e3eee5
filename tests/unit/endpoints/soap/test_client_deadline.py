"""SoapClient.request bounds the whole exchange (a target trickling its answer is cut off) and
says plainly when the answer is not SOAP at all (an HTML error page)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from endpoints.client import ReplyTimeout
from endpoints.soap import SoapClient, wire

from .support import golden


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.server.mode == "html":  # type: ignore[attr-defined]
            data = b"<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        self.send_response(200)  # trickle: one byte every 0.3 s, never a whole answer in time
        self.send_header("Content-Type", "text/xml; charset=utf-8")
        self.send_header("Content-Length", "1000")
        self.end_headers()
        try:
            for _ in range(1000):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.3)
        except OSError:
            pass


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Iterator[str]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.daemon_threads = True
    srv.mode = request.param  # type: ignore[attr-defined]
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


@pytest.mark.parametrize("server", ["trickle"], indirect=True)
def test_a_trickled_answer_is_cut_off_at_the_deadline(server: str) -> None:
    client = SoapClient(server, "CIS")
    started = time.monotonic()
    with pytest.raises(ReplyTimeout, match=r"within 1\.5 s"):
        client.request(golden("GetMeterReadings.xml"), timeout=1.5)
    assert time.monotonic() - started < 3.5
    client.close()


@pytest.mark.parametrize("server", ["html"], indirect=True)
def test_an_html_answer_is_named_as_such(server: str) -> None:
    client = SoapClient(server, "CIS")
    with pytest.raises(wire.NotSoap) as err:
        client.request(golden("GetMeterReadings.xml"), timeout=5)
    assert "the target answered text/html (HTTP 200), not a SOAP envelope" in str(err.value)
    assert "DOCTYPE" not in str(err.value)
    client.close()
