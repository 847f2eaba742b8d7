"""The canonical kinds: columns, types, required flags, enumerations and natural keys.

This is the spec (docs/canonical-logs.md) as data. Readers and adapters use it to build
staged tables; the loader uses it to validate and convert. Nothing here touches a database.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # "varchar" | "timestamp" | "boolean" | "integer" | "decimal" | "recipient"
    required: bool = False
    enum: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Kind:
    name: str
    columns: tuple[Column, ...]
    #: how rows are told apart: "message_id", "event_key", "campaign_id", "order"
    key: str
    one_of: tuple[str, ...] = field(default=())  # at least one of these must be present

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def _c(name, type_="varchar", required=False, enum=None):
    return Column(name, type_, required, tuple(enum) if enum else None)


SEND_STATUSES = ("delivered", "bounced", "deferred", "sent")
SETTLED_STATUSES = ("delivered", "bounced")

KINDS: dict[str, Kind] = {
    k.name: k
    for k in [
        Kind(
            "sends",
            (
                _c("message_id", required=True),
                _c("sent_at", "timestamp", True),
                _c("account_id", required=True),
                _c("list_id", required=True),
                _c("campaign_id", required=True),
                _c("recipient", "recipient", True),
                _c("status", enum=SEND_STATUSES),
                _c("delivered_at", "timestamp"),
                _c("bounce_class", enum=("hard", "soft")),
                _c("smtp_code", "integer"),
                _c("enhanced_status"),
                _c("bounce_reason"),
                _c("sending_ip"),
                _c("sending_domain"),
            ),
            key="message_id",
        ),
        Kind(
            "opens",
            (
                _c("message_id", required=True),
                _c("ts", "timestamp", True),
                _c("user_agent"),
                _c("ip"),
                _c("event_id"),
                _c("is_machine", "boolean"),
            ),
            key="event_key",
        ),
        Kind(
            "clicks",
            (
                _c("message_id", required=True),
                _c("ts", "timestamp", True),
                _c("url"),
                _c("user_agent"),
                _c("ip"),
                _c("event_id"),
                _c("is_machine", "boolean"),
            ),
            key="event_key",
        ),
        Kind(
            "complaints",
            (
                _c("ts", "timestamp", True),
                _c("message_id"),
                _c("recipient", "recipient"),
                _c("account_id"),
                _c("source"),
            ),
            key="event_key",
            one_of=("message_id", "recipient"),
        ),
        Kind(
            "subscriptions",
            (
                _c("ts", "timestamp", True),
                _c("account_id", required=True),
                _c("list_id", required=True),
                _c("recipient", "recipient", True),
                _c("action", required=True, enum=("subscribe", "unsubscribe")),
                _c("source"),
                _c("campaign_id"),
                _c("collected_at", "timestamp"),
            ),
            key="event_key",
        ),
        Kind(
            "campaigns",
            (
                _c("campaign_id", required=True),
                _c("account_id", required=True),
                _c("list_id", required=True),
                _c("sent_at", "timestamp", True),
                _c("kind", required=True, enum=("regular", "gift", "autoresponder", "reengagement", "transactional")),
                _c("name"),
                _c("subject"),
            ),
            key="campaign_id",
        ),
        Kind(
            "orders",
            (
                _c("ts", "timestamp", True),
                _c("account_id", required=True),
                _c("recipient", "recipient", True),
                _c("order_id", required=True),
                _c("amount", "decimal", True),
                _c("campaign_id"),
            ),
            key="order",
        ),
        Kind(
            "blocklists",
            (
                _c("ts", "timestamp", True),
                _c("target", required=True),
                _c("blocklist", required=True),
                _c("action", required=True, enum=("listed", "delisted")),
            ),
            key="event_key",
        ),
    ]
}

#: Natural-key parts for kinds keyed by ``event_key`` (after conversion, recipient normalised).
#: A complaint's key has its recipient: one feedback report may list several complainants of one
#: message (ARF ``Original-Rcpt-To`` repeated), each its own complaint. Keys stored by schema 2 and
#: earlier (message_id or recipient, ts, source) are recomputed by sql/schema/003_complaint_keys.sql.
EVENT_KEY_PARTS: dict[str, tuple[str, ...]] = {
    "opens": ("message_id", "ts", "user_agent", "ip"),
    "clicks": ("message_id", "ts", "url", "user_agent", "ip"),
    "complaints": ("message_id", "recipient", "ts", "source"),
    "subscriptions": ("account_id", "list_id", "recipient", "ts", "action"),
    "blocklists": ("target", "blocklist", "ts", "action"),
}

#: The columns every staged table carries besides the kind's own.
STAGED_META_COLUMNS = ("__file", "__line", "__raw", "__error")

FILE_EXTENSIONS = (".csv.gz", ".jsonl.gz", ".csv", ".parquet", ".jsonl")
