"""Act on errors by their attributes, whatever the backend."""

import anyio

from botticelli import (
    BadRequestError,
    BotticelliError,
    GenerateRequest,
    RateLimitError,
    ServerClient,
    ServerConfig,
    StreamError,
)


async def main() -> None:
    """Stream an answer and handle each category of failure."""
    async with ServerClient(ServerConfig.from_env(max_retries=1)) as model:
        request = GenerateRequest.from_prompt("Tell me a story.", max_tokens=16)
        try:
            async with model.generate_stream(request) as stream:
                async for chunk in stream:
                    print(chunk.text, end="")
            print()
        except RateLimitError as err:
            # Retries already honoured Retry-After; this is what is left.
            print(f"rate limited; wait {err.retry_after} s (retryable={err.retryable}, quota={err.quota})")
        except BadRequestError as err:
            print(f"the server rejected the request: {err.server_message} ({err.error_type})")
        except StreamError as err:
            print(f"\nstream cut short after {len(err.partial_text)} characters: {err}")
        except BotticelliError as err:
            print(f"{type(err).__name__} from {err.provider}: {err} (retryable={err.retryable})")


if __name__ == "__main__":
    anyio.run(main)
