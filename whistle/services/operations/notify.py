"""E-mail to officers that work is waiting: "N new / N late cases in your inbox" and a link.

The mail carries NO case content: no register number, title, category or unit — a mailbox is
outside the confidentiality model (mail servers, phones, forwarding rules). Only counts.
Sent through the configured SMTP server with smtplib; with no ``WHISTLE_SMTP_HOST`` the
service simply sends nothing.
"""
from __future__ import annotations

import logging
import os
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

log = logging.getLogger("whistle.notify")

INBOX_PATH = "/officer/cases"


@dataclass
class Counts:
    new: int = 0
    late: int = 0


def inbox_url(config: Any) -> str:
    """Absolute link to the inbox (``WHISTLE_PUBLIC_URL``); a bare path when none is set."""
    base = getattr(config, "public_url", "") or os.environ.get("WHISTLE_PUBLIC_URL", "")
    return base.rstrip("/") + INBOX_PATH


def compose(counts: Counts, link: str) -> tuple[str, str]:
    """Subject and body, Indonesian then English. Counts and a link, nothing else."""
    parts_id, parts_en = [], []
    if counts.new:
        parts_id.append(f"{counts.new} laporan baru")
        parts_en.append(f"{counts.new} new case{'s' if counts.new != 1 else ''}")
    if counts.late:
        parts_id.append(f"{counts.late} laporan melewati batas waktu")
        parts_en.append(f"{counts.late} late case{'s' if counts.late != 1 else ''}")
    subject = "Whistle: ada pekerjaan di kotak masuk Anda / work in your inbox"
    body = (
        f"Ada {' dan '.join(parts_id)} di kotak masuk Anda.\n"
        f"Silakan masuk untuk membacanya: {link}\n\n"
        f"There {'is' if counts.new + counts.late == 1 else 'are'} {' and '.join(parts_en)} "
        f"in your inbox.\nPlease log in to read them: {link}\n\n"
        "Pesan ini sengaja tidak memuat isi laporan apa pun. / "
        "This message deliberately contains no case details.\n"
    )
    return subject, body


# Said in EHLO instead of socket.getfqdn(): the server's own name can tell the relay (and its
# logs) which machine runs the service, and where in the organisation's network it sits.
NEUTRAL_HOSTNAME = "[127.0.0.1]"
IMPLICIT_TLS_PORT = 465  # SMTPS: TLS from the first byte (RFC 8314)


def connect(host: str, config: Any) -> smtplib.SMTP:
    """Implicit TLS on port 465 or with WHISTLE_SMTP_IMPLICIT_TLS, else plain (then STARTTLS)."""
    port = int(getattr(config, "smtp_port", 25))
    timeout = float(getattr(config, "smtp_timeout", 10.0))
    if port == IMPLICIT_TLS_PORT or getattr(config, "smtp_implicit_tls", False):
        return smtplib.SMTP_SSL(host, port, local_hostname=NEUTRAL_HOSTNAME, timeout=timeout,
                                context=ssl.create_default_context())
    return smtplib.SMTP(host, port, local_hostname=NEUTRAL_HOSTNAME, timeout=timeout)


def send(config: Any, recipients: Mapping[str, Counts]) -> int:
    """One mail per address over one SMTP connection; returns how many were accepted.

    Failures are logged by count only (never the address with a case), and never raised:
    a mail server outage must not stop the sweep from archiving and flagging cases.
    """
    wanted = {addr: c for addr, c in recipients.items() if addr and (c.new or c.late)}
    if not wanted:
        return 0
    link = inbox_url(config)
    return deliver(config, [(addr, *compose(counts, link))
                            for addr, counts in sorted(wanted.items())])


def deliver(config: Any, mails: Sequence[tuple[str, str, str]]) -> int:
    """Send (address, subject, body) mails over one SMTP connection; how many were accepted.

    With no ``WHISTLE_SMTP_HOST`` nothing is sent. Errors are logged by type and count, never
    raised (the daily audit head in services/operations/audit_mail.py sends through here too).
    """
    host = getattr(config, "smtp_host", "")
    if not mails:
        return 0
    if not host:
        log.info("smtp not configured; %d notification(s) not sent", len(mails))
        return 0
    sender = getattr(config, "smtp_from", "") or "whistle@localhost"
    sent = 0
    try:
        with connect(host, config) as smtp:
            if getattr(config, "smtp_starttls", True) and not isinstance(smtp, smtplib.SMTP_SSL):
                smtp.starttls(context=ssl.create_default_context())
            if getattr(config, "smtp_user", ""):
                smtp.login(config.smtp_user, config.smtp_password)
            for addr, subject, body in mails:
                msg = EmailMessage()
                msg["From"] = sender
                msg["To"] = addr
                msg["Subject"] = subject
                msg["Date"] = formatdate(localtime=False)
                msg["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1] or None)
                msg.set_content(body)
                try:
                    smtp.send_message(msg)
                    sent += 1
                except smtplib.SMTPException as exc:
                    log.warning("notification refused by the mail server (%s)", type(exc).__name__)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("mail server unreachable (%s); %d notification(s) not sent",
                    type(exc).__name__, len(mails) - sent)
    return sent
