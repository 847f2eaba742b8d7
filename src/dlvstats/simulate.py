"""Seeded, vectorised simulator of an e-mail service provider's logs, with the truth the logs hide.

What it does
    ``simulate(out_dir, ...)`` invents an ESP with a handful of client accounts, their lists and
    recipients, runs their campaigns month by month and writes one canonical drop per calendar month
    (``out_dir/drops/YYYY-MM/<kind>.<ext>``, format of ``docs/canonical-logs.md``) plus what
    the logs cannot show: ``truth.json`` (real read rates, image blocking, machine events, gift
    conversions, the stale client and the blocklisting), ``truth_machine_events.csv.gz`` (every
    machine open and click by ``event_id``) and ``truth_messages.parquet`` (latent flags per message).
    The model and every ``truth.json`` key are described in ``docs/simulator.md``; the numbers come
    from the "Simulator defaults" of ``shared/reference/published-figures.md`` (see ``Params``).

How
    Everything per recipient and per message is drawn with numpy on whole arrays; Python loops run
    only over months, accounts and campaigns. A month is one batch: candidate sends of all its
    campaigns, their outcomes and events, then the subscription changes they cause (unsubscribes,
    suppressions, gift moves) and the sends those changes cancel. Events land in the drop of the
    month of their timestamp (a message deferred over a month end appears as ``deferred`` in its
    send month and settled in the next). A writer thread renders and writes month k (pyarrow for
    CSV and Parquet, DuckDB for JSON lines) while month k+1 is simulated.

What it must not do
    It must not read real data, touch the network or any database other than a private in-memory
    DuckDB used for writing, nor depend on wall-clock time: the output is a function of the
    arguments only (same seed, same bytes). It must not import the CLI, ingest or metrics code: the
    estimators are validated against this truth, so the simulator may not share their logic.
    Recipients, domains of companies and sending IPs are synthetic (sending IPs are RFC 5737
    documentation addresses).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

# pyarrow and duckdb are imported inside the functions that write files, so that importing this
# module (the CLI does, to build its parser) stays cheap.

ProgressFn = Callable[[str, int, int], None]

FORMATS = ("csv", "csv.gz", "parquet", "jsonl", "jsonl.gz")
KINDS = ("sends", "opens", "clicks", "complaints", "subscriptions", "campaigns", "orders", "blocklists")

#: Canonical columns written for each kind, in file order (spec version 1). ``is_machine`` is a
#: vendor's flag and is not written by the canonical simulator.
CANONICAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "sends": ("message_id", "sent_at", "account_id", "list_id", "campaign_id", "recipient", "status",
              "delivered_at", "bounce_class", "smtp_code", "enhanced_status", "bounce_reason",
              "sending_ip", "sending_domain"),
    "opens": ("message_id", "ts", "user_agent", "ip", "event_id"),
    "clicks": ("message_id", "ts", "url", "user_agent", "ip", "event_id"),
    "complaints": ("ts", "message_id", "recipient", "account_id", "source"),
    "subscriptions": ("ts", "account_id", "list_id", "recipient", "action", "source", "campaign_id",
                      "collected_at"),
    "campaigns": ("campaign_id", "account_id", "list_id", "sent_at", "kind", "name", "subject"),
    "orders": ("ts", "account_id", "recipient", "order_id", "amount", "campaign_id"),
    "blocklists": ("ts", "target", "blocklist", "action"),
}
TIMESTAMP_COLUMNS = {"sent_at", "delivered_at", "ts", "collected_at"}

MINUTE = 60
HOUR = 3600
DAY = 86400
YEAR_DAYS = 365.25
MONTH_S = YEAR_DAYS * DAY / 12
INF_TS = np.int64(1 << 62)  # "never" for times stored as int64 epoch seconds
NEVER_READ = np.int64(-(1 << 40))  # "never read": far enough in the past to count as inactive

# ----------------------------------------------------------------------------------------------
# Parameters
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Params:
    """Every behavioural number of the model. Defaults follow published-figures.md, "Simulator
    defaults"; values marked [EST] there are our choices. Rates are per delivered message unless
    the name says otherwise. ``truth.json`` records the values used."""

    # population and address life cycle
    base_recent_share: float = 0.40  # share of the initial base collected in the last 2 years
    signup_rate_per_month: float = 0.025  # new sign-ups a month, as a share of the initial list
    invalid_signup_share: float = 0.03  # sign-ups with a typo: bounce on the first send
    early_silence_share: float = 0.25  # of active new sign-ups, go silent soon (Return Path 30%)
    early_silence_days: float = 20.0
    interest_lapse_per_month: float = 0.005  # a reader stops reading for good (mailbox still alive)
    abandon_hazard_b2c_per_month: float = 0.015  # address-death (abandonment) hazard
    abandon_hazard_b2b_per_month: float = 0.020
    stale_cleaned_share: float = 0.80  # dead addresses the stale client removed before importing
    # rendering and measurement
    mpp_share_of_apple_mail: float = 0.93
    images_off_pixel_load_prob: float = 0.57  # images-off reader loads the pixel (Litmus 2014)
    plain_text_share_b2c: float = 0.02
    plain_text_share_corporate: float = 0.05
    mpp_soon_share: float = 0.30  # MPP fetch within 15 min of delivery; the rest overnight
    mpp_refetch_share: float = 0.12  # a second proxy fetch the following hours
    reopen_mean: float = 0.30  # extra opens per opening reader (not behind Gmail's proxy cache)
    # link-scanning gateways
    scanner_share_consumer: float = 0.005  # consumer mailbox behind a scanning gateway
    scanner_share_corporate_b2c: float = 0.10  # corporate address on a B2C list
    scanner_share_b2b: float = 0.30  # corporate address on a B2B account's list
    scan_prob_per_message: float = 0.08  # a protected message is sandboxed (links followed)
    rescan_share: float = 0.10  # a sandboxed message is scanned again 10-40 min later
    # engagement (true, human)
    read_beta: tuple[float, float] = (3.0, 1.0)  # per-person read propensity of active addresses
    click_beta: tuple[float, float] = (12.0, 88.0)  # per-person click propensity given a read (mean 0.12)
    tenure_plateau: float = 0.40  # m(t) = plateau + (1 - plateau) exp(-(t/scale)^2), t in months
    tenure_scale_months: float = 28.0
    honeymoon_mult: float = 1.0  # first 30 days on a list (m(t) is already ~1 then)
    inactivity_grace_days: float = 120.0  # g(d) = 1 up to the grace, then decays to the floor
    inactivity_floor: float = 0.35
    inactivity_scale_days: float = 200.0
    winback_read_prob: float = 0.12  # a win-back e-mail is read by 12% of live inactive readers (Return Path)
    immediate_read_share: float = 0.08  # reads within ~2 minutes of delivery (notifications)
    extra_link_click_prob: float = 0.25
    unsubscribe_link_share: float = 0.70  # the rest use the one-click header (source `user`)
    early_unsub_mult: float = 4.0  # first 30 days on a list
    gift_early_unsub_mult: float = 6.0  # x1.5 the organic early opt-out (Sailthru)
    inactive_unsub_mult: float = 2.0
    # complaints
    complaint_base: float = 0.00035  # per delivered message to a mailbox its owner still reads
    complaint_age_slope: float = 0.08  # x(1 + slope * age in years)
    complaint_inactive_mult: float = 4.0  # no read for 12 months or more (MailChimp 2008)
    complaint_new_mult: float = 3.0  # first 30 days on a list
    stale_complaint_mult: float = 3.0  # addresses of the stale list: they forgot the brand
    signal_spam_plugin_share: float = 0.25
    abuse_desk_share_corporate: float = 0.15
    abuse_desk_share_other: float = 0.05
    # gift campaigns
    gift_rereg_prob: float = 0.45  # a human clicker of the gift link re-registers on list B
    gift_buyer_mult: float = 0.40  # buyer conversion of gift re-registrants (Sailthru, Return Path)
    gift_read_mult: float = 1.10
    gift_click_appeal: float = 2.5
    # delivery and bounces
    mailbox_full_prob_abandoned: float = 0.25  # abandoned ISP mailbox, 6 months on: quota full
    mailbox_full_prob: float = 0.0005
    content_block_corporate: float = 0.002
    content_block_other: float = 0.0002
    defer_expire_share: float = 0.05  # deferred messages that give up after 72 h
    blocklist_block_prob: float = 0.85  # at receivers using the blocklist, while listed
    reputation_block_prob: float = 0.03  # big providers after the listing, shared IP
    reputation_window_days: float = 45.0
    send_rate_per_ip: float = 50.0  # messages per second per sending IP (throttling)
    # stale client and blocklisting
    stale_import_days_before_end: float = 105.0
    stale_campaign_every_days: float = 12.0
    listing_delay_days: tuple[float, float] = (2.0, 5.0)  # after the stale list's first campaign
    listing_duration_days: tuple[float, float] = (8.0, 15.0)


# ----------------------------------------------------------------------------------------------
# The ESP: accounts, lists, providers, clients (data, not logic)
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListSpec:
    list_id: str
    member_share: float  # share of the account's initial base on this list
    campaigns_per_month: float
    signup_share: float  # share of the account's new sign-ups joining this list


@dataclass(frozen=True)
class AccountSpec:
    account_id: str
    short: str
    segment: str  # "b2c" | "b2b"
    contact_share: float
    sending_domain: str
    site: str
    sending_ips: tuple[str, ...]
    lists: tuple[ListSpec, ...]
    exclusive_lists: bool  # a recipient is on one list only (gift A/B, stale archive)
    active_share: float  # P(the address is a checked mailbox) at collection
    read_mult: float
    unsub_per_read: float
    complaint_mult: float
    honour_lag_hours: float  # how long the ESP takes to stop mailing after an unsubscribe
    conversion_per_click: float
    organic_orders_per_month: float
    order_median_eur: float
    paths: tuple[str, ...]
    hours: tuple[int, ...]  # preferred local send hours
    role: str = ""  # "gift": gift campaigns on list A, re-registration on list B; "stale": imports an old list
    reengage_slot: int = -1  # list that gets a win-back campaign every quarter (-1: none)
    month_end_late_send: bool = False  # a campaign at 22:30 on the last day of each month


SHARED_IP = "198.51.100.20"

ACCOUNTS: tuple[AccountSpec, ...] = (
    AccountSpec("acct_modeparis", "modeparis", "b2c", 0.30, "news.modeparis.fr", "modeparis.fr",
                ("203.0.113.10", "203.0.113.11"),
                (ListSpec("lst_newsletter", 1.0, 6.0, 0.85), ListSpec("lst_vip", 0.30, 3.0, 0.15)),
                False, 0.65, 1.00, 0.0060, 1.0, 2, 0.07, 0.010, 75.0,
                ("nouveautes", "soldes", "robes", "accessoires", "lookbook"), (8, 9, 10, 18, 19), reengage_slot=0),
    AccountSpec("acct_cadeaux", "cadeaux", "b2c", 0.20, "mail.cadeaux-et-vous.fr", "cadeaux-et-vous.fr",
                ("203.0.113.20",),
                (ListSpec("lst_prospects", 0.80, 3.0, 1.0), ListSpec("lst_cadeau", 0.20, 3.0, 0.0)),
                True, 0.50, 1.00, 0.0070, 1.5, 6, 0.06, 0.004, 35.0,
                ("cadeau", "jeu-concours", "boutique", "bons-plans"), (9, 10, 11, 17), role="gift",
                reengage_slot=1),
    AccountSpec("acct_b2b", "b2b", "b2b", 0.12, "info.logiciel-pro.fr", "logiciel-pro.fr",
                ("203.0.113.30",),
                (ListSpec("lst_clients", 1.0, 3.0, 0.7), ListSpec("lst_webinaires", 0.45, 2.0, 0.3)),
                False, 0.70, 0.90, 0.0050, 1.0, 12, 0.02, 0.002, 450.0,
                ("webinaire", "livre-blanc", "tarifs", "nouveautes-produit"), (8, 9, 10, 14)),
    AccountSpec("acct_librairie", "librairie", "b2c", 0.14, "lettre.librairie-duparc.fr",
                "librairie-duparc.fr", (SHARED_IP,),
                (ListSpec("lst_newsletter", 1.0, 4.0, 1.0),),
                False, 0.65, 1.05, 0.0055, 1.0, 24, 0.06, 0.008, 28.0,
                ("nouveautes", "prix-litteraires", "jeunesse", "rencontres"), (10, 11, 17, 18)),
    AccountSpec("acct_voyages", "voyages", "b2c", 0.14, "offres.voyages-azur.fr", "voyages-azur.fr",
                (SHARED_IP,),
                (ListSpec("lst_offres", 1.0, 5.0, 0.8), ListSpec("lst_newsletter", 0.45, 2.0, 0.2)),
                False, 0.60, 0.95, 0.0060, 1.2, 24, 0.02, 0.002, 650.0,
                ("offres/derniere-minute", "sejours/grece", "circuits", "week-ends"), (9, 12, 18, 20),
                month_end_late_send=True),
    AccountSpec("acct_oldlist", "oldlist", "b2c", 0.10, "promo.destock-discount.fr", "destock-discount.fr",
                (SHARED_IP,),
                (ListSpec("lst_clients", 0.20, 3.0, 1.0), ListSpec("lst_archive", 0.80, 0.0, 0.0)),
                True, 0.55, 1.00, 0.0080, 2.0, 96, 0.03, 0.003, 50.0,
                ("destockage", "promo", "catalogue", "ventes-flash"), (10, 11, 19), role="stale"),
)
GIFT_ACCOUNT = next(i for i, a in enumerate(ACCOUNTS) if a.role == "gift")
STALE_ACCOUNT = next(i for i, a in enumerate(ACCOUNTS) if a.role == "stale")
GIFT_SLOT_A, GIFT_SLOT_B = 0, 1
STALE_SLOT = 1
STALE_AGE_YEARS = (2.0, 9.0)  # the stale archive was collected this many years before its import
ALL_SENDING_IPS: tuple[str, ...] = tuple(dict.fromkeys(ip for a in ACCOUNTS for ip in a.sending_ips))
SHARED_IP_CODE = ALL_SENDING_IPS.index(SHARED_IP)

PROVIDERS = ("gmail", "microsoft", "yahoo", "apple", "orange", "free", "sfr", "laposte", "bouygues",
             "gmx", "other")
P = {name: i for i, name in enumerate(PROVIDERS)}
NP_ = len(PROVIDERS)
FRENCH_ISPS = (P["orange"], P["free"], P["sfr"], P["laposte"], P["bouygues"])


def _provider_mask(*names: str) -> np.ndarray:
    """Lookup table: provider code -> is one of names (indexing beats np.isin on big arrays)."""
    mask = np.zeros(len(PROVIDERS), dtype=bool)
    mask[[P[n] for n in names]] = True
    return mask


IS_FRENCH_ISP = _provider_mask("orange", "free", "sfr", "laposte", "bouygues")
IS_BIG_PROVIDER = _provider_mask("microsoft", "yahoo", "gmail", "orange")  # reputation filtering of their own
IS_THROTTLING = _provider_mask("microsoft", "orange")  # known to slow down bulk senders
IS_FBL_PROVIDER = _provider_mask("yahoo", "microsoft")  # complaints reported per message
DEFER_PROB = np.array([.005, .025, .015, .01, .035, .01, .01, .01, .01, .01, .01])  # by provider

#: Provider mix of consumer addresses (France, Sendinblue/Mapp rows of published-figures §7) and of
#: a B2B account (mostly corporate domains, which the default mapping calls "other").
PROVIDER_MIX_B2C = {"gmail": .35, "microsoft": .21, "orange": .17, "free": .04, "sfr": .025,
                    "laposte": .02, "bouygues": .01, "yahoo": .03, "apple": .03, "gmx": .005, "other": .11}
PROVIDER_MIX_B2B = {"gmail": .12, "microsoft": .06, "orange": .04, "free": .01, "yahoo": .01,
                    "apple": .02, "other": .74}
CORPORATE_SHARE_OF_B2C_OTHER = 0.55

PROVIDER_DOMAINS: dict[str, tuple[tuple[str, float], ...]] = {
    "gmail": (("gmail.com", .97), ("googlemail.com", .03)),
    "microsoft": (("hotmail.fr", .42), ("hotmail.com", .18), ("outlook.fr", .16), ("live.fr", .14),
                  ("msn.com", .06), ("outlook.com", .04)),
    "yahoo": (("yahoo.fr", .60), ("yahoo.com", .18), ("aol.com", .12), ("ymail.com", .10)),
    "apple": (("icloud.com", .80), ("me.com", .15), ("mac.com", .05)),
    "orange": (("orange.fr", .72), ("wanadoo.fr", .28)),
    # the legacy ISP domains map to their provider today (providers.csv), as they do in the world
    "free": (("free.fr", .92), ("aliceadsl.fr", .08)),
    "sfr": (("sfr.fr", .55), ("neuf.fr", .25), ("numericable.fr", .12), ("club-internet.fr", .08)),
    "laposte": (("laposte.net", 1.0),),
    "bouygues": (("bbox.fr", 1.0),),
    "gmx": (("gmx.fr", .60), ("gmx.de", .20), ("gmx.com", .20)),
    "other": (("mailo.com", .25), ("posteo.de", .15), ("telenet.be", .10),
              ("protonmail.com", .15), ("skynet.be", .10), ("bluewin.ch", .10), ("videotron.ca", .05),
              ("tutanota.com", .05), ("web.de", .05)),
}
#: Sign-up typos: a domain that does not exist (5.1.2).
TYPO_DOMAINS = ("gmial.com", "gmail.con", "hotmial.fr", "hotmail.fe", "orange.fe", "wanadoo.ft",
                "yahoo.fe", "laposte.ne")
CORP_PREFIXES = ("atelier", "groupe", "cabinet", "societe", "transports", "batiment", "conseil", "pharma",
                 "agri", "logistique", "industrie", "imprimerie", "menuiserie", "garage", "clinique",
                 "assurances", "immobilier", "studio", "energie", "bureau")
CORP_NAMES = ("martin", "bernard", "dubois", "thomas", "robert", "richard", "petit", "durand", "leroy",
              "moreau", "simon", "laurent", "lefebvre", "michel", "garcia", "david", "bertrand", "roux",
              "vincent", "fournier", "morel", "girard", "andre", "mercier", "dupont", "lambert",
              "bonnet", "francois", "martinez", "legrand")
CORP_TLDS = ("fr", "com", "eu", "net")

# Address life cycle by provider: P(an abandoned mailbox is eventually deleted) and the delay
# (months) before it bounces (Outlook 270 days, Yahoo 12 months, Gmail 2 years, ISPs when the
# subscription ends; a company deletes a leaver's mailbox within weeks).
DELETE_PROB = np.array([.60, .85, .90, .40, .50, .50, .50, .60, .50, .70, .50])
DELETE_LAG_MONTHS = np.array([24., 10., 12., 12., 8., 8., 8., 12., 8., 12., 6.])
CORPORATE_DELETE_PROB = 0.95
CORPORATE_DELETE_LAG_MONTHS = 1.0

CLIENTS = ("apple_mail", "gmail_app", "yahoo_app", "outlook_desktop", "outlook_web", "webmail",
           "thunderbird", "android_mail")
CL = {name: i for i, name in enumerate(CLIENTS)}
# P(client | provider group), columns in CLIENTS order.
CLIENT_MIX = {
    "gmail": (.32, .56, 0, .03, 0, .02, .02, .05),
    "microsoft": (.34, 0, 0, .15, .34, 0, .05, .12),
    "yahoo": (.30, 0, .58, .02, 0, 0, .04, .06),
    "apple": (.92, 0, 0, 0, 0, .05, .03, 0),
    "isp": (.40, 0, 0, .08, 0, .33, .07, .12),
    "other": (.32, 0, 0, .18, 0, .28, .09, .13),
    "corp_m365": (.15, 0, 0, .65, .15, 0, .03, .02),
    "corp_workspace": (.12, .78, 0, .05, 0, 0, .03, .02),
    "corp_onprem": (.15, 0, 0, .57, 0, .10, .15, .03),
}
CORP_HOSTING = (("corp_m365", .55), ("corp_workspace", .15), ("corp_onprem", .30))
# P(images off by default | client): Outlook desktop and Thunderbird block remote content.
IMAGES_OFF_BY_CLIENT = np.array([.06, .04, .06, .55, .08, .15, .40, .15])

GOOGLE_PROXY_UA = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
YAHOO_PROXY_UA = "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html"
MPP_UA = "Mozilla/5.0"
_CHROME_WIN = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
               "Chrome/124.0.0.0 Safari/537.36")
_EDGE_WIN = _CHROME_WIN + " Edg/124.0.2478.80"
_FIREFOX_WIN = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0"
_SAFARI_IOS17 = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5_1 like Mac OS X) AppleWebKit/605.1.15 "
                 "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")
_SAFARI_IOS18 = ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
                 "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1")
_SAFARI_MAC = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
               "Version/17.4.1 Safari/605.1.15")
_CHROME_ANDROID = ("Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
                   "Chrome/124.0.6367.82 Mobile Safari/537.36")
_SAMSUNG = ("Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) "
            "SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36")
# Device variants per client: (user agent of the pixel fetch, user agent of the browser a click
# opens, mobile). The pixel UA of gmail_app / yahoo_app readers is replaced by the proxy's.
CLIENT_DEVICES: dict[str, tuple[tuple[str, str, bool], ...]] = {
    "apple_mail": (
        (("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
         "Mobile/15E148"), _SAFARI_IOS17, True),
        (("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
         "Mobile/15E148"), _SAFARI_IOS18, True),
        ("Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
         _SAFARI_IOS17, True),
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)",
         _SAFARI_MAC, False),
    ),
    "gmail_app": ((GOOGLE_PROXY_UA, _CHROME_ANDROID, True), (GOOGLE_PROXY_UA, _CHROME_WIN, False),
                  (GOOGLE_PROXY_UA, _SAFARI_IOS17, True)),
    "yahoo_app": ((YAHOO_PROXY_UA, _CHROME_WIN, False), (YAHOO_PROXY_UA, _CHROME_ANDROID, True)),
    "outlook_desktop": (("Mozilla/4.0 (compatible; ms-office; MSOffice 16)", _EDGE_WIN, False),
                        ("Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)",
                         _CHROME_WIN, False)),
    "outlook_web": ((_EDGE_WIN, _EDGE_WIN, False), (_CHROME_WIN, _CHROME_WIN, False)),
    "webmail": ((_FIREFOX_WIN, _FIREFOX_WIN, False), (_CHROME_WIN, _CHROME_WIN, False),
                (_SAFARI_MAC, _SAFARI_MAC, False)),
    "thunderbird": (("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) Gecko/20100101 Thunderbird/115.10.1",
                     _FIREFOX_WIN, False),
                    ("Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Thunderbird/115.10.1",
                     "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0", False)),
    "android_mail": ((("Mozilla/5.0 (Linux; Android 13; SM-A536B Build/TP1A.220624.014; wv) AppleWebKit/537.36 "
                      "(KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.144 Mobile Safari/537.36"), _SAMSUNG, True),),
}

# Link-scanning gateways: name, user agent, IP blocks (data-centre), fetches images too.
SCANNERS = (
    ("proofpoint", ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                   "Chrome/114.0.0.0 Safari/537.36"), ("148.163.128.0/19", "67.231.144.0/20"), True),
    ("mimecast", ("Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) "
                 "Chrome/62.0.3202.94 Safari/537.36"), ("185.58.84.0/22", "207.211.30.0/24"), False),
    ("barracuda", ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "HeadlessChrome/119.0.6045.105 Safari/537.36"), ("209.222.80.0/21",), True),
    ("microsoft_eop", _EDGE_WIN, ("40.94.0.0/16", "52.100.0.0/14"), False),
    ("cloud_sandbox", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:109.0) Gecko/20100101 Firefox/115.0",
     ("3.64.0.0/12", "54.72.0.0/13", "35.187.0.0/16"), False),
)
SCANNER_WEIGHTS = (.30, .25, .15, .20, .10)

# IP blocks: residential by French ISP, mobile carriers, company egress, proxies.
ISP_BLOCKS = {
    "orange": ("90.0.0.0/10", "86.192.0.0/11", "2.0.0.0/12"),
    "free": ("82.64.0.0/14", "78.192.0.0/10", "88.160.0.0/11"),
    "sfr": ("109.208.0.0/13", "77.192.0.0/12", "93.0.0.0/12"),
    "bouygues": ("176.128.0.0/10", "89.80.0.0/12"),
}
ISP_MARKET = (("orange", .40), ("free", .25), ("sfr", .20), ("bouygues", .15))
MOBILE_BLOCKS = ("37.160.0.0/12", "80.214.0.0/16", "92.184.96.0/19")
CORPORATE_BLOCKS = ("193.0.0.0/8", "194.0.0.0/8", "195.0.0.0/8", "212.0.0.0/8", "213.0.0.0/8", "217.0.0.0/8")
GOOGLE_PROXY_BLOCKS = ("66.249.80.0/20", "66.102.0.0/20", "74.125.208.0/20")
YAHOO_PROXY_BLOCKS = ("98.136.0.0/14", "66.196.64.0/18")
APPLE_MPP_BLOCKS = (("17.0.0.0/8", .60), ("172.224.0.0/12", .25), ("104.28.0.0/16", .15))

# Bounce kinds: (bounce_class, default smtp, default enhanced status, category). Texts per provider.
USER_UNKNOWN, BAD_DOMAIN, MAILBOX_FULL, BLOCKLISTED, REPUTATION, CONTENT, EXPIRED, DEFERRAL = range(8)
BOUNCE_KINDS = (
    ("hard", "550", "5.1.1", "invalid_mailbox"),
    ("hard", None, "5.1.2", "bad_domain"),
    ("soft", "552", "5.2.2", "mailbox_full"),
    ("hard", "550", "5.7.1", "policy_block"),
    ("hard", "550", "5.7.1", "policy_block"),
    ("hard", "554", "5.7.1", "content"),
    ("soft", None, "4.4.7", "other"),
    (None, "421", "4.7.0", "deferral"),  # interim rows of deferred messages
)
_RBL = (f"550 5.7.1 Service unavailable; Client host [{SHARED_IP}] blocked using Trend Micro RBL+. "
        f"Please see http://www.mail-abuse.com/cgi-bin/lookup?ip_address={SHARED_IP}")
BOUNCE_TEXT: dict[int, dict[str, tuple[str | None, str, str]]] = {
    # kind -> provider (or "*") -> (smtp_code, enhanced_status, bounce_reason)
    USER_UNKNOWN: {
        "gmail": ("550", "5.1.1", ("550-5.1.1 The email account that you tried to reach does not exist. Please "
                  "try double-checking the recipient's email address for typos or unnecessary spaces. "
                  "https://support.google.com/mail/?p=NoSuchUser")),
        "microsoft": ("550", "5.1.1", "550 5.1.1 Requested action not taken: mailbox unavailable"),
        "yahoo": ("554", "5.1.1", "554 delivery error: dd This user doesn't have a yahoo.com account"),
        "orange": ("550", "5.1.1", ("550 5.1.1 Adresse d au moins un destinataire invalide. Invalid recipient. "
                   "OFR_416 [416]")),
        "free": ("550", "5.1.1", "550 5.1.1 Recipient address rejected: Mailbox does not exist"),
        "other": ("550", "5.1.1", "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found"),
        "*": ("550", "5.1.1", "550 5.1.1 User unknown"),
    },
    BAD_DOMAIN: {"*": (None, "5.1.2", ("Host or domain name not found. Name service error: no MX or A record "
                       "for the recipient domain"))},
    MAILBOX_FULL: {
        "orange": ("552", "5.2.2", "552 5.2.2 Boite du destinataire pleine. Recipient overquota. OFR_417 [417]"),
        "free": ("552", "5.2.2", "552 5.2.2 Quota exceeded (mailbox for user is full)"),
        "*": ("552", "5.2.2", "552 5.2.2 Mailbox full"),
    },
    BLOCKLISTED: {"*": ("550", "5.7.1", _RBL)},
    REPUTATION: {
        "microsoft": ("550", "5.7.1", (f"550 5.7.1 Unfortunately, messages from [{SHARED_IP}] weren't sent. Please "
                      "contact your Internet service provider since part of their network is on our block "
                      "list (S3150).")),
        "yahoo": ("554", "5.7.9", ("554 5.7.9 Message not accepted for policy reasons. See "
                  "https://senders.yahooinc.com/error-codes")),
        "gmail": ("550", "5.7.1", (f"550-5.7.1 [{SHARED_IP}] Our system has detected that this message is likely "
                  "unsolicited mail. To reduce the amount of spam sent to Gmail, this message has been blocked.")),
        "orange": ("550", "5.7.1", ("550 5.7.1 Service refuse. Veuillez essayer plus tard. Service refused, "
                   "please try later. OFR_999 [999]")),
        "*": ("550", "5.7.1", "550 5.7.1 Message rejected due to sender reputation"),
    },
    CONTENT: {"*": ("554", "5.7.1", "554 5.7.1 Message rejected: content policy violation (URL reputation)")},
    EXPIRED: {"*": (None, "4.4.7", ("Message expired: delivery attempts abandoned after 72 hours; last error: "
                    "421 4.7.0 Try again later"))},
    DEFERRAL: {
        "orange": ("421", "4.7.0", ("421 mwinf5c10 ME Trop de connexions, veuillez verifier votre configuration. "
                   "Too many connections, slow down. OFR005_104 [104]")),
        "microsoft": ("451", "4.7.500", "451 4.7.500 Server busy. Please try again later. (S77719)"),
        "yahoo": ("421", "4.7.0", ("421 4.7.0 [TSS04] Messages temporarily deferred due to unexpected volume or "
                  "user complaints - 4.16.55.1")),
        "gmail": ("421", "4.7.28", ("421-4.7.28 Our system has detected an unusual rate of unsolicited mail "
                  "originating from your IP address. This mail has been rate limited.")),
        "*": ("451", "4.7.1", "451 4.7.1 Greylisted, please try again later"),
    },
}

STATUSES = ("delivered", "bounced", "deferred", "sent")
ST_DELIVERED, ST_BOUNCED, ST_DEFERRED, ST_SENT = range(4)
COMPLAINT_SOURCES = ("yahoo_cfl", "microsoft_jmrp", "signal_spam", "abuse_desk")
SUB_ACTIONS = ("subscribe", "unsubscribe")
SUB_SOURCES = ("import", "form", "gift", "moved", "link", "user", "complaint", "bounce")
S_IMPORT, S_FORM, S_GIFT, S_MOVED, S_LINK, S_USER, S_COMPLAINT, S_BOUNCE = range(8)
CAMPAIGN_KINDS = ("regular", "gift", "autoresponder", "reengagement", "transactional")
K_REGULAR, K_GIFT, K_AUTO, K_REENGAGE = 0, 1, 2, 3
MACHINE_TYPES = ("human", "apple_mpp", "scanner_image_fetch", "scanner", "scanner_rescan",
                 # added by the worlds of dlvstats.worlds (never drawn in the default world)
                 "gateway_image_fetch", "gateway_click", "proxy_prefetch")
M_HUMAN, M_MPP, M_SCANNER_IMAGE, M_SCANNER, M_RESCAN = range(5)

SUBJECTS = {
    "modeparis": ("Nouvelle collection : les robes de la saison sont arrivées", "Soldes : jusqu'à -50 % sur tout",
                  "Vos accessoires préférés, en édition limitée", "Le lookbook de la semaine",
                  'Offre "spéciale membres" : -20 %, ce week-end seulement', "Livraison offerte jusqu'à dimanche"),
    "cadeaux": ("Bons plans de la semaine", "Nos coups de cœur à moins de 20 €", "Jeu-concours : tentez votre chance",
                "La boutique se refait une beauté"),
    "cadeaux_gift": ("C'est l'été et c'est cadeau", "Votre cadeau vous attend !", "Un cadeau rien que pour vous",
                     "Ouvrez vite : une surprise vous attend", "Derniers jours pour réclamer votre cadeau",
                     "Noël approche : votre cadeau offert"),
    "b2b": ("Webinaire : automatisez votre facturation", "Livre blanc : la conformité en 10 points",
            "Nouveautés produit de ce mois", "Vos tarifs 2026, en avant-première"),
    "librairie": ("Les nouveautés de la rentrée littéraire", "Prix littéraires : notre sélection",
                  "Rencontre avec l'auteur, samedi en librairie", "Jeunesse : les albums qui font rêver"),
    "voyages": ("Dernière minute : la Grèce à prix doux", "Circuits d'automne, départs garantis",
                "Week-ends en amoureux, à partir de 199 €", "Soleil d'hiver : nos offres"),
    "oldlist": ("Destockage massif : tout doit disparaître", "Ventes flash, -70 % aujourd'hui",
                "Le catalogue est en ligne", "Promo exceptionnelle, quantités limitées"),
    "reengagement": ("Vous nous manquez", "Toujours partant(e) ?", "On se dit au revoir ?",
                     "Un petit mot pour vous retrouver"),
    "welcome": ("Bienvenue ! Voici votre code de bienvenue", "Merci pour votre inscription"),
}


# ----------------------------------------------------------------------------------------------
# Small vectorised helpers
# ----------------------------------------------------------------------------------------------


def _cidr(block: str) -> tuple[int, int]:
    net, bits = block.split("/")
    a, b, c, d = (int(x) for x in net.split("."))
    return (a << 24) | (b << 16) | (c << 8) | d, 1 << (32 - int(bits))


def _ips_in_blocks(rng: np.random.Generator, blocks, n: int, weights=None) -> np.ndarray:
    """n random IPv4 addresses (uint32) inside the given CIDR blocks, avoiding .0 and .255."""
    spans = [_cidr(b) for b in blocks]
    if weights is None:
        weights = np.array([s for _, s in spans], dtype=float)
    w = np.asarray(weights, dtype=float)
    which = rng.choice(len(spans), size=n, p=w / w.sum())
    base = np.array([b for b, _ in spans], dtype=np.int64)[which]
    size = np.array([s for _, s in spans], dtype=np.int64)[which]
    ip = base + (rng.random(n) * size).astype(np.int64)
    ip = (ip & ~np.int64(0xFF)) | (1 + (ip & 0xFF) % 254)
    return ip.astype(np.uint32)


def _choice(rng: np.random.Generator, probs, n: int) -> np.ndarray:
    p = np.asarray(probs, dtype=float)
    return rng.choice(len(p), size=n, p=p / p.sum())


def _lognormal(rng, median: float, sigma: float, n: int) -> np.ndarray:
    return median * np.exp(sigma * rng.standard_normal(n))


def _dst_bounds() -> np.ndarray:
    """UTC instants at which Europe/Paris switches to summer time and back, 1990-2100: the last
    Sunday of March and of October at 01:00 UTC. Computed once."""
    global _DST_BOUNDS
    if _DST_BOUNDS is None:
        bounds = []
        for y in range(1990, 2101):
            for month in (3, 10):
                last = np.datetime64(f"{y}-{month:02d}-31", "D")
                weekday = (last.astype(np.int64) - 4) % 7  # days since Sunday (1970-01-01 was a Thursday)
                bounds.append((last - np.timedelta64(int(weekday), "D")).astype("datetime64[s]").astype(np.int64) + HOUR)
        _DST_BOUNDS = np.array(bounds, dtype=np.int64)
    return _DST_BOUNDS


_DST_BOUNDS: np.ndarray | None = None


def _paris_offset(ts: np.ndarray) -> np.ndarray:
    """UTC offset (s) of Europe/Paris at UTC instants ts (+2 h in summer time, else +1 h).
    Vectorised; no tz database needed."""
    idx = np.searchsorted(_dst_bounds(), ts, side="right")
    return np.where(idx % 2 == 1, 2 * HOUR, HOUR).astype(np.int64)


def _first_per_group(keys: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """Indices (into keys/ts) of the earliest row of each key."""
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((ts, keys))
    k = keys[order]
    first = np.ones(len(k), dtype=bool)
    first[1:] = k[1:] != k[:-1]
    return order[first]


def _repeat_ranges(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For counts per row: (row index repeated, position 0..count-1 within the row)."""
    counts = counts.astype(np.int64)
    rows = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    pos = np.arange(len(rows)) - np.repeat(starts, counts)
    return rows, pos


