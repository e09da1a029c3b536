"""Drives zen-draft's MCP server with the official Python SDK, as an agent would.

Run by tests/cli/mcp_clients.rs with the interpreter of a virtualenv holding one
major version of the `mcp` package (2.x: `mcp.Client`; 1.x: `ClientSession`):

    python client.py stdio <draft-binary> <repo>
    python client.py http <url> <token>
    python client.py stdio-read-only <draft-binary> <repo>   # only list the tools
    python client.py tools <url> <token>                     # only list the tools

The agent's identity and key come from the environment (stdio) or from the
server (http). It lists tools, resources and prompts, creates, lists, shows,
reads the draft's resource, discards, makes a refused create (a raw secret)
and calls a non-existent apply_draft, checking each answer; every structured
result is also validated against the tool's output schema by the SDK itself.
It prints one JSON document with what the Rust test checks further, and
exits non-zero with a message on the first thing that is not as expected.
"""

import asyncio
import json
import os
import sys

import mcp

MODERN = hasattr(mcp, "Client")  # the 2.x API


def wire(model):
    """A result as it was on the wire (camelCase names), for either SDK."""
    return model.model_dump(by_alias=True, mode="json", exclude_none=True)


def expect(condition, message):
    if not condition:
        raise SystemExit(f"unexpected: {message}")


def endpoint(name):
    return {
        "name": name,
        "provider": "stripe",
        "target_url": f"https://hooks.example.com/{name}",
        "secret_ref": f"vault://kv/webhooks/{name}",
        "rationale": "Payments asked for refund events (INC-42)",
        "links": ["https://tickets.example.com/INC-42"],
        "agent": {"model": "test-model", "session": "s-1", "tool": "client.py"},
    }


async def scenario(session, protocol_version):
    report = {"protocol_version": protocol_version, "sdk_major": 2 if MODERN else 1}

    tools = wire(await session.list_tools())["tools"]
    names = [t["name"] for t in tools]
    expect(names == ["create_endpoint_draft", "discard_draft", "list_drafts", "show_draft"], f"tools {names}")
    for tool in tools:
        expect(tool.get("title"), f"{tool['name']} has a title")
        expect(tool.get("outputSchema", {}).get("type") == "object", f"{tool['name']} has an output schema")
        expect(tool.get("annotations", {}).get("openWorldHint") is False, f"{tool['name']} is not open-world")
    report["tools"] = names

    resources = wire(await session.list_resources())["resources"]
    expect([r["uri"] for r in resources] == ["draft://drafts"], f"resources {resources}")
    templates = wire(await session.list_resource_templates())["resourceTemplates"]
    expect([t["uriTemplate"] for t in templates] == ["draft://drafts/{id}"], f"templates {templates}")
    prompts = wire(await session.list_prompts())["prompts"]
    expect([p["name"] for p in prompts] == ["propose_change"], f"prompts {prompts}")
    prompt = wire(await session.get_prompt("propose_change", {"change": "add a Stripe endpoint"}))
    text = prompt["messages"][0]["content"]["text"]
    expect("create_endpoint_draft" in text and "rationale" in text, f"the prompt walks through a proposal: {text}")

    created = wire(await session.call_tool("create_endpoint_draft", endpoint("stripe-prod")))
    expect(not created.get("isError"), f"create was refused: {created}")
    draft_id = created["structuredContent"]["id"]
    expect(json.loads(created["content"][0]["text"]) == created["structuredContent"], "text and structured agree")
    links = [c for c in created["content"] if c["type"] == "resource_link"]
    expect([l["uri"] for l in links] == [f"draft://drafts/{draft_id}"], f"the result links the draft: {links}")
    report["created"] = draft_id

    listed = wire(await session.call_tool("list_drafts", {}))["structuredContent"]
    expect([d["id"] for d in listed["drafts"]] == [draft_id], f"list {listed}")
    by_type = wire(await session.call_tool("list_drafts", {"type": "route", "all": True}))["structuredContent"]
    expect(by_type["drafts"] == [], f"no route drafts: {by_type}")

    shown = wire(await session.call_tool("show_draft", {"id": draft_id[:8]}))["structuredContent"]
    expect(shown["id"] == draft_id and shown["created_by"].startswith("agent:"), f"show {shown}")
    expect(all(c["ok"] for c in shown["checks"]), f"every check passes: {shown['checks']}")
    expect("+name: stripe-prod" in shown["diff"], "the diff is shown")
    report["shown"] = shown

    read = wire(await session.read_resource(f"draft://drafts/{draft_id}"))
    document = json.loads(read["contents"][0]["text"])
    expect(document["draft"]["id"] == draft_id, f"the resource is the draft: {document}")
    expect("stripe-prod" in document["file"], "the resource carries the draft's file")
    expect([r["record"]["event"] for r in document["records"]] == ["draft_created"], f"records {document['records']}")
    pending = json.loads(wire(await session.read_resource("draft://drafts"))["contents"][0]["text"])
    expect([d["id"] for d in pending["drafts"]] == [draft_id], f"draft://drafts {pending}")

    secret = os.environ["ZEN_TEST_SECRET"]
    refused = wire(await session.call_tool("create_endpoint_draft", {**endpoint("leaky"), "secret_ref": secret}))
    expect(refused.get("isError") is True, f"a raw secret is refused: {refused}")
    expect(refused["content"][0]["text"].startswith("RAW_SECRET: "), f"refusal text: {refused['content'][0]['text']}")
    expect(secret not in json.dumps(refused), "the refusal never echoes the secret")
    document = json.loads(refused["content"][1]["text"])
    expect(document["error"]["code"] == "RAW_SECRET", f"the error document: {document}")
    expect("`draft " not in document["error"]["hint"], "the hint speaks of tool arguments")

    try:
        applied = wire(await session.call_tool("apply_draft", {"id": draft_id}))
        expect(applied.get("isError") is True, f"apply_draft must not exist: {applied}")
        report["apply"] = "tool error"
    except Exception as error:  # the SDK raises on a protocol error (unknown tool)
        report["apply"] = type(error).__name__

    discarded = wire(await session.call_tool("discard_draft", {"id": draft_id, "reason": "superseded"}))
    expect(discarded["structuredContent"]["id"] == draft_id, f"discard {discarded}")
    again = wire(await session.call_tool("discard_draft", {"id": draft_id}))
    expect(again.get("isError") is True and again["content"][0]["text"].startswith("NOT_PENDING: "), f"{again}")
    return report


