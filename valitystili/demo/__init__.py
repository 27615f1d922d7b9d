"""The demo month and the simulated bank it talks to."""
