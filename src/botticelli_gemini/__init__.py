"""Google Gemini as a botticelli backend, over its REST API (no Google SDK).

Example:
    >>> from botticelli_gemini import GeminiClient, GeminiConfig
    >>> client = GeminiClient(GeminiConfig(api_key="AIza-example", model="gemini-2.5-flash-lite"))
    >>> client.provider_name, client.model_name
    ('gemini', 'gemini-2.5-flash-lite')
"""

from botticelli_gemini.client import GeminiClient
from botticelli_gemini.config import GeminiConfig
from botticelli_gemini.errors import GeminiErrorDetails, error_details
from botticelli_gemini.rate_limit import FREE_TIER_LIMITS, RateLimiter, RateLimits, Reservation, estimate_tokens
from botticelli_gemini.streaming import GeminiStreamDecoder

__all__ = [
    "FREE_TIER_LIMITS",
    "GeminiClient",
    "GeminiConfig",
    "GeminiErrorDetails",
    "GeminiStreamDecoder",
    "RateLimiter",
    "RateLimits",
    "Reservation",
    "error_details",
    "estimate_tokens",
]
