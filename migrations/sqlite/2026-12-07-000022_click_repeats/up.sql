-- Repeated clicks (issue 32, DESIGN §7 `duplicate_click`, §9 unique clicks): how
-- many earlier clicks the click's visitor (the same IP address and user agent) made
-- on the same link within the offer's window, counted by the process that served
-- the click (up to 64). Clicks stored before were not counted: 0.
ALTER TABLE clicks ADD COLUMN repeat_clicks INTEGER NOT NULL DEFAULT 0;
