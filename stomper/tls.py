"""TCP with TLS: the transport for stomp+ssl:// (and the carrier of wss://), loaded on first use.

Kept apart from `stomper.transport` so that a program that only speaks
plain TCP never loads `ssl`. `TlsSettings` (in stomper.transport) says how
to verify the broker; `context` builds the client context from it, once.
"""

from __future__ import annotations

import ssl
import time
from typing import BinaryIO, ClassVar

from .transport import RECV_SIZE, TcpTransport, TlsSettings, connect_socket, copy_file, poll_ms
from .url import Endpoint


def context(settings: TlsSettings) -> ssl.SSLContext:
    """The client context for `settings`: verification on (system CAs or `ca_file`) unless `verify` is False."""
    if settings.context is None:
        settings.context = _new_context(settings)
    return settings.context  # type: ignore[return-value]


def _new_context(settings: TlsSettings) -> ssl.SSLContext:
    if settings.verify:
        made = ssl.create_default_context(cafile=settings.ca_file)
    else:
        made = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        made.check_hostname = False
        made.verify_mode = ssl.CERT_NONE
    if settings.cert_file:
        made.load_cert_chain(settings.cert_file, settings.key_file)
    return made


def describe(error: BaseException) -> str | None:
    """One line for a TLS failure while connecting; None for any other error."""
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"TLS certificate verification failed: {error.verify_message or error.reason}"
    if isinstance(error, ssl.SSLError):
        return f"TLS handshake failed: {getattr(error, 'reason', None) or error}"  # only OpenSSL's own errors have a reason
    return None


class TlsTransport(TcpTransport):
    """TCP with TLS: reads must first drain what the TLS layer already decrypted; no zero-copy sendfile."""

    name: ClassVar[str] = "tls"
    sock: ssl.SSLSocket

    @classmethod
    def open(cls, endpoint: Endpoint, timeout: float, tls: TlsSettings) -> TlsTransport:
        deadline = time.monotonic() + timeout
        sock = connect_socket(endpoint, timeout)
        try:
            sock.settimeout(max(deadline - time.monotonic(), 0.001))  # the handshake gets what is left
            return cls(context(tls).wrap_socket(sock, server_hostname=endpoint.host))
        except BaseException:
            sock.close()
            raise

    def read(self, timeout: float | None) -> bytes | None:
        sock = self.sock
        if sock.pending():
            return sock.recv(RECV_SIZE)
        if not self._poll.poll(poll_ms(timeout)):
            return None
        try:
            return sock.recv(RECV_SIZE)
        except ssl.SSLWantReadError:
            return None

    def sendfile(self, stream: BinaryIO, size: int) -> None:
        copy_file(self.sock.sendall, stream, size)

    def pending(self) -> bool:
        return bool(self.sock.pending()) or super().pending()
