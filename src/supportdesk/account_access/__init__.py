"""Account access: customer-approved, scoped, expiring grants for one named specialist,
the short-lived support access tokens they mint, and the hash-chained access log."""
