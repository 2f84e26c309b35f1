DROP INDEX ledger_entries_account_time;
DROP TABLE reconciliation_lines;
DROP TABLE reconciliations;
