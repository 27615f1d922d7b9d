"""Looking back: reconciliation for cron, the reports, the client's monthly letter, and the
handover pack of a service that ends (``handover``)."""
