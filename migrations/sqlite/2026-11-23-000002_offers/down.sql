DROP TABLE offer_publishers;
DROP TABLE offers;
