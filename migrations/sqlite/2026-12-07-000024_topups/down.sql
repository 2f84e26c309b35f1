DROP TABLE topups;