async def tools_only(session, instructions):
    tools = wire(await session.list_tools())["tools"]
    return {"tools": [t["name"] for t in tools], "instructions": instructions}


async def run_modern(mode, a, b):
    if mode.startswith("stdio"):
        args = ["--repo", b, "mcp"] + (["--read-only"] if mode == "stdio-read-only" else [])
        server = mcp.StdioServerParameters(command=a, args=args, env=dict(os.environ))
    else:
        import httpx2
        from mcp.client.streamable_http import streamable_http_client

        server = streamable_http_client(a, http_client=httpx2.AsyncClient(headers={"Authorization": f"Bearer {b}"}))
    async with mcp.Client(server) as client:
        if mode in ("stdio-read-only", "tools"):
            return await tools_only(client, client.instructions)
        return await scenario(client, client.protocol_version)


async def run_legacy(mode, a, b):
    if mode == "stdio":
        from mcp.client.stdio import stdio_client

        params = mcp.StdioServerParameters(command=a, args=["--repo", b, "mcp"], env=dict(os.environ))
        async with stdio_client(params) as (read, write):
            async with mcp.ClientSession(read, write) as session:
                init = await session.initialize()
                return await scenario(session, init.protocolVersion)
    import httpx
    from mcp.client.streamable_http import streamable_http_client

    http = httpx.AsyncClient(headers={"Authorization": f"Bearer {b}"})
    async with streamable_http_client(a, http_client=http) as (read, write, _):
        async with mcp.ClientSession(read, write) as session:
            init = await session.initialize()
            return await scenario(session, init.protocolVersion)


def main():
    mode, a, b = sys.argv[1:4]
    report = asyncio.run((run_modern if MODERN else run_legacy)(mode, a, b))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
