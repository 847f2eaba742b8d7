"""The simulated world's fixed tables: canonical kinds and columns, time units, providers and
their domains, mail clients and devices (user agents), scanners, IP blocks, bounce texts, and the
codes of every coded column (statuses, sources, campaign kinds, machine types). Data, not logic."""

from __future__ import annotations

import numpy as np

from dlvstats.simulate.params import SHARED_IP

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
                 # added by the worlds of dlvstats.simulate.worlds (never drawn in the default world)
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
