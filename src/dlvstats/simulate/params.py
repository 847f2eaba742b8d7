"""Every behavioural number of the model (``Params``, recorded in ``truth.json``) and the simulated
ESP's accounts, lists and sending IPs: data, not logic."""

from __future__ import annotations

from dataclasses import dataclass


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