def _row_starts(counts: np.ndarray) -> np.ndarray:
    """Index of the first repeated row of each group made by _repeat_ranges(counts)."""
    return (np.cumsum(counts) - counts).astype(np.int64)


def _month_bounds(end_month: str, months: int) -> np.ndarray:
    end = np.datetime64(end_month, "M") + 1
    return np.arange(end - months, end + 1, dtype="datetime64[M]").astype("datetime64[s]").astype(np.int64)


def _iso(ts: int) -> str:
    return str(np.datetime64(int(ts), "s")) + "Z"


def _run_tag(seed: int, contacts: int, months: int, end_month: str) -> str:
    """A short tag in every id, so that two different simulated runs never share a natural key."""
    return hashlib.sha256(f"{seed}|{contacts}|{months}|{end_month}".encode()).hexdigest()[:6]


# ----------------------------------------------------------------------------------------------
# Population
# ----------------------------------------------------------------------------------------------


@dataclass
class Contacts:
    """One row per (account, address). Times are int64 epoch seconds (INF_TS = never)."""

    account: np.ndarray
    provider: np.ndarray
    domain: np.ndarray  # index into Population.domains
    corporate: np.ndarray
    addr_num: np.ndarray
    client: np.ndarray
    open_ua: np.ndarray  # index into the UA table
    click_ua: np.ndarray
    mobile: np.ndarray
    mpp_user: np.ndarray
    images_off: np.ndarray
    plain_text: np.ndarray
    scanner: np.ndarray  # -1 or index into SCANNERS
    ers_receiver: np.ndarray  # the receiving side filters with the Trend Micro blocklist
    collected: np.ndarray
    member_from: np.ndarray  # (N, 2): joined list slot at, INF_TS if never
    member_until: np.ndarray  # (N, 2): unsubscribed at, INF_TS if still subscribed
    join_source: np.ndarray  # (N, 2) subscription source code of the join
    checked: np.ndarray  # a mailbox its owner reads at all
    checked_until: np.ndarray  # abandonment (address death) time
    deleted_at: np.ndarray  # from then on the address hard-bounces
    dead_kind: np.ndarray  # USER_UNKNOWN or BAD_DOMAIN
    reads_until: np.ndarray  # early silence
    read_prop: np.ndarray
    click_prop: np.ndarray
    plugin: np.ndarray  # Signal Spam plugin user
    home_ip: np.ndarray
    last_read: np.ndarray
    complained_at: np.ndarray
    suppressed_at: np.ndarray
    gift_cohort: np.ndarray
    buyer_mult: np.ndarray
    stale: np.ndarray

    def __len__(self) -> int:
        return len(self.account)


