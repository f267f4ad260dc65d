"""A fault-injecting TCP proxy on loopback, between a client and a real server.

Each connection it accepts gets one fate, drawn from a seeded generator:

    pass       forwarded both ways
    latency    forwarded, each chunk held back 20-200 ms
    reset      closed at once, before the request is read
    lost_ack   the request reaches the server, the answer never reaches the client
    truncate   only the first part of the answer reaches the client, then the connection closes
    stall      the request is read and nothing happens until the client gives up

``lost_ack`` and ``truncate`` are the cruel ones: the server has done the work and the client
does not know it. Used by the network-fault tests and the delivery benchmark.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import threading
from collections import Counter
from collections.abc import Iterator

FATES = ("pass", "latency", "reset", "lost_ack", "truncate", "stall")


class FaultProxy:
    def __init__(
        self,
        target_port: int,
        failure_rate: float = 0.6,
        seed: int = 1,
        stall_s: float = 3.0,
    ) -> None:
        self.target_port = target_port
        self.failure_rate = failure_rate
        self.rng = random.Random(seed)
        self.stall_s = stall_s
        self.fates: Counter[str] = Counter()
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _fate(self) -> str:
        if self.rng.random() >= self.failure_rate:
            return "pass" if self.rng.random() < 0.5 else "latency"
        return self.rng.choice(("reset", "lost_ack", "truncate", "stall"))

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", self.port)
        )
        self._ready.set()
        self._loop.run_forever()

    async def _shutdown(self) -> None:
        self._server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        fate = self._fate()
        self.fates[fate] += 1
        try:
            if fate == "reset":
                return
            upstream_reader, upstream_writer = await asyncio.open_connection(
                "127.0.0.1", self.target_port
            )
            try:
                if fate == "stall":
                    await reader.read(65536)
                    await asyncio.sleep(self.stall_s)
                    return
                if fate in ("lost_ack", "truncate"):
                    await self._one_exchange(reader, writer, upstream_reader, upstream_writer, fate)
                    return
                delay = fate == "latency"
                await asyncio.gather(
                    self._pipe(reader, upstream_writer, delay),
                    self._pipe(upstream_reader, writer, delay),
                )
            finally:
                await _close(upstream_writer)
        except (ConnectionError, OSError, asyncio.CancelledError):
            pass
        finally:
            await _close(writer)

    async def _one_exchange(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        upstream_reader: asyncio.StreamReader,
        upstream_writer: asyncio.StreamWriter,
        fate: str,
    ) -> None:
        """Forward one whole request, read the server's whole answer, then misdeliver it."""
        request = await _read_message(reader)
        if not request:
            return
        upstream_writer.write(request)
        await upstream_writer.drain()
        answer = await _read_message(upstream_reader)
        if fate == "truncate" and answer:
            writer.write(answer[: max(1, len(answer) // 2)])
            await writer.drain()

    async def _pipe(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, delay: bool
    ) -> None:
        try:
            while chunk := await source.read(65536):
                if delay:
                    await asyncio.sleep(self.rng.uniform(0.02, 0.2))
                sink.write(chunk)
                await sink.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            await _close(sink)

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(15)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(15)
        self._loop.close()


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(Exception, asyncio.CancelledError):
        await writer.wait_closed()


async def _read_message(reader: asyncio.StreamReader) -> bytes:
    """One HTTP/1.1 message: the head, then a Content-Length body (all examgate sends)."""
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = await reader.read(65536)
        if not chunk:
            return head
        head += chunk
    header, _, body = head.partition(b"\r\n\r\n")
    length = 0
    for line in header.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip() or 0)
    while len(body) < length:
        chunk = await reader.read(65536)
        if not chunk:
            break
        body += chunk
    return header + b"\r\n\r\n" + body


@contextlib.contextmanager
def proxied(target_port: int, **options: float) -> Iterator[FaultProxy]:
    with FaultProxy(target_port, **options) as proxy:  # type: ignore[arg-type]
        yield proxy
