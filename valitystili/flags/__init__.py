"""Flags: one write path that raises and resolves them (``raising``) and the conditions that the
nightly refresh checks (``conditions``; the service record's in ``service_record``, a closing's
in ``closing``)."""
