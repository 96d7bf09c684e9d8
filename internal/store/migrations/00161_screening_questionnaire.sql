-- +goose Up
-- Each site's screening questionnaire, versioned like the risk matrix: a
-- change keeps the version it was answered on. The definition is JSON
-- (change.QuestionnaireDefinition): yes/no questions with help text, and
-- what each answer requires (discipline reviews, a hazard review, a PSSR,
-- PSI, procedure and training actions).
CREATE TABLE screening_questionnaires (
    id {{id}},
    site_id BIGINT NOT NULL REFERENCES sites(id),
    version INTEGER NOT NULL,
    definition TEXT NOT NULL,
    created_by BIGINT REFERENCES users(id),
    created_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX screening_questionnaires_site_version ON screening_questionnaires (site_id, version);

-- Version 1 of every site is the twelve checkboxes screening had (eight
-- disciplines, PSI, procedures, hazard review, PSSR), one question each
-- (change.DefaultQuestionnaire, frozen).
INSERT INTO screening_questionnaires (site_id, version, definition, created_at)
SELECT id, 1, '{"questions":[{"key":"process","text":"Does the change affect the process (chemistry, conditions, flows, the operating envelope)?","help":"Adds a process review.","yes":{"disciplines":["process"],"hazard_review":false,"pssr":false,"actions":[]},"no":{"disciplines":[],"hazard_review":false,"pssr":false,"actions":[]}},{"key":"mechanical","text":"Does it affect mechanical equipment or piping?","help":"Adds a mechanical review.","yes":{"disciplines":["mechanical"],"hazard_review":false,"pssr":false,"actions":[]},"no":{"disciplines":[],"hazard_review":false,"pssr":false,"actions":[]}},{"key":"electrical","text":"Does it affect electrical equipment or power supply?","help":"Adds an electrical review.","yes":{"disciplines":["electrical"],"hazard_review":false,"pssr":false,"actions":[]},"no":{"disciplines":[],"hazard_review":false,"pssr":false,"actions":[]}},{"key":"instrumentation","text":"Does it affect instruments, controls, alarms or interlocks?","help":"Adds an instrumentation review.","yes":{"disciplines":["instrumentation"],"hazard_review":false,"pssr":false,"actions":[]},"no":{"disciplines":[],"hazard_review":false,"pssr":false,"actions":[]}},{"key":"operations","text":"Does it change how the unit is operated?","help":"Adds an operations review.","yes":{"disciplines":["operations"],"hazard_review":false,"pssr":false,"actions":[]},"no":{"disciplines":[],"hazard_review":false,"pssr":false,"actions":[]}},{"key":"ehs","text":"Does it affect environment, health or safety (emissions, exposure, permits)?","help":"Adds an EHS review.","yes":{"disciplines":["ehs"],"hazard_review":false,"pssr":false,"actions":[]},"no":{"disciplines":[],"hazard_review":false,"pssr":false,"actions":[]}},{"key":"civil","text":"Does it affect structures, foundations or civil works?","help":"Adds a civil review.","yes":{"disciplines":["civil"],"hazard_review":false,"pssr":false,"actions":[]},"no":{"disciplines":[],"hazard_review":false,"pssr":false,"actions":[]}},{"key":"maintenance","text":"Does it affect maintenance (practices, spares, inspection)?","help":"Adds a maintenance review.","yes":{"disciplines":["maintenance"],"hazard_review":false,"pssr":false,"actions":[]},"no":{"disciplines":[],"hazard_review":false,"pssr":false,"actions":[]}},{"key":"psi","text":"Does process safety information change (P\u0026IDs, data sheets, relief design)?","help":"Adds a required action to update it.","yes":{"disciplines":[],"hazard_review":false,"pssr":false,"actions":["psi"]},"no":{"disciplines":[],"hazard_review":false,"pssr":false,"actions":[]}},{"key":"procedures","text":"Do operating procedures change?","help":"Adds a required action to update them, and the operators'' training before startup.","yes":{"disciplines":[],"hazard_review":false,"pssr":false,"actions":["procedure","training"]},"no":{"disciplines":[],"hazard_review":false,"pssr":false,"actions":[]}},{"key":"hazard_review","text":"Is a hazard review (PHA, HAZOP or what-if) needed?","help":"Adds a hazard review.","yes":{"disciplines":[],"hazard_review":true,"pssr":false,"actions":[]},"no":{"disciplines":[],"hazard_review":false,"pssr":false,"actions":[]}},{"key":"pssr","text":"Is a pre-startup safety review (PSSR) needed?","help":"MOC only: a PCR starts nothing up.","yes":{"disciplines":[],"hazard_review":false,"pssr":true,"actions":[]},"no":{"disciplines":[],"hazard_review":false,"pssr":false,"actions":[]}}]}', {{now}} FROM sites ORDER BY id;

-- Changes screened on the checkboxes carry over as answers to version 1:
-- a ticked discipline or box is a yes. The screening JSON was written by
-- json.Marshal (one object, no spaces), so the answers are appended
-- before its closing brace; carried_over says nobody was asked to
-- confirm them, training_required keeps "procedures change means the
-- roster signs before startup".
UPDATE changes SET screening = substr(screening, 1, length(screening) - 1) ||
    ',"questionnaire_id":' || (SELECT CAST(q.id AS TEXT) FROM screening_questionnaires q WHERE q.site_id = changes.site_id AND q.version = 1) ||
    ',"questionnaire_version":1,"answers":' ||
        '{"process":' || CASE WHEN screening LIKE '%"process"%' THEN '"yes"' ELSE '"no"' END ||
        ',"mechanical":' || CASE WHEN screening LIKE '%"mechanical"%' THEN '"yes"' ELSE '"no"' END ||
        ',"electrical":' || CASE WHEN screening LIKE '%"electrical"%' THEN '"yes"' ELSE '"no"' END ||
        ',"instrumentation":' || CASE WHEN screening LIKE '%"instrumentation"%' THEN '"yes"' ELSE '"no"' END ||
        ',"operations":' || CASE WHEN screening LIKE '%"operations"%' THEN '"yes"' ELSE '"no"' END ||
        ',"ehs":' || CASE WHEN screening LIKE '%"ehs"%' THEN '"yes"' ELSE '"no"' END ||
        ',"civil":' || CASE WHEN screening LIKE '%"civil"%' THEN '"yes"' ELSE '"no"' END ||
        ',"maintenance":' || CASE WHEN screening LIKE '%"maintenance"%' THEN '"yes"' ELSE '"no"' END ||
        ',"psi":' || CASE WHEN screening LIKE '%"psi_changes":true%' THEN '"yes"' ELSE '"no"' END ||
        ',"procedures":' || CASE WHEN screening LIKE '%"procedures_change":true%' THEN '"yes"' ELSE '"no"' END ||
        ',"hazard_review":' || CASE WHEN screening LIKE '%"hazard_review_needed":true%' THEN '"yes"' ELSE '"no"' END ||
        ',"pssr":' || CASE WHEN screening LIKE '%"pssr_needed":true%' THEN '"yes"' ELSE '"no"' END || '}' ||
    CASE WHEN screening LIKE '%"procedures_change":true%' THEN ',"training_required":true' ELSE '' END ||
    ',"carried_over":true}'
WHERE screening LIKE '{%}' AND screening NOT LIKE '%"questionnaire_id"%';

-- +goose Down
-- The answers stay in the screening JSON: code before this migration
-- reads the checkboxes' fields and ignores the rest.
DROP TABLE screening_questionnaires;