@dataclass
class Population:
    contacts: Contacts
    ip_table: np.ndarray  # uint32: every IP an event can come from; the first len(contacts) are home IPs
    ip_pools: dict  # name -> (offset, size) in ip_table: mobile carriers, proxies, scanners
    domains: list[str]
    account_slices: list[tuple[int, int]]
    signup_rows: dict  # precomputed subscription rows (imports and sign-ups)
    stale_import_at: int


def _ua_table() -> tuple[list[str], dict]:
    uas: list[str] = []
    index: dict[str, int] = {}

    def ua(s: str) -> int:
        if s not in index:
            index[s] = len(uas)
            uas.append(s)
        return index[s]

    ua(MPP_UA)
    ua(GOOGLE_PROXY_UA)
    ua(YAHOO_PROXY_UA)
    devices = {c: [(ua(o), ua(k), m) for o, k, m in CLIENT_DEVICES[c]] for c in CLIENTS}
    scanners = [ua(s[1]) for s in SCANNERS]
    return uas, {"devices": devices, "scanners": scanners, "mpp": index[MPP_UA],
                 "google": index[GOOGLE_PROXY_UA], "yahoo": index[YAHOO_PROXY_UA]}


def _build_population(rng: np.random.Generator, p: Params, contacts: int, bounds: np.ndarray,
                      ua_index: dict) -> Population:
    start, end = int(bounds[0]), int(bounds[-1])
    period_s = end - start
    oldest = end - int(13 * YEAR_DAYS * DAY)  # addresses collected over up to 13 years before the end
    stale_import_at = int(end - min(p.stale_import_days_before_end * DAY, 0.6 * period_s))
    stale_import_at = stale_import_at - stale_import_at % DAY + 8 * HOUR  # an import during office hours

    # --- domains: consumer providers, misc, typos, then a pool of company domains
    domains: list[str] = []
    prov_domains: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for prov, entries in PROVIDER_DOMAINS.items():
        ids = np.arange(len(domains), len(domains) + len(entries))
        domains += [d for d, _ in entries]
        prov_domains[prov] = (ids, np.array([w for _, w in entries]))
    typo_ids = np.arange(len(domains), len(domains) + len(TYPO_DOMAINS))
    domains += list(TYPO_DOMAINS)
    n_corp = int(max(60, contacts // 60))
    combos = rng.permutation(len(CORP_PREFIXES) * len(CORP_NAMES) * len(CORP_TLDS))
    combos = np.resize(combos, n_corp)
    corp_names = []
    for i, cidx in enumerate(combos):
        pre, rest = divmod(int(cidx), len(CORP_NAMES) * len(CORP_TLDS))
        name, tld = divmod(rest, len(CORP_TLDS))
        suffix = "" if i < len(CORP_PREFIXES) * len(CORP_NAMES) * len(CORP_TLDS) else str(i)
        corp_names.append(f"{CORP_PREFIXES[pre]}-{CORP_NAMES[name]}{suffix}.{CORP_TLDS[tld]}")
    corp_first = len(domains)
    domains += corp_names
    corp_weight = 1.0 / np.arange(1, n_corp + 1) ** 0.8  # a few big companies, many small ones
    corp_hosting = _choice(rng, [w for _, w in CORP_HOSTING], n_corp)
    corp_egress = _ips_in_blocks(rng, CORPORATE_BLOCKS, n_corp)
    corp_ers = rng.random(n_corp) < 0.30
    corp_dead_at = np.where(rng.random(n_corp) < 0.03, start + (rng.random(n_corp) * period_s).astype(np.int64),
                            INF_TS)

    # --- who: per account, the initial base, the stale import and the sign-ups of the period
    chunks = []
    for a, spec in enumerate(ACCOUNTS):
        n_acct = round(contacts * spec.contact_share)
        n_lists = len(spec.lists)
        shares = np.array([ls.member_share for ls in spec.lists])
        if spec.exclusive_lists:
            base_slot = _choice(rng, shares, n_acct)
            on = np.zeros((n_acct, 2), dtype=bool)
            on[np.arange(n_acct), base_slot] = True
        else:
            on = np.zeros((n_acct, 2), dtype=bool)
            on[:, 0] = True
            if n_lists > 1:
                on[:, 1] = rng.random(n_acct) < shares[1]
        stale = np.zeros(n_acct, dtype=bool)
        if a == STALE_ACCOUNT:
            stale = on[:, STALE_SLOT]
        # collection age of the base at the start: recent sign-ups plus a long tail of old addresses
        max_age = max(13 * YEAR_DAYS * DAY - period_s, YEAR_DAYS * DAY)
        recent = rng.random(n_acct) < p.base_recent_share
        age = np.where(recent, rng.random(n_acct) * 2 * YEAR_DAYS * DAY, rng.random(n_acct) * max_age)
        collected = (start - age).astype(np.int64)
        join = start + (rng.random(n_acct) * 36 * HOUR).astype(np.int64)  # onboarding import at the ESP
        if stale.any():
            ns = int(stale.sum())
            join[stale] = stale_import_at + (rng.random(ns) * HOUR).astype(np.int64)
            collected[stale] = np.maximum(
                oldest, join[stale] - (rng.uniform(*STALE_AGE_YEARS, ns) * YEAR_DAYS * DAY).astype(np.int64))
        source = np.full(n_acct, S_IMPORT)
        chunks.append({"account": a, "n": n_acct, "on": on, "join": join, "collected": collected, "source": source,
                           "stale": stale, "base": True, "gift": (a == GIFT_ACCOUNT) & on[:, GIFT_SLOT_B]})

        # sign-ups during the period (forms; B2B also trade-show imports with an older collection)
        n_sign = int(rng.poisson(p.signup_rate_per_month * n_acct * (period_s / MONTH_S)))
        if a == STALE_ACCOUNT:
            n_sign = int(rng.poisson(p.signup_rate_per_month * n_acct * 0.2 * (period_s / MONTH_S)))
        slot_w = np.array([ls.signup_share for ls in spec.lists])
        sslot = _choice(rng, slot_w, n_sign)
        son = np.zeros((n_sign, 2), dtype=bool)
        son[np.arange(n_sign), sslot] = True
        sjoin = start + (rng.random(n_sign) * period_s).astype(np.int64)
        ssource = np.full(n_sign, S_FORM)
        scollected = sjoin.copy()
        if spec.segment == "b2b":
            imp = rng.random(n_sign) < 0.3
            ssource[imp] = S_IMPORT
            scollected[imp] = sjoin[imp] - (rng.random(int(imp.sum())) * 60 * DAY).astype(np.int64) - DAY
        chunks.append({"account": a, "n": n_sign, "on": son, "join": sjoin, "collected": scollected, "source": ssource,
                           "stale": np.zeros(n_sign, dtype=bool), "base": False, "gift": np.zeros(n_sign, dtype=bool)})

    cat = lambda key: np.concatenate([c[key] for c in chunks])
    account = np.concatenate([np.full(c["n"], c["account"], dtype=np.int16) for c in chunks])
    is_base = np.concatenate([np.full(c["n"], c["base"]) for c in chunks])
    on = np.concatenate([c["on"] for c in chunks])
    join = cat("join")
    collected = cat("collected")
    source = cat("source")
    stale = cat("stale")
    gift_cohort = cat("gift")
    n = len(account)
    acct_b2b = np.array([s.segment == "b2b" for s in ACCOUNTS])[account]

    # --- provider and domain
    provider = np.empty(n, dtype=np.int8)
    for seg_mask, mix in ((~acct_b2b, PROVIDER_MIX_B2C), (acct_b2b, PROVIDER_MIX_B2B)):
        idx = np.nonzero(seg_mask)[0]
        provider[idx] = np.array([P[k] for k in mix])[_choice(rng, list(mix.values()), len(idx))]
    domain = np.empty(n, dtype=np.int32)
    corporate = np.zeros(n, dtype=bool)
    for prov, (ids, w) in prov_domains.items():
        idx = np.nonzero(provider == P[prov])[0]
        domain[idx] = ids[_choice(rng, w, len(idx))]
        if prov == "other":
            corp = idx[acct_b2b[idx] | (rng.random(len(idx)) < CORPORATE_SHARE_OF_B2C_OTHER)]
            corporate[corp] = True
            domain[corp] = corp_first + _choice(rng, corp_weight, len(corp))
    # invalid sign-ups: half a typo in the domain (5.1.2), half in the mailbox name (5.1.1)
    invalid = (~is_base) & (rng.random(n) < p.invalid_signup_share)
    typo_domain = invalid & (rng.random(n) < 0.5) & ~corporate
    domain[typo_domain] = typo_ids[rng.integers(0, len(typo_ids), int(typo_domain.sum()))]
    provider[typo_domain] = P["other"]
    corp_idx = np.where(corporate, domain - corp_first, 0)

    # --- reading environment
    group = np.empty(n, dtype=object)
    for prov in PROVIDERS:
        group[provider == P[prov]] = prov if prov in ("gmail", "microsoft", "yahoo", "apple") else (
            "isp" if P[prov] in FRENCH_ISPS or prov == "gmx" else "other")
    group[corporate] = np.array([h for h, _ in CORP_HOSTING], dtype=object)[corp_hosting[corp_idx[corporate]]]
    client = np.empty(n, dtype=np.int8)
    for g, mix in CLIENT_MIX.items():
        idx = np.nonzero(group == g)[0]
        client[idx] = _choice(rng, mix, len(idx))
    open_ua = np.empty(n, dtype=np.int16)
    click_ua = np.empty(n, dtype=np.int16)
    mobile = np.empty(n, dtype=bool)
    for ci, cname in enumerate(CLIENTS):
        idx = np.nonzero(client == ci)[0]
        devs = ua_index["devices"][cname]
        pick = rng.integers(0, len(devs), len(idx))
        open_ua[idx] = np.array([d[0] for d in devs])[pick]
        click_ua[idx] = np.array([d[1] for d in devs])[pick]
        mobile[idx] = np.array([d[2] for d in devs])[pick]
    mpp_user = (client == CL["apple_mail"]) & (rng.random(n) < p.mpp_share_of_apple_mail)
    images_off = rng.random(n) < IMAGES_OFF_BY_CLIENT[client]
    plain_share = np.where(corporate, p.plain_text_share_corporate, p.plain_text_share_b2c)
    plain_text = (~mpp_user) & (rng.random(n) < plain_share)
    images_off &= ~plain_text & ~mpp_user
    scan_share = np.where(corporate, np.where(acct_b2b, p.scanner_share_b2b, p.scanner_share_corporate_b2c),
                          p.scanner_share_consumer)
    scanner = np.where(rng.random(n) < scan_share, _choice(rng, SCANNER_WEIGHTS, n), -1).astype(np.int8)
    ers_receiver = np.where(corporate, corp_ers[corp_idx],
                            np.isin(provider, [P["sfr"], P["laposte"], P["bouygues"], P["other"]])
                            & (rng.random(n) < 0.6))

    # --- home IP: the subscriber's ISP (from the address when it is an ISP's), or the company's
    home_ip = np.empty(n, dtype=np.uint32)
    isp_of = np.array([ISP_MARKET[i][0] for i in _choice(rng, [w for _, w in ISP_MARKET], n)], dtype=object)
    for prov in ("orange", "free", "sfr", "bouygues"):
        isp_of[provider == P[prov]] = prov
    for isp, blocks in ISP_BLOCKS.items():
        idx = np.nonzero(isp_of == isp)[0]
        home_ip[idx] = _ips_in_blocks(rng, blocks, len(idx))
    home_ip[corporate] = corp_egress[corp_idx[corporate]]

    # --- life cycle: checked mailbox, abandonment, deletion; conditioned for maintained lists
    active_share = np.array([s.active_share for s in ACCOUNTS])[account]
    hazard = np.where(corporate | acct_b2b, p.abandon_hazard_b2b_per_month, p.abandon_hazard_b2c_per_month)
    del_prob = np.where(corporate, CORPORATE_DELETE_PROB, DELETE_PROB[provider])
    del_lag = np.where(corporate, CORPORATE_DELETE_LAG_MONTHS, DELETE_LAG_MONTHS[provider]) * MONTH_S
    checked = np.zeros(n, dtype=bool)
    checked_until = np.zeros(n, dtype=np.int64)
    deleted_at = np.zeros(n, dtype=np.int64)
    todo = np.arange(n)
    for _ in range(60):  # rejection sampling: maintained lists hold no address deleted before the start
        m = len(todo)
        if m == 0:
            break
        ch = rng.random(m) < active_share[todo]
        life = rng.exponential(MONTH_S / hazard[todo])
        cu = np.where(ch, collected[todo] + life, collected[todo]).astype(np.int64)
        dl = np.where(rng.random(m) < del_prob[todo], cu + del_lag[todo] * rng.uniform(0.6, 1.4, m), INF_TS)
        checked[todo], checked_until[todo], deleted_at[todo] = ch, cu, dl.astype(np.int64)
        lim = np.where(stale[todo], join[todo], start)
        bad = is_base[todo] & (deleted_at[todo] <= lim)
        bad &= ~(stale[todo] & (rng.random(m) >= p.stale_cleaned_share))  # the cleaning missed some
        todo = todo[bad]
    deleted_at[todo] = INF_TS
    dead_kind = np.full(n, USER_UNKNOWN, dtype=np.int8)
    corp_death = np.where(corporate, corp_dead_at[corp_idx], INF_TS)
    dead_kind[corp_death < deleted_at] = BAD_DOMAIN
    deleted_at = np.minimum(deleted_at, corp_death)
    deleted_at[invalid] = collected[invalid]
    dead_kind[typo_domain] = BAD_DOMAIN
    checked[invalid] = False
    checked_until[invalid] = collected[invalid]
    # interest lapses while the mailbox lives on (still fetched by MPP, still able to complain)
    lapse = collected + rng.exponential(MONTH_S / p.interest_lapse_per_month, n)
    reads_until = np.minimum(checked_until, lapse).astype(np.int64)
    silent = (~is_base) & checked & (rng.random(n) < p.early_silence_share)
    reads_until[silent] = np.minimum(reads_until[silent],
                                     join[silent] + rng.exponential(p.early_silence_days * DAY, int(silent.sum())))

    # --- propensities, independent of the rendering so that clicks are independent of images
    read_prop = np.where(checked, rng.beta(*p.read_beta, n), 0.0).astype(np.float32)
    read_prop *= np.array([s.read_mult for s in ACCOUNTS], dtype=np.float32)[account]
    click_prop = rng.beta(*p.click_beta, n).astype(np.float32)
    plugin = IS_FRENCH_ISP[provider] & (rng.random(n) < p.signal_spam_plugin_share)

    # recent reading history of the base (for inactivity): roughly every month or two for readers
    tenure_m = (start - collected) / MONTH_S
    m_t = p.tenure_plateau + (1 - p.tenure_plateau) * np.exp(-(np.maximum(tenure_m, 0) / p.tenure_scale_months) ** 2)
    gap = 30 * DAY / (4.0 * np.maximum(read_prop * m_t, 0.01))
    last_read = np.where(checked, np.minimum(start, reads_until) - rng.exponential(gap), NEVER_READ).astype(np.int64)
    last_read = np.where(last_read < collected, NEVER_READ, last_read)
    last_read[stale] = NEVER_READ  # not mailed for years: nobody remembers the brand
    last_read[~is_base] = NEVER_READ

    member_from = np.where(on, join[:, None], INF_TS).astype(np.int64)
    member_until = np.full((n, 2), INF_TS, dtype=np.int64)
    join_source = np.where(on, source[:, None], -1).astype(np.int8)
    buyer_mult = np.where(gift_cohort, p.gift_buyer_mult, 1.0).astype(np.float32)
    addr_num = (100000 + rng.permutation(max(10 * n, 900000))[:n]).astype(np.int64)

    # a finite fleet of addresses per proxy or network, like the real ones
    pools = [("mobile", MOBILE_BLOCKS, None, 4096), ("google", GOOGLE_PROXY_BLOCKS, None, 512),
             ("yahoo", YAHOO_PROXY_BLOCKS, None, 256),
             ("apple", [b for b, _ in APPLE_MPP_BLOCKS], [w for _, w in APPLE_MPP_BLOCKS], 4096)]
    pools += [(f"scanner:{name}", blocks, None, 256) for name, _, blocks, _ in SCANNERS]
    ip_parts, ip_pools, offset = [home_ip], {}, n
    for name, blocks, weights, size in pools:
        ip_parts.append(_ips_in_blocks(rng, blocks, size, weights=weights))
        ip_pools[name] = (offset, size)
        offset += size
    ip_table = np.concatenate(ip_parts)

    c = Contacts(account=account, provider=provider, domain=domain, corporate=corporate, addr_num=addr_num,
                 client=client, open_ua=open_ua, click_ua=click_ua, mobile=mobile, mpp_user=mpp_user,
                 images_off=images_off, plain_text=plain_text, scanner=scanner, ers_receiver=ers_receiver,
                 collected=collected, member_from=member_from, member_until=member_until,
                 join_source=join_source, checked=checked, checked_until=checked_until, deleted_at=deleted_at,
                 dead_kind=dead_kind, reads_until=reads_until, read_prop=read_prop, click_prop=click_prop,
                 plugin=plugin, home_ip=home_ip, last_read=last_read,
                 complained_at=np.full(n, INF_TS, dtype=np.int64),
                 suppressed_at=np.full(n, INF_TS, dtype=np.int64), gift_cohort=gift_cohort,
                 buyer_mult=buyer_mult, stale=stale)
    slices, lo = [], 0
    for a in range(len(ACCOUNTS)):
        hi = lo + int((account == a).sum())
        slices.append((lo, hi))
        lo = hi

    # subscription rows of every join known in advance (imports, forms); collected_at only on
    # imports, where the list owner knows an earlier collection date
    ci, si = np.nonzero(on)
    sub = {"ts": join[ci], "account": account[ci].astype(np.int64), "slot": si.astype(np.int64), "contact": ci,
               "action": np.zeros(len(ci), dtype=np.int64), "source": source[ci].astype(np.int64),
               "campaign": np.full(len(ci), -1), "collected": np.where(source[ci] == S_IMPORT, collected[ci], -1)}
    return Population(contacts=c, ip_table=ip_table, ip_pools=ip_pools, domains=domains, account_slices=slices, signup_rows=sub,
                      stale_import_at=stale_import_at)


# ----------------------------------------------------------------------------------------------
# Campaigns
# ----------------------------------------------------------------------------------------------


@dataclass
class Campaigns:
    account: np.ndarray
    slot: np.ndarray
    kind: np.ndarray
    start: np.ndarray
    read_appeal: np.ndarray
    click_appeal: np.ndarray
    n_content: np.ndarray  # content links; the unsubscribe link comes after them
    url0: np.ndarray  # index of the first URL in the URL table
    ids: list[str]
    names: list[str]
    subjects: list[str]
    urls: list[str]

    def __len__(self) -> int:
        return len(self.account)


def _local_to_utc(local: np.ndarray) -> np.ndarray:
    return local - _paris_offset(local - HOUR)


def _schedule_campaigns(rng: np.random.Generator, p: Params, bounds: np.ndarray, stale_import_at: int,
                        tag: str) -> Campaigns:
    rows = []  # (start, account, slot, kind)
    months = len(bounds) - 1
    for mi in range(months):
        m0, m1 = int(bounds[mi]), int(bounds[mi + 1])
        days = (m1 - m0) // DAY
        for a, spec in enumerate(ACCOUNTS):
            for s, ls in enumerate(spec.lists):
                if a == STALE_ACCOUNT and s == STALE_SLOT:
                    continue
                n = int(ls.campaigns_per_month) + int(rng.random() < ls.campaigns_per_month % 1)
                day = ((np.arange(n) + rng.uniform(0.15, 0.85, n)) * days / max(n, 1)).astype(np.int64)
                hour = np.array(spec.hours)[rng.integers(0, len(spec.hours), n)]
                local = m0 + day * DAY + hour * HOUR + rng.integers(0, 4, n) * 15 * MINUTE
                for t in _local_to_utc(local):
                    rows.append((int(t), a, s, K_REGULAR))
                # welcome autoresponder: one campaign a month, each new subscriber gets it at sign-up
                if ls.signup_share > 0:
                    rows.append((m0, a, s, K_AUTO))
            if a == GIFT_ACCOUNT:  # one gift campaign a month on list A
                local = m0 + int(rng.integers(8, 20)) * DAY + 10 * HOUR
                rows.append((int(_local_to_utc(np.array([local]))[0]), a, GIFT_SLOT_A, K_GIFT))
            if spec.month_end_late_send:  # last-minute offers late on the last day: their deferrals
                local = m1 - DAY + 22 * HOUR + 30 * MINUTE  # settle in the next month's drop
                rows.append((int(_local_to_utc(np.array([local]))[0]), a, 0, K_REGULAR))
            if mi % 3 == 1 and spec.reengage_slot >= 0:
                local = m0 + int(rng.integers(3, 25)) * DAY + 11 * HOUR
                rows.append((int(_local_to_utc(np.array([local]))[0]), a, spec.reengage_slot, K_REENGAGE))
    # the stale client mails its freshly imported archive every couple of weeks
    t = stale_import_at + 2 * DAY
    while t < bounds[-1]:
        rows.append((int(t), STALE_ACCOUNT, STALE_SLOT, K_REGULAR))
        t += int(p.stale_campaign_every_days * DAY)
    rows.sort()
    arr = np.array(rows, dtype=np.int64).reshape(-1, 4)
    n = len(arr)
    kind = arr[:, 3]
    read_appeal = np.exp(0.15 * rng.standard_normal(n))
    read_appeal[kind == K_REENGAGE] *= 1.5  # "Vous nous manquez": curiosity
    click_appeal = np.exp(0.3 * rng.standard_normal(n))
    click_appeal[kind == K_GIFT] *= p.gift_click_appeal
    n_content = rng.integers(1, 4, n)
    ids, names, subjects, urls, url0 = [], [], [], [], []
    for i in range(n):
        spec = ACCOUNTS[arr[i, 1]]
        ls = spec.lists[arr[i, 2]]
        k = int(kind[i])
        day = str(np.datetime64(int(arr[i, 0]), "s").astype("datetime64[D]"))
        if k == K_GIFT:
            pool = SUBJECTS["cadeaux_gift"]
        elif k == K_REENGAGE:
            pool = SUBJECTS["reengagement"]
        elif k == K_AUTO:
            pool = SUBJECTS["welcome"]
        else:
            pool = SUBJECTS[spec.short]
        subjects.append(pool[int(rng.integers(0, len(pool)))])
        names.append(f"{spec.short} {ls.list_id} {CAMPAIGN_KINDS[k]} {day}")
        cid = f"cmp-{tag}-{i + 1:05d}"
        ids.append(cid)
        paths = list(spec.paths)
        first = "cadeau" if k == K_GIFT else ("preferences" if k == K_REENGAGE else None)
        chosen = [paths[j] for j in rng.permutation(len(paths))[: n_content[i]]]
        if first:
            chosen[0] = first
        url0.append(len(urls))
        for path in chosen:
            urls.append(f"https://www.{spec.site}/{path}?utm_source=email&utm_campaign={cid}")
        urls.append(f"https://{spec.sending_domain}/unsubscribe?c={cid}")
    return Campaigns(account=arr[:, 1].astype(np.int16), slot=arr[:, 2].astype(np.int8), kind=kind.astype(np.int8),
                     start=arr[:, 0], read_appeal=read_appeal, click_appeal=click_appeal,
                     n_content=n_content.astype(np.int64), url0=np.array(url0, dtype=np.int64), ids=ids, names=names,
                     subjects=subjects, urls=urls)


# ----------------------------------------------------------------------------------------------
# Output buffers: rows wait for the drop of their month
# ----------------------------------------------------------------------------------------------


class MonthBuckets:
    """Column chunks per kind and per target month; a chunk is a dict of equal-length arrays."""

    def __init__(self, bounds: np.ndarray):
        self.bounds = bounds
        self.months = len(bounds) - 1
        self.chunks: dict[str, list[list[dict]]] = {k: [[] for _ in range(self.months)] for k in KINDS}

    def add(self, kind: str, ts: np.ndarray, cols: dict) -> None:
        """File rows by the month of ts; rows at or after the end of the period are dropped."""
        if len(ts) == 0:
            return
        cols = dict(cols, ts=np.asarray(ts, dtype=np.int64))
        month = np.searchsorted(self.bounds, ts, side="right") - 1
        ok = (month >= 0) & (month < self.months)
        if not ok.all():
            month = month[ok]
            cols = {k: v[ok] for k, v in cols.items()}
        if len(month) == 0:
            return
        order = np.argsort(month, kind="stable")
        month = month[order]
        cols = {k: v[order] for k, v in cols.items()}
        cuts = np.searchsorted(month, np.arange(self.months + 1))
        for mi in range(self.months):
            lo, hi = cuts[mi], cuts[mi + 1]
            if hi > lo:
                self.chunks[kind][mi].append({k: v[lo:hi] for k, v in cols.items()})

    def take(self, kind: str, mi: int) -> dict | None:
        parts = self.chunks[kind][mi]
        self.chunks[kind][mi] = []
        if not parts:
            return None
        return {k: np.concatenate([c[k] for c in parts]) for k in parts[0]}


# ----------------------------------------------------------------------------------------------
# One month
# ----------------------------------------------------------------------------------------------


@dataclass
class RunState:
    """Counters and records that span months (ids, truth accumulators)."""

    next_message: int = 0
    next_open: int = 0
    next_click: int = 0
    next_order: int = 0
    machine_kind: list = field(default_factory=list)  # 0 open, 1 click
    machine_num: list = field(default_factory=list)
    machine_type: list = field(default_factory=list)
    truth_parts: list = field(default_factory=list)
    orders_contact: list = field(default_factory=list)
    orders_ts: list = field(default_factory=list)
    gift_rereg: list = field(default_factory=list)  # (campaign, contact, ts)
    gift_clickers: list = field(default_factory=list)  # (campaign, contact, first click ts, reregistered)
    stale_sends: list = field(default_factory=list)
    listing: dict = field(default_factory=dict)
    counts: dict = field(default_factory=dict)


@dataclass
class MonthView:
    """What a world's mechanism sees of one month's candidate sends (hook points of dlvstats.worlds).
    Arrays are per candidate send; events refer to sends by their position in these arrays."""

    mi: int
    rng: np.random.Generator
    p: Params
    pop: Population
    camps: Campaigns
    ua_index: dict
    c: np.ndarray
    prov: np.ndarray
    k: np.ndarray
    keep: np.ndarray
    alive: np.ndarray
    delivered_at: np.ndarray
    read: np.ndarray
    read_at: np.ndarray
    end: int


def _mpp_fetch_times(rng, p: Params, delivered_at: np.ndarray) -> np.ndarray:
    """Apple's proxy: 30% within 15 min of delivery, 70% in the next night window 20:00-07:00 local."""
    n = len(delivered_at)
    soon = delivered_at + (rng.random(n) * 15 * MINUTE).astype(np.int64)
    off = _paris_offset(delivered_at)
    local = delivered_at + off
    day0 = (local // DAY) * DAY
    tod = local - day0
    lo = np.where(tod < 5 * HOUR, local, np.where(tod < 20 * HOUR, day0 + 20 * HOUR, local))
    hi = np.where(tod < 5 * HOUR, day0 + 7 * HOUR, day0 + 31 * HOUR)
    night = lo + (rng.random(n) * (hi - lo)).astype(np.int64) - off
    return np.where(rng.random(n) < p.mpp_soon_share, soon, np.maximum(night, delivered_at + 1))


def _simulate_month(mi: int, rng: np.random.Generator, p: Params, pop: Population, camps: Campaigns,
                    bounds: np.ndarray, out: MonthBuckets, st: RunState, ua_index: dict, world=None) -> None:
    C = pop.contacts
    m0, m1, end = int(bounds[mi]), int(bounds[mi + 1]), int(bounds[-1])
    lag = (np.array([a.honour_lag_hours for a in ACCOUNTS]) * HOUR).astype(np.int64)
    n_ips = np.array([len(a.sending_ips) for a in ACCOUNTS])
    ip_codes = [np.array([ALL_SENDING_IPS.index(ip) for ip in a.sending_ips]) for a in ACCOUNTS]
    listed_at, delisted_at = st.listing.get("listed_at", INF_TS), st.listing.get("delisted_at", INF_TS)

    # ---- candidate sends of every campaign of the month
    in_month = np.nonzero((camps.start >= m0) & (camps.start < m1))[0]
    parts_c, parts_k, parts_t = [], [], []
    for k in in_month:
        a, s, kind, t0 = int(camps.account[k]), int(camps.slot[k]), int(camps.kind[k]), int(camps.start[k])
        lo, hi = pop.account_slices[a]
        if kind == K_AUTO:
            j = C.member_from[lo:hi, s]
            idx = lo + np.nonzero((j >= m0) & (j < m1) & (C.join_source[lo:hi, s] == S_FORM))[0]
            sent = C.member_from[idx, s] + rng.integers(60, 900, len(idx))
        else:
            ok = (C.member_from[lo:hi, s] <= t0) & (t0 < C.member_until[lo:hi, s] + lag[a])
            ok &= t0 < C.suppressed_at[lo:hi] + lag[a]
            if kind == K_REENGAGE:
                # inactive: nothing read for 6 months (a newcomer who has read nothing yet is not)
                ok &= np.maximum(C.last_read[lo:hi], C.collected[lo:hi]) < t0 - 180 * DAY
            idx = lo + np.nonzero(ok)[0]
            rate = p.send_rate_per_ip * n_ips[a]
            sent = t0 + (rng.permutation(len(idx)) / rate).astype(np.int64)
        parts_c.append(idx.astype(np.int64))
        parts_k.append(np.full(len(idx), k, dtype=np.int64))
        parts_t.append(sent.astype(np.int64))
    if not parts_c:
        return
    c = np.concatenate(parts_c)
    k = np.concatenate(parts_k)
    sent = np.concatenate(parts_t)
    order = np.argsort(sent, kind="stable")
    c, k, sent = c[order], k[order], sent[order]
    S = len(c)
    acc = camps.account[k].astype(np.int64)
    slot = camps.slot[k].astype(np.int64)
    kind = camps.kind[k]
    prov = C.provider[c].astype(np.int64)
    u = lambda: rng.random(S)

    ip = np.empty(S, dtype=np.int64)
    for a in range(len(ACCOUNTS)):
        sel = acc == a
        ip[sel] = ip_codes[a][(rng.random(int(sel.sum())) * n_ips[a]).astype(np.int64)]
    on_shared = ip == SHARED_IP_CODE

    # ---- delivery: bounces, deferrals, delays
    bounce = np.full(S, -1, dtype=np.int64)
    free = np.ones(S, dtype=bool)

    def assign(mask, code):
        nonlocal free
        m = free & mask
        bounce[m] = code
        free &= ~m

    dead = sent >= C.deleted_at[c]
    assign(dead & (C.dead_kind[c] == BAD_DOMAIN), BAD_DOMAIN)
    assign(dead, USER_UNKNOWN)
    listed = on_shared & (sent >= listed_at) & (sent < delisted_at)
    assign(listed & C.ers_receiver[c] & (u() < p.blocklist_block_prob), BLOCKLISTED)
    trouble = on_shared & (sent >= listed_at) & (sent < listed_at + p.reputation_window_days * DAY)
    big = IS_BIG_PROVIDER[prov]
    assign(trouble & big & (u() < p.reputation_block_prob), REPUTATION)
    assign(u() < np.where(C.corporate[c], p.content_block_corporate, p.content_block_other), CONTENT)
    abandoned_isp = IS_FRENCH_ISP[prov] & (sent > C.checked_until[c] + 180 * DAY) & C.checked[c]
    assign((abandoned_isp & (u() < p.mailbox_full_prob_abandoned)) | (u() < p.mailbox_full_prob), MAILBOX_FULL)
    defer_p = DEFER_PROB[prov]
    defer_p = np.where(trouble & big, defer_p * 4, defer_p)
    deferred = free & (u() < defer_p)
    expired = deferred & (u() < p.defer_expire_share)
    assign(expired, EXPIRED)
    delay = _lognormal(rng, 2.0, 0.9, S)  # seconds from hand-off to acceptance
    throttled = np.nonzero(IS_THROTTLING[prov] & (u() < 0.15))[0]
    delay[throttled] += _lognormal(rng, 300.0, 1.0, len(throttled))
    di = np.nonzero(deferred)[0]
    delay[di] += np.minimum(_lognormal(rng, 3000.0, 1.2, len(di)), 70 * HOUR)  # retried after 4xx
    delivered = bounce < 0
    outcome_at = sent + np.where(delivered, delay, rng.uniform(1, 40, S)).astype(np.int64) + 1
    outcome_at = np.where(bounce == EXPIRED, sent + 72 * HOUR, outcome_at)
    delivered_at = np.where(delivered, outcome_at, -1)
    dlv = delivered & (delivered_at < end)  # delivered as far as the data can tell
    alive = dlv & (delivered_at < C.checked_until[c])  # someone still looks at this mailbox

    # ---- Apple MPP: every delivered message of an active MPP user is fetched, read or not
    mpp_msg = alive & C.mpp_user[c]
    mi_idx = np.nonzero(mpp_msg)[0]
    mpp_t = _mpp_fetch_times(rng, p, delivered_at[mi_idx])
    re = rng.random(len(mi_idx)) < p.mpp_refetch_share
    mpp_t2 = mpp_t[re] + rng.integers(HOUR, 20 * HOUR, int(re.sum()))

    # ---- link scanners: every link, unsubscribe included, 1-120 s after delivery
    scanned = dlv & (C.scanner[c] >= 0) & (u() < p.scan_prob_per_message)
    sc_idx = np.nonzero(scanned)[0]
    scan_at = delivered_at[sc_idx] + rng.integers(1, 110, len(sc_idx))
    rescan = rng.random(len(sc_idx)) < p.rescan_share

    # ---- latent complaints (need an owner who looks at the mailbox; not necessarily a read)
    age_y = (sent - C.collected[c]) / (YEAR_DAYS * DAY)
    inactive_days = (sent - np.maximum(C.last_read[c], C.collected[c])) / DAY  # since the last read, or since collection
    on_list_days = (sent - C.member_from[c, slot]) / DAY
    pc = (p.complaint_base * (1 + p.complaint_age_slope * age_y)
          * np.where(inactive_days >= 365, p.complaint_inactive_mult, 1.0)
          * np.array([a.complaint_mult for a in ACCOUNTS])[acc]
          * np.where(C.stale[c], p.stale_complaint_mult, 1.0)
          * np.where(on_list_days < 30, p.complaint_new_mult, 1.0))
    comp = alive & (delivered_at < C.complained_at[c]) & (u() < pc)
    ci = np.nonzero(comp)[0]
    comp_at = np.full(S, INF_TS, dtype=np.int64)
    comp_at[ci] = delivered_at[ci] + _lognormal(rng, 5 * HOUR, 1.2, len(ci)).astype(np.int64)
    comp &= comp_at < end
    first_comp = np.full(len(C), INF_TS, dtype=np.int64)
    np.minimum.at(first_comp, c[comp], comp_at[comp])
    comp &= comp_at == first_comp[c]
    spam_folder_from = np.minimum(C.complained_at[c], first_comp[c])

    # ---- human reads (true), then what the pixel and the links show of them
    tenure_m = np.maximum(sent - C.collected[c], 0) / MONTH_S
    m_t = p.tenure_plateau + (1 - p.tenure_plateau) * np.exp(-(tenure_m / p.tenure_scale_months) ** 2)
    g_d = np.where(inactive_days <= p.inactivity_grace_days, 1.0,
                   p.inactivity_floor + (1 - p.inactivity_floor)
                   * np.exp(-(inactive_days - p.inactivity_grace_days) / p.inactivity_scale_days))
    p_read = (C.read_prop[c] * m_t * g_d * camps.read_appeal[k]
              * np.where(on_list_days < 30, p.honeymoon_mult, 1.0)
              * np.where(C.gift_cohort[c] & (slot == GIFT_SLOT_B) & (acc == GIFT_ACCOUNT), p.gift_read_mult, 1.0))
    # a win-back can wake up someone who had stopped reading, as long as the mailbox is alive
    winback = (kind == K_REENGAGE) & C.checked[c]
    p_read = np.where(winback, np.maximum(p_read, p.winback_read_prob * camps.read_appeal[k] / 1.5), p_read)
    can_read = alive & ((delivered_at < C.reads_until[c]) | winback) & (delivered_at < spam_folder_from)
    read = can_read & (u() < np.minimum(p_read, 0.97))
    ri = np.nonzero(read)[0]
    nr = len(ri)
    read_delay = np.where(rng.random(nr) < p.immediate_read_share,  # a notification, read at once
                          20 + rng.exponential(90.0, nr), _lognormal(rng, 3 * HOUR, 1.5, nr))
    read_at = np.full(S, INF_TS, dtype=np.int64)
    read_at[ri] = delivered_at[ri] + read_delay.astype(np.int64)
    read &= (read_at < end) & (read_at < C.checked_until[c])

    pixel = read & ~mpp_msg & ~C.plain_text[c] & (~C.images_off[c] | (u() < p.images_off_pixel_load_prob))
    open_at = read_at + rng.integers(0, 5, S)
    pixel &= open_at < end
    clicked = read & (u() < C.click_prop[c] * camps.click_appeal[k])
    first_click_at = read_at + 8 + rng.exponential(40.0, S).astype(np.int64)
    clicked &= first_click_at < end
    unsub = read & (u() < np.array([a.unsub_per_read for a in ACCOUNTS])[acc]
                    * np.where(on_list_days < 30, np.where(C.gift_cohort[c], p.gift_early_unsub_mult,
                                                           p.early_unsub_mult), 1.0)
                    * np.where(inactive_days > 180, p.inactive_unsub_mult, 1.0)
                    * np.where(C.stale[c], 3.0, 1.0))
    via_link = u() < p.unsubscribe_link_share
    unsub_click_at = read_at + 10 + rng.exponential(60.0, S).astype(np.int64)
    unsub_at = np.where(via_link, unsub_click_at + rng.integers(1, 15, S), read_at + rng.integers(30, 600, S))
    unsub &= unsub_at < end
    rereg = clicked & (kind == K_GIFT) & (u() < p.gift_rereg_prob)
    rereg_at = first_click_at + rng.integers(60, 600, S)
    rereg &= rereg_at + 1 < end

    # ---- complaint reports the sender receives (per-message feedback only from some providers)
    channel = np.full(S, -1, dtype=np.int64)
    channel[prov == P["yahoo"]] = 0
    channel[prov == P["microsoft"]] = 1
    channel[IS_FRENCH_ISP[prov] & C.plugin[c]] = 2
    abuse = (prov == P["other"]) & (u() < np.where(C.corporate[c], p.abuse_desk_share_corporate,
                                                     p.abuse_desk_share_other))
    channel[abuse] = 3
    # report delays: Yahoo minutes, Microsoft hours, Signal Spam at once, abuse desks days
    delay_lo = np.array([60, 600, 10, HOUR])[np.maximum(channel, 0)]
    delay_hi = np.array([HOUR, 6 * HOUR, 600, 3 * DAY])[np.maximum(channel, 0)]
    report_at = comp_at + (delay_lo + rng.random(S) * (delay_hi - delay_lo)).astype(np.int64)
    comp_obs = comp & (channel >= 0) & (report_at < end)
    # only dead addresses are unsubscribed after a bounce; blocks and full mailboxes are not
    hard_supp = ((bounce == USER_UNKNOWN) | (bounce == BAD_DOMAIN)) & (outcome_at < end)
    supp_at = np.where(hard_supp, outcome_at + rng.integers(1, 60, S), report_at + rng.integers(60, 900, S))

    # ---- subscription changes and the sends they cancel (fixed point: a cancelled send causes none)
    pre_keep = (sent < C.member_until[c, slot] + lag[acc]) & (sent < C.suppressed_at[c] + lag[acc])
    keep = pre_keep.copy()
    for _ in range(6):
        terms = _terminations(C, keep, c, slot, acc, k, unsub, unsub_at, via_link, rereg, rereg_at,
                              hard_supp | comp_obs, supp_at, hard_supp)
        limit = np.minimum(terms["until"][c, slot], terms["supp"][c])
        new_keep = pre_keep & (sent < limit + lag[acc])
        if np.array_equal(new_keep, keep):
            break
        keep = new_keep
    rows = terms["rows"]
    src_ok = keep[rows["send"]]  # safety: never emit a change caused by a cancelled send
    rows = {key: v[src_ok] for key, v in rows.items()}

    # commit subscription state
    C.member_until[rows["contact"], rows["slot"]] = np.minimum(C.member_until[rows["contact"], rows["slot"]],
                                                               rows["ts"])
    sup_c, sup_t = terms["supp_contacts"], terms["supp_ts"]
    sup_ok = keep[terms["supp_send"]]
    C.suppressed_at[sup_c[sup_ok]] = np.minimum(C.suppressed_at[sup_c[sup_ok]], sup_t[sup_ok])
    moved = rows["source"] == S_MOVED
    mc, mt = rows["contact"][moved], rows["ts"][moved] - 1  # subscribe to B, then removal from A
    C.member_from[mc, GIFT_SLOT_B] = mt
    C.member_until[mc, GIFT_SLOT_B] = INF_TS
    C.join_source[mc, GIFT_SLOT_B] = S_GIFT
    C.gift_cohort[mc] = True
    C.buyer_mult[mc] = p.gift_buyer_mult
    rereg_send = np.zeros(S, dtype=bool)
    rereg_send[rows["send"][moved]] = True

    # ---- keep the surviving sends and number them
    kept = np.nonzero(keep)[0]
    newpos = np.full(S, -1, dtype=np.int64)
    newpos[kept] = np.arange(len(kept))
    msg = st.next_message + newpos  # message number of each candidate (valid where kept)
    st.next_message += len(kept)

    # latent state for next months
    rk = kept[read[kept]]
    np.maximum.at(C.last_read, c[rk], read_at[rk])
    woken = rk[kind[rk] == K_REENGAGE]  # a read win-back revives interest (Return Path: 45% read again)
    C.reads_until[c[woken]] = np.maximum(C.reads_until[c[woken]], C.checked_until[c[woken]])
    ck = kept[comp[kept]]
    np.minimum.at(C.complained_at, c[ck], comp_at[ck])

    # ---- sends rows: final status in the month it settles; an interim row if that is later
    K = kept
    status = np.where(delivered[K], ST_DELIVERED, ST_BOUNCED)
    info = np.where(delivered[K], -1, bounce[K] * NP_ + prov[K])
    settled_later = outcome_at[K] >= m1
    base_cols = {"msg": msg[K], "sent_at": sent[K], "acc": acc[K], "list": acc[K] * 2 + slot[K], "camp": k[K], "contact": c[K],
                     "ip": ip[K]}
    final = dict(base_cols, status=status, delivered_at=np.where(delivered[K], delivered_at[K], -1), info=info)
    out.add("sends", np.where(settled_later, outcome_at[K], sent[K]), final)
    if settled_later.any():
        L = settled_later
        was_deferred = deferred[K][L]
        interim = {key: v[L] for key, v in base_cols.items()}
        interim.update(status=np.where(was_deferred, ST_DEFERRED, ST_SENT), delivered_at=np.full(int(L.sum()), -1),
                       info=np.where(was_deferred, DEFERRAL * NP_ + prov[K][L], -1))
        out.add("sends", sent[K][L], interim)

    # ---- opens
    ev_send, ev_ts, ev_ua, ev_ip, ev_type = [], [], [], [], []
    ua_mpp = ua_index["mpp"]  # the proxies' own user agents come with the gmail_app / yahoo_app devices

    def pool_ip(name, n):
        off, size = pop.ip_pools[name]
        return off + rng.integers(0, size, n)

    def device_ip(idx):
        """Index into the IP table: home (or office) connection, or a mobile network for phones."""
        ips = c[idx].copy()
        mob = C.mobile[c[idx]] & ~C.corporate[c[idx]] & (rng.random(len(idx)) < 0.4)
        ips[mob] = pool_ip("mobile", int(mob.sum()))
        return ips

    h = np.nonzero(pixel & keep)[0]
    h_client = C.client[c[h]]
    h_ua = C.open_ua[c[h]].astype(np.int64)
    h_ip = device_ip(h)
    g = h_client == CL["gmail_app"]
    y = h_client == CL["yahoo_app"]
    h_ip[g] = pool_ip("google", int(g.sum()))
    h_ip[y] = pool_ip("yahoo", int(y.sum()))
    ev_send.append(h), ev_ts.append(open_at[h]), ev_ua.append(h_ua), ev_ip.append(h_ip)
    ev_type.append(np.full(len(h), M_HUMAN))
    # re-opens (Gmail's proxy caches the image: later opens are invisible)
    n_re = np.where(g, 0, rng.poisson(p.reopen_mean, len(h)))
    rrow, _ = _repeat_ranges(n_re)
    ev_send.append(h[rrow]), ev_ts.append(open_at[h][rrow] + rng.exponential(DAY, len(rrow)).astype(np.int64))
    ev_ua.append(h_ua[rrow]), ev_ip.append(h_ip[rrow]), ev_type.append(np.full(len(rrow), M_HUMAN))
    mpp_keep = keep[mi_idx]
    for sends_i, times in ((mi_idx[mpp_keep], mpp_t[mpp_keep]), (mi_idx[re][mpp_keep[re]], mpp_t2[mpp_keep[re]])):
        ev_send.append(sends_i), ev_ts.append(times), ev_ua.append(np.full(len(sends_i), ua_mpp))
        ev_ip.append(pool_ip("apple", len(sends_i)))
        ev_type.append(np.full(len(sends_i), M_MPP))
    sc_keep = keep[sc_idx]
    sc_i, sc_t, sc_rescan = sc_idx[sc_keep], scan_at[sc_keep], rescan[sc_keep]
    vendor = C.scanner[c[sc_i]].astype(np.int64)
    sc_ip = np.empty(len(sc_i), dtype=np.int64)
    for v, (name, _, _, _) in enumerate(SCANNERS):
        sel = vendor == v
        sc_ip[sel] = pool_ip(f"scanner:{name}", int(sel.sum()))
    sc_ua = np.array(ua_index["scanners"])[vendor]
    fetches = np.array([s[3] for s in SCANNERS])[vendor]
    ev_send.append(sc_i[fetches]), ev_ts.append(sc_t[fetches] + rng.integers(0, 6, int(fetches.sum())))
    ev_ua.append(sc_ua[fetches]), ev_ip.append(sc_ip[fetches]), ev_type.append(np.full(int(fetches.sum()), M_SCANNER_IMAGE))
    o_send = np.concatenate(ev_send)
    o = {"send": o_send, "ts": np.concatenate(ev_ts), "ua": np.concatenate(ev_ua), "ip": np.concatenate(ev_ip),
             "type": np.concatenate(ev_type)}
    if world is not None:  # hook: a world's mechanisms alter or add open events
        view = MonthView(mi, world.month_rng(mi), p, pop, camps, ua_index, c, prov, k, keep, alive, delivered_at,
                         read, read_at, end)
        o = world.opens(view, o)
    ok = o["ts"] < end
    o = {key: v[ok] for key, v in o.items()}
    o_order = np.argsort(o["ts"], kind="stable")
    o = {key: v[o_order] for key, v in o.items()}
    o_num = st.next_open + np.arange(len(o["ts"]))
    st.next_open += len(o_num)
    out.add("opens", o["ts"], {"msg": msg[o["send"]], "ua": o["ua"], "ip": o["ip"], "num": o_num})
    mach = o["type"] != M_HUMAN
    st.machine_kind.append(np.zeros(int(mach.sum()), dtype=np.int8))
    st.machine_num.append(o_num[mach])
    st.machine_type.append(o["type"][mach].astype(np.int8))

    # ---- clicks: human content links, human unsubscribe links, scanners (every link), re-scans
    cl_send, cl_ts, cl_url, cl_ua, cl_ip, cl_type = [], [], [], [], [], []
    hc = np.nonzero(clicked & keep)[0]
    n_links = 1 + rng.binomial(camps.n_content[k[hc]] - 1, p.extra_link_click_prob)
    row, pos = _repeat_ranges(n_links)
    gaps = rng.exponential(60.0, len(row)).astype(np.int64) * (pos > 0)  # reading between two links
    cum = np.cumsum(gaps)
    hc_ts = first_click_at[hc][row] + cum - cum[_row_starts(n_links)][row]
    hc_ip = device_ip(hc)
    cl_send.append(hc[row]), cl_ts.append(hc_ts), cl_url.append(camps.url0[k[hc]][row] + pos)
    cl_ua.append(C.click_ua[c[hc]][row].astype(np.int64)), cl_ip.append(hc_ip[row])
    cl_type.append(np.full(len(row), M_HUMAN))
    uc = np.nonzero(unsub & via_link & keep)[0]
    cl_send.append(uc), cl_ts.append(unsub_click_at[uc]), cl_url.append(camps.url0[k[uc]] + camps.n_content[k[uc]])
    cl_ua.append(C.click_ua[c[uc]].astype(np.int64)), cl_ip.append(device_ip(uc)), cl_type.append(np.full(len(uc), M_HUMAN))
    for sc_sel, shift, mtype in ((np.ones(len(sc_i), dtype=bool), None, M_SCANNER), (sc_rescan, True, M_RESCAN)):
        ii = sc_i[sc_sel]
        nl = camps.n_content[k[ii]] + 1
        row, pos = _repeat_ranges(nl)
        t0 = sc_t[sc_sel]
        if shift:
            t0 = t0 + rng.integers(10 * MINUTE, 40 * MINUTE, len(ii))
        cl_send.append(ii[row]), cl_ts.append(t0[row] + rng.integers(0, 9, len(row)))
        cl_url.append(camps.url0[k[ii]][row] + pos), cl_ua.append(sc_ua[sc_sel][row]), cl_ip.append(sc_ip[sc_sel][row])
        cl_type.append(np.full(len(row), mtype))
    q = {"send": np.concatenate(cl_send), "ts": np.concatenate(cl_ts), "url": np.concatenate(cl_url),
             "ua": np.concatenate(cl_ua), "ip": np.concatenate(cl_ip), "type": np.concatenate(cl_type)}
    if world is not None:  # hook: a world's mechanisms alter or add click events
        q = world.clicks(view, q)
    ok = q["ts"] < end
    q = {key: v[ok] for key, v in q.items()}
    q_order = np.argsort(q["ts"], kind="stable")
    q = {key: v[q_order] for key, v in q.items()}
    q_num = st.next_click + np.arange(len(q["ts"]))
    st.next_click += len(q_num)
    out.add("clicks", q["ts"], {"msg": msg[q["send"]], "url": q["url"], "ua": q["ua"], "ip": q["ip"], "num": q_num})
    mach = q["type"] != M_HUMAN
    st.machine_kind.append(np.ones(int(mach.sum()), dtype=np.int8))
    st.machine_num.append(q_num[mach])
    st.machine_type.append(q["type"][mach].astype(np.int8))

    # ---- complaints the sender receives
    cr = np.nonzero(comp_obs & keep)[0]
    redacted = channel[cr] == 0  # Yahoo's CFL redacts the recipient; the Message-ID identifies it
    out.add("complaints", report_at[cr], {"msg": msg[cr], "contact": np.where(redacted, -1, c[cr]), "acc": acc[cr],
                                              "source": channel[cr]})

    # ---- subscription changes
    sub_rows = {"account": C.account[rows["contact"]].astype(np.int64), "slot": rows["slot"], "contact": rows["contact"],
                    "action": np.ones(len(rows["ts"]), dtype=np.int64), "source": rows["source"],
                    "campaign": k[rows["send"]], "collected": np.full(len(rows["ts"]), -1)}
    out.add("subscriptions", rows["ts"], sub_rows)
    out.add("subscriptions", mt, {"account": C.account[mc].astype(np.int64), "slot": np.full(len(mc), GIFT_SLOT_B),
                                      "contact": mc, "action": np.zeros(len(mc), dtype=np.int64),
                                      "source": np.full(len(mc), S_GIFT), "campaign": k[rows["send"][moved]],
                                      "collected": np.full(len(mc), -1)})

    # ---- orders: after a human content click (gift re-registrants buy less), plus organic orders
    conv = np.array([a.conversion_per_click for a in ACCOUNTS])[acc] * np.where(
        rereg_send, p.gift_buyer_mult, C.buyer_mult[c])
    buys = clicked & keep & (u() < conv)
    bi = np.nonzero(buys)[0]
    soon = rng.random(len(bi)) < 0.3
    o_delay = np.where(soon, rng.integers(120, HOUR, len(bi)), _lognormal(rng, 1.5 * DAY, 1.2, len(bi))).astype(np.int64)
    order_ts = first_click_at[bi] + o_delay
    # a re-registrant who buys does so after filling in the gift form
    order_ts = np.where(rereg_send[bi], np.maximum(order_ts, rereg_at[bi] + 60), order_ts)
    order_contact, order_camp = c[bi], k[bi]
    org_c, org_t = [], []
    for a, (lo, hi) in enumerate(pop.account_slices):
        sub_ok = ((C.member_from[lo:hi] <= m0) & (C.member_until[lo:hi] > m0)).any(axis=1)
        elig = lo + np.nonzero(sub_ok & C.checked[lo:hi] & (C.checked_until[lo:hi] > m0)
                               & (C.suppressed_at[lo:hi] > m0))[0]
        lam = ACCOUNTS[a].organic_orders_per_month * C.buyer_mult[elig]
        nb = rng.poisson(lam)
        rr, _ = _repeat_ranges(nb)
        org_c.append(elig[rr])
        org_t.append(m0 + (rng.random(len(rr)) * (m1 - m0)).astype(np.int64))
    org_c = np.concatenate(org_c)
    all_oc = np.concatenate([order_contact, org_c])
    all_ot = np.concatenate([order_ts, np.concatenate(org_t)])
    all_acc = C.account[all_oc].astype(np.int64)
    all_camp = np.concatenate([order_camp, np.full(len(org_c), -1)])
    ok = all_ot < end
    all_oc, all_ot, all_acc, all_camp = all_oc[ok], all_ot[ok], all_acc[ok], all_camp[ok]
    median = np.array([a.order_median_eur for a in ACCOUNTS])[all_acc]
    cents = np.round(median * np.exp(0.6 * rng.standard_normal(len(all_oc))) * 100).astype(np.int64)
    onum = st.next_order + np.arange(len(all_oc))
    st.next_order += len(onum)
    out.add("orders", all_ot, {"acc": all_acc, "contact": all_oc, "num": onum, "cents": np.maximum(cents, 100),
                                   "camp": all_camp})
    st.orders_contact.append(all_oc)
    st.orders_ts.append(all_ot)

    # ---- truth per kept message
    has_machine_open = np.zeros(S, dtype=bool)
    has_machine_open[o["send"][o["type"] != M_HUMAN]] = True
    has_human_open = np.zeros(S, dtype=bool)
    has_human_open[o["send"][o["type"] == M_HUMAN]] = True
    has_mpp = np.zeros(S, dtype=bool)
    has_mpp[o["send"][o["type"] == M_MPP]] = True
    human_cl = q["type"] == M_HUMAN
    content = q["url"] < (camps.url0[k[q["send"]]] + camps.n_content[k[q["send"]]])
    has_human_click = np.zeros(S, dtype=bool)
    has_human_click[q["send"][human_cl & content]] = True
    has_scan = np.zeros(S, dtype=bool)
    has_scan[q["send"][~human_cl]] = True
    # age in whole years between the collection date and the send date (calendar days, UTC), which
    # is what SQL's date_diff('day', collected, sent_at) gives
    days = sent // DAY - C.collected[c] // DAY
    age_year = np.floor(days / YEAR_DAYS).astype(np.int64)
    st.truth_parts.append({
        "msg": msg[K], "acc": acc[K], "list": acc[K] * 2 + slot[K], "campaign": k[K], "kind": kind[K], "contact": c[K],
        "provider": prov[K], "age_year": age_year[K], "sent_at": sent[K], "delivered": dlv[K],
        "bounce": np.where(outcome_at[K] < end, bounce[K], -1), "read": read[K], "pixel_loaded": has_human_open[K],
        "images_off": C.images_off[c[K]], "plain_text": C.plain_text[c[K]], "mpp_user": C.mpp_user[c[K]],
        "mailbox_alive": alive[K],
        "mpp": has_mpp[K], "machine_open": has_machine_open[K], "scanner_protected": C.scanner[c[K]] >= 0,
        "scanned": has_scan[K], "human_click": has_human_click[K],
        "complained": comp[K], "complaint_source": np.where(comp_obs[K], channel[K], -1),
    })
    # gift records: delivered recipients of gift campaigns, their first human clicks, re-registrations
    gk = K[kind[K] == K_GIFT]
    gclick = gk[has_human_click[gk]]
    first_hc = np.full(S, INF_TS, dtype=np.int64)
    hcm = human_cl & content
    np.minimum.at(first_hc, q["send"][hcm], q["ts"][hcm])
    st.gift_clickers.append(np.stack([k[gclick], c[gclick], first_hc[gclick], rereg_send[gclick].astype(np.int64)], 1))
    st.gift_rereg.append(np.stack([k[rows["send"][moved]], mc, mt], 1))


def _terminations(C: Contacts, keep, c, slot, acc, k, unsub, unsub_at, via_link, rereg, rereg_at, supp_mask,
                  supp_at, hard_supp) -> dict:
    """Subscription changes caused by the kept sends: the earliest per (recipient, list) that is
    earlier than what is known, and the earliest suppression per recipient (dead address or a
    complaint report), which unsubscribes the recipient from every list they are on."""
    # suppressions
    si = np.nonzero(keep & supp_mask)[0]
    first = si[_first_per_group(c[si], supp_at[si])]
    sc, sts = c[first], supp_at[first]
    better = sts < C.suppressed_at[sc]
    first, sc, sts = first[better], sc[better], sts[better]
    supp = C.suppressed_at.copy()
    supp[sc] = sts
    s_source = np.where(hard_supp[first], S_BOUNCE, S_COMPLAINT)
    # candidate rows: unsubscribes and gift moves, and the suppressions on each list joined
    ui = np.nonzero(keep & unsub)[0]
    gi = np.nonzero(keep & rereg)[0]
    cand_c = [c[ui], c[gi]]
    cand_slot = [slot[ui], slot[gi]]
    cand_ts = [unsub_at[ui], rereg_at[gi] + 1]
    cand_src = [np.where(via_link[ui], S_LINK, S_USER), np.full(len(gi), S_MOVED)]
    cand_send = [ui, gi]
    for s in (0, 1):
        member = C.member_from[sc, s] <= sts
        cand_c.append(sc[member]), cand_slot.append(np.full(int(member.sum()), s)), cand_ts.append(sts[member])
        cand_src.append(s_source[member]), cand_send.append(first[member])
    cc, cs, ct = np.concatenate(cand_c), np.concatenate(cand_slot), np.concatenate(cand_ts)
    csrc, csend = np.concatenate(cand_src), np.concatenate(cand_send)
    win = _first_per_group(cc * 2 + cs, ct)
    win = win[ct[win] < C.member_until[cc[win], cs[win]]]
    until = C.member_until.copy()
    until[cc[win], cs[win]] = ct[win]
    rows = {"contact": cc[win], "slot": cs[win], "ts": ct[win], "source": csrc[win], "send": csend[win]}
    return {"rows": rows, "until": until, "supp": supp, "supp_contacts": sc, "supp_ts": sts, "supp_send": first}


# ----------------------------------------------------------------------------------------------
# From column chunks to canonical tables (pyarrow), and writers
# ----------------------------------------------------------------------------------------------

_ZERO_PAD5: np.ndarray | None = None
_TIME_OF_DAY: np.ndarray | None = None


def _fixed_ids(prefix: str, nums: np.ndarray, tag: str):
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


def _iso_z(ts: np.ndarray):
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


def _dict_col(codes: np.ndarray, dictionary):
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


def _ts_col(ts: np.ndarray):
    import pyarrow as pa

    ts = np.asarray(ts, dtype=np.int64)
    neg = ts < 0
    return pa.array(ts, mask=neg if neg.any() else None).cast(pa.timestamp("s"))


def _empty_chunk(kind: str) -> dict:
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


def _to_table(kind: str, ch: dict, d: Dictionaries, camps: Campaigns, listing: dict):
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
            "message_id": _fixed_ids("m", ch["msg"], tag),
            "sent_at": _ts_col(ch["sent_at"]),
            "account_id": _dict_col(ch["acc"], d.accounts),
            "list_id": _dict_col(ch["list"], d.lists),
            "campaign_id": _dict_col(ch["camp"], d.campaigns),
            "recipient": _dict_col(ch["contact"], d.recipients),
            "status": _dict_col(ch["status"], d.statuses),
            "delivered_at": _ts_col(ch["delivered_at"]),
        }
        for name in ("bounce_class", "smtp_code", "enhanced_status", "bounce_reason"):
            cols[name] = _dict_col(info, d.info[name])
        cols["sending_ip"] = _dict_col(ch["ip"], d.sending_ips)
        cols["sending_domain"] = _dict_col(ch["acc"], d.sending_domains)
    elif kind in ("opens", "clicks"):
        cols = {"message_id": _fixed_ids("m", ch["msg"], tag), "ts": _ts_col(ch["ts"])}
        if kind == "clicks":
            cols["url"] = _dict_col(ch["url"], d.urls)
        cols.update(user_agent=_dict_col(ch["ua"], d.uas), ip=_dict_col(ch["ip"], d.ips),
                    event_id=_fixed_ids("o" if kind == "opens" else "c", ch["num"], tag))
    elif kind == "complaints":
        cols = {"ts": _ts_col(ch["ts"]), "message_id": _fixed_ids("m", ch["msg"], tag),
                "recipient": _dict_col(ch["contact"], d.recipients), "account_id": _dict_col(ch["acc"], d.accounts),
                "source": _dict_col(ch["source"], d.complaint_sources)}
    elif kind == "subscriptions":
        cols = {"ts": _ts_col(ch["ts"]), "account_id": _dict_col(ch["account"], d.accounts),
                "list_id": _dict_col(ch["account"] * 2 + ch["slot"], d.lists),
                "recipient": _dict_col(ch["contact"], d.recipients), "action": _dict_col(ch["action"], d.sub_actions),
                "source": _dict_col(ch["source"], d.sub_sources), "campaign_id": _dict_col(ch["campaign"], d.campaigns),
                "collected_at": _ts_col(ch["collected"])}
    elif kind == "campaigns":
        k = ch["camp"]
        cols = {"campaign_id": _dict_col(k, d.campaigns), "account_id": _dict_col(camps.account[k], d.accounts),
                "list_id": _dict_col(camps.account[k].astype(np.int64) * 2 + camps.slot[k], d.lists),
                "sent_at": _ts_col(camps.start[k]), "kind": _dict_col(camps.kind[k], d.campaign_kinds),
                "name": pa.array([camps.names[i] for i in k], type=pa.string()),
                "subject": pa.array([camps.subjects[i] for i in k], type=pa.string())}
    elif kind == "orders":
        cols = {"ts": _ts_col(ch["ts"]), "account_id": _dict_col(ch["acc"], d.accounts),
                "recipient": _dict_col(ch["contact"], d.recipients), "order_id": _fixed_ids("ord", ch["num"], tag),
                "amount": pa.array(ch["cents"] / 100.0), "campaign_id": _dict_col(ch["camp"], d.campaigns)}
    elif kind == "blocklists":
        e = ch["event"]
        cols = {"ts": _ts_col(ch["ts"]), "target": pa.array([listing["target"]] * len(e), type=pa.string()),
                "blocklist": pa.array([listing["blocklist"]] * len(e), type=pa.string()),
                "action": pa.array(["listed" if x == 0 else "delisted" for x in e], type=pa.string())}
    else:  # pragma: no cover - KINDS is closed
        raise ValueError(kind)
    table = pa.table(cols)
    assert tuple(table.column_names) == CANONICAL_COLUMNS[kind], (kind, table.column_names)
    return table


class DropWriter(Protocol):
    """Writes the logical canonical tables of each month (see ``_to_table``); ``--as`` picks one.
    ``write_month`` runs on a background thread, one month at a time, in month order."""

    def write_month(self, month: str, tables: dict) -> None: ...

    def close(self) -> dict: ...


@contextmanager
def _gzip_sink(path: Path):
    """A gzip stream with a fixed header (no name, no time) so that equal input gives equal bytes;
    level 1 because compression, not simulation, would otherwise dominate the run."""
    import gzip

    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=1,
                                                mtime=0) as gz:
        yield gz


class CanonicalWriter:
    """One canonical drop per month: ``out_dir/drops/YYYY-MM/<kind>.<ext>``, every kind, every month
    (an empty kind still gets its header). Timestamps are written as ISO 8601 strings with ``Z`` in
    every format, amounts as decimals. CSV and Parquet through pyarrow, JSON lines through DuckDB."""

    def __init__(self, out_dir: Path, fmt: str):
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
        self.root = Path(out_dir) / "drops"
        self.fmt = fmt
        self.rows: dict[str, int] = {k: 0 for k in KINDS}
        self.files = 0
        self._duck = None

    @staticmethod
    def render(table):
        """Timestamps to ISO strings, amount to decimal(12,2): what every canonical file holds."""
        import pyarrow as pa
        import pyarrow.compute as pc

        for i, name in enumerate(table.column_names):
            if name in TIMESTAMP_COLUMNS:
                col = table.column(i).combine_chunks()
                ints = col.cast(pa.int64()).fill_null(-1).to_numpy()
                table = table.set_column(i, name, _iso_z(ints))
            elif name == "amount":
                table = table.set_column(i, name, pc.round(table.column(i), 2).cast(pa.decimal128(12, 2)))
        return table

    def write_month(self, month: str, tables: dict) -> None:
        import pyarrow.csv as pcsv
        import pyarrow.parquet as pq

        folder = self.root / month
        folder.mkdir(parents=True, exist_ok=True)
        for kind in KINDS:
            table = self.render(tables[kind])
            path = folder / f"{kind}.{self.fmt}"
            if self.fmt == "csv":
                pcsv.write_csv(table, str(path))
            elif self.fmt == "csv.gz":
                with _gzip_sink(path) as gz:
                    pcsv.write_csv(table, gz)
            elif self.fmt == "parquet":
                pq.write_table(table, str(path), compression="zstd")
            else:
                self._write_json(table, path)
            self.rows[kind] += table.num_rows
            self.files += 1

    def _write_json(self, table, path: Path) -> None:
        import duckdb

        if self._duck is None:
            self._duck = duckdb.connect(":memory:")
            self._duck.execute("SET preserve_insertion_order = true").fetchall()
        target = path if self.fmt == "jsonl" else path.with_name(f".{path.name}.part")
        self._duck.register("month_table", table)
        try:
            # results stream in DuckDB 2: drain the COPY's row count so the connection is free again
            self._duck.execute(f"COPY (SELECT * FROM month_table) TO '{target}' (FORMAT json, COMPRESSION none)").fetchall()
        finally:
            self._duck.unregister("month_table")
        if self.fmt == "jsonl.gz":
            with _gzip_sink(path) as gz, open(target, "rb") as src:
                shutil.copyfileobj(src, gz, 1 << 20)
            target.unlink()

    def close(self) -> dict:
        if self._duck is not None:
            self._duck.close()
        return {"drops_dir": "drops", "rows": dict(self.rows), "files": self.files}


WRITERS: dict[str, Callable[[Path, str], DropWriter]] = {"canonical": CanonicalWriter}


# ----------------------------------------------------------------------------------------------
# The driver
# ----------------------------------------------------------------------------------------------


def simulate(out_dir, seed: int = 0, contacts: int = 20000, months: int = 12, end_month: str = "2026-10",
             fmt: str = "csv.gz", as_format: str = "canonical", progress: ProgressFn | None = None,
             params: Params | None = None, world=None) -> dict:
    """Simulate ``months`` calendar months ending with ``end_month`` (inclusive) for an ESP whose
    accounts hold ``contacts`` addresses at the start (new sign-ups come on top), write the drops
    and the truth files under ``out_dir`` and return the truth dict (also in ``truth.json``).
    ``progress(stage, done, total)`` is called as the work advances."""
    from concurrent.futures import ThreadPoolExecutor

    t_start = time.perf_counter()
    p = params or Params()
    if contacts < 100:
        raise ValueError("contacts must be at least 100")
    if months < 1:
        raise ValueError("months must be at least 1")
    if len(end_month) != 7 or end_month[4] != "-":
        raise ValueError(f"end_month must look like YYYY-MM, got {end_month!r}")
    try:
        np.datetime64(end_month, "M")
    except ValueError as exc:
        raise ValueError(f"end_month must look like YYYY-MM, got {end_month!r}") from exc
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if as_format not in WRITERS:
        raise ValueError(f"unknown output flavour {as_format!r}; available: {', '.join(WRITERS)}")
    report = progress or (lambda stage, done, total: None)
    out = Path(out_dir)
    _prepare_out_dir(out)

    tag = _run_tag(seed, contacts, months, end_month)
    bounds = _month_bounds(end_month, months)
    uas, ua_index = _ua_table()
    pop = _build_population(np.random.default_rng([seed, 1]), p, contacts, bounds, ua_index)
    if world is not None:  # hook: a world's mechanisms alter the population (own random streams)
        world.setup(seed, pop, uas, ua_index, p, bounds)
    camps = _schedule_campaigns(np.random.default_rng([seed, 2]), p, bounds, pop.stale_import_at, tag)
    report("population", 1, 1)

    st = RunState()
    rng_l = np.random.default_rng([seed, 3])
    stale_camps = np.nonzero((camps.account == STALE_ACCOUNT) & (camps.slot == STALE_SLOT))[0]
    if len(stale_camps):  # the listing follows the stale list's first campaign by a few days
        first = int(camps.start[stale_camps[0]])
        listed = first + int(rng_l.uniform(*p.listing_delay_days) * DAY)
        delisted = listed + int(rng_l.uniform(*p.listing_duration_days) * DAY)
        if listed < bounds[-1]:  # a run too short to see the listing has none
            st.listing = {"target": SHARED_IP, "blocklist": "trendmicro_ers", "listed_at": listed,
                          "delisted_at": delisted, "trigger_account": ACCOUNTS[STALE_ACCOUNT].account_id,
                          "trigger_campaign": camps.ids[stale_camps[0]]}

    buckets = MonthBuckets(bounds)
    buckets.add("subscriptions", pop.signup_rows["ts"], {k: v for k, v in pop.signup_rows.items() if k != "ts"})
    buckets.add("campaigns", camps.start, {"camp": np.arange(len(camps))})
    if st.listing:
        buckets.add("blocklists", np.array([st.listing["listed_at"], st.listing["delisted_at"]]),
                    {"event": np.array([0, 1])})

    d = Dictionaries(pop, camps, uas, tag)
    writer = WRITERS[as_format](out, fmt)
    agg = TruthAccumulator()
    truth_writer = _TruthMessagesWriter(out / "truth_messages.parquet", d)

    def write_month(mi: int, chunks: dict, truth_parts: list) -> None:
        # runs on the writer thread: pyarrow, zlib and the Parquet writer release the GIL, so it
        # overlaps with the simulation of the next month
        for part in truth_parts:
            truth_writer.write(part)
        tables = {kind: _to_table(kind, chunks[kind] if chunks[kind] is not None else _empty_chunk(kind), d, camps,
                                  st.listing) for kind in KINDS}
        writer.write_month(str(np.datetime64(int(bounds[mi]), "s").astype("datetime64[M]")), tables)

    pending = None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="dlvstats-sim-writer") as pool:
        for mi in range(months):
            _simulate_month(mi, np.random.default_rng([seed, 4, mi]), p, pop, camps, bounds, buckets, st, ua_index,
                            world)
            parts, st.truth_parts = st.truth_parts, []
            for part in parts:
                agg.add(part)
                if world is not None:  # hook: the world's own truth (per provider, age year, device)
                    world.add_truth(part, pop.contacts)
            chunks = {kind: buckets.take(kind, mi) for kind in KINDS}
            for kind in KINDS:
                _count_rows(st.counts, kind, chunks[kind])
            if pending is not None:
                pending.result()  # one month in flight at most: bounded memory, errors surface here
                report("months", mi, months)
            pending = pool.submit(write_month, mi, chunks, parts)
        pending.result()
        report("months", months, months)
    truth_writer.close()
    written = writer.close()

    _write_machine_events(out / "truth_machine_events.csv.gz", st, tag)
    truth = _truth(seed, p, contacts, months, end_month, fmt, as_format, tag, bounds, pop, camps, st, agg, written)
    if world is not None:
        truth["world"] = world.truth()
    truth["runtime_seconds"] = round(time.perf_counter() - t_start, 3)
    (out / "truth.json").write_text(json.dumps(truth, indent=2, ensure_ascii=False) + "\n")
    report("truth", 1, 1)
    return truth


