-- +goose Up
-- Units belong to a site (NRF/CDU-1, SCP/AMM-2...); changes are filed
-- against a site and optionally a unit.
CREATE TABLE units (
    id {{id}},
    site_id BIGINT NOT NULL REFERENCES sites(id),
    code TEXT NOT NULL,
    name TEXT NOT NULL
);
CREATE UNIQUE INDEX units_site_code ON units (site_id, code);

-- One counter per kind and year makes numbers like MOC-2026-0042. It is
-- bumped with an upsert inside the creating transaction, so two creators
-- never get the same number; the unique index on changes.number is the
-- second guard.
CREATE TABLE change_counters (
    kind TEXT NOT NULL,
    year INTEGER NOT NULL,
    last_value BIGINT NOT NULL,
    PRIMARY KEY (kind, year)
);

CREATE TABLE changes (
    id {{id}},
    number TEXT NOT NULL,
    kind TEXT NOT NULL,
    duration TEXT NOT NULL,
    stage TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    site_id BIGINT NOT NULL REFERENCES sites(id),
    unit_id BIGINT REFERENCES units(id),
    -- Equipment tags, one per line, upper-case (P-101A).
    equipment_tags TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '',
    risk_ranking TEXT NOT NULL DEFAULT '',
    -- OSHA 1910.119(l)(2).
    technical_basis TEXT NOT NULL DEFAULT '',
    safety_health_impact TEXT NOT NULL DEFAULT '',
    procedure_changes TEXT NOT NULL DEFAULT '',
    time_period TEXT NOT NULL DEFAULT '',
    authorization_required TEXT NOT NULL DEFAULT '',
    expires_on {{ts}},
    review_deadline {{ts}},
    initiator_id BIGINT NOT NULL REFERENCES users(id),
    -- Screening answers (JSON) and what they decided.
    screening TEXT NOT NULL DEFAULT '',
    pssr_required BOOLEAN NOT NULL DEFAULT FALSE,
    -- Each submission starts a new round of reviews and approvals; old
    -- rounds stay as history.
    round INTEGER NOT NULL DEFAULT 0,
    return_comment TEXT NOT NULL DEFAULT '',
    void_reason TEXT NOT NULL DEFAULT '',
    closed_note TEXT NOT NULL DEFAULT '',
    reverted_at {{ts}},
    -- Bumped by every mutation: the UPDATE takes the row lock on both
    -- engines, which serialises work on one change (and its audit chain).
    lock_version BIGINT NOT NULL DEFAULT 0,
    created_at {{ts}} NOT NULL,
    updated_at {{ts}} NOT NULL,
    submitted_at {{ts}},
    approved_at {{ts}},
    startup_at {{ts}},
    closed_at {{ts}}
);
CREATE UNIQUE INDEX changes_number ON changes (number);
CREATE INDEX changes_site_stage ON changes (site_id, stage);
CREATE INDEX changes_initiator ON changes (initiator_id);

CREATE TABLE change_reviews (
    id {{id}},
    change_id BIGINT NOT NULL REFERENCES changes(id),
    round INTEGER NOT NULL,
    discipline TEXT NOT NULL,
    reviewer_id BIGINT REFERENCES users(id),
    requested_at {{ts}},
    decision TEXT NOT NULL DEFAULT '',
    comment TEXT NOT NULL DEFAULT '',
    decided_by BIGINT REFERENCES users(id),
    decided_at {{ts}}
);
CREATE UNIQUE INDEX change_reviews_round_discipline ON change_reviews (change_id, round, discipline);

CREATE TABLE change_approvals (
    id {{id}},
    change_id BIGINT NOT NULL REFERENCES changes(id),
    round INTEGER NOT NULL,
    -- Stages run in order; approvals within a stage run in parallel.
    stage_no INTEGER NOT NULL,
    approver_id BIGINT NOT NULL REFERENCES users(id),
    requested_at {{ts}},
    decision TEXT NOT NULL DEFAULT '',
    comment TEXT NOT NULL DEFAULT '',
    -- Who actually decided: the approver or a delegate.
    decided_by BIGINT REFERENCES users(id),
    signed_name TEXT NOT NULL DEFAULT '',
    signature_method TEXT NOT NULL DEFAULT '',
    decided_at {{ts}}
);
CREATE UNIQUE INDEX change_approvals_round_stage_approver ON change_approvals (change_id, round, stage_no, approver_id);
CREATE INDEX change_approvals_pending ON change_approvals (approver_id) WHERE decided_at IS NULL;

CREATE TABLE delegations (
    id {{id}},
    delegator_id BIGINT NOT NULL REFERENCES users(id),
    delegate_id BIGINT NOT NULL REFERENCES users(id),
    starts_on {{ts}} NOT NULL,
    ends_on {{ts}} NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    created_at {{ts}} NOT NULL,
    revoked_at {{ts}}
);
CREATE INDEX delegations_delegate ON delegations (delegate_id);

CREATE TABLE change_actions (
    id {{id}},
    change_id BIGINT NOT NULL REFERENCES changes(id),
    title TEXT NOT NULL,
    -- general, psi, procedure, deficiency
    kind TEXT NOT NULL DEFAULT 'general',
    owner_id BIGINT NOT NULL REFERENCES users(id),
    due_on {{ts}},
    -- before_startup actions block the PSSR and startup.
    before_startup BOOLEAN NOT NULL DEFAULT TRUE,
    pssr_item_id BIGINT,
    status TEXT NOT NULL DEFAULT 'open',
    note TEXT NOT NULL DEFAULT '',
    created_by BIGINT REFERENCES users(id),
    created_at {{ts}} NOT NULL,
    completed_by BIGINT REFERENCES users(id),
    completed_at {{ts}}
);
CREATE INDEX change_actions_change ON change_actions (change_id);
CREATE INDEX change_actions_owner_open ON change_actions (owner_id) WHERE status = 'open';

