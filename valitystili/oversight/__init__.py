"""Looking back: reconciliation for cron, the reports, and the client's monthly letter."""
