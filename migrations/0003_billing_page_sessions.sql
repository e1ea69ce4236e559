-- Billing pages: hand-off tokens from the base application are single use. A token's jti is
-- recorded when it is exchanged for a session cookie; rows are kept until the token would have
-- expired anyway (then deleted opportunistically).
CREATE TABLE used_handoff_tokens (
  jti TEXT PRIMARY KEY NOT NULL,
  organization_id TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
CREATE INDEX used_handoff_tokens_expires ON used_handoff_tokens(expires_at);
