"""Schema pieces shared by several kinds (data sources, checksums, conditions)."""
from __future__ import annotations

from ....platform import V1_10
from .dsl import Schema, array, integer, obj, rule, string

# A checksum is lowercase or uppercase hex of the algorithm's exact length.
_HASH_LENGTHS = {"md5": 32, "sha1": 40, "sha256": 64, "sha512": 128, "streebog256": 64, "streebog512": 128}
# The released line v1.10 knows only these two.
_V1_10_HASHES = ("md5", "sha256")

# The platform's patterns, kept verbatim because the apiserver quotes them in its messages.
HTTP_URL_PATTERN = r"^http[s]?:\/\/(?:[a-zA-Z]|[0-9]|[$-_@.&+]|[!*\(\),]|(?:%[0-9a-fA-F][0-9a-fA-F]))+$"
IMAGE_PATTERN = (
    r"^(?P<name>(?:(?P<domain>(?:(?:localhost|[\w-]+(?:\.[\w-]+)+)(?::\d+)?)|[\w]+:\d+)/)?"
    r"(?P<image>[a-z0-9_.-]+(?:/[a-z0-9_.-]+)*))(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>[A-Za-z][A-Za-z0-9]*(?:[+.-_][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$"
)
QUANTITY_PATTERN = (
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)
DATA_SOURCE_TYPES = ["HTTP", "ContainerImage", "ObjectRef", "Upload"]


def checksum(line: str) -> Schema:
    return obj({
        algo: string(min_len=n, max_len=n, pattern=f"^[0-9a-fA-F]{{{n}}}$")
        for algo, n in _HASH_LENGTHS.items() if line != V1_10 or algo in _V1_10_HASHES
    })


def http_source(line: str) -> Schema:
    return obj(
        {"caBundle": string(fmt="byte"), "checksum": checksum(line), "url": string(pattern=HTTP_URL_PATTERN)},
        required=["url"],
    )


def container_image_source(*, secret_namespace: bool) -> Schema:
    secret = {"name": string()}
    if secret_namespace:
        secret["namespace"] = string()
    return obj(
        {"caBundle": string(fmt="byte"), "image": string(pattern=IMAGE_PATTERN), "imagePullSecret": obj(secret)},
        required=["image"],
    )


def upload_source(line: str) -> Schema:
    return obj({"checksum": checksum(line)})


def exclusive_source_rules(line: str) -> list[dict]:
    """Each source type needs its own block and forbids the others."""
    if line == V1_10:  # no `upload` block on this line, so its rules do not mention it
        return [
            rule("self.type == 'HTTP' ? has(self.http) && !has(self.containerImage) && !has(self.objectRef) : true",
                 "HTTP requires http and cannot have ContainerImage or ObjectRef."),
            rule("self.type == 'ContainerImage' ? has(self.containerImage) && !has(self.http)"
                 " && !has(self.objectRef) : true",
                 "ContainerImage requires containerImage and cannot have HTTP or ObjectRef."),
            rule("self.type == 'ObjectRef' ? has(self.objectRef) && !has(self.http)"
                 " && !has(self.containerImage) : true",
                 "ObjectRef requires objectRef and cannot have HTTP or ContainerImage."),
        ]
    return [
        rule("self.type == 'HTTP' ? has(self.http) && !has(self.containerImage) && !has(self.objectRef)"
             " && !has(self.upload) : true",
             "HTTP requires http and cannot have ContainerImage, ObjectRef or Upload."),
        rule("self.type == 'ContainerImage' ? has(self.containerImage) && !has(self.http)"
             " && !has(self.objectRef) && !has(self.upload) : true",
             "ContainerImage requires containerImage and cannot have HTTP, ObjectRef or Upload."),
        rule("self.type == 'ObjectRef' ? has(self.objectRef) && !has(self.http) && !has(self.containerImage)"
             " && !has(self.upload) : true",
             "ObjectRef requires objectRef and cannot have HTTP, ContainerImage or Upload."),
        rule("self.type == 'Upload' ? !has(self.http) && !has(self.containerImage) && !has(self.objectRef) : true",
             "Upload cannot have HTTP, ContainerImage or ObjectRef."),
    ]


def data_source(object_ref: Schema, line: str, *, secret_namespace: bool, type_required: bool) -> Schema:
    props = {
        "containerImage": container_image_source(secret_namespace=secret_namespace),
        "http": http_source(line),
        "objectRef": object_ref,
        "type": string(enum=DATA_SOURCE_TYPES),
    }
    if line != V1_10:
        props["upload"] = upload_source(line)
    return obj(props, required=["type"] if type_required else None, rules=exclusive_source_rules(line))


def conditions() -> Schema:
    """metav1.Condition list."""
    return array(obj(
        {
            "lastTransitionTime": string(fmt="date-time"),
            "message": string(max_len=32768),
            "observedGeneration": integer(fmt="int64", minimum=0),
            "reason": string(min_len=1, max_len=1024, pattern=r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$"),
            "status": string(enum=["True", "False", "Unknown"]),
            "type": string(
                max_len=316,
                pattern=r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                        r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$",
            ),
        },
        required=["lastTransitionTime", "message", "reason", "status", "type"],
    ))


def download_speed() -> Schema:
    return obj({k: string() for k in ("avg", "avgBytes", "current", "currentBytes")})


def upload_urls() -> Schema:
    return obj({"external": string(), "inCluster": string()})


def image_size() -> Schema:
    return obj({k: string() for k in ("stored", "storedBytes", "unpacked", "unpackedBytes")})