def _prepare_out_dir(out: Path) -> None:
    """Replace a previous simulation in out; refuse to mix with anything else."""
    drops = out / "drops"
    if drops.exists() and any(drops.iterdir()):
        if not (out / "truth.json").exists():
            raise FileExistsError(f"{drops} exists and holds files that no simulation wrote; choose another --out")
        shutil.rmtree(drops)
    for name in ("truth.json", "truth_machine_events.csv.gz", "truth_messages.parquet"):
        (out / name).unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)


def _count_rows(counts: dict, kind: str, ch: dict | None) -> None:
    if ch is None:
        return
    if kind == "subscriptions":
        for code in np.unique(ch["source"]):
            action = "subscribe" if code in (S_IMPORT, S_FORM, S_GIFT) else "unsubscribe"
            key = f"subscriptions:{SUB_SOURCES[code]}:{action}"
            counts[key] = counts.get(key, 0) + int((ch["source"] == code).sum())
    if kind == "sends":
        n_final = int(((ch["status"] == ST_DELIVERED) | (ch["status"] == ST_BOUNCED)).sum())
        counts["sends:settled_rows"] = counts.get("sends:settled_rows", 0) + n_final
        counts["sends:interim_rows"] = counts.get("sends:interim_rows", 0) + len(ch["status"]) - n_final


