"""vd.* and vdsnapshot.* webhooks: names, sizes, changes after provisioning, immutability."""
from __future__ import annotations

from ..quantity import Quantity
from .base import Denied, Review, dot_in_name, dot_in_name_warning, get
from .classes import check_named_class
from .disksource import source_warnings

# The edition the sandbox claims (pkg/version/edition_ce.go: the build without the EE tag).
EDITION = "CE"

_PROVISIONED = {"Ready", "Migrating", "PVCLost"}
_EARLY = {"Pending", "Provisioning", "WaitForFirstConsumer"}


def _size(spec: dict) -> Quantity | None:
    raw = get(spec, "persistentVolumeClaim", "size")
    if raw is None:
        return None
    try:
        return Quantity(raw)
    except ValueError:
        return None  # the schema pattern already rejected it


def check_vd(r: Review) -> list[str]:
    spec = r.spec()
    if r.operation == "CREATE":
        if "." in r.name:
            raise Denied(dot_in_name("VirtualDisk", r.name))
        size = _size(spec)
        if size is not None and size.is_zero():
            raise Denied("virtual disk size must be greater than 0")
        if spec.get("dataSource") is None and size is None:
            raise Denied("if the data source is not specified, it's necessary to set "
                         "spec.PersistentVolumeClaim.size to create blank virtual disk")
        check_named_class(r, "storage class")
        return source_warnings(r)
    warnings = []
    if "." in r.name:
        warnings.append(dot_in_name_warning("VirtualDisk", r.name, "disk"))
    _check_size_update(r, warnings)
    warnings[:0] = source_warnings(r)   # the size and source validators run before the name's
    if r.generation_changed():
        if r.ready() or r.phase() in _PROVISIONED:
            if spec.get("dataSource") != r.old_spec().get("dataSource"):
                raise Denied("data source cannot be changed if the VirtualDisk has already been provisioned",
                             warnings)
        elif r.phase() == "Terminating" and spec != r.old_spec():
            raise Denied("spec cannot be changed if the VirtualDisk is the process of termination", warnings)
        if r.phase() == "Pending":
            check_named_class(r, "target storage class", warnings)
        else:
            _check_volume_migration(r, warnings)
    return warnings


def _check_volume_migration(r: Review, warnings: list[str]) -> None:
    """vd/internal/validator/storage_class_validator.go (v1.10.2 and main): past Pending, a different class in the
    spec asks for a volume migration. Only the EE build enables it (the VolumeMigration feature gate is locked to
    the edition); the sandbox is the open-source CE build, so every such change is refused. A class removed from
    the spec (nil) is no migration and passes, as upstream."""
    new = get(r.spec(), "persistentVolumeClaim", "storageClassName")
    if new is None or new == get(r.old_spec(), "persistentVolumeClaim", "storageClassName"):
        return
    raise Denied(f'storage class cannot be changed if volume migration is not enabled (EDITION="{EDITION}")',
                 warnings)


def _check_size_update(r: Review, warnings: list[str]) -> None:
    old_size, new_size = _size(r.old_spec()), _size(r.spec())
    if old_size == new_size:
        return
    if get(r.old or {}, "status", "phase") == "Migrating":
        raise Denied("spec.persistentVolumeClaim.size cannot be changed during migration. "
                     "Please wait for the migration to finish", warnings)
    settled = r.ready() or r.phase() not in _EARLY
    if new_size is None:
        if settled:
            raise Denied("spec.persistentVolumeClaim.size cannot be omitted once set", warnings)
        new_size = Quantity(0)
    if settled and new_size < (old_size or Quantity(0)):
        raise Denied(f"spec.persistentVolumeClaim.size value ({new_size}) should be greater than or equal to "
                     f"the current value ({old_size or Quantity(0)})", warnings)


def check_vdsnapshot(r: Review) -> list[str]:
    if r.generation_changed():
        raise Denied("VirtualDiskSnapshot is an idempotent resource: specification changes are not available")
    return []
