"""Building scenarios for the tests: a world of users, payees and clients (``scenario``),
statement files for the readers (``readers``) and for the import (``statements``)."""
