-- read_cell_moments: the cluster-robust variance inputs of each stratum's image-blocked share.
-- Grain: one row per stratum (provider, device) of __read_cells (read_cells.sql). A person belongs to
-- one provider and one device, so a provider's sums are the sums of its strata.
-- Columns: per-person sums over the stratum's people (clusters) of the person's clicks c and clicks
-- without an open u: share__num = sum(u), share__den = sum(c), share__y2 = sum(u*u), share__yn =
-- sum(u*c), share__n2 = sum(c*c), share__k = people with a click (metrics.common's ratio variance).
WITH per_person AS (
    SELECT provider, device, person, sum(c) AS c, sum(u) AS u
    FROM __read_cells GROUP BY ALL
)
SELECT provider, device,
       sum(u) AS share__num, sum(c) AS share__den, sum(u * u) AS share__y2, sum(u * c) AS share__yn,
       sum(c * c) AS share__n2, count(*) FILTER (c > 0) AS share__k
FROM per_person
GROUP BY ALL
ORDER BY provider, device;
