-- +goose Up
-- Each site's risk matrix, versioned: saving it writes the next version,
-- and a change keeps the version it was assessed with (its
-- risk_assessment names it). The definition is JSON (change.RiskMatrixDefinition):
-- severities, likelihoods, consequence categories, the four levels with
-- their labels, colours and the approval stages each requires, and the
-- level of every cell.
CREATE TABLE risk_matrices (
    id {{id}},
    site_id BIGINT NOT NULL REFERENCES sites(id),
    version INTEGER NOT NULL,
    definition TEXT NOT NULL,
    created_by BIGINT REFERENCES users(id),
    created_at {{ts}} NOT NULL
);
CREATE UNIQUE INDEX risk_matrices_site_version ON risk_matrices (site_id, version);

-- A change's assessment (JSON, change.RiskAssessment: the matrix version,
-- severity and likelihood before and after the change per category, the
-- mitigations) and the level before it. risk_ranking stays the level
-- after the change, which the list, its filters, the CSV and the
-- dashboard read: a change ranked before the matrix keeps its ranking,
-- with no assessment.
ALTER TABLE changes ADD COLUMN risk_before TEXT NOT NULL DEFAULT '';
ALTER TABLE changes ADD COLUMN risk_assessment TEXT NOT NULL DEFAULT '';

-- Rankings were stored as typed into early API clients; the levels are
-- the four keys now.
UPDATE changes SET risk_ranking = lower(trim(risk_ranking)) WHERE risk_ranking <> lower(trim(risk_ranking));
UPDATE changes SET risk_ranking = 'very_high' WHERE risk_ranking IN ('very high', 'very-high', 'veryhigh');
UPDATE changes SET risk_ranking = '' WHERE risk_ranking NOT IN ('', 'low', 'medium', 'high', 'very_high');
CREATE INDEX changes_site_risk ON changes (site_id, risk_ranking);

-- Every site starts on the default 5 x 5 matrix (change.DefaultRiskMatrix, frozen).
INSERT INTO risk_matrices (site_id, version, definition, created_at)
SELECT id, 1, '{"severities":[{"label":"Minor","help":"First aid; no lasting effect"},{"label":"Moderate","help":"Recordable injury; minor release contained on site"},{"label":"Serious","help":"Lost-time injury; reportable release"},{"label":"Major","help":"Permanent disability; release with off-site effect"},{"label":"Catastrophic","help":"Fatality; major off-site release"}],"likelihoods":[{"label":"Rare","help":"Not expected in the life of the plant"},{"label":"Unlikely","help":"Could happen once in the life of the plant"},{"label":"Possible","help":"Could happen once in 10 years"},{"label":"Likely","help":"Could happen once a year"},{"label":"Almost certain","help":"Expected several times a year"}],"categories":[{"key":"people","label":"People"},{"key":"environment","label":"Environment"},{"key":"asset","label":"Asset"},{"key":"reputation","label":"Reputation"}],"levels":[{"key":"low","label":"Low","colour":"#2e7d32","required_stages":[]},{"key":"medium","label":"Medium","colour":"#f9a825","required_stages":[]},{"key":"high","label":"High","colour":"#ef6c00","required_stages":[]},{"key":"very_high","label":"Very high","colour":"#c62828","required_stages":[]}],"cells":[["low","low","low","low","medium"],["low","low","medium","medium","high"],["low","medium","medium","high","high"],["low","medium","high","high","very_high"],["medium","high","high","very_high","very_high"]],"stages":[]}', {{now}} FROM sites ORDER BY id;

-- +goose Down
DROP INDEX changes_site_risk;
ALTER TABLE changes DROP COLUMN risk_assessment;
ALTER TABLE changes DROP COLUMN risk_before;
DROP TABLE risk_matrices;
