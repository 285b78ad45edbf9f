-- Login lockouts that hold in every region (issue 14): a region whose failed-login budget for an account
-- runs out records the lockout at the writer (with the sign-in record `auth.lockout`), and every region
-- refuses that account's logins until `locked_until`. Rows are appended (one per lockout, ULID key) and
-- read as "the latest locked_until of the account"; the writer deletes rows a day past their end.
-- `account` is the limiter's account key: `mailbox:<id>` or `admin:<username>`.
CREATE TABLE login_lockouts (
  id TEXT PRIMARY KEY NOT NULL,
  account TEXT NOT NULL,
  locked_until TEXT NOT NULL,
  region TEXT NOT NULL,
  locked_at TEXT NOT NULL
);
CREATE INDEX login_lockouts_account ON login_lockouts (account, locked_until);
