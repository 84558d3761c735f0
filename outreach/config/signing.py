"""The ``[signing]`` section of ``config.toml``: who signs, with which key, what the checks trust.

```toml
[signing]
required = true                      # approve refuses drafts without valid leader + agency signatures
trust_roots = ["certs/root.pem"]
tsa_url = ""                         # RFC 3161 time-stamp server; empty = no time stamp

[signing.leader]                     # a PKCS#11 token …
pkcs11_module = "/usr/lib/softhsm/libsofthsm2.so"
token_label = "LANHDAO"
key_label = "lanh-dao"
pin_env = "OUTREACH_LEADER_PIN"
image = "templates/chu-ky.png"

[signing.agency]                     # … or a PKCS#12 file
pkcs12 = "certs/co-quan.p12"
password_env = "OUTREACH_AGENCY_PIN"
image = "templates/con-dau.png"
```

Parsed without touching any file; the files are checked when a batch is signed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Union

if TYPE_CHECKING:
    from . import _Section

Role = Literal["leader", "agency"]
ROLES: tuple[Role, ...] = ("leader", "agency")
ROLE_LABELS: dict[str, str] = {"leader": "người có thẩm quyền (lãnh đạo)", "agency": "cơ quan (văn thư)"}
PKCS11_KEYS = ("pkcs11_module", "token_label", "key_label", "pin_env")
PKCS12_KEYS = ("pkcs12", "password_env")


@dataclass(frozen=True)
class Pkcs11Key:
    """A key on a PKCS#11 token; the certificate is the token's object with the key's label."""

    role: Role
    image: Path
    module: Path
    token_label: str
    key_label: str
    pin_env: str

    @property
    def secret_env(self) -> str:
        return self.pin_env

    def describe(self) -> str:
        return f"token '{self.token_label}', khóa '{self.key_label}'"


@dataclass(frozen=True)
class Pkcs12Key:
    """A key and its certificate chain in a PKCS#12 (.p12/.pfx) file."""

    role: Role
    image: Path
    file: Path
    password_env: str

    @property
    def secret_env(self) -> str:
        return self.password_env

    def describe(self) -> str:
        return f"tệp {self.file.name}"


KeySource = Union[Pkcs11Key, Pkcs12Key]


@dataclass(frozen=True)
class SigningConfig:
    required: bool = False
    trust_roots: tuple[Path, ...] = ()
    tsa_url: str = ""
    leader: KeySource | None = None
    agency: KeySource | None = None

    def key(self, role: Role) -> KeySource:
        from ..errors import UserError

        source = self.leader if role == "leader" else self.agency
        if source is None:
            raise UserError(f"config.toml: chưa có [signing.{role}] ({ROLE_LABELS[role]}). Cách sửa: thêm bảng "
                            f"[signing.{role}] với pkcs11_module, token_label, key_label, pin_env, image "
                            "hoặc pkcs12, password_env, image.")
        return source


def parse_signing(top: "_Section", root: Path) -> SigningConfig:
    """``[signing]``; absent means letters go out unsigned and approval asks for no signature."""
    from . import _error

    if not top.has("signing"):
        return SigningConfig()
    table = top.section("signing")
    keys = {role: _parse_key(role, table.section(role), root) for role in ROLES if table.has(role)}
    tsa_url = table.text("tsa_url", "")
    if tsa_url and not tsa_url.startswith(("http://", "https://")):
        raise _error(table.key("tsa_url"), f"'{tsa_url}' không phải địa chỉ http(s)",
                     'viết tsa_url = "http://máy-chủ/tsa" hoặc để trống')
    config = SigningConfig(
        required=table.boolean("required", False),
        trust_roots=tuple(root / p for p in table.text_list("trust_roots")),
        tsa_url=tsa_url,
        leader=keys.get("leader"),
        agency=keys.get("agency"),
    )
    if config.required:
        missing = [f"[signing.{role}]" for role in ROLES if role not in keys]
        if missing:
            raise _error(table.key("required"), f"bắt buộc ký số nhưng thiếu {', '.join(missing)}",
                         "thêm khóa ký của lãnh đạo và của cơ quan, hoặc đặt required = false")
        if not config.trust_roots:
            raise _error(table.key("trust_roots"), "bắt buộc ký số nhưng chưa có chứng thư gốc tin cậy",
                         'viết trust_roots = ["certs/root.pem"]')
    return config


def _parse_key(role: Role, table: "_Section", root: Path) -> KeySource:
    from . import _error

    pkcs11 = [k for k in PKCS11_KEYS if table.has(k)]
    pkcs12 = [k for k in PKCS12_KEYS if table.has(k)]
    if pkcs11 and pkcs12:
        raise _error(table.path, f"vừa có {', '.join(pkcs11)} (token) vừa có {', '.join(pkcs12)} (tệp PKCS#12)",
                     "chỉ dùng một cách: token (pkcs11_module, token_label, key_label, pin_env) "
                     "hoặc tệp (pkcs12, password_env)")
    if not pkcs11 and not pkcs12:
        raise _error(table.path, "chưa chỉ ra khóa ký",
                     'thêm pkcs11_module, token_label, key_label, pin_env hoặc pkcs12 = "certs/….p12", password_env')
    image = root / table.text("image")
    if pkcs12:
        return Pkcs12Key(role, image, root / table.text("pkcs12"), table.text("password_env"))
    return Pkcs11Key(role, image, Path(table.text("pkcs11_module")), table.text("token_label"),
                     table.text("key_label"), table.text("pin_env"))
