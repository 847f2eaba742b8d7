-- read_bootstrap: a Poisson bootstrap over people of the stratified read estimator's counts.
-- Grain: one row per (rep, provider, device, age_years). rep 0 is the data itself (every weight 1);
-- reps 1..$replicates give every person a weight drawn from Poisson(1), the same for all of the
-- person's messages (clustered by person: reading habits, devices and image settings belong to a
-- person, so their messages are not independent).
-- Parameters: $replicates (number of bootstrap replicates), $seed (any integer; same seed, same draws).
-- The weight is a pure function of (person, rep, seed): u = the top 53 bits of hash(person, rep, seed)
-- / 2^53, w = the Poisson(1) quantile of u (inverse CDF; values above 7 have probability < 1e-5 and
-- are capped at 7). No random() (whose draws depend on the thread schedule): a run is reproducible.
-- Columns: rep, provider, device, age_years, d, o, c, u (weighted sums of read_cells.sql's counts).
WITH reps AS (SELECT CAST(range AS BIGINT) AS rep FROM range(0, $replicates + 1)),
drawn AS (
    SELECT r.rep, c.provider, c.device, c.age_years, c.d, c.o, c.c, c.u,
           CASE WHEN r.rep = 0 THEN 1.0
                ELSE CAST(hash(c.person, r.rep, CAST($seed AS BIGINT)) >> 11 AS DOUBLE) / 9007199254740992.0
           END AS x
    FROM __read_cells AS c CROSS JOIN reps AS r
),
weighted AS (
    SELECT rep, provider, device, age_years, d, o, c, u,
           CASE WHEN rep = 0 THEN 1
                WHEN x < 0.36787944 THEN 0 WHEN x < 0.73575888 THEN 1 WHEN x < 0.91969860 THEN 2
                WHEN x < 0.98101184 THEN 3 WHEN x < 0.99634015 THEN 4 WHEN x < 0.99940582 THEN 5
                WHEN x < 0.99991676 THEN 6 ELSE 7 END AS w
    FROM drawn
)
SELECT rep, provider, device, age_years,
       sum(w * d) AS d, sum(w * o) AS o, sum(w * c) AS c, sum(w * u) AS u
FROM weighted
WHERE w > 0
GROUP BY ALL
ORDER BY rep, provider, device, age_years;
