"""Ask a local OpenAI-compatible server for one answer, then stream another.

Run against any server:

    INFERENCE_SERVER_BASE_URL=http://localhost:1234 INFERENCE_SERVER_MODEL=default python examples/quickstart.py
"""

import anyio

from botticelli import GenerateRequest, Message, ServerClient, ServerConfig


async def main() -> None:
    """One whole answer, then the same request streamed."""
    config = ServerConfig.from_env()  # INFERENCE_SERVER_BASE_URL, INFERENCE_SERVER_MODEL
    async with ServerClient(config) as model:
        request = GenerateRequest(
            messages=[Message.system("Answer in one sentence."), Message.user("What is a GGUF file?")],
            max_tokens=32,
            temperature=0.0,
        )
        response = await model.generate(request)
        print(response.text)
        print(response.finish_reason, response.usage)

        async with model.generate_stream(request) as stream:
            async for chunk in stream:
                print(chunk.text, end="", flush=True)
                if chunk.is_final:
                    print(f"\n[{chunk.finish_reason}] {chunk.usage}")


if __name__ == "__main__":
    anyio.run(main)
