-- +goose Up
-- The signer's job title, printed on every signature record (21 CFR 11.50
-- asks for the printed name; an auditor also wants the capacity signed in).
ALTER TABLE users ADD COLUMN job_title TEXT NOT NULL DEFAULT '';

-- Per-site settings of the change workflow. A site without a row uses the
-- defaults of the columns (change.DefaultSiteSettings says the same).
CREATE TABLE change_site_settings (
    site_id BIGINT PRIMARY KEY REFERENCES sites(id),
    -- IANA name; signatures record the date and time in this zone.
    time_zone TEXT NOT NULL DEFAULT 'UTC',
    updated_at {{ts}} NOT NULL DEFAULT {{now}}
);

-- One row per signed decision at a control point of a change: approvals,
-- startup, extensions, make-permanent, replacement-in-kind confirmation,
-- emergency authorisation, close-out. The meaning is stored in full as the
-- signer read it, with their printed name and job title at the time, and
-- the time zone the time was shown in.
CREATE TABLE change_signatures (
    id {{id}},
    change_id BIGINT NOT NULL REFERENCES changes(id),
    control_point TEXT NOT NULL,
    -- The approval or extension row the signature decides, if any.
    ref_id BIGINT,
    decision TEXT NOT NULL,
    meaning TEXT NOT NULL,
    signer_id BIGINT REFERENCES users(id),
    printed_name TEXT NOT NULL,
    job_title TEXT NOT NULL DEFAULT '',
    -- The approver's name when a delegate signed for them.
    on_behalf_of TEXT NOT NULL DEFAULT '',
    method TEXT NOT NULL DEFAULT '',
    comment TEXT NOT NULL DEFAULT '',
    signed_at {{ts}} NOT NULL,
    time_zone TEXT NOT NULL DEFAULT 'UTC'
);
CREATE INDEX change_signatures_change ON change_signatures (change_id, id);

-- Signatures given before this migration become records too, with the
-- meaning they had then; their time zone is UTC, as they were shown.
INSERT INTO change_signatures (change_id, control_point, ref_id, decision, meaning, signer_id, printed_name, on_behalf_of,
    method, comment, signed_at)
SELECT a.change_id, 'approval', a.id, a.decision,
    'By signing I ' || CASE WHEN a.decision = 'approved' THEN 'approve ' ELSE 'reject ' END || c.number
        || ' as approver, stage ' || a.stage_no
        || CASE WHEN a.decided_by <> a.approver_id THEN ', on behalf of ' || ap.name ELSE '' END,
    a.decided_by, d.name, CASE WHEN a.decided_by <> a.approver_id THEN ap.name ELSE '' END,
    a.signature_method, a.comment, a.decided_at
FROM change_approvals a
JOIN changes c ON c.id = a.change_id
JOIN users ap ON ap.id = a.approver_id
JOIN users d ON d.id = a.decided_by
WHERE a.decided_at IS NOT NULL
ORDER BY a.decided_at, a.id;

INSERT INTO change_signatures (change_id, control_point, ref_id, decision, meaning, signer_id, printed_name, method, comment, signed_at)
SELECT e.change_id, 'extension', e.id, e.decision,
    'By signing I ' || CASE WHEN e.decision = 'approved' THEN 'approve' ELSE 'reject' END
        || ' the request to extend temporary change ' || c.number,
    e.decided_by, COALESCE(d.name, e.signed_name), e.signature_method, e.comment, e.decided_at
FROM change_extensions e
JOIN changes c ON c.id = e.change_id
LEFT JOIN users d ON d.id = e.decided_by
WHERE e.decided_at IS NOT NULL
ORDER BY e.decided_at, e.id;

INSERT INTO change_signatures (change_id, control_point, decision, meaning, signer_id, printed_name, method, signed_at)
SELECT au.change_id, 'startup', 'authorized', 'By signing I authorise startup of ' || c.number,
    au.actor_id, au.actor_name,
    CASE WHEN au.new_value LIKE '%(password)' THEN 'password' WHEN au.new_value LIKE '%(entra)' THEN 'entra' ELSE '' END,
    au.at
FROM change_audit au
JOIN changes c ON c.id = au.change_id
WHERE au.action = 'startup_authorized'
ORDER BY au.at, au.id;

-- +goose Down
DROP TABLE change_signatures;
DROP TABLE change_site_settings;
ALTER TABLE users DROP COLUMN job_title;
