-- +goose Up
CREATE TABLE sites (
    id {{id}},
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at {{ts}} NOT NULL DEFAULT {{now}}
);

CREATE TABLE users (
    id {{id}},
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    -- NULL for users who only sign in with Entra ID.
    password_hash TEXT,
    entra_oid TEXT UNIQUE,
    manager_id BIGINT REFERENCES users(id),
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at {{ts}} NOT NULL DEFAULT {{now}},
    updated_at {{ts}} NOT NULL DEFAULT {{now}}
);
CREATE UNIQUE INDEX users_email ON users (lower(email));

CREATE TABLE user_roles (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
);

-- A user with no rows here may act on every site.
CREATE TABLE user_sites (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    site_id BIGINT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, site_id)
);

CREATE TABLE api_tokens (
    id {{id}},
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    -- SHA-256 of the token; the token itself is shown once and never stored.
    token_hash TEXT NOT NULL UNIQUE,
    created_at {{ts}} NOT NULL DEFAULT {{now}},
    last_used_at {{ts}},
    revoked_at {{ts}}
);

CREATE TABLE dev_mailbox (
    id {{id}},
    sender TEXT NOT NULL,
    to_addrs TEXT NOT NULL,
    cc_addrs TEXT NOT NULL DEFAULT '',
    subject TEXT NOT NULL,
    html_body TEXT NOT NULL,
    headers TEXT NOT NULL DEFAULT '{}',
    created_at {{ts}} NOT NULL DEFAULT {{now}}
);

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at {{ts}} NOT NULL DEFAULT {{now}}
);

-- +goose Down
DROP TABLE settings;
DROP TABLE dev_mailbox;
DROP TABLE api_tokens;
DROP TABLE user_sites;
DROP TABLE user_roles;
DROP TABLE users;
DROP TABLE sites;
