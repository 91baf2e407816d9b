"""How the controller talks to the API server and keeps its view: the HTTPS client, informers and the read-only
cache, the writer, the work queue, where data lives on disk, cross-kind questions, and the `Context` a
reconciler gets.

Imports only `model`, so every import job and reconciler can rely on it.
"""
