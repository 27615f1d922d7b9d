"""Who may do what and what they did: users and roles (``auth``, ``users``), the hash-chained
audit trail (``audit``) and the access log of client-data views (``access``)."""
