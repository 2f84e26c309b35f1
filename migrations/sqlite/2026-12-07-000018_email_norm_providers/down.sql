-- The earlier form (trimmed and lower-cased only) is not kept: this leaves the
-- provider-normalised values, which the previous version compares just as well
-- with one another.
SELECT 1;
