-- Pseudonymisation macros (temporary: they live in the connection, never in the database file).
-- dlv_pseudonym(x, ki, ko): the pseudonym of a normalised (trimmed, lower-cased) address x:
--   the first 32 hex digits (128 bits) of HMAC-SHA256(key, x), then '@' and x's domain, e.g.
--   '4a3553c2215ebc9f69fe39886bb98b38@gmail.com'. HMAC per RFC 2104 from DuckDB's sha256 on BLOBs:
--   ki = key XOR ipad, ko = key XOR opad (64 bytes each, prepared in Python from the secret key and
--   bound as parameters; the key never appears in SQL text). Verified against Python's hmac module
--   in tests/test_privacy.py. DuckDB has no HMAC builtin (only the community 'crypto' extension,
--   which needs a download), hence this formulation.
-- dlv_redact(t, ki, ko): t with every e-mail-like token (name@domain.tld, or name%40domain.tld in
--   URLs) replaced by its pseudonym; NULL stays NULL. Used on free text (bounce reasons, URLs,
--   rejected raw lines and reasons).
CREATE OR REPLACE TEMP MACRO dlv_pseudonym(x, ki, ko) AS
    CASE WHEN x IS NULL THEN NULL
         ELSE left(sha256(ko || unhex(sha256(ki || encode(x)))), 32) || '@' || split_part(x, '@', -1)
    END;

CREATE OR REPLACE TEMP MACRO dlv_redact(t, ki, ko) AS
    CASE WHEN t IS NULL THEN NULL
         WHEN NOT (contains(t, '@') OR contains(t, '%40')) THEN t
         ELSE array_to_string(
             list_transform(
                 list_zip(
                     regexp_split_to_array(t, '[A-Za-z0-9._%+\-]+(?:@|%40)[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+'),
                     regexp_extract_all(t, '[A-Za-z0-9._%+\-]+(?:@|%40)[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+')
                 ),
                 lambda pr: pr[1] || coalesce(dlv_pseudonym(lower(replace(pr[2], '%40', '@')), ki, ko), '')
             ),
             '')
    END;
