DROP INDEX leads_advertiser_txid;
DROP TABLE verdict_uploads;
DROP TABLE lead_verdicts;
