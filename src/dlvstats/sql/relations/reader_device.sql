-- reader_device: the reading device family of each person mailed in the period, from their own user agents.
-- Grain: one row per person (hash(account_id, recipient)) with a delivered message in
-- [$date_from, $date_to) (UTC, sent_at), of $account_id when given. Output: temp table __reader_device.
-- Parameters: $date_from, $date_to, $account_id (NULL = all accounts).
-- Evidence: the user agents of the person's first human content click and first human open of every
-- delivered message sent before $date_to (all loaded history: a device is a habit of a person, and
-- a blocked reader shows no open, so their only user agent is a click's). Image proxies (Gmail's
-- GoogleImageProxy, Yahoo's proxy) and the bare 'Mozilla/5.0' of an Apple prefetch say nothing of
-- the device and are not evidence.
-- Rules (RE2 on each user agent, first match wins): iPhone|iPod|iPad|Android|Mobile -> 'mobile';
-- Windows|Macintosh|Mac OS X|X11|Linux|CrOS|ms-office|Microsoft Office|Outlook|Thunderbird -> 'desktop';
-- anything else -> no evidence. device = the family of most of the person's evidence (clicks and
-- opens counted alike; a tie goes to 'desktop', the family that blocks images more often); 'unknown'
-- when there is none (e.g. a Gmail reader seen only through the image proxy who never clicked).
-- Columns: person, device ('mobile' | 'desktop' | 'unknown'), device_evidence (user agents counted).
CREATE OR REPLACE TEMP TABLE __reader_device AS
WITH people AS (
    SELECT DISTINCT hash(account_id, recipient) AS person FROM message_facts
    WHERE sent_at >= $date_from AND sent_at < $date_to AND is_delivered
      AND dlv_of_account(account_id, $account_id)
),
agents AS (
    SELECT hash(account_id, recipient) AS person, first_human_click_user_agent AS ua FROM message_facts
    WHERE sent_at < $date_to AND is_delivered AND first_human_click_user_agent IS NOT NULL
      AND dlv_of_account(account_id, $account_id)
    UNION ALL
    SELECT hash(account_id, recipient), first_human_open_user_agent FROM message_facts
    WHERE sent_at < $date_to AND is_delivered AND first_human_open_user_agent IS NOT NULL
      AND dlv_of_account(account_id, $account_id)
),
labelled AS (
    SELECT a.person,
           CASE WHEN regexp_matches(a.ua, 'GoogleImageProxy|YahooMailProxy|ggpht\.com') THEN NULL
                WHEN regexp_matches(a.ua, 'iPhone|iPod|iPad|Android|Mobile') THEN 'mobile'
                WHEN regexp_matches(a.ua, 'Windows|Macintosh|Mac OS X|X11|Linux|CrOS|ms-office|Microsoft Office|Outlook|Thunderbird')
                     THEN 'desktop'
           END AS family
    FROM agents AS a SEMI JOIN people AS p ON p.person = a.person
),
counted AS (
    SELECT person, count(*) FILTER (family = 'mobile') AS n_mobile,
           count(*) FILTER (family = 'desktop') AS n_desktop
    FROM labelled GROUP BY person
)
SELECT p.person,
       CASE WHEN coalesce(c.n_mobile, 0) + coalesce(c.n_desktop, 0) = 0 THEN 'unknown'
            WHEN c.n_mobile > c.n_desktop THEN 'mobile' ELSE 'desktop' END AS device,
       CAST(coalesce(c.n_mobile, 0) + coalesce(c.n_desktop, 0) AS BIGINT) AS device_evidence
FROM people AS p LEFT JOIN counted AS c USING (person);
