"""deviceflow: GitHub's OAuth device flow (RFC 8628), from one verified plugin.

The protocol runs in a sandboxed WebAssembly plugin (``deviceflow.wasm``,
shipped in this package) through the ``extism`` runtime; this package
supplies its capabilities (HTTP, clocks, sleep, token store with
compare-and-swap and leases, events) and an idiomatic API::

    from deviceflow import DeviceFlow, KeyringStore

    flow = DeviceFlow("Ov23li...", scopes=["repo"], store=KeyringStore())
    auth = flow.token()          # cached, refreshed, or a new device flow
    session.auth = flow.requests_auth()
"""

from typing import TYPE_CHECKING, Any, Dict

from . import _lazy

# The errors are light and always needed: imported now. Everything else is
# imported on first use (PEP 562, through _lazy.names below), so that a process that
# only prints a cached token does not pay for HTTP, TLS, the stores it does
# not open or the dataclasses of a device flow.
from .errors import (
    AccessDenied,
    BadRefreshToken,
    Cancelled,
    DeviceFlowDisabled,
    DeviceFlowError,
    ExpiredToken,
    HTTPDenied,
    IncompatiblePlugin,
    IncorrectClientCredentials,
    IncorrectDeviceCode,
    InvalidInput,
    InvalidResponse,
    NetworkError,
    NotFound,
    OAuthError,
    PluginError,
    StoreError,
    UnsupportedGrantType,
    error_class,
)

if TYPE_CHECKING:
    from ._host import Host
    from ._runtime import preload, wasm_path
    from .client import DeviceFlow
    from .models import Authentication, CheckResult, Pending, Verification
    from .stores import (
        EncryptedFileStore,
        FileStore,
        KeyringStore,
        KeyringUnavailable,
        LockingStore,
        MemoryStore,
        Store,
        SwappingStore,
    )

#: Where each lazily imported name lives.
_LAZY = {
    "Host": "_host",
    "preload": "_runtime",
    "wasm_path": "_runtime",
    "DeviceFlow": "client",
    "Authentication": "models",
    "CheckResult": "models",
    "Pending": "models",
    "Verification": "models",
    "EncryptedFileStore": "stores",
    "FileStore": "stores",
    "KeyringStore": "stores",
    "KeyringUnavailable": "stores",
    "LockingStore": "stores",
    "MemoryStore": "stores",
    "Store": "stores",
    "SwappingStore": "stores",
}


__getattr__, __dir__ = _lazy.names(__name__, _LAZY, globals())


__version__ = "0.1.0"


def info() -> Dict[str, Any]:
    """Returns the plugin's self-description: name, version, ABI, exports, imports, error codes."""
    from ._host import Host

    answer: Dict[str, Any] = Host().call_json("info", {})
    return answer


__all__ = [
    "DeviceFlow",
    "Host",
    "Authentication",
    "CheckResult",
    "Pending",
    "Verification",
    "Store",
    "SwappingStore",
    "LockingStore",
    "MemoryStore",
    "FileStore",
    "EncryptedFileStore",
    "KeyringStore",
    "KeyringUnavailable",
    "DeviceFlowError",
    "AccessDenied",
    "BadRefreshToken",
    "Cancelled",
    "DeviceFlowDisabled",
    "ExpiredToken",
    "HTTPDenied",
    "IncompatiblePlugin",
    "IncorrectClientCredentials",
    "IncorrectDeviceCode",
    "InvalidInput",
    "InvalidResponse",
    "NetworkError",
    "NotFound",
    "OAuthError",
    "PluginError",
    "StoreError",
    "UnsupportedGrantType",
    "error_class",
    "info",
    "preload",
    "wasm_path",
    "__version__",
]
