"""The sandbox's Kubernetes-compatible API server (aiohttp, HTTPS on loopback).

server.py wires the request pipeline; ops.py holds write semantics, reads.py get/list/watch,
store.py objects + persistence, managed.py server-side apply, gc.py the namespace and garbage
collectors; admission/ validates the virtualization kinds.
"""
