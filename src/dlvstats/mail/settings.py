"""SMTP settings: checked from the deployment's ``config.Settings``; the password never shown."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path

from dlvstats.config import Settings

LOG = logging.getLogger("dlvstats.mail")

SECURITY_MODES = ("none", "starttls", "ssl")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
#: Widest the HTML body gets; mail clients (Outlook especially) handle fixed widths best.

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class MailError(Exception):
    """Base class of the errors raised here."""


class MailConfigError(MailError, ValueError):
    """The SMTP configuration in the environment is missing or invalid."""


class MailSendError(MailError):
    """The message could not be handed to the SMTP server.

    Attributes: ``host``, ``port``, ``attempts`` made, ``smtp_code`` (the last SMTP reply code, or None
    for a network/TLS error), ``reply`` (the last server reply or error text, password scrubbed) and
    ``transient`` (whether the last failure looked temporary).
    """

    def __init__(
        self,
        message: str,
        *,
        host: str,
        port: int,
        attempts: int,
        smtp_code: int | None = None,
        reply: str = "",
        transient: bool = False,
    ) -> None:
        super().__init__(message)
        self.host = host
        self.port = port
        self.attempts = attempts
        self.smtp_code = smtp_code
        self.reply = reply
        self.transient = transient


# --------------------------------------------------------------------------------------------------
# Settings


@dataclass
class SmtpSettings:
    """Where and how to send. Build it with ``from_env()``; ``repr`` never shows the password."""

    host: str
    port: int
    user: str | None
    password: str | None
    security: str  # "none" | "starttls" | "ssl"
    mail_from: str
    timeout: float = 30
    verify_tls: bool = True
    ca_file: str | None = None

    def __post_init__(self) -> None:
        if self.security not in SECURITY_MODES:
            raise MailConfigError(
                f"SMTP security must be one of {', '.join(SECURITY_MODES)}, not {self.security!r} "
                "(DLVSTATS_SMTP_SECURITY)"
            )
        # smtplib encodes AUTH exchanges as ASCII; fail here, clearly, rather than mid-login with a
        # UnicodeEncodeError whose ``object`` attribute would hold the password.
        for name, value in (("DLVSTATS_SMTP_USER", self.user), ("DLVSTATS_SMTP_PASSWORD", self.password)):
            if value is not None and not value.isascii():
                raise MailConfigError(
                    f"{name} contains non-ASCII characters, which Python's smtplib cannot send in an SMTP "
                    "login; use an ASCII credential (an app password, for instance)"
                )

    def __repr__(self) -> str:
        return (
            f"SmtpSettings(host={self.host!r}, port={self.port!r}, user={self.user!r}, "
            f"password={'<set>' if self.password else None}, security={self.security!r}, "
            f"mail_from={self.mail_from!r}, timeout={self.timeout!r}, verify_tls={self.verify_tls!r}, "
            f"ca_file={self.ca_file!r})"
        )

    __str__ = __repr__

    @property
    def address(self) -> str:
        """``host:port`` as shown in messages."""
        return f"{self.host}:{self.port}"

    @classmethod
    def from_settings(cls, settings: Settings, *, mail_from: str | None = None,
                      log: logging.Logger = LOG) -> SmtpSettings:
        """Check the deployment's SMTP settings (``config.Settings``, read from ``DLVSTATS_SMTP_*`` and
        ``DLVSTATS_MAIL_FROM``) and refuse an incomplete or contradictory configuration with a
        ``MailConfigError`` naming the variable. ``mail_from`` (``--mail-from``) overrides the sender.

        ``DLVSTATS_SMTP_SECURITY`` defaults to ``starttls`` (plain SMTP only when set to ``none``);
        ``DLVSTATS_SMTP_PORT`` defaults to 587, 465 or 25 accordingly; ``DLVSTATS_SMTP_VERIFY=0`` turns
        certificate verification off (with a warning); ``DLVSTATS_SMTP_CA_FILE`` adds a CA bundle to trust.
        """
        if settings.smtp_host is None:
            raise MailConfigError(
                "no SMTP server configured: set DLVSTATS_SMTP_HOST (and DLVSTATS_MAIL_FROM) to send the "
                "report by e-mail, or use --dry-run to write the .eml instead"
            )
        security = _security(settings.smtp_security)
        port = _port(settings.smtp_port, security)
        sender = _sender((mail_from or "").strip() or settings.mail_from)
        user, password = settings.smtp_user, settings.smtp_password
        _check_login(user, password)
        verify = _verify(settings.smtp_verify)
        result = cls(host=settings.smtp_host, port=port, user=user, password=password, security=security,
                     mail_from=sender, verify_tls=verify, ca_file=_ca_file(settings.smtp_ca_file))
        _warn_insecure(result, log)
        return result

    @classmethod
    def from_env(cls, variables: Mapping[str, str] | None = None, *, log: logging.Logger = LOG) -> SmtpSettings:
        """``from_settings`` of the settings ``config.Settings.from_env(variables)`` reads (the process's
        environment when ``variables`` is None): config.py stays the only reader of the environment."""
        return cls.from_settings(Settings.from_env(variables), log=log)


def _security(raw: str | None) -> str:
    security = "starttls" if raw is None else raw.lower()
    if security not in SECURITY_MODES:
        raise MailConfigError(
            f"DLVSTATS_SMTP_SECURITY={raw!r} is not understood: use 'starttls' (the default), "
            "'ssl' (implicit TLS, usually port 465) or 'none' (plain SMTP, e.g. a local relay)"
        )
    return security


def _port(raw: str | None, security: str) -> int:
    if raw is None:
        return DEFAULT_PORTS[security]
    try:
        port = int(raw)
    except ValueError:
        port = -1
    if not 0 < port < 65536:
        raise MailConfigError(
            f"DLVSTATS_SMTP_PORT={raw!r} is not a TCP port number (1-65535); leave it unset "
            f"for the default of {DEFAULT_PORTS[security]} with security {security!r}"
        )
    return port


def _sender(mail_from: str | None) -> str:
    if mail_from is None:
        raise MailConfigError(
            "no sender configured: set DLVSTATS_MAIL_FROM to the report's From address "
            "(e.g. 'Deliverability reports <reports@example.com>')"
        )
    if "@" not in parseaddr(mail_from)[1]:
        raise MailConfigError(
            f"DLVSTATS_MAIL_FROM={mail_from!r} is not an e-mail address "
            "(e.g. 'reports@example.com' or 'Reports <reports@example.com>')"
        )
    return mail_from


def _check_login(user: str | None, password: str | None) -> None:
    if user and password is None:
        raise MailConfigError(
            "DLVSTATS_SMTP_USER is set but DLVSTATS_SMTP_PASSWORD is not: set both to log in, "
            "or neither for a relay that needs no login"
        )
    if password is not None and not user:
        raise MailConfigError(
            "DLVSTATS_SMTP_PASSWORD is set but DLVSTATS_SMTP_USER is not: set the login name too"
        )


def _verify(raw: str | None) -> bool:
    if raw is None or raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise MailConfigError(
        f"DLVSTATS_SMTP_VERIFY={raw!r} is not understood: leave it unset (verification on) "
        "or set it to 0 to turn certificate verification off"
    )


def _ca_file(path: str | None) -> str | None:
    if path is not None and not Path(path).is_file():
        raise MailConfigError(f"DLVSTATS_SMTP_CA_FILE={path!r}: no such file")
    return path


def _warn_insecure(settings: SmtpSettings, log: logging.Logger) -> None:
    if settings.security != "none" and not settings.verify_tls:
        log.warning(
            "TLS CERTIFICATE VERIFICATION IS OFF (DLVSTATS_SMTP_VERIFY=0): the connection to %s is "
            "encrypted but anyone on the path can impersonate the server and read the report and the "
            "SMTP password. Prefer DLVSTATS_SMTP_CA_FILE to trust a private CA.",
            settings.address,
        )
    if settings.security == "none" and settings.user:
        log.warning(
            "DLVSTATS_SMTP_SECURITY=none with a login: the SMTP password would travel unencrypted to %s; "
            "use starttls or ssl unless this is a loopback relay",
            settings.address,
        )
