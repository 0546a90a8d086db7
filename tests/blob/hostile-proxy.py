#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# A fault-injecting HTTP/1.1 proxy for the blob client tests: it sits
# between the client and Azurite and spoils the answers to GETs as a test
# asks, so that the client can be shown to retry or fail, and never to take
# wrong bytes.
#
#   hostile-proxy.py UPSTREAM_PORT PORT_FILE
#
# It listens on a free loopback port, writes the port to PORT_FILE and
# serves until killed. Each request is sent to 127.0.0.1:UPSTREAM_PORT on a
# connection of its own and the whole answer read before anything goes back,
# so a fault is applied to a complete, real answer.
#
# Control, on the same port (never forwarded, never counted):
#   GET /_proxy/plan?f=F1,F2,...[&sticky=1]
#       the next GETs get faults F1, F2, ... one each, then pass through
#       (sticky=1: the last fault repeats for ever). HEADs always pass.
#   GET /_proxy/stats    "gets N", "heads N", then one line per GET:
#                        "get FAULT ARRIVED_MS ANSWERED_MS" (CLOCK_MONOTONIC)
#   GET /_proxy/reset    counters and plan cleared
#
# Faults (NAME or NAME:ARG):
#   pass          the answer as it came
#   reset         headers and half the body, then a TCP reset (RST)
#   truncate      headers and half the body, then a clean close (FIN)
#   clen-short    Content-Length says half the body; the whole body is sent
#                 and the connection kept (the rest is junk before the next
#                 answer)
#   clen-long     Content-Length says 1000 bytes more than sent; then close
#   range-start   Content-Range shifted by one byte (start and end)
#   range-end     Content-Range ends one byte early
#   range-total   Content-Range's total one more than the blob's size
#   drip:MS       headers, then one body byte every MS ms (200)
#   503:S, 500:S  that status with a Blob error body; Retry-After: S seconds
#                 when S is given
#   flip          one bit of the middle body byte flipped, headers untouched
#   strip-md5     the Content-MD5 header removed
#   junk          bytes that are no HTTP answer at all, then close
# Python 3 standard library only.
import asyncio
import os
import socket
import struct
import sys
import time
from urllib.parse import parse_qs, urlsplit

UPSTREAM = 0
state = {"plan": [], "sticky": False, "gets": 0, "heads": 0, "log": []}


def now_ms():
    return time.clock_gettime(time.CLOCK_MONOTONIC) * 1000.0


