-- The billing pages' single-use sign-in links were called "hand-off" tokens; the word now has no
-- other meaning to share, but it named the removed job hand-off too. Same rows, clearer name.
ALTER TABLE used_handoff_tokens RENAME TO used_sign_in_tokens;
DROP INDEX used_handoff_tokens_expires;
CREATE INDEX used_sign_in_tokens_expires ON used_sign_in_tokens(expires_at);
