"""The per-campaign table: each campaign's headline rates, adding up to the month's headlines."""

from __future__ import annotations

import pytest
from tests.helpers import write_drop

from dlvstats.ingest import ingest_paths
from dlvstats.metrics.campaigns import campaign_summary, campaigns_in_plain_words
from dlvstats.metrics.headlines import headline_rates

HEADER = ["message_id", "sent_at", "account_id", "list_id", "campaign_id", "recipient", "status"]


def test_campaigns_add_up_to_the_months_headlines(sim):
    table = campaign_summary(sim.db_path, "2026-10-01", "2026-11-01")
    head = headline_rates(sim.db_path, "2026-10-01", "2026-11-01").iloc[0]
    assert len(table) >= 10 and table[["account_id", "campaign_id"]].drop_duplicates().shape[0] == len(table)
    for column in ("delivered", "openers", "human_openers", "human_clickers", "unsubscribes"):
        assert table[column].sum() == head[column], column
    for rate, num, den in (("human_click_rate", "human_clickers", "delivered"), ("hard_bounce_rate", "hard_bounces", "sends"),
                           ("open_rate", "openers", "delivered")):
        expected = table[num] / table[den]
        assert ((table[rate] - expected).abs() < 1e-12).all(), rate
        assert (table[f"{rate}_low"] <= table[rate] + 1e-12).all() and (table[rate] <= table[f"{rate}_high"] + 1e-12).all()
    assert table["campaign_kind"].notna().all()  # the simulator describes every campaign
    assert (table["small_cell"] == (table["delivered"] < 1000)).all()
    assert "campaigns sent messages in this period" in campaigns_in_plain_words(table)


def test_a_campaign_no_file_describes_is_still_counted(tmp_path):
    """A campaign the logs name but no campaigns file describes: its row, name and kind empty."""
    header = [*HEADER, "bounce_class"]
    drop = write_drop(tmp_path / "d", {"sends": (header, [
        ["m1", "2026-10-02T10:00:00Z", "acme", "news", "c1", "a@example.com", "delivered", ""],
        ["m2", "2026-10-02T10:00:00Z", "acme", "news", "c1", "b@example.com", "bounced", "hard"],
        ["m3", "2026-10-03T10:00:00Z", "acme", "news", "c2", "c@example.com", "delivered", ""],
    ])})
    db = tmp_path / "c.duckdb"
    ingest_paths(db, [drop])
    table = campaign_summary(db, "2026-10-01", "2026-11-01").set_index("campaign_id")
    assert int(table["sends"].sum()) == 3 and list(table.index) == ["c1", "c2"]
    c1 = table.loc["c1"]
    assert (int(c1["sends"]), int(c1["delivered"]), int(c1["hard_bounces"])) == (2, 1, 1)
    assert c1["delivery_rate"] == pytest.approx(0.5) and c1["hard_bounce_rate"] == pytest.approx(0.5)
    assert table["campaign_name"].isna().all() and table["campaign_kind"].isna().all()
    assert table["small_cell"].all()
