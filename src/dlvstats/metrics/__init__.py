"""Metrics: each is DuckDB SQL (sql/metrics/*.sql) over the whole data on a read-only connection,
returning a small pandas DataFrame. Notebooks, the monthly report and the CLI call the same
functions, registered in ``REGISTRY`` under their CLI names.

Must not import papermill, nbconvert or the report module.
"""

from __future__ import annotations

from collections.abc import Callable

#: CLI name -> "module:function"; imported lazily so the CLI starts fast.
REGISTRY: dict[str, str] = {
    "engagement-by-age": "dlvstats.metrics.engagement:engagement_by_age",
    "gift-campaigns": "dlvstats.metrics.gift:gift_campaigns",
    "hidden-images": "dlvstats.metrics.hidden_images:hidden_images",
    "sender-health": "dlvstats.metrics.sender_health:sender_health",
    "classification-sensitivity": "dlvstats.metrics.sensitivity:classification_sensitivity",
    "reengagement-campaigns": "dlvstats.metrics.gift:reengagement_campaigns",
    "gift-migration": "dlvstats.metrics.gift:gift_migration",
    "gift-grey-list": "dlvstats.metrics.gift:grey_list",
    "campaign-kinds": "dlvstats.metrics.gift:campaign_kinds",
    "bounce-categories": "dlvstats.metrics.sender_health:bounce_categories",
    "blocklist-events": "dlvstats.metrics.sender_health:blocklist_events",
    "compliance": "dlvstats.metrics.sender_health:compliance",
    "account-risk": "dlvstats.metrics.sender_health:account_risk",
    "gmail-spam-rate": "dlvstats.metrics.provider_signals:gmail_spam_rate",
    "snds-ip-timeline": "dlvstats.metrics.provider_signals:snds_ip_timeline",
    "blocklist-culprits": "dlvstats.metrics.provider_signals:blocklist_culprits",
    "blocklist-status": "dlvstats.metrics.provider_signals:blocklist_status",
    "campaigns": "dlvstats.metrics.campaigns:campaign_summary",
}


def get(name: str) -> Callable:
    import importlib

    if name not in REGISTRY:
        raise KeyError(f"unknown metric {name!r}; choose one of: {', '.join(REGISTRY)}")
    module, func = REGISTRY[name].split(":")
    return getattr(importlib.import_module(module), func)
