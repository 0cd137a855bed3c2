"""Local receivers for the notifier, so a demo's escalations reach someone: a chat-bot webhook
(aiohttp, answering like a DingTalk robot and checking its signature) and an SMTP server
(aiosmtpd, when installed: it is a dev dependency). ``env()`` is what the worker needs to
reach them (docs/inbox-roster-notify.md); each receiver counts what it accepted per delivery
id, so a repeated delivery shows as a count of 2."""

from __future__ import annotations

import secrets
import socket
from collections import Counter
from typing import Any
from urllib.parse import unquote_plus

from aiohttp import web

from agents.notify_channels import DELIVERY_HEADER, robot_sign
from schemas.models import NotifyChannel

__all__ = ["LocalReceivers"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class _Mailbox:
    def __init__(self, ids: Counter[str]) -> None:
        self.ids = ids

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        from email import message_from_bytes

        mail = message_from_bytes(envelope.original_content or envelope.content)
        self.ids[str(mail.get(DELIVERY_HEADER, ""))] += 1
        return "250 OK"


class LocalReceivers:
    """Both receivers on 127.0.0.1; :attr:`channels` says which ones run."""

    def __init__(self) -> None:
        self.secret = f"SEC{secrets.token_hex(16)}"
        self.webhook: Counter[str] = Counter()
        """Delivery id → requests accepted with a valid signature."""
        self.mail: Counter[str] = Counter()
        self.bad_signatures = 0
        self.channels: set[NotifyChannel] = set()
        self.smtp_missing = ""
        self._runner: Any = None
        self._smtp: Any = None
        self._web_port = 0
        self._smtp_port = 0

    async def _robot(self, request: web.Request) -> web.Response:
        ts = request.query.get("timestamp", "")
        # the query is decoded by now; robot_sign gives the URL-encoded form
        sign = unquote_plus(robot_sign(self.secret, int(ts))) if ts.isdigit() else None
        if sign is None or request.query.get("sign", "") != sign:
            self.bad_signatures += 1
            return web.json_response({"errcode": 310000, "errmsg": "sign not match"})
        await request.read()
        self.webhook[request.headers.get(DELIVERY_HEADER, "")] += 1
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def start(self) -> LocalReceivers:
        app = web.Application()
        app.router.add_post("/robot/send", self._robot)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        self._web_port = _free_port()
        await web.TCPSite(self._runner, "127.0.0.1", self._web_port).start()
        self.channels.add(NotifyChannel.WEBHOOK)
        try:
            from aiosmtpd.controller import Controller
        except ImportError as exc:  # a plain install: e-mail contacts stay unreachable
            self.smtp_missing = str(exc)
        else:
            self._smtp_port = _free_port()
            self._smtp = Controller(_Mailbox(self.mail), hostname="127.0.0.1", port=self._smtp_port)
            self._smtp.start()
            self.channels.add(NotifyChannel.EMAIL)
        return self

    def env(self) -> dict[str, str]:
        out = {
            "REGBUS_NOTIFY_WEBHOOK_URL": f"http://127.0.0.1:{self._web_port}/robot/send",
            "REGBUS_NOTIFY_WEBHOOK_SECRET": self.secret,
        }
        if self._smtp is not None:
            out |= {"REGBUS_SMTP_HOST": "127.0.0.1", "REGBUS_SMTP_PORT": str(self._smtp_port)}
        return out

    def received(self) -> Counter[str]:
        """Delivery id → times received, over both channels."""
        return self.webhook + self.mail

    async def stop(self) -> None:
        if self._smtp is not None:
            self._smtp.stop()
            self._smtp = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
