"""The people and accounts the service knows: clients and their service record, their service
periods (closing with a reason, reopening: ``periods``, ``lifecycle``), payees (landlords,
utilities), the city's own bank accounts, and leases."""
