"""Client library and command line for the IPC AI detection service.

from ipcai import Client
with Client() as client:                      # IPCAI_API_KEY / IPCAI_URL from the environment
    result = client.detect("pets.jpg", "pets-detection")
    print(result.counts())                    # {'dog': 3}
"""

__version__ = "0.1.0"

from ipcai.client import AsyncClient, Client
from ipcai.errors import (
    APIError,
    AuthenticationError,
    BadRequest,
    ConfigurationError,
    IpcaiError,
    NetworkError,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    RateLimited,
    ServiceUnavailable,
    UnsupportedMediaType,
)
from ipcai.models import Box, Detection, DetectionResult
from ipcai.retry import RetryPolicy

__all__ = [
    "APIError",
    "AsyncClient",
    "AuthenticationError",
    "BadRequest",
    "Box",
    "Client",
    "ConfigurationError",
    "Detection",
    "DetectionResult",
    "IpcaiError",
    "NetworkError",
    "NotFound",
    "PayloadTooLarge",
    "PermissionDenied",
    "RateLimited",
    "RetryPolicy",
    "ServiceUnavailable",
    "UnsupportedMediaType",
    "__version__",
]
