-- IPv4 text -> integer, and the network of an address. Grain: scalar macros.
-- ip4_int('1.2.3.4') = 16909060; NULL for anything that is not a dotted-quad IPv4 address (IPv6,
-- empty, garbage): such addresses match no network, which classification treats as "unknown network".
-- ip4_prefix_key(ip, bits): the address truncated to /bits, as text ('1.2.0.0/16'); stands for the
-- network of an address no listed range covers (gateway pools live in one provider's block).
CREATE OR REPLACE TEMP MACRO ip4_int(ip) AS (
    CASE WHEN regexp_full_match(coalesce(ip, ''), '(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}')
         THEN (string_split(ip, '.')[1]::UBIGINT << 24) + (string_split(ip, '.')[2]::UBIGINT << 16)
            + (string_split(ip, '.')[3]::UBIGINT << 8) + string_split(ip, '.')[4]::UBIGINT
    END
);
CREATE OR REPLACE TEMP MACRO ip4_text(n) AS (
    concat_ws('.', (n >> 24) & 255, (n >> 16) & 255, (n >> 8) & 255, n & 255)
);
CREATE OR REPLACE TEMP MACRO ip4_prefix_key(ip, bits) AS (
    CASE WHEN ip4_int(ip) IS NOT NULL THEN
        ip4_text((ip4_int(ip) >> (32 - bits)) << (32 - bits)) || '/' || bits::VARCHAR
    END
);
