ALTER TABLE school_classes DROP COLUMN ulis;
