#!/usr/bin/env python3
"""A real SMTP server for the tests (aiosmtpd): it accepts every mail and writes each one,
decoded, as JSON into a directory, where a test reads the link out of it.

    python3 mail_sink.py --dir DIR [--port 0]

Prints "READY <port>" once it listens. Each mail becomes DIR/<n>.json with mail_from, to,
subject, text and html. Stops on SIGTERM, or with --exit-with-stdin when its standard input
closes (so a test process that dies takes it along).
"""

import argparse
import asyncio
import email
import email.policy
import itertools
import json
import os
import signal
import sys
import threading

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.counter = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        text = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        record = {
            "mail_from": envelope.mail_from,
            "to": list(envelope.rcpt_tos),
            "from_header": str(message.get("From", "")),
            "subject": str(message.get("Subject", "")),
            "text": text.get_content() if text else "",
            "html": html.get_content() if html else "",
        }
        n = next(self.counter)
        path = os.path.join(self.directory, f"{n:05}.json")
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(record, f)
        os.replace(tmp, path)
        return "250 OK"


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--exit-with-stdin", action="store_true")
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    loop = asyncio.get_running_loop()
    handler = Sink(args.dir)
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="mail-sink.test"), args.host, args.port
    )
    port = server.sockets[0].getsockname()[1]
    print(f"READY {port}", flush=True)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)

    def watch_stdin():
        try:
            while sys.stdin.buffer.read(1024):
                pass
        finally:
            loop.call_soon_threadsafe(stop.set)

    if args.exit_with_stdin:
        threading.Thread(target=watch_stdin, daemon=True).start()
    await stop.wait()
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
