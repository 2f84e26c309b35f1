-- The terms stay as the rule left them: a rule written off is the terms' own word now.
SELECT 1;
