"""The sandbox SMTP server: every e-mail it receives becomes one stored message per recipient."""

from __future__ import annotations

import asyncio
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.smtp import SMTP, Envelope, Session

from sandbox.store import SMTP_PROVIDER, Message, MessageStore

# Headers a test may want to assert on (unsubscribe links, threading, language).
KEPT_HEADERS = (
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "Message-ID",
    "Reply-To",
    "Content-Language",
)


def _text_body(email: EmailMessage) -> str:
    part = email.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError):
        # An unknown or lying charset: keep what can be read rather than drop the e-mail.
        raw = part.get_payload(decode=True)
        content = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else ""
    # SMTP carries CRLF line ends; callers compare against text written with "\n".
    return content.replace("\r\n", "\n") if isinstance(content, str) else ""


def _header(email: EmailMessage, name: str) -> str | None:
    value = email.get(name)
    return None if value is None else str(value)


def parse_email(raw: bytes, *, mail_from: str | None, rcpt_tos: list[str]) -> list[Message]:
    """Decode one SMTP transaction into a message per envelope recipient."""
    email = message_from_bytes(raw, _class=EmailMessage, policy=policy.default)
    headers = {name: v for name in KEPT_HEADERS if (v := _header(email, name)) is not None}
    subject = _header(email, "Subject")
    sender = _header(email, "From") or mail_from
    body = _text_body(email)
    return [
        Message(
            channel="email",
            provider=SMTP_PROVIDER,
            to=rcpt,
            sender=sender,
            subject=subject,
            body=body,
            message_id=headers.get("Message-ID"),
            headers=dict(headers),
        )
        for rcpt in rcpt_tos
    ]


class InboxHandler:
    """aiosmtpd handler that files each accepted e-mail in the store."""

    def __init__(self, store: MessageStore) -> None:
        self._store = store

    async def handle_DATA(  # noqa: N802 - the name aiosmtpd dispatches to
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.original_content or b""
        for message in parse_email(raw, mail_from=envelope.mail_from, rcpt_tos=envelope.rcpt_tos):
            self._store.accept(message)
        return "250 Message accepted for delivery"


async def start_smtp_server(store: MessageStore, *, host: str, port: int) -> asyncio.Server:
    """Listen for SMTP on the running loop; the caller closes the returned server."""
    loop = asyncio.get_running_loop()
    handler = InboxHandler(store)
    return await loop.create_server(
        lambda: SMTP(handler, hostname="sandbox", enable_SMTPUTF8=True, loop=loop),
        host=host,
        port=port,
    )
