"""What the client's plan says and what falls due when: payment plans (TOML, versions, the one
"in force" rule), bills, expected incomes, and the obligations of the rent ledger."""
