"""A small HTTP/1.1 load generator on raw asyncio streams (keep-alive, fixed concurrency, fixed time).

Cheaper per request than an HTTP client library, so that on a 2-core machine the server under test,
not the client, is what gets measured. Loopback only.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["LoadResult", "run_load"]


@dataclass
class LoadResult:
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length, chunked = None, False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status


async def _worker(host: str, port: int, paths: Sequence[str], headers: str, deadline: float, offset: int,
                  result: LoadResult) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    i = offset
    try:
        while time.perf_counter() < deadline:
            path = paths[i % len(paths)]
            i += 7
            t0 = time.perf_counter()
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{headers}\r\n".encode())
            try:
                status = await _read_response(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                result.errors += 1
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
                continue
            result.latencies.append(time.perf_counter() - t0)
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if status == 200:
                result.requests += 1
            else:
                result.errors += 1
    finally:
        writer.close()


async def run_load(host: str, port: int, paths: Sequence[str], *, cookie: str = "", concurrency: int = 8,
                   seconds: float = 10.0, warmup: float = 2.0) -> LoadResult:
    """GET ``paths`` round-robin from ``concurrency`` keep-alive connections for ``seconds``."""
    headers = "Connection: keep-alive\r\n" + (f"Cookie: {cookie}\r\n" if cookie else "")
    if warmup:
        await asyncio.gather(*(_worker(host, port, paths, headers, time.perf_counter() + warmup, k, LoadResult())
                               for k in range(concurrency)))
    result = LoadResult()
    start = time.perf_counter()
    await asyncio.gather(*(_worker(host, port, paths, headers, start + seconds, k * 13, result)
                           for k in range(concurrency)))
    result.seconds = time.perf_counter() - start
    return result