class _TruthMessagesWriter:
    """truth_messages.parquet: one row per message, appended month by month, in message order."""

    def __init__(self, path: Path, d: Dictionaries):
        self.path, self.d, self.writer = path, d, None

    def write(self, part: dict) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.table({
            "message_id": _fixed_ids("m", part["msg"], self.d.tag),
            "account_id": _dict_col(part["acc"], self.d.accounts),
            "list_id": _dict_col(part["list"], self.d.lists),
            "campaign_id": _dict_col(part["campaign"], self.d.campaigns),
            "campaign_kind": _dict_col(part["kind"], self.d.campaign_kinds),
            "provider": _dict_col(part["provider"], self.d.providers),
            "age_year": pa.array(part["age_year"].astype(np.int16)),
            "sent_at": _ts_col(part["sent_at"]),
            "delivered": pa.array(part["delivered"]),
            "bounce_category": _dict_col(part["bounce"], self.d.bounce_categories),
            **{name: pa.array(part[name]) for name in (
                "mailbox_alive", "read", "pixel_loaded", "images_off", "plain_text", "mpp_user", "mpp", "machine_open",
                "scanner_protected", "scanned", "human_click", "complained")},
            "complaint_source": _dict_col(part["complaint_source"], self.d.complaint_sources),
        })
        if self.writer is None:
            self.writer = pq.ParquetWriter(str(self.path), table.schema, compression="zstd", compression_level=1)
        self.writer.write_table(table)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def _write_machine_events(path: Path, st: RunState, tag: str) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv

    kind = np.concatenate(st.machine_kind) if st.machine_kind else np.zeros(0, dtype=np.int8)
    num = np.concatenate(st.machine_num) if st.machine_num else np.zeros(0, dtype=np.int64)
    mtype = np.concatenate(st.machine_type) if st.machine_type else np.zeros(0, dtype=np.int8)
    table = pa.table({
        "kind": _dict_col(kind.astype(np.int64), pa.array(["opens", "clicks"])),
        "event_id": pc.if_else(pa.array(kind == 0), _fixed_ids("o", num, tag), _fixed_ids("c", num, tag)),
        "machine_type": _dict_col(mtype.astype(np.int64), pa.array(MACHINE_TYPES)),
    })
    with _gzip_sink(path) as gz:
        pcsv.write_csv(table, gz)


