-- The CNAF PSU barème (floors, ceilings and effort rates of the crèches) as platform
-- reference data: SITIV records a new version each year from the console, without a
-- release. Each row is a whole barème (every period), validated by the application
-- (Bareme::validate) before it is written; the latest recorded row is in force. Rows are
-- never changed nor deleted: a correction is a new version, and the audit trail keeps who
-- recorded what.

CREATE TABLE platform.cnaf_bareme_versions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    content     text NOT NULL CHECK (length(content) BETWEEN 1 AND 200000),
    author      text NOT NULL CHECK (length(btrim(author)) > 0),
    comment     text NOT NULL DEFAULT '',
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON platform.cnaf_bareme_versions
    FOR EACH ROW EXECUTE FUNCTION platform.audit_row();

CREATE FUNCTION platform.cnaf_bareme_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'le barème CNAF ne se modifie pas : enregistrez une nouvelle version';
END $$;
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON platform.cnaf_bareme_versions
    FOR EACH ROW EXECUTE FUNCTION platform.cnaf_bareme_append_only();

-- Seeded with the barème shipped in data/cnaf/bareme-psu.toml (a unit test checks that
-- this copy is the shipped file, byte for byte).
INSERT INTO platform.cnaf_bareme_versions (content, author, comment) VALUES ($bareme$# Barème national des participations familiales — Prestation de service unique (PSU), EAJE.
#
# Reference data shipped with Marelle and updated by SITIV each year without a release
# (loaded by `Bareme::from_toml_str`, which refuses overlapping periods, non-positive rates,
# rates that rise with the number of children, a floor above the ceiling, and floats).
#
# Hourly rate = monthly resources (yearly N-2 resources / 12), held between the floor
# (plancher) and the ceiling (plafond) in force on the day, × the effort rate for the number of
# dependent children and the care type. Each child of the household receiving the AEEH gives the
# rate of one more child ("taux d'effort immédiatement inférieur", as many times as there are
# such children).
#
# Rates are written as the CNAF prints them: "0.0516" means 0.0516 % (3 000 € × 0.0516 % =
# 1.548 € per hour). Amounts are euros, as strings. Periods: valid_from and valid_to inclusive.
# Rows: the rate applies from `children` children up to the next row (the CNAF groups rows,
# e.g. "4 à 7 enfants"); the last row applies to any larger household.
#
# SOURCES
# - Circulaire CNAF n° 2019-005 du 5 juin 2019 (barème national des participations familiales):
#   effort rates raised by 0.8 % a year from 1 Sept 2019 to 1 Jan 2022; micro-crèches aligned on
#   the collective barème; ceiling raised from 4 874.62 € to 5 300 € (1 Sept 2019), 5 600 €
#   (2020), 5 800 € (2021) and 6 000 € (2022); floor revised each 1 January.
# - CNAF decision (FNAS budget 2024), relayed by the CAFs (e.g. CAF du Loiret, "EAJE PSU –
#   Evolution du montant plafond des participations au 1er septembre 2024"): ceiling 6 000 €
#   unchanged since 2022 and until 31 Aug 2024, raised to 7 000 € from 1 Sept 2024; a manager
#   may not apply a lower ceiling, but may keep applying the effort rate above it with the CAF's
#   agreement.
# - CNAF Conseil d'administration decision (FNAS budget 2025), relayed on caf.fr on 15 May 2025
#   ("Le plafond de ressources mensuelles en hausse pour les EAJE au 1er septembre 2025"):
#   ceiling 8 500 € from 1 Sept 2025, for all contracts including current ones; it "ne peut être
#   inférieur à 8 500 euros (sauf accord avec la Caf)".
# - Floors: yearly amounts published by the CNAF on caf.fr ("montant plancher"). The floor is the
#   RSA socle for a single parent with one child, less the housing allowance ("forfait
#   logement"), as in force on 1 January; each figure below was checked against that formula.
#
# FIGURES WE ARE NOT CERTAIN OF (to be checked against the CNAF texts by SITIV):
# - 2021 ceiling 5 800 €: recalled from circulaire 2019-005's schedule, not re-read.
# - 2024 floor 765.77 € and 2025 floor 801.00 €: recalled, and consistent with the RSA formula
#   (RSA 607.75 € → 765.77 €; RSA 635.71 € → 801.00 €).
# - 2026 floor 814.62 €: COMPUTED by us from the formula (RSA 646.52 € at 1 April 2025), not
#   read in a CNAF publication. The 2026 period ends 2026-12-31 on purpose: later days are
#   refused ("aucun barème PSU") until SITIV loads the next year, rather than priced with a
#   stale floor.
# - Familial and parental care rows (1, 2, 3 to 5, 6 and more children): recalled from the
#   circulaire's second table; an older table grouped them as 4 to 7 / 8 to 10 like collective
#   care. Verify before relying on households of 4 children or more in familial/parental care.
# - Households of more than 10 children: the CNAF tables stop at "8 à 10 enfants"; we apply
#   that last row beyond 10.
# - Rates frozen at their 2022 level since 1 Jan 2022 (no later change known when this file
#   was written); the table is open-ended.

# ---------------------------------------------------------------------------------------------
# Floors and ceilings (euros per month)
# ---------------------------------------------------------------------------------------------

[[resource_limits]]
id = "2019-09"
valid_from = "2019-09-01"
valid_to = "2019-12-31"
floor = "705.27"
ceiling = "5300.00"
source = "Circulaire CNAF 2019-005 ; plancher 2019"

[[resource_limits]]
id = "2020"
valid_from = "2020-01-01"
valid_to = "2020-12-31"
floor = "705.27"
ceiling = "5600.00"
source = "Circulaire CNAF 2019-005 ; plancher 2020"

[[resource_limits]]
id = "2021"
valid_from = "2021-01-01"
valid_to = "2021-12-31"
floor = "711.62"
ceiling = "5800.00"
source = "Circulaire CNAF 2019-005 ; plancher 2021"

[[resource_limits]]
id = "2022"
valid_from = "2022-01-01"
valid_to = "2022-12-31"
floor = "712.33"
ceiling = "6000.00"
source = "Circulaire CNAF 2019-005 ; plancher 2022"

[[resource_limits]]
id = "2023"
valid_from = "2023-01-01"
valid_to = "2023-12-31"
floor = "754.16"
ceiling = "6000.00"
source = "Plafond 2022 maintenu ; plancher 2023"

[[resource_limits]]
id = "2024-01"
valid_from = "2024-01-01"
valid_to = "2024-08-31"
floor = "765.77"
ceiling = "6000.00"
source = "Plafond 2022 maintenu jusqu'au 31/08/2024 ; plancher 2024"

[[resource_limits]]
id = "2024-09"
valid_from = "2024-09-01"
valid_to = "2024-12-31"
floor = "765.77"
ceiling = "7000.00"
source = "Décision CNAF (budget FNAS 2024) : plafond 7 000 € au 01/09/2024 ; plancher 2024"

[[resource_limits]]
id = "2025-01"
valid_from = "2025-01-01"
valid_to = "2025-08-31"
floor = "801.00"
ceiling = "7000.00"
source = "Plafond 7 000 € ; plancher 2025"

[[resource_limits]]
id = "2025-09"
valid_from = "2025-09-01"
valid_to = "2025-12-31"
floor = "801.00"
ceiling = "8500.00"
source = "Décision CNAF (budget FNAS 2025) : plafond 8 500 € au 01/09/2025 ; plancher 2025"

[[resource_limits]]
id = "2026"
valid_from = "2026-01-01"
valid_to = "2026-12-31"
floor = "814.62"
ceiling = "8500.00"
source = "Plafond 8 500 € ; plancher 2026 calculé (RSA au 01/04/2025), à confirmer"

# ---------------------------------------------------------------------------------------------
# Effort rates (percent per billed hour)
# Micro-crèches: same rates as collective care since circulaire 2019-005.
# ---------------------------------------------------------------------------------------------

[[effort_rates]]
id = "2019-09"
valid_from = "2019-09-01"
valid_to = "2019-12-31"
source = "Circulaire CNAF 2019-005, taux au 01/09/2019"
collective = [
    { children = 1, rate = "0.0605" },
    { children = 2, rate = "0.0504" },
    { children = 3, rate = "0.0403" },
    { children = 4, rate = "0.0302" },
    { children = 8, rate = "0.0202" },
]
micro = [
    { children = 1, rate = "0.0605" },
    { children = 2, rate = "0.0504" },
    { children = 3, rate = "0.0403" },
    { children = 4, rate = "0.0302" },
    { children = 8, rate = "0.0202" },
]
familial = [
    { children = 1, rate = "0.0504" },
    { children = 2, rate = "0.0403" },
    { children = 3, rate = "0.0302" },
    { children = 6, rate = "0.0202" },
]
parental = [
    { children = 1, rate = "0.0504" },
    { children = 2, rate = "0.0403" },
    { children = 3, rate = "0.0302" },
    { children = 6, rate = "0.0202" },
]

[[effort_rates]]
id = "2020"
valid_from = "2020-01-01"
valid_to = "2020-12-31"
source = "Circulaire CNAF 2019-005, taux au 01/01/2020"
collective = [
    { children = 1, rate = "0.0610" },
    { children = 2, rate = "0.0508" },
    { children = 3, rate = "0.0406" },
    { children = 4, rate = "0.0305" },
    { children = 8, rate = "0.0203" },
]
micro = [
    { children = 1, rate = "0.0610" },
    { children = 2, rate = "0.0508" },
    { children = 3, rate = "0.0406" },
    { children = 4, rate = "0.0305" },
    { children = 8, rate = "0.0203" },
]
familial = [
    { children = 1, rate = "0.0508" },
    { children = 2, rate = "0.0406" },
    { children = 3, rate = "0.0305" },
    { children = 6, rate = "0.0203" },
]
parental = [
    { children = 1, rate = "0.0508" },
    { children = 2, rate = "0.0406" },
    { children = 3, rate = "0.0305" },
    { children = 6, rate = "0.0203" },
]

[[effort_rates]]
id = "2021"
valid_from = "2021-01-01"
valid_to = "2021-12-31"
source = "Circulaire CNAF 2019-005, taux au 01/01/2021"
collective = [
    { children = 1, rate = "0.0615" },
    { children = 2, rate = "0.0512" },
    { children = 3, rate = "0.0410" },
    { children = 4, rate = "0.0307" },
    { children = 8, rate = "0.0205" },
]
micro = [
    { children = 1, rate = "0.0615" },
    { children = 2, rate = "0.0512" },
    { children = 3, rate = "0.0410" },
    { children = 4, rate = "0.0307" },
    { children = 8, rate = "0.0205" },
]
familial = [
    { children = 1, rate = "0.0512" },
    { children = 2, rate = "0.0410" },
    { children = 3, rate = "0.0307" },
    { children = 6, rate = "0.0205" },
]
parental = [
    { children = 1, rate = "0.0512" },
    { children = 2, rate = "0.0410" },
    { children = 3, rate = "0.0307" },
    { children = 6, rate = "0.0205" },
]

[[effort_rates]]
id = "2022"
valid_from = "2022-01-01"
source = "Circulaire CNAF 2019-005, taux au 01/01/2022, inchangés depuis"
collective = [
    { children = 1, rate = "0.0619" },
    { children = 2, rate = "0.0516" },
    { children = 3, rate = "0.0413" },
    { children = 4, rate = "0.0310" },
    { children = 8, rate = "0.0206" },
]
micro = [
    { children = 1, rate = "0.0619" },
    { children = 2, rate = "0.0516" },
    { children = 3, rate = "0.0413" },
    { children = 4, rate = "0.0310" },
    { children = 8, rate = "0.0206" },
]
familial = [
    { children = 1, rate = "0.0516" },
    { children = 2, rate = "0.0413" },
    { children = 3, rate = "0.0310" },
    { children = 6, rate = "0.0206" },
]
parental = [
    { children = 1, rate = "0.0516" },
    { children = 2, rate = "0.0413" },
    { children = 3, rate = "0.0310" },
    { children = 6, rate = "0.0206" },
]
$bareme$,
    'livraison Marelle', 'barème livré avec Marelle (data/cnaf/bareme-psu.toml)');
