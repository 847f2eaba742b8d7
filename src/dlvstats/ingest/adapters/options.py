"""The adapters' shared types: the unified event table's columns, the options every adapter takes
(``AdapterOptions``), what an adapter returns (``StageResult``), and ``NotRecognised``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dlvstats.ingest.canonical import DropError, Staged

#: The unified event table every adapter produces (``__adp_events``).
EVENT_COLUMNS = (
    "__file", "__line", "__raw", "__error", "etype", "vtype", "note",
    "message_id", "recipient", "ts", "sent_at", "account_id", "list_id", "campaign_id",
    "sending_ip", "sending_domain", "bounce_class", "smtp_code", "enhanced_status", "bounce_reason",
    "user_agent", "ip", "url", "event_id", "is_machine", "source",
)

SEND_ETYPES = ("send", "delivery", "bounce", "delay")

#: Above this many input files in one path, one staged table per kind holds them all (rows still
#: carry their own ``__file``), so that a Firehose dump of thousands of objects stays one query.
MAX_TABLES_PER_KIND = 64

_TAG_NAME = re.compile(r"^[A-Za-z0-9_.:@ /-]{1,100}$")

#: Canonical fields an adapter can read from the format's tags/metadata (``tags`` option).
TAG_FIELDS = ("account_id", "list_id", "campaign_id", "message_id", "sending_domain")


@dataclass
class AdapterOptions:
    """Options shared by the adapters (``stage_format`` keyword arguments).

    ``tags`` maps a canonical field (``TAG_FIELDS``) to the name the format uses for it: a SES
    message tag, a SendGrid custom argument, a Mailgun user-variable, a Postmark Metadata key, a
    PowerMTA accounting column, a header of the original message in an ARF report, or a header
    logged by Postfix ``header_checks``. Each format documents its defaults (docs/formats/).
    """

    account_id: str | None = None
    campaign_id: str | None = None
    list_id: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    #: Postfix: year of syslog timestamps that have none (default: from the file's mtime).
    year: int | None = None
    #: ARF: days before a report in which a send to the same recipient is searched for.
    arf_match_days: int = 30
    #: ARF: staged `sends` tables of the same ingest, searched besides the database (internal).
    staged_sends: list[str] = field(default_factory=list)

    def tag(self, name: str, default: str) -> str:
        value = self.tags.get(name, default)
        if not _TAG_NAME.match(value):
            raise ValueError(f"tag name for {name} must be letters, digits and _.:@ /- only: {value!r}")
        return value

    def defaults(self) -> dict[str, str | None]:
        return {"def_account": self.account_id, "def_campaign": self.campaign_id, "def_list": self.list_id}


class StageResult(tuple):
    """``(staged, structural_errors)`` with the adapter's notes attached as ``.notes``.

    It unpacks like the canonical reader's 2-tuple, so callers that ignore notes keep working.
    """

    def __new__(cls, staged, errors, notes=None):
        self = super().__new__(cls, (staged, errors))
        self.notes = list(notes or [])
        return self

    @property
    def staged(self) -> list[Staged]:
        return self[0]

    @property
    def errors(self) -> dict[str, list[dict]]:
        return self[1]


def json_key_path(*keys: str) -> str:
    """A JSONPath like ``$."user-variables"."account_id"`` (keys validated by AdapterOptions.tag)."""
    return "$" + "".join(f'."{k}"' for k in keys)


class NotRecognised(DropError):
    """A file none of whose records the adapter recognises (``check_recognised``)."""

    def __init__(self, message: str, file: str, fmt: str):
        super().__init__(message)
        self.file, self.fmt = file, fmt
