"""The sandbox's virtualization controller (a separate process; see app.Controller)."""
