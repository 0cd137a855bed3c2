"""Real local receivers for the notifier: an aiohttp chat-bot webhook and an aiosmtpd server."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import socket
from collections import Counter
from dataclasses import dataclass, field
from email import message_from_bytes
from typing import Any

import orjson
from aiohttp import web
from aiosmtpd.controller import Controller

from agents.notify_channels import DELIVERY_HEADER

SECRET = "SEC-test-robot"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class WebhookReceiver:
    """Answers like a DingTalk robot; ``fail_first`` requests get 503, ``hang`` never answers.
    Checks the robot signature; keeps what it accepted, dropping repeated delivery ids."""

    fail_first: int = 0
    hang: bool = False
    hold: float = 0.0
    """Seconds to hold each request before answering (a slow receiver)."""
    requests: Counter[str] = field(default_factory=Counter)
    accepted: dict[str, dict[str, Any]] = field(default_factory=dict)
    bad_signatures: int = 0
    port: int = 0
    _runner: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/robot/send?access_token=t0ken"

    async def _handle(self, request: web.Request) -> web.Response:
        ts = request.query.get("timestamp", "")
        expected = base64.b64encode(
            hmac.new(SECRET.encode(), f"{ts}\n{SECRET}".encode(), hashlib.sha256).digest()
        ).decode()
        if request.query.get("sign", "") != expected:
            self.bad_signatures += 1
            return web.json_response({"errcode": 310000, "errmsg": "sign not match"})
        delivery = request.headers.get(DELIVERY_HEADER, "")
        body = orjson.loads(await request.read())
        self.requests[delivery] += 1
        if self.hang:
            await asyncio.sleep(3600)
        if self.hold:
            await asyncio.sleep(self.hold)
        if sum(self.requests.values()) <= self.fail_first:
            return web.Response(status=503)
        self.accepted.setdefault(delivery, body)  # a repeated id is dropped (dedup)
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def start(self) -> WebhookReceiver:
        app = web.Application()
        app.router.add_post("/robot/send", self._handle)
        self._runner = web.AppRunner(app, handler_cancellation=True)
        await self._runner.setup()
        self.port = self.port or free_port()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.original_content or envelope.content))
        return "250 OK"


class SmtpReceiver:
    """A real SMTP server (aiosmtpd) on 127.0.0.1."""

    def __init__(self) -> None:
        self.box = _Mailbox()
        self.port = free_port()
        self.controller = Controller(self.box, hostname="127.0.0.1", port=self.port)

    def start(self) -> SmtpReceiver:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    @property
    def delivery_ids(self) -> Counter[str]:
        return Counter(str(m[DELIVERY_HEADER]) for m in self.box.messages)
