"""How the notifier reaches people: a chat-bot webhook signed with HMAC-SHA256, and e-mail.

The webhook speaks the shape 钉钉 (DingTalk) custom robots accept, which 政务钉钉 and most
政务微信-style bots copy: a JSON body ``{"msgtype": "markdown", "markdown": {"title", "text"},
"at": {"atUserIds": [...]}}`` posted to the robot URL with ``timestamp`` (ms) and ``sign``
query parameters, ``sign = urlencode(base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")))``.
Every request also carries ``X-Regbus-Delivery-Id`` (the idempotent delivery id: a receiver
drops a second request with the same id) and ``X-Regbus-Signature`` (hex HMAC-SHA256 over
``timestamp + "\\n" + body``, so a receiver of our own can check the body too).

E-mail goes over SMTP (aiosmtplib) with ``Message-ID: <delivery id@regbus>`` and the same
``X-Regbus-Delivery-Id`` header. A channel raises :class:`DeliveryError` on any failure; the
notifier retries.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Protocol
from urllib.parse import quote_plus

import orjson

DELIVERY_HEADER = "X-Regbus-Delivery-Id"
SIGNATURE_HEADER = "X-Regbus-Signature"
TIMESTAMP_HEADER = "X-Regbus-Timestamp"

__all__ = [
    "DELIVERY_HEADER",
    "SIGNATURE_HEADER",
    "Channel",
    "DeliveryError",
    "EmailChannel",
    "Message",
    "WebhookChannel",
    "body_signature",
    "robot_sign",
]


class DeliveryError(Exception):
    """A delivery attempt failed (status, refusal, timeout); the text says which."""


@dataclass(frozen=True, slots=True)
class Message:
    delivery_id: str
    recipient: str
    title: str
    text: str
    """Markdown (webhook) / plain text (e-mail)."""


class Channel(Protocol):
    async def send(self, message: Message) -> None: ...


def robot_sign(secret: str, timestamp_ms: int) -> str:
    """The DingTalk robot signature, URL-encoded, for the ``sign`` query parameter."""
    digest = hmac.new(
        secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return quote_plus(base64.b64encode(digest).decode())


def body_signature(secret: str, timestamp_ms: int, body: bytes) -> str:
    return hmac.new(secret.encode(), b"%d\n" % timestamp_ms + body, hashlib.sha256).hexdigest()


class WebhookChannel:
    """POST to a chat-bot robot URL (one per bureau, @-mentioning the account)."""

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        timeout: float = 5.0,
        clock_ms: Callable[[], int] = lambda: int(time.time() * 1000),
    ) -> None:
        self.url = url
        self.secret = secret
        self.timeout = timeout
        self.clock_ms = clock_ms
        self._session: Any = None

    def payload(self, message: Message) -> bytes:
        return orjson.dumps({
            "msgtype": "markdown",
            "markdown": {"title": message.title, "text": message.text},
            "at": {"atUserIds": [message.recipient], "isAtAll": False},
        })  # fmt: skip

    async def send(self, message: Message) -> None:
        import aiohttp

        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        ts = self.clock_ms()
        body = self.payload(message)
        joiner = "&" if "?" in self.url else "?"
        url = f"{self.url}{joiner}timestamp={ts}&sign={robot_sign(self.secret, ts)}"
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            DELIVERY_HEADER: message.delivery_id,
            TIMESTAMP_HEADER: str(ts),
            SIGNATURE_HEADER: body_signature(self.secret, ts, body),
        }
        try:
            async with self._session.post(
                url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=self.timeout)
            ) as response:
                text = await response.text()
                if response.status >= 300:
                    raise DeliveryError(f"HTTP {response.status}")
                # DingTalk answers 200 with {"errcode": N} on a refusal
                try:
                    answer = orjson.loads(text) if text else {}
                except orjson.JSONDecodeError:
                    answer = {}
                if isinstance(answer, dict) and answer.get("errcode", 0) not in (0, None):
                    raise DeliveryError(f"errcode {answer.get('errcode')}: {answer.get('errmsg')}")
        except DeliveryError:
            raise
        except TimeoutError:
            raise DeliveryError(f"no answer within {self.timeout:g}s") from None
        except Exception as exc:  # connection refused, reset, DNS …
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class EmailChannel:
    """E-mail over SMTP (STARTTLS and login when configured)."""

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.username = username
        self.password = password
        self.starttls = starttls
        self.timeout = timeout

    def build(self, message: Message) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.recipient
        mail["Subject"] = message.title
        mail["Message-ID"] = f"<{message.delivery_id}@regbus>"
        mail[DELIVERY_HEADER] = message.delivery_id
        mail.set_content(message.text)
        return mail

    async def send(self, message: Message) -> None:
        import aiosmtplib

        try:
            await aiosmtplib.send(
                self.build(message),
                hostname=self.host,
                port=self.port,
                username=self.username,
                password=self.password,
                start_tls=self.starttls,
                use_tls=False,
                timeout=self.timeout,
            )
        except Exception as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from None

    async def close(self) -> None:
        return None