CREATE TABLE pssr_templates (
    id {{id}},
    name TEXT NOT NULL,
    is_default BOOLEAN NOT NULL DEFAULT FALSE,
    created_at {{ts}} NOT NULL,
    updated_at {{ts}} NOT NULL
);
CREATE TABLE pssr_template_items (
    id {{id}},
    template_id BIGINT NOT NULL REFERENCES pssr_templates(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    text TEXT NOT NULL,
    evidence_required BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX pssr_template_items_template ON pssr_template_items (template_id, position);

CREATE TABLE change_attachments (
    id {{id}},
    change_id BIGINT NOT NULL REFERENCES changes(id),
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    data {{blob}} NOT NULL,
    uploaded_by BIGINT NOT NULL REFERENCES users(id),
    uploaded_at {{ts}} NOT NULL
);
CREATE INDEX change_attachments_change ON change_attachments (change_id);

-- A change's PSSR checklist: a copy of the template's items taken when the
-- change reaches PSSR, so editing the template never rewrites history.
CREATE TABLE pssr_items (
    id {{id}},
    change_id BIGINT NOT NULL REFERENCES changes(id),
    position INTEGER NOT NULL,
    text TEXT NOT NULL,
    evidence_required BOOLEAN NOT NULL DEFAULT FALSE,
    answer TEXT NOT NULL DEFAULT '',
    comment TEXT NOT NULL DEFAULT '',
    attachment_id BIGINT REFERENCES change_attachments(id),
    answered_by BIGINT REFERENCES users(id),
    answered_at {{ts}}
);
CREATE INDEX pssr_items_change ON pssr_items (change_id, position);

CREATE TABLE change_acknowledgements (
    change_id BIGINT NOT NULL REFERENCES changes(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    added_at {{ts}} NOT NULL,
    acknowledged_at {{ts}},
    PRIMARY KEY (change_id, user_id)
);

-- Extending a temporary change needs re-approval.
CREATE TABLE change_extensions (
    id {{id}},
    change_id BIGINT NOT NULL REFERENCES changes(id),
    old_expires_on {{ts}} NOT NULL,
    new_expires_on {{ts}} NOT NULL,
    reason TEXT NOT NULL,
    requested_by BIGINT NOT NULL REFERENCES users(id),
    requested_at {{ts}} NOT NULL,
    decision TEXT NOT NULL DEFAULT '',
    comment TEXT NOT NULL DEFAULT '',
    decided_by BIGINT REFERENCES users(id),
    signed_name TEXT NOT NULL DEFAULT '',
    decided_at {{ts}}
);

-- The audit trail: append-only, one hash chain per change. Each entry's
-- hash is sha256(prev_hash || canonical JSON of the entry).
CREATE TABLE change_audit (
    id {{id}},
    change_id BIGINT NOT NULL REFERENCES changes(id),
    seq BIGINT NOT NULL,
    at {{ts}} NOT NULL,
    actor_id BIGINT,
    actor_name TEXT NOT NULL,
    on_behalf_of TEXT NOT NULL DEFAULT '',
    action TEXT NOT NULL,
    field TEXT NOT NULL DEFAULT '',
    old_value TEXT NOT NULL DEFAULT '',
    new_value TEXT NOT NULL DEFAULT '',
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE UNIQUE INDEX change_audit_chain ON change_audit (change_id, seq);

-- One row: how reminders and escalations behave.
CREATE TABLE reminder_settings (
    id INTEGER PRIMARY KEY,
    pending_after_days INTEGER NOT NULL,
    escalate_after_days INTEGER NOT NULL,
    action_due_soon_days INTEGER NOT NULL,
    expiry_warning_days TEXT NOT NULL,
    run_hour_utc INTEGER NOT NULL,
    updated_at {{ts}} NOT NULL DEFAULT {{now}}
);
INSERT INTO reminder_settings (id, pending_after_days, escalate_after_days, action_due_soon_days, expiry_warning_days, run_hour_utc)
VALUES (1, 3, 2, 3, '14,7,1', 6);

-- A reminder is sent at most once per thing, recipient and day: the row
-- is inserted in the same transaction as the notification.
CREATE TABLE reminders_sent (
    kind TEXT NOT NULL,
    item_id BIGINT NOT NULL,
    recipient BIGINT NOT NULL,
    day TEXT NOT NULL,
    sent_at {{ts}} NOT NULL,
    UNIQUE (kind, item_id, recipient, day)
);

-- +goose Down
DROP TABLE reminders_sent;
DROP TABLE reminder_settings;
DROP TABLE change_audit;
DROP TABLE change_extensions;
DROP TABLE change_acknowledgements;
DROP TABLE pssr_items;
DROP TABLE change_attachments;
DROP TABLE pssr_template_items;
DROP TABLE pssr_templates;
DROP TABLE change_actions;
DROP TABLE delegations;
DROP TABLE change_approvals;
DROP TABLE change_reviews;
DROP TABLE changes;
DROP TABLE change_counters;
DROP TABLE units;