# ----------------------------------------------------------------------------------------------
# Truth
# ----------------------------------------------------------------------------------------------


class TruthAccumulator:
    """Counts per provider and per address-age year over delivered messages, plus what the gift,
    stale-client and headline sections need."""

    MAX_AGE = 40

    def __init__(self):
        z = lambda n: np.zeros(n, dtype=np.int64)
        self.by = {axis: {name: z(size) for name in ("delivered", "read", "measurable_delivered",
                                                      "measurable_read", "measurable_blocked", "mpp")}
                   for axis, size in (("provider", NP_), ("age", self.MAX_AGE))}
        self.campaign_delivered: dict[int, int] = {}
        self.stale_daily: list = []
        self.headline = {k: 0 for k in ("messages", "delivered", "opened", "human_opened", "human_clicked", "read",
                                        "hard_bounced", "bounced", "complained_latent", "complaints_reported",
                                        "blocklisted", "reputation_blocked")}
        self.by_account: dict[int, dict] = {}

    def add(self, t: dict) -> None:
        dlv = t["delivered"]
        meas = dlv & ~t["machine_open"]
        flags = {"delivered": dlv, "read": dlv & t["read"], "measurable_delivered": meas,
                 "measurable_read": meas & t["read"], "measurable_blocked": meas & t["read"] & ~t["pixel_loaded"],
                 "mpp": dlv & t["mpp"]}
        for axis, key in (("provider", t["provider"]), ("age", np.clip(t["age_year"], 0, self.MAX_AGE - 1))):
            for name, f in flags.items():
                self.by[axis][name] += np.bincount(key[f], minlength=len(self.by[axis][name]))
        h = self.headline
        hard = np.isin(t["bounce"], [i for i, b in enumerate(BOUNCE_KINDS) if b[0] == "hard"])
        h["messages"] += len(dlv)
        h["delivered"] += int(dlv.sum())
        h["opened"] += int((dlv & (t["machine_open"] | t["pixel_loaded"])).sum())
        h["human_opened"] += int((dlv & t["pixel_loaded"]).sum())
        h["human_clicked"] += int((dlv & t["human_click"]).sum())
        h["read"] += int((dlv & t["read"]).sum())
        h["hard_bounced"] += int(hard.sum())
        h["bounced"] += int((t["bounce"] >= 0).sum())
        h["complained_latent"] += int(t["complained"].sum())
        h["complaints_reported"] += int((t["complaint_source"] >= 0).sum())
        h["blocklisted"] += int((t["bounce"] == BLOCKLISTED).sum())
        h["reputation_blocked"] += int((t["bounce"] == REPUTATION).sum())
        for k_id, n in zip(*np.unique(t["campaign"][dlv], return_counts=True)):
            self.campaign_delivered[int(k_id)] = self.campaign_delivered.get(int(k_id), 0) + int(n)
        for a in np.unique(t["acc"]):
            sel = t["acc"] == a
            acc = self.by_account.setdefault(int(a), {k: 0 for k in ("sends", "delivered", "hard_bounces",
                                                                      "complaints_reported", "read")})
            acc["sends"] += int(sel.sum())
            acc["delivered"] += int((sel & dlv).sum())
            acc["hard_bounces"] += int((sel & hard).sum())
            acc["complaints_reported"] += int((sel & (t["complaint_source"] >= 0)).sum())
            acc["read"] += int((sel & dlv & t["read"]).sum())
        stale = t["acc"] == STALE_ACCOUNT
        fbl = IS_FBL_PROVIDER[t["provider"]]
        self.stale_daily.append(np.stack([
            t["sent_at"][stale] // DAY, t["list"][stale] % 2, (dlv & fbl)[stale],
            (np.isin(t["complaint_source"], [0, 1]))[stale], t["campaign"][stale]], 1))

    @staticmethod
    def rates(b: dict, i: int) -> dict:
        delivered, meas, mread = int(b["delivered"][i]), int(b["measurable_delivered"][i]), int(b["measurable_read"][i])
        ratio = lambda num, den: round(num / den, 6) if den else None
        return {"delivered": delivered, "read_rate": ratio(int(b["read"][i]), delivered),
                "measurable_delivered": meas, "measurable_read_rate": ratio(mread, meas),
                "image_blocked_share": ratio(int(b["measurable_blocked"][i]), mread),
                "mpp_share": ratio(int(b["mpp"][i]), delivered)}


