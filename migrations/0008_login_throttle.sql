-- Password sign-in is throttled per (account, client address) pair with an exponential delay,
-- instead of a hard lock on the account that any stranger could trigger with five bad passwords.
-- The key is a SHA-256 of the normalized email and the client address (unknown emails are throttled
-- the same way, so the table says nothing about which accounts exist).
CREATE TABLE login_throttle (
  key TEXT PRIMARY KEY NOT NULL,
  failures INTEGER NOT NULL,
  blocked_until TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX login_throttle_updated ON login_throttle(updated_at);
ALTER TABLE users DROP COLUMN failed_login_count;
ALTER TABLE users DROP COLUMN locked_until;
