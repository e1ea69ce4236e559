-- The organization's default VEX policy for analyses that do not choose one (issue #13):
-- 'standard' issues not_affected at high or medium confidence, 'strict' only at high.
ALTER TABLE organizations ADD COLUMN default_vex_policy TEXT NOT NULL DEFAULT 'standard' CHECK (default_vex_policy IN ('standard', 'strict'));
