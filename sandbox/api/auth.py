"""Bearer-token authentication, impersonation and the three users' permissions."""
from __future__ import annotations

import hmac
from dataclasses import dataclass

from . import errors

READ_VERBS = frozenset({"get", "list", "watch"})
PUBLIC_PATHS = frozenset({"/version", "/healthz", "/readyz", "/livez"})


@dataclass(frozen=True)
class User:
    name: str
    groups: tuple[str, ...] = ()


class Authenticator:
    def __init__(self, tokens: dict[str, str]) -> None:
        self._tokens = dict(tokens)

    def authenticate(self, authorization: str | None) -> User:
        """The user a bearer token belongs to; 401 otherwise."""
        if authorization and authorization.startswith("Bearer "):
            presented = authorization[len("Bearer "):].strip()
            for user, token in self._tokens.items():
                if hmac.compare_digest(presented.encode(), token.encode()):
                    return User(user, ("system:authenticated",))
        raise errors.unauthorized()

    def impersonate(self, user: User, target: str | None, groups: list[str]) -> User:
        """Honour Impersonate-User/-Group for admin; anyone else gets the real 403."""
        if not target and not groups:
            return user
        if user.name != "admin":
            what, name = ("users", target) if target else ("groups", groups[0])
            raise errors.forbidden(what, "", name or "",
                                   f'User "{user.name}" cannot impersonate resource "{what}" in '
                                   f'API group "" at the cluster scope')
        if not target:
            raise errors.ApiError(errors.status_body(
                500, "InternalError", "Internal error occurred: requested group impersonation "
                "without user impersonation"))
        return User(target, tuple(groups) + ("system:authenticated",))


def allowed(user: User, verb: str) -> bool:
    """admin and controller may do anything; viewer only reads; unknown users nothing."""
    if user.name in ("admin", "controller") or "system:masters" in user.groups:
        return True
    if user.name == "viewer" or "system:viewers" in user.groups:
        return verb in READ_VERBS
    return False


def authorize(user: User, verb: str, resource: str, group: str, namespace: str, name: str) -> None:
    if allowed(user, verb):
        return
    scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    res_name = resource.split("/")[0]
    raise errors.forbidden(res_name, group, name,
                           f'User "{user.name}" cannot {verb} resource "{resource}" in API group '
                           f'"{group}" {scope}')
