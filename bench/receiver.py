"""A fast webhook receiver for benchmarks: asyncio, HTTP/1.1 keep-alive, answers 200 to every POST and keeps
(webhook-id, arrival time, referral count). GET /stats returns them as JSON; POST /reset clears them.

Run: python bench/receiver.py PORT
"""

import asyncio
import json
import sys
import time

RECEIVED: dict[str, tuple[float, int]] = {}
REQUESTS = 0


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    global REQUESTS
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    key, value = line.split(":", 1)
                    headers[key.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            if method == "GET" and path == "/stats":
                payload = json.dumps({"requests": REQUESTS, "received": RECEIVED}).encode()
            elif method == "POST" and path == "/reset":
                RECEIVED.clear()
                REQUESTS = 0
                payload = b"{}"
            else:
                REQUESTS += 1
                msg_id = headers.get("webhook-id", "")
                if msg_id and msg_id not in RECEIVED:
                    RECEIVED[msg_id] = (time.time(), body.count(b'"status_url"'))
                payload = b'{"ok":true}'
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
                         + str(len(payload)).encode() + b"\r\n\r\n" + payload)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionResetError, ValueError):
        pass
    finally:
        writer.close()


async def main(port: int) -> None:
    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
