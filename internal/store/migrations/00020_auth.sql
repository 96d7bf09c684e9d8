-- +goose Up
-- Server-side sessions: the cookie holds a random token, the table only its
-- SHA-256, so a copy of the database cannot be replayed as cookies.
CREATE TABLE sessions (
    id {{id}},
    token_hash TEXT NOT NULL UNIQUE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- Synchronizer token for forms posted with this session.
    csrf_token TEXT NOT NULL,
    -- How the user signed in: password or entra.
    method TEXT NOT NULL,
    created_at {{ts}} NOT NULL,
    last_seen_at {{ts}} NOT NULL,
    -- When the user last proved who they are (sign-in or re-authentication);
    -- electronic signatures need this to be recent.
    auth_at {{ts}} NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Failed sign-ins per account and per client address, in the database so
-- the limit holds across replicas.
CREATE TABLE login_throttle (
    key TEXT PRIMARY KEY,
    failures BIGINT NOT NULL DEFAULT 0,
    window_start {{ts}} NOT NULL,
    locked_until {{ts}}
);

-- An Entra ID sign-in in progress: bound to the browser by a cookie whose
-- hash is flow_hash; single use, valid for a few minutes.
CREATE TABLE oidc_flows (
    flow_hash TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    nonce TEXT NOT NULL,
    verifier TEXT NOT NULL,
    return_to TEXT NOT NULL,
    reauth BOOLEAN NOT NULL DEFAULT FALSE,
    created_at {{ts}} NOT NULL
);

-- Where a role came from: 'app' (assigned by an administrator in mocpcr) or
-- 'entra' (the ID token's roles claim, refreshed at every Entra sign-in).
ALTER TABLE user_roles ADD COLUMN source TEXT NOT NULL DEFAULT 'app';

-- +goose Down
ALTER TABLE user_roles DROP COLUMN source;
DROP TABLE oidc_flows;
DROP TABLE login_throttle;
DROP TABLE sessions;
