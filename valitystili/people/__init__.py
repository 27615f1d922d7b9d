"""The people and accounts the service knows: clients and their service record, payees
(landlords, utilities), the city's own bank accounts, and leases."""
