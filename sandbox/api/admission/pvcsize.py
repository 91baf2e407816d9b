"""service.GetValidatedPVCSize (the same on v1.10.2 and main): the size a disk's PVC needs for data of a given
number of bytes, and the error when the spec asks for less. The disk webhook warns with it (a disk smaller than a
Ready source image) and the disk controller fails the import with it, so both read the rule here."""
from __future__ import annotations

from .quantity import Quantity

ALIGN = 1 << 20     # image-derived volume sizes are aligned up to 1 MiB (qemu-img convert may grow them)
INSUFFICIENT = "the specified pvc size is insufficient"
ZERO_SIZE = "cannot create disk with zero pvc size"


def required_size(required: int) -> Quantity:
    """The data's bytes aligned up to ALIGN; kept as written when already aligned."""
    aligned = -(-required // ALIGN) * ALIGN
    return Quantity(str(required)) if aligned == required else Quantity(f"{aligned // ALIGN}Mi")


def pvc_size_error(spec: Quantity, required: int) -> str:
    """Why a spec size cannot hold ``required`` bytes, in the platform's (uncapitalized) words; "" when it can."""
    if spec.is_zero():
        return ZERO_SIZE
    need = required_size(required)
    if not spec < need:
        return ""
    spec_part = str(int(spec.value)) + ("" if str(int(spec.value)) == str(spec) else f" ({spec})")
    return f"{INSUFFICIENT}: {spec_part} < {int(need.value)}"


def capitalized(text: str) -> str:
    """service.CapitalizeFirstLetter: how the platform turns such an error into a warning or a condition."""
    return text[:1].upper() + text[1:]
