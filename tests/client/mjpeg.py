"""A tiny MJPEG-over-HTTP camera (multipart/x-mixed-replace, like most IP cameras' /video.mjpg)
that can be switched off and on again on the same port, to test stream reconnects."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

BOUNDARY = b"frame"


class MjpegCamera:
    def __init__(self, jpeg: bytes, fps: float = 10.0, port: int = 0) -> None:
        self.jpeg = jpeg
        self.interval = 1.0 / fps
        self.port = port
        self._httpd: ThreadingHTTPServer | None = None
        self._off = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/video.mjpg"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        camera = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header(
                    "Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY.decode()}"
                )
                self.end_headers()
                part = (
                    b"--"
                    + BOUNDARY
                    + b"\r\nContent-Type: image/jpeg\r\n"
                    + f"Content-Length: {len(camera.jpeg)}\r\n\r\n".encode()
                    + camera.jpeg
                    + b"\r\n"
                )
                try:
                    # Paced like a camera; Event.wait doubles as the switch-off signal.
                    while not camera._off.wait(camera.interval):
                        self.wfile.write(part)
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def start(self) -> MjpegCamera:
        self._off.clear()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        """Switch off: streams in progress end, new connections are refused."""
        self._off.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
