"""One reconciler per kind; each gets a `Context` (see ..runtime.context), never the controller.

Imports nothing, so importing one reconciler never loads (or cycles through) the others.
"""
