-- +goose Up
-- A sensible default pre-startup safety review checklist; admins edit it
-- (or add others) through the PSSR template API.
INSERT INTO pssr_templates (name, is_default, created_at, updated_at)
VALUES ('Standard PSSR (OSHA 1910.119(i))', TRUE, {{now}}, {{now}});
INSERT INTO pssr_template_items (template_id, position, text, evidence_required)
SELECT id, 1, 'Construction and equipment are in accordance with design specifications', TRUE FROM pssr_templates WHERE is_default;
INSERT INTO pssr_template_items (template_id, position, text, evidence_required)
SELECT id, 2, 'Safety, operating, maintenance and emergency procedures are in place and adequate', FALSE FROM pssr_templates WHERE is_default;
INSERT INTO pssr_template_items (template_id, position, text, evidence_required)
SELECT id, 3, 'Process hazard analysis recommendations are resolved or implemented before startup', FALSE FROM pssr_templates WHERE is_default;
INSERT INTO pssr_template_items (template_id, position, text, evidence_required)
SELECT id, 4, 'Process safety information (P&IDs, data sheets, relief design) is updated', TRUE FROM pssr_templates WHERE is_default;
INSERT INTO pssr_template_items (template_id, position, text, evidence_required)
SELECT id, 5, 'Training of each employee involved in operating the process is complete', FALSE FROM pssr_templates WHERE is_default;
INSERT INTO pssr_template_items (template_id, position, text, evidence_required)
SELECT id, 6, 'Pressure tests, leak tests and instrument loop checks are complete', TRUE FROM pssr_templates WHERE is_default;
INSERT INTO pssr_template_items (template_id, position, text, evidence_required)
SELECT id, 7, 'Safety systems (interlocks, alarms, relief devices) are functional and tested', FALSE FROM pssr_templates WHERE is_default;
INSERT INTO pssr_template_items (template_id, position, text, evidence_required)
SELECT id, 8, 'Temporary equipment, blinds and isolations are removed or accounted for', FALSE FROM pssr_templates WHERE is_default;

-- +goose Down
DELETE FROM pssr_template_items WHERE template_id IN (SELECT id FROM pssr_templates WHERE is_default);
DELETE FROM pssr_templates WHERE is_default;
