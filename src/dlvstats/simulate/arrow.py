"""From the simulator's coded column chunks to canonical tables (pyarrow): string tables built once
per run (``Dictionaries``), dictionary-encoded columns, fixed-width ids and ISO timestamps without a
Python loop over rows. ``to_table`` is what every drop writer receives."""

from __future__ import annotations

import numpy as np

from dlvstats.simulate.campaigns import Campaigns
from dlvstats.simulate.params import ACCOUNTS, ALL_SENDING_IPS
from dlvstats.simulate.population import Population
from dlvstats.simulate.tables import (
    BOUNCE_KINDS,
    BOUNCE_TEXT,
    CAMPAIGN_KINDS,
    CANONICAL_COLUMNS,
    COMPLAINT_SOURCES,
    DAY,
    PROVIDERS,
    STATUSES,
    SUB_ACTIONS,
    SUB_SOURCES,
)

_ZERO_PAD5: np.ndarray | None = None
_TIME_OF_DAY: np.ndarray | None = None


def fixed_ids(prefix: str, nums: np.ndarray, tag: str):
    """Strings ``<prefix><10-digit number>.<tag>`` built as fixed-width records (no per-row Python)."""
    import pyarrow as pa

    global _ZERO_PAD5
    if _ZERO_PAD5 is None:
        _ZERO_PAD5 = np.char.zfill(np.arange(100000).astype("S5"), 5)
    nums = np.asarray(nums, dtype=np.int64)
    n = len(nums)
    rec = np.empty(n, dtype=[("p", f"S{len(prefix)}"), ("hi", "S5"), ("lo", "S5"), ("tag", f"S{len(tag) + 1}")])
    rec["p"] = prefix.encode()
    rec["hi"] = _ZERO_PAD5[nums // 100000]
    rec["lo"] = _ZERO_PAD5[nums % 100000]
    rec["tag"] = ("." + tag).encode()
    width = rec.dtype.itemsize
    offsets = np.arange(0, width * (n + 1), width, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(rec))


def iso_z(ts: np.ndarray):
    """ISO 8601 UTC strings ``YYYY-MM-DDTHH:MM:SSZ`` for epoch seconds (negative = null), built
    from a table of dates and a table of times of day: ~50 ns a value."""
    import pyarrow as pa

    global _TIME_OF_DAY
    if _TIME_OF_DAY is None:
        s = np.arange(86400)
        two = lambda v: np.char.zfill(v.astype("S2"), 2)
        _TIME_OF_DAY = np.char.add(np.char.add(np.char.add(np.char.add(two(s // 3600), b":"),
                                                           np.char.add(two((s // 60) % 60), b":")),
                                               two(s % 60)), b"Z").astype("S9")
    ts = np.asarray(ts, dtype=np.int64)
    n = len(ts)
    valid = ts >= 0
    null_count = int(n - np.count_nonzero(valid))
    if null_count == n:
        return pa.nulls(n, type=pa.string())
    t = np.where(valid, ts, ts[valid][0]) if null_count else ts
    days = t // DAY
    d0 = int(days.min())
    dates = np.char.add(np.arange(d0, int(days.max()) + 1).astype("datetime64[D]").astype("S10"), b"T")
    rec = np.empty(n, dtype=[("date", "S11"), ("time", "S9")])
    rec["date"] = dates[days - d0]
    rec["time"] = _TIME_OF_DAY[t - days * DAY]
    offsets = np.arange(0, 20 * (n + 1), 20, dtype=np.int32)
    validity = pa.py_buffer(np.packbits(valid, bitorder="little")) if null_count else None
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(rec), validity, null_count)


def _ip_strings(ips: np.ndarray):
    """Dotted-quad strings for uint32 addresses (used once per run for the IP table)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    ips = np.asarray(ips, dtype=np.uint32)
    octets = [pc.cast(pa.array(((ips >> shift) & 0xFF).astype(np.uint8)), pa.string()) for shift in (24, 16, 8, 0)]
    return pc.binary_join_element_wise(*octets, ".")


class Dictionaries:
    """String tables that coded columns point into; built once per run."""

    def __init__(self, pop: Population, camps: Campaigns, uas: list[str], tag: str):
        import pyarrow as pa
        import pyarrow.compute as pc

        self.tag = tag
        C = pop.contacts
        domains = pa.array(pop.domains).take(pa.array(C.domain))
        local = pc.binary_join_element_wise("u", pc.cast(pa.array(C.addr_num), pa.string()), "")
        self.recipients = pc.binary_join_element_wise(local, domains, "@")
        unique_ips, ip_code = np.unique(pop.ip_table, return_inverse=True)  # colleagues share an office IP
        self.ips = (ip_code.astype(np.int64), _ip_strings(unique_ips))
        self.accounts = pa.array([a.account_id for a in ACCOUNTS])
        self.sending_domains = pa.array([a.sending_domain for a in ACCOUNTS])
        # list ids repeat across accounts (lst_newsletter): code = account * 2 + slot
        self.lists = self._coded([(a.lists[s].list_id if s < len(a.lists) else None) for a in ACCOUNTS for s in (0, 1)])
        self.campaigns = pa.array(camps.ids)
        self.campaign_kinds = pa.array(CAMPAIGN_KINDS)
        self.urls = pa.array(camps.urls)
        self.uas = pa.array(uas)
        self.sending_ips = pa.array(ALL_SENDING_IPS)
        self.statuses = pa.array(STATUSES)
        self.complaint_sources = pa.array(COMPLAINT_SOURCES)
        self.sub_actions = pa.array(SUB_ACTIONS)
        self.sub_sources = pa.array(SUB_SOURCES)
        self.providers = pa.array(PROVIDERS)
        self.bounce_categories = self._coded([b[3] for b in BOUNCE_KINDS])
        # bounce information per (kind, provider): one coded column each for class, code, status, text
        info: dict[str, list] = {"bounce_class": [], "smtp_code": [], "enhanced_status": [], "bounce_reason": []}
        for kind_code in range(len(BOUNCE_KINDS)):
            for prov in PROVIDERS:
                texts = BOUNCE_TEXT[kind_code]
                smtp, enh, reason = texts.get(prov, texts["*"])
                for name, value in zip(info, (BOUNCE_KINDS[kind_code][0], smtp, enh, reason)):
                    info[name].append(value)
        self.info = {name: self._coded(values) for name, values in info.items()}  # code = kind * providers + provider

    @staticmethod
    def _coded(values: list) -> tuple[np.ndarray, object]:
        import pyarrow as pa

        distinct = sorted({v for v in values if v is not None})
        pos = {v: i for i, v in enumerate(distinct)}
        remap = np.array([pos[v] if v is not None else -1 for v in values], dtype=np.int64)
        return remap, pa.array(distinct, type=pa.string())


def dict_col(codes: np.ndarray, dictionary):
    """A dictionary-encoded string column (negative code = null). ``dictionary`` holds distinct
    values, or is a pair (remap, distinct values) when our codes name repeated strings."""
    import pyarrow as pa

    codes = np.asarray(codes, dtype=np.int64)
    if isinstance(dictionary, tuple):
        remap, dictionary = dictionary
        codes = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1)
    codes = codes.astype(np.int32)
    neg = codes < 0
    return pa.DictionaryArray.from_arrays(pa.array(codes, mask=neg if neg.any() else None), dictionary)


def ts_col(ts: np.ndarray):
    import pyarrow as pa

    ts = np.asarray(ts, dtype=np.int64)
    neg = ts < 0
    return pa.array(ts, mask=neg if neg.any() else None).cast(pa.timestamp("s"))


def empty_chunk(kind: str) -> dict:
    keys = {
        "sends": ("ts", "msg", "sent_at", "acc", "list", "camp", "contact", "ip", "status", "delivered_at", "info"),
        "opens": ("ts", "msg", "ua", "ip", "num"),
        "clicks": ("ts", "msg", "url", "ua", "ip", "num"),
        "complaints": ("ts", "msg", "contact", "acc", "source"),
        "subscriptions": ("ts", "account", "slot", "contact", "action", "source", "campaign", "collected"),
        "campaigns": ("ts", "camp"),
        "orders": ("ts", "acc", "contact", "num", "cents", "camp"),
        "blocklists": ("ts", "event"),
    }[kind]
    return {k: np.zeros(0, dtype=np.int64) for k in keys}


def to_table(kind: str, ch: dict, d: Dictionaries, camps: Campaigns, listing: dict):
    """The logical canonical table of one kind for one month, rows in time order.

    Canonical column names; strings plain or dictionary-encoded; timestamps UTC ``timestamp[s]``;
    ``amount`` in euros (float64). This is what a writer for another output flavour (``--as``)
    receives."""
    import pyarrow as pa

    order = np.argsort(ch["ts"], kind="stable")
    if len(order) and not np.all(order[1:] > order[:-1]):
        ch = {key: v[order] for key, v in ch.items()}
    tag = d.tag
    if kind == "sends":
        info = ch["info"]
        cols = {
            "message_id": fixed_ids("m", ch["msg"], tag),
            "sent_at": ts_col(ch["sent_at"]),
            "account_id": dict_col(ch["acc"], d.accounts),
            "list_id": dict_col(ch["list"], d.lists),
            "campaign_id": dict_col(ch["camp"], d.campaigns),
            "recipient": dict_col(ch["contact"], d.recipients),
            "status": dict_col(ch["status"], d.statuses),
            "delivered_at": ts_col(ch["delivered_at"]),
        }
        for name in ("bounce_class", "smtp_code", "enhanced_status", "bounce_reason"):
            cols[name] = dict_col(info, d.info[name])
        cols["sending_ip"] = dict_col(ch["ip"], d.sending_ips)
        cols["sending_domain"] = dict_col(ch["acc"], d.sending_domains)
    elif kind in ("opens", "clicks"):
        cols = {"message_id": fixed_ids("m", ch["msg"], tag), "ts": ts_col(ch["ts"])}
        if kind == "clicks":
            cols["url"] = dict_col(ch["url"], d.urls)
        cols.update(user_agent=dict_col(ch["ua"], d.uas), ip=dict_col(ch["ip"], d.ips),
                    event_id=fixed_ids("o" if kind == "opens" else "c", ch["num"], tag))
    elif kind == "complaints":
        cols = {"ts": ts_col(ch["ts"]), "message_id": fixed_ids("m", ch["msg"], tag),
                "recipient": dict_col(ch["contact"], d.recipients), "account_id": dict_col(ch["acc"], d.accounts),
                "source": dict_col(ch["source"], d.complaint_sources)}
    elif kind == "subscriptions":
        cols = {"ts": ts_col(ch["ts"]), "account_id": dict_col(ch["account"], d.accounts),
                "list_id": dict_col(ch["account"] * 2 + ch["slot"], d.lists),
                "recipient": dict_col(ch["contact"], d.recipients), "action": dict_col(ch["action"], d.sub_actions),
                "source": dict_col(ch["source"], d.sub_sources), "campaign_id": dict_col(ch["campaign"], d.campaigns),
                "collected_at": ts_col(ch["collected"])}
    elif kind == "campaigns":
        k = ch["camp"]
        cols = {"campaign_id": dict_col(k, d.campaigns), "account_id": dict_col(camps.account[k], d.accounts),
                "list_id": dict_col(camps.account[k].astype(np.int64) * 2 + camps.slot[k], d.lists),
                "sent_at": ts_col(camps.start[k]), "kind": dict_col(camps.kind[k], d.campaign_kinds),
                "name": pa.array([camps.names[i] for i in k], type=pa.string()),
                "subject": pa.array([camps.subjects[i] for i in k], type=pa.string())}
    elif kind == "orders":
        cols = {"ts": ts_col(ch["ts"]), "account_id": dict_col(ch["acc"], d.accounts),
                "recipient": dict_col(ch["contact"], d.recipients), "order_id": fixed_ids("ord", ch["num"], tag),
                "amount": pa.array(ch["cents"] / 100.0), "campaign_id": dict_col(ch["camp"], d.campaigns)}
    elif kind == "blocklists":
        e = ch["event"]
        cols = {"ts": ts_col(ch["ts"]), "target": pa.array([listing["target"]] * len(e), type=pa.string()),
                "blocklist": pa.array([listing["blocklist"]] * len(e), type=pa.string()),
                "action": pa.array(["listed" if x == 0 else "delisted" for x in e], type=pa.string())}
    else:  # pragma: no cover - KINDS is closed
        raise ValueError(kind)
    table = pa.table(cols)
    assert tuple(table.column_names) == CANONICAL_COLUMNS[kind], (kind, table.column_names)
    return table
