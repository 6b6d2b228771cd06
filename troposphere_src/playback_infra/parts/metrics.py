"""The backend's own CloudWatch metrics (embedded metric format), as docs/openai-integration.md
states the contract: the app stack alarms on them, the observability stack charts them."""

METRICS_NAMESPACE = "BaseballPlayback"
DIMENSION = "Environment"
METRICS = {  # name: (EMF unit, what one data point is)
    "OpenAiRequests": ("Count", "a narration that needed the API (cache misses), however many attempts"),
    "OpenAiErrors": ("Count", "a narration the API did not give after all retries: fallback text served"),
    "OpenAiRetries": ("Count", "one retry attempt (429, 5xx, timeout or connection error)"),
    "OpenAiLatency": ("Milliseconds", "one narration's time in the API, retries included"),
    "OpenAiTokensIn": ("Count", "prompt tokens of one response (usage.prompt_tokens)"),
    "OpenAiTokensOut": ("Count", "completion tokens of one response (usage.completion_tokens)"),
    "OpenAiCostUsd": ("None", "estimated US dollars of one response, from tokens and the model's price"),
    "OpenAiCircuitOpened": ("Count", "the circuit breaker went from closed or half-open to open"),
    "NarrationCacheHits": ("Count", "a narration served from the cache (Valkey or the narration_cache table)"),
    "NarrationCacheMisses": ("Count", "a narration not in either cache"),
}  # fmt: skip
