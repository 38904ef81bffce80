-- Tariff-relevant options of a class (issue 6, TAR-01; the school model of issue 5).
--
-- Cities price some pupils by their class, not only by their home: the « triple tariff »
-- gives a family living outside the city whose child is schooled in a city ULIS class
-- (unité localisée pour l'inclusion scolaire) its own tariff, because the child was placed
-- there by the Éducation nationale rather than by the family's choice. The tariff
-- assignment (src/domain/tariffs/assignment.rs) reads this flag through the child's class
-- of the school year and gives the child the option `ulis`, which the city's rules test.
--
-- A flag on the class, not on the child: the class is what the school declares, and every
-- pupil placed in it gets the option for that school year only (a new year, a new class).
-- school_classes is already audited (enable_audit in the activities migration): marking a
-- class ULIS or not is in its trail.
ALTER TABLE school_classes
    ADD COLUMN ulis boolean NOT NULL DEFAULT false;