def _buyers_within(orders_c: np.ndarray, orders_t: np.ndarray, who: np.ndarray, t0: np.ndarray,
                   days: float = 90) -> np.ndarray:
    """For each (who, t0): has the contact an order with t0 < ts <= t0 + days?"""
    key = (orders_c.astype(np.int64) << 32) | orders_t.astype(np.int64)
    key.sort()
    lo = np.searchsorted(key, (who.astype(np.int64) << 32) | t0.astype(np.int64), side="right")
    hi = np.searchsorted(key, (who.astype(np.int64) << 32) | (t0 + int(days * DAY)).astype(np.int64), side="right")
    return hi > lo


def _truth(seed, p, contacts, months, end_month, fmt, as_format, tag, bounds, pop, camps, st, agg, written) -> dict:
    start, end = int(bounds[0]), int(bounds[-1])
    C = pop.contacts
    providers = {name: TruthAccumulator.rates(agg.by["provider"], i) for i, name in enumerate(PROVIDERS)
                 if agg.by["provider"]["delivered"][i] > 0}
    ages = {str(a): TruthAccumulator.rates(agg.by["age"], a) for a in range(TruthAccumulator.MAX_AGE)
            if agg.by["age"]["delivered"][a] > 0}

    mk = np.concatenate(st.machine_kind) if st.machine_kind else np.zeros(0, dtype=np.int8)
    mt = np.concatenate(st.machine_type) if st.machine_type else np.zeros(0, dtype=np.int8)
    machine = {kind: {MACHINE_TYPES[t]: int(((mk == ki) & (mt == t)).sum()) for t in range(1, len(MACHINE_TYPES))
                      if ((mk == ki) & (mt == t)).any()} for ki, kind in enumerate(("opens", "clicks"))}

    orders_c = np.concatenate(st.orders_contact) if st.orders_contact else np.zeros(0, dtype=np.int64)
    orders_t = np.concatenate(st.orders_ts) if st.orders_ts else np.zeros(0, dtype=np.int64)
    clickers = np.concatenate(st.gift_clickers) if st.gift_clickers else np.zeros((0, 4), dtype=np.int64)
    rereg = np.concatenate(st.gift_rereg) if st.gift_rereg else np.zeros((0, 3), dtype=np.int64)
    gift = {}
    for k_id in np.nonzero(camps.kind == K_GIFT)[0]:
        cl = clickers[clickers[:, 0] == k_id]
        rr = rereg[rereg[:, 0] == k_id]
        ctrl = cl[cl[:, 3] == 0]
        rb = _buyers_within(orders_c, orders_t, rr[:, 1], rr[:, 2])
        cb = _buyers_within(orders_c, orders_t, ctrl[:, 1], ctrl[:, 2])
        gift[camps.ids[k_id]] = {
            "sent_at": _iso(camps.start[k_id]),
            "delivered": agg.campaign_delivered.get(int(k_id), 0),
            "human_clickers": len(np.unique(cl[:, 1])),
            "reregistered": len(np.unique(rr[:, 1])),
            "removed_from_source": len(rr),
            "buyers_90d": int(rb.sum()),
            "buyer_rate_90d": round(float(rb.mean()), 6) if len(rb) else None,
            "control_clickers": len(ctrl),
            "control_buyers_90d": int(cb.sum()),
            "control_buyer_rate_90d": round(float(cb.mean()), 6) if len(cb) else None,
            "window_runs_past_data": bool(camps.start[k_id] + 90 * DAY > end),
        }

    daily = np.concatenate(agg.stale_daily) if agg.stale_daily else np.zeros((0, 5), dtype=np.int64)
    on_stale = daily[:, 1] == STALE_SLOT
    stale_dlv, stale_cmp = int(daily[on_stale, 2].sum()), int(daily[on_stale, 3].sum())
    peak = None
    if len(daily):
        days_u, inv = np.unique(daily[:, 0], return_inverse=True)
        dd = np.bincount(inv, weights=daily[:, 2])
        dc = np.bincount(inv, weights=daily[:, 3])
        ok = dd >= 100  # a daily rate on fewer messages says little
        if ok.any():
            rate = np.where(ok, dc / np.maximum(dd, 1), -1)
            i = int(np.argmax(rate))
            peak = {"day": str(np.datetime64(int(days_u[i]) * DAY, "s").astype("datetime64[D]")),
                    "delivered_fbl": int(dd[i]), "complaints_fbl": int(dc[i]),
                    "complaint_rate_fbl": round(float(rate[i]), 6)}
    stale_ids = [camps.ids[i] for i in np.nonzero((camps.account == STALE_ACCOUNT) & (camps.slot == STALE_SLOT))[0]]
    first_stale = None
    if stale_ids:
        k0 = camps.ids.index(stale_ids[0])
        sel = daily[:, 4] == k0
        fd, fc = int(daily[sel, 2].sum()), int(daily[sel, 3].sum())
        first_stale = {"campaign_id": stale_ids[0], "sent_at": _iso(camps.start[k0]), "delivered_fbl": fd,
                       "complaints_fbl": fc, "complaint_rate_fbl": round(fc / fd, 6) if fd else None}
    stale_acct = ACCOUNTS[STALE_ACCOUNT]
    lo, hi = pop.account_slices[STALE_ACCOUNT]
    stale_truth = {
        "account_id": stale_acct.account_id, "list_id": stale_acct.lists[STALE_SLOT].list_id,
        "import_at": _iso(pop.stale_import_at), "imported": int(C.stale[lo:hi].sum()),
        "collected_years_ago": list(STALE_AGE_YEARS), "campaigns": stale_ids,
        "fbl_providers": ["yahoo", "microsoft"],
        "delivered_fbl": stale_dlv, "complaints_fbl": stale_cmp,
        "complaint_rate_fbl": round(stale_cmp / stale_dlv, 6) if stale_dlv else None,
        "first_campaign": first_stale, "peak_day": peak,
        "honour_lag_hours": stale_acct.honour_lag_hours,
    }
    listing = None
    if st.listing:
        listing = {k: (_iso(v) if k.endswith("_at") else v) for k, v in st.listing.items()}
        listing["blocked_sends"] = agg.headline["blocklisted"]  # 5.7.1 citing the blocklist, while listed
        listing["reputation_blocks"] = agg.headline["reputation_blocked"]  # 5.7.x at big providers afterwards
    h = agg.headline
    subs = {k.split(":", 1)[1]: v for k, v in st.counts.items() if k.startswith("subscriptions:")}
    mclicks = sum(machine["clicks"].values())
    headline = {
        "messages": h["messages"], "delivered": h["delivered"],
        "measured_open_rate": round(h["opened"] / h["delivered"], 6) if h["delivered"] else None,
        "human_open_rate": round(h["human_opened"] / h["delivered"], 6) if h["delivered"] else None,
        "true_read_rate": round(h["read"] / h["delivered"], 6) if h["delivered"] else None,
        "human_click_rate": round(h["human_clicked"] / h["delivered"], 6) if h["delivered"] else None,
        "hard_bounce_rate": round(h["hard_bounced"] / h["messages"], 6) if h["messages"] else None,
        "unsubscribe_rate": round((subs.get("link:unsubscribe", 0) + subs.get("user:unsubscribe", 0))
                                  / h["messages"], 6) if h["messages"] else None,
        "complaint_rate_reported": round(h["complaints_reported"] / h["delivered"], 6) if h["delivered"] else None,
        "complaint_rate_latent": round(h["complained_latent"] / h["delivered"], 6) if h["delivered"] else None,
        "machine_click_share": round(mclicks / written["rows"]["clicks"], 6) if written["rows"]["clicks"] else None,
        "mpp_open_share": round(machine["opens"].get("apple_mpp", 0) / written["rows"]["opens"], 6)
        if written["rows"]["opens"] else None,
    }
    accounts = {}
    for a, spec in enumerate(ACCOUNTS):
        lo, hi = pop.account_slices[a]
        stats = agg.by_account.get(a, {})
        accounts[spec.account_id] = {
            "segment": spec.segment, "sending_domain": spec.sending_domain, "sending_ips": list(spec.sending_ips),
            "lists": [ls.list_id for ls in spec.lists], "contacts": hi - lo,
            "honour_lag_hours": spec.honour_lag_hours, **stats,
            "read_rate": round(stats["read"] / stats["delivered"], 6) if stats.get("delivered") else None,
        }
    return {
        "seed": seed,
        "run_tag": tag,
        "params": {"contacts": contacts, "months": months, "end_month": end_month, "format": fmt,
                   "as": as_format, **{k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(p).items()}},
        "period": {"start": _iso(start), "end": _iso(end)},
        "accounts": accounts,
        "providers": providers,
        "read_rate_by_age_year": ages,
        "machine_events": machine,
        "gift_campaigns": gift,
        "stale_account": stale_truth,
        "shared_ip": {"ip": SHARED_IP, "accounts": [a.account_id for a in ACCOUNTS if SHARED_IP in a.sending_ips]},
        "blocklist_listing": listing,
        "headline": headline,
        "rows": written["rows"],
        "row_details": {k: v for k, v in sorted(st.counts.items())},
        "files": {"drops_dir": written["drops_dir"], "truth_machine_events": "truth_machine_events.csv.gz",
                  "truth_messages": "truth_messages.parquet"},
    }


