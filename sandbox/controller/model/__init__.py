"""What the controller knows without asking anyone: the kinds and their API paths, how objects are named,
conditions and status patches, the knobs, the VMs' power wishes.

The lowest folder of the controller: it imports nothing of the controller outside itself.
"""
