"""The ground floor: money in cents, dates, identifiers (IBAN, references, henkilötunnus), the
banking calendar and Kela's payment days, the chart of accounts, schedules (RFC 5545 rules), text
checks for names and messages, private files, and the domain errors. Imports nothing else of the
service."""