async def read_head(reader):
    """Request or status line and headers; None at a clean EOF."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as e:
        if e.partial:
            raise
        return None
    lines = head[:-4].decode("latin-1").split("\r\n")
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.append((name.strip(), value.strip()))
    return lines[0], headers


def header(headers, name):
    for n, v in headers:
        if n.lower() == name.lower():
            return v
    return None


def without(headers, *names):
    low = {n.lower() for n in names}
    return [(n, v) for n, v in headers if n.lower() not in low]


async def forward(line, headers, body):
    """The request to Azurite on a fresh connection: its complete answer."""
    r, w = await asyncio.open_connection("127.0.0.1", UPSTREAM)
    hs = without(headers, "Connection", "Keep-Alive") + [("Connection", "close")]
    w.write((line + "\r\n" + "".join(f"{n}: {v}\r\n" for n, v in hs) + "\r\n")
            .encode("latin-1") + body)
    await w.drain()
    status_line, rh = await read_head(r)
    clen = header(rh, "Content-Length")
    if line.startswith("HEAD ") or status_line.split()[1] in ("204", "304"):
        rbody = b""
    elif clen is not None:
        rbody = await r.readexactly(int(clen))
    else:
        rbody = await r.read()
    w.close()
    rh = without(rh, "Connection", "Keep-Alive", "Transfer-Encoding")
    return status_line, rh, rbody


def next_fault():
    if not state["plan"]:
        return "pass"
    if len(state["plan"]) == 1 and state["sticky"]:
        return state["plan"][0]
    return state["plan"].pop(0)


def head_bytes(status_line, headers):
    return (status_line + "\r\n" + "".join(f"{n}: {v}\r\n" for n, v in headers)
            + "\r\n").encode("latin-1")


def set_header(headers, name, value):
    return without(headers, name) + [(name, value)]


def error_answer(status, retry_after):
    code = "ServerBusy" if status == 503 else "InternalError"
    body = (f'<?xml version="1.0" encoding="utf-8"?><Error><Code>{code}</Code>'
            f"<Message>injected by hostile-proxy</Message></Error>").encode()
    hs = [("Content-Type", "application/xml"), ("x-ms-error-code", code),
          ("Content-Length", str(len(body)))]
    if retry_after is not None:
        hs.append(("Retry-After", retry_after))
    reason = "Server Busy" if status == 503 else "Internal Server Error"
    return f"HTTP/1.1 {status} {reason}", hs, body


def shift_range(value, d_first, d_last, d_total):
    unit, _, spec = value.partition(" ")
    rng, _, total = spec.partition("/")
    first, _, last = rng.partition("-")
    return (f"{unit} {int(first) + d_first}-{int(last) + d_last}/"
            f"{int(total) + d_total}")


async def answer(writer, fault, status_line, hs, body, head):
    """Write the (spoiled) answer; False when the connection must end."""
    name, _, arg = fault.partition(":")
    if not head:
        hs = set_header(hs, "Content-Length", str(len(body)))
    half = len(body) // 2
    if name == "junk":
        writer.write(b"\x16\x03\x01 not an answer\r\n\r\n")
        await writer.drain()
        return False
    if name in ("503", "500"):
        status_line, hs, body = error_answer(int(name), arg or None)
    elif name == "flip" and body:
        b = bytearray(body)
        b[half] ^= 0x01
        body = bytes(b)
    elif name == "strip-md5":
        hs = without(hs, "Content-MD5")
    elif name.startswith("range-") and header(hs, "Content-Range"):
        d = {"range-start": (1, 1, 0), "range-end": (0, -1, 0),
             "range-total": (0, 0, 1)}[name]
        hs = set_header(hs, "Content-Range",
                        shift_range(header(hs, "Content-Range"), *d))
    elif name == "clen-short":
        hs = set_header(hs, "Content-Length", str(half))
    elif name == "clen-long":
        hs = set_header(hs, "Content-Length", str(len(body) + 1000))
        writer.write(head_bytes(status_line, hs) + body)
        await writer.drain()
        return False
    elif name in ("reset", "truncate"):
        writer.write(head_bytes(status_line, hs) + body[:half])
        await writer.drain()
        if name == "reset":
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                            struct.pack("ii", 1, 0))
            writer.transport.abort()
        return False
    elif name == "drip":
        writer.write(head_bytes(status_line, hs))
        await writer.drain()
        for i in range(len(body)):
            if writer.is_closing():     # the client gave up
                return False
            writer.write(body[i:i + 1])
            await writer.drain()
            await asyncio.sleep((int(arg) if arg else 200) / 1000.0)
        return True
    writer.write(head_bytes(status_line, hs) + body)
    await writer.drain()
    return True


def control(path):
    u = urlsplit(path)
    q = parse_qs(u.query)
    if u.path == "/_proxy/plan":
        state["plan"] = [f for f in q.get("f", [""])[0].split(",") if f]
        state["sticky"] = q.get("sticky", ["0"])[0] == "1"
        return "200 OK", "plan " + ",".join(state["plan"]) + "\n"
    if u.path == "/_proxy/reset":
        state.update(plan=[], sticky=False, gets=0, heads=0, log=[])
        return "200 OK", "reset\n"
    if u.path == "/_proxy/stats":
        out = f"gets {state['gets']}\nheads {state['heads']}\n"
        out += "".join(f"get {f} {a:.1f} {d:.1f}\n" for f, a, d in state["log"])
        return "200 OK", out
    return "404 Not Found", "no such control\n"


async def serve(reader, writer):
    try:
        while True:
            req = await read_head(reader)
            if req is None:
                break
            line, headers = req
            method, path = line.split()[0], line.split()[1]
            clen = header(headers, "Content-Length")
            body = await reader.readexactly(int(clen)) if clen else b""
            if path.startswith("/_proxy/"):
                status, text = control(path)
                data = text.encode()
                writer.write(f"HTTP/1.1 {status}\r\nContent-Length: {len(data)}\r\n"
                             f"Content-Type: text/plain\r\n\r\n".encode() + data)
                await writer.drain()
                continue
            arrived = now_ms()
            fault = "pass"
            if method == "GET":
                state["gets"] += 1
                fault = next_fault()
            elif method == "HEAD":
                state["heads"] += 1
            status_line, hs, rbody = await forward(line, headers, body)
            entry = [fault, arrived, 0.0]
            if method == "GET":
                state["log"].append(entry)
            keep = await answer(writer, fault, status_line, hs, rbody,
                                method == "HEAD")
            entry[2] = now_ms()
            if not keep:
                return
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def main():
    global UPSTREAM
    UPSTREAM = int(sys.argv[1])
    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    with open(sys.argv[2] + ".tmp", "w") as f:
        f.write(f"{port}\n")
    os.rename(sys.argv[2] + ".tmp", sys.argv[2])
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