# ----------------------------------------------------------------------------------------------
# CLI hook (cli.py owns the parser; these two functions fill the `simulate` sub-command)
# ----------------------------------------------------------------------------------------------


def add_arguments(parser) -> None:
    parser.add_argument("--out", required=True, help="output directory (drops/YYYY-MM/..., truth.json)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0); same seed, same files")
    parser.add_argument("--contacts", type=int, default=20000,
                        help="addresses on the accounts' lists at the start (default 20000, ~1M sends a year)")
    parser.add_argument("--months", type=int, default=12, help="calendar months to simulate (default 12)")
    parser.add_argument("--end-month", default="2026-10", help="last simulated month, YYYY-MM (default 2026-10)")
    parser.add_argument("--format", dest="fmt", choices=FORMATS, default="csv.gz", help="file format (default csv.gz)")
    parser.add_argument("--as", dest="as_format", choices=sorted(WRITERS), default="canonical",
                        help="log flavour to write (default canonical)")


def main_from_args(args) -> int:
    """Run ``dlvstats simulate`` from parsed arguments; progress lines go to stderr (through
    ``args.progress`` when the CLI provides one), the summary to stdout. Returns the exit code."""
    started = time.perf_counter()
    progress = getattr(args, "progress", None)
    if progress is None:
        def progress(stage: str, done: int, total: int) -> None:
            print(f"[{time.perf_counter() - started:6.1f}s] {stage} {done}/{total}", file=sys.stderr, flush=True)

    try:
        truth = simulate(args.out, seed=args.seed, contacts=args.contacts, months=args.months,
                         end_month=args.end_month, fmt=args.fmt, as_format=args.as_format, progress=progress,
                         world=getattr(args, "world_obj", None))
    except (ValueError, FileExistsError) as exc:
        print(f"dlvstats simulate: error: {exc}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - started
    rows = truth["rows"]
    print(f"Simulated {truth['period']['start']} .. {truth['period']['end']} (seed {truth['seed']}, "
          f"{args.contacts:,} contacts at the start) in {elapsed:.1f} s")
    print("Rows written, all months:")
    width = max(len(k) for k in rows)
    for kind, n in rows.items():
        print(f"  {kind:<{width}}  {n:>12,}")
    hl = truth["headline"]
    print(f"Messages {hl['messages']:,}, delivered {hl['delivered']:,}: measured open rate "
          f"{hl['measured_open_rate']:.1%}, true read rate {hl['true_read_rate']:.1%}, human click rate "
          f"{hl['human_click_rate']:.2%}, machine share of clicks {hl['machine_click_share']:.0%}")
    out = Path(args.out)
    print(f"Drops:  {out / 'drops'}/YYYY-MM/<kind>.{args.fmt} ({len(truth['rows'])} kinds a month)")
    print(f"Truth:  {out / 'truth.json'}, {out / 'truth_machine_events.csv.gz'}, {out / 'truth_messages.parquet'}")
    return 0
