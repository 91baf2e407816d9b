# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Every module family's option checks, run before any request, with messages naming the option (the rules
for single values are in checks.py; the catalog's own, on its options and entries, are catalog/rules.py)."""

from __future__ import annotations

import os
import re
from typing import Any, List, Mapping, Optional

from ansible.module_utils.common.warnings import warn

from ansible_collections.deckhouse.virtualization.plugins.module_utils.common import streebog
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.checks import (
    check_checksums, check_metadata_keys, check_name, check_namespace, check_pem, check_pem_file, check_size,
    check_url, check_wait_timeout,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ValidationError
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import (
    API_VERSION, PVC_STORAGE, SOURCE_TYPES, VIRTUAL_DISK, VIRTUAL_DISK_SNAPSHOT,
    Kind, object_ref_kinds,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.disk import DiskOptions, SnapshotOptions
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.image import ImageOptions
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.upload import (
    UPLOAD_ENDPOINTS, UploadOptions,
)

# A registry reference: [host[:port]/]path[:tag][@algo:hex]; lower-case path, no scheme.
_IMAGE_RE = re.compile(
    r"^(?:(?:localhost|[\w-]+(?:\.[\w-]+)+|[\w-]+:\d+)(?::\d+)?/)?"
    r"[a-z0-9_.-]+(?:/[a-z0-9_.-]+)*(?::[\w][\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*:[0-9a-fA-F]{32,})?$"
)
TYPED_OPTIONS = ("source", "storage", "storage_class", "labels", "annotations")
NOT_SUPPORTED_UPLOAD = ("a definition (or src) with dataSource type Upload names no file to send, so waiting for Ready "
                        "would never end: use source.upload, or create the image with wait: false and upload into it "
                        "with virtual_image_upload")


def chosen_source(source: Optional[Mapping[str, Any]]) -> str:
    """Name of the one source block given; error when none or several."""
    given = [key for key in SOURCE_TYPES if (source or {}).get(key) is not None]
    if len(given) != 1:
        raise ValidationError("source must have exactly one of %s, got %s"
                              % (", ".join(SOURCE_TYPES), ", ".join(given) or "none"))
    return given[0]


def _check_source(source: Mapping[str, Any], kind: Kind) -> None:
    key = chosen_source(source)
    block = source[key]
    option = "source." + key
    if key == "http":
        check_url(block["url"], option + ".url")
        check_checksums(block.get("checksum"), option + ".checksum")
        check_pem(block.get("ca_bundle"), option + ".ca_bundle")
    elif key == "container_image":
        if not _IMAGE_RE.match(block["image"]):
            raise ValidationError("%s.image must be a registry reference like "
                                  "registry.example.com/images/disk:1.0 (no scheme), got %r"
                                  % (option, block["image"]))
        check_pem(block.get("ca_bundle"), option + ".ca_bundle")
        _check_pull_secret(block, option, kind)
    elif key == "object_ref":
        if block["kind"] not in object_ref_kinds(kind):
            raise ValidationError("%s.kind must be one of %s, got %s"
                                  % (option, ", ".join(object_ref_kinds(kind)), block["kind"]))
        check_name(block["name"], option + ".name", block["kind"])
        needs_ns = block["kind"] != "ClusterVirtualImage"
        if not kind.namespaced and needs_ns:
            check_namespace(block.get("namespace"), option + ".namespace")
    else:  # every transfer option is checked here, so a catalog entry gets the same rules as the modules
        validate_upload(UploadOptions.from_source_upload(block, recreate=False, wait=True, wait_timeout=0),
                        option + ".")


def _check_pull_secret(block: Mapping[str, Any], option: str, kind: Kind) -> None:
    secret = block.get("image_pull_secret")
    if secret is None:
        return
    if kind.namespaced:
        check_name(secret, option + ".image_pull_secret", "Secret")
        return
    if secret.get("name") is not None:
        check_name(secret["name"], option + ".image_pull_secret.name", "Secret")
    elif block.get("registry_credentials") is None:
        raise ValidationError("%s.image_pull_secret.name is required" % option)
    if secret.get("namespace") is None and block.get("registry_credentials") is None:
        raise ValidationError("%s.image_pull_secret.namespace is required" % option)
    if secret.get("namespace") is not None:
        check_namespace(secret["namespace"], option + ".image_pull_secret.namespace")


def _check_definition(definition: Any, kind: Kind, wait: bool) -> None:
    """An Upload definition is created only without waiting: another step (virtual_image_upload) sends the file."""
    if not isinstance(definition, dict):
        raise ValidationError("definition must be a mapping (or YAML text of one) describing a %s" % kind.kind)
    if definition.get("kind") != kind.kind or definition.get("apiVersion") != API_VERSION:
        raise ValidationError("definition must have kind %s and apiVersion %s, got kind %r apiVersion %r"
                              % (kind.kind, API_VERSION, definition.get("kind"), definition.get("apiVersion")))
    if not isinstance(definition.get("spec"), dict):
        raise ValidationError("definition.spec must be a mapping")
    if ((definition["spec"].get("dataSource") or {}).get("type")) == "Upload" and wait:
        raise ValidationError(NOT_SUPPORTED_UPLOAD)


def _check_streebog(option: str) -> None:
    """Streebog runs at native speed with OpenSSL's GOST provider; without it gostcrypto works but crawls, so the
    task says which package to install; with neither the task stops before any request."""
    using = streebog.backend()
    if using == streebog.OPENSSL:
        return
    if using == streebog.GOSTCRYPTO:
        warn("%s.streebog* is computed by the pure-Python gostcrypto library at %s: install the package %s "
             "(OpenSSL's GOST provider) on the host the module runs on for %s (%s)"
             % (option, streebog.FALLBACK_SPEED, streebog.PACKAGE, streebog.NATIVE_SPEED, streebog.native_problem()))
        return
    raise ValidationError("%s.streebog* needs OpenSSL's GOST provider on the host the module runs on (install the "
                          "package %s), or the Python library gostcrypto (pip install gostcrypto; %s)"
                          % (option, streebog.PACKAGE, streebog.FALLBACK_SPEED))


def validate_upload(opts: UploadOptions, option: str = "") -> None:
    """Every upload option check, before any request."""
    if not os.path.isfile(opts.path) or not os.access(opts.path, os.R_OK):
        raise ValidationError("%spath %r is not a readable file" % (option, opts.path))
    if os.path.getsize(opts.path) == 0:
        raise ValidationError("%spath %r is empty; the platform rejects empty uploads" % (option, opts.path))
    check_checksums(opts.checksum, option + "checksum")
    if any(algo.startswith("streebog") for algo in opts.checksum):
        _check_streebog(option + "checksum")
    if opts.endpoint not in UPLOAD_ENDPOINTS:
        raise ValidationError("%sendpoint must be one of %s" % (option, ", ".join(UPLOAD_ENDPOINTS)))
    if opts.upload_url is not None:
        try:
            check_url(opts.upload_url, option + "upload_url")
        except ValidationError:
            raise ValidationError("%supload_url must be an absolute http or https URL" % option)  # never echo it
    check_pem_file(opts.ca_cert, option + "upload_ca_cert")
    if not opts.validate_certs:
        warn("TLS verification of the upload endpoint is off (%supload_validate_certs: false): "
             "prefer %supload_ca_cert" % (option, option))
    if opts.retries < 0:
        raise ValidationError("%sretries must be >= 0, got %d" % (option, opts.retries))
    check_wait_timeout(opts.wait_timeout)


def validate_vm_operation(params: Mapping[str, Any]) -> None:
    """virtual_machine_operation's options, before any request."""
    check_namespace(params.get("namespace"))
    check_name(params.get("name"), "name", "VirtualMachine")
    check_wait_timeout(params.get("wait_timeout"))


def validate_upload_target(params: Mapping[str, Any], kind: Kind) -> None:
    """virtual_image_upload's image identity (the upload options are validate_upload's)."""
    check_name(params.get("name"), "name", kind.kind)
    if kind.namespaced:
        check_namespace(params.get("namespace"))


def validate_capture(params: Mapping[str, Any]) -> None:
    """virtual_image_capture's own options (the images and the snapshot it makes are checked as their modules'):
    the VM options belong to ``method: stop``, the snapshot's to ``method: snapshot``."""
    check_name(params.get("disk"), "disk", "VirtualDisk")
    if params.get("cluster_image") is not None:
        check_name(params["cluster_image"], "cluster_image", "ClusterVirtualImage")
    snapshot = params.get("method") == "snapshot"
    misplaced = [option for option, belongs in (("stop_vm", not snapshot), ("allow_run_policy_change", not snapshot),
                                                ("keep_snapshot", snapshot)) if params.get(option) and not belongs]
    if misplaced:
        raise ValidationError("%s cannot be used with method: %s" % (", ".join(misplaced), params.get("method")))


def _check_exclusive(options: ImageOptions) -> None:
    typed: List[str] = [opt for opt in TYPED_OPTIONS if getattr(options, opt) is not None]
    if options.definition is not None and typed:
        raise ValidationError("definition/src cannot be combined with %s" % ", ".join(typed))


def validate(options: ImageOptions, kind: Kind) -> None:
    """Check one image's options; raises ValidationError on the first problem."""
    _check_exclusive(options)
    check_name(options.name, "name", kind.kind)
    if kind.namespaced:
        check_namespace(options.namespace)
    check_wait_timeout(options.wait_timeout)
    validate_content(options, kind)


def validate_content(options: ImageOptions, kind: Kind) -> None:
    """Everything but the identity: what a catalog entry checks before it knows its namespaces."""
    _check_exclusive(options)
    if not options.present:
        return
    check_metadata_keys(options.labels, "labels", values_too=True)
    check_metadata_keys(options.annotations, "annotations", values_too=False)
    if options.definition is not None:
        _check_definition(options.definition, kind, options.wait)
        return
    if options.source is None:
        raise ValidationError("source is required when state is present")
    _check_source(options.source, kind)
    if options.storage_class is not None and options.storage != PVC_STORAGE:
        raise ValidationError("storage_class needs storage: PersistentVolumeClaim")


# -- disks and snapshots ------------------------------------------------------------------------------
def _check_metadata(labels: Optional[Mapping[str, Any]], annotations: Optional[Mapping[str, Any]]) -> None:
    check_metadata_keys(labels, "labels", values_too=True)
    check_metadata_keys(annotations, "annotations", values_too=False)


def _check_present(options: Any, kind: Kind) -> bool:
    """Name, namespace and wait_timeout of a namespaced object's options; then, for ``state: present``, its labels
    and annotations. True when present (the caller checks the rest)."""
    check_name(options.name, "name", kind.kind)
    check_namespace(options.namespace)
    check_wait_timeout(options.wait_timeout)
    if options.present:
        _check_metadata(options.labels, options.annotations)
    return bool(options.present)


def validate_disk(options: DiskOptions) -> None:
    """virtual_disk's options, before any request: identity, size, the one source (or a size for a blank disk)."""
    if not _check_present(options, VIRTUAL_DISK):
        return
    if options.size is not None:
        check_size(options.size, "size")
    if options.storage_class is not None:
        check_name(options.storage_class, "storage_class", "StorageClass")
    if options.source is None or not any(value is not None for value in options.source.values()):
        if options.source is not None:
            chosen_source(options.source)  # source: {} names the blocks it could have
        if options.size is None:
            raise ValidationError("size is required for a blank disk (a disk without source)")
        return
    _check_source(options.source, VIRTUAL_DISK)


def validate_snapshot(options: SnapshotOptions) -> None:
    """virtual_disk_snapshot's options, before any request."""
    if not _check_present(options, VIRTUAL_DISK_SNAPSHOT):
        return
    if options.disk is None:
        raise ValidationError("disk is required when state is present")
    check_name(options.disk, "disk", VIRTUAL_DISK.kind)
