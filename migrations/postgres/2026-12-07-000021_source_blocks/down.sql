DROP TABLE source_blocks;
