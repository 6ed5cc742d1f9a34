-- 0011: RxNorm and NDC codes with the drug and classes their names give,
-- loaded from a full RxNorm release by `lastmile import rxnorm`, so that a
-- dispense carrying only a code is classified. system is the FHIR code
-- system URI, as in dispenses.code_system; an NDC is 11 digits (5-4-2).
-- Only codes in a drug class are stored.
CREATE TABLE drug_codes (
    system  text NOT NULL,
    code    text NOT NULL,
    name    text NOT NULL,
    drug    text NOT NULL,
    classes text[] NOT NULL,
    PRIMARY KEY (system, code)
);

-- The unclassified dispenses, by code: the ones a newly loaded code classifies.
CREATE INDEX dispenses_unclassified ON dispenses (code_system, code) WHERE drug = '';
