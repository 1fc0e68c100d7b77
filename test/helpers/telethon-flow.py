# Telethon's side of test/integration/conformance-telethon.test.ts: an unmodified Telethon client
# against the sandbox. Reads its settings from the environment, prints one JSON line per step,
# and after {"step": "offline"} waits for a line on stdin before it reconnects and catches up.
import asyncio, json, os, sys

from telethon import TelegramClient, events
from telethon.crypto import rsa
from telethon.sessions import MemorySession


def say(step, **data):
    print(json.dumps({"step": step, **data}), flush=True)


def first(client, builder, pred):
    """A future for the first event from `builder` that passes `pred`."""
    fut = asyncio.get_running_loop().create_future()

    async def handler(event):
        if pred(event) and not fut.done():
            fut.set_result(event)

    client.add_event_handler(handler, builder)
    return fut


async def main():
    env = os.environ
    rsa.add_key(env["SANDBOX_RSA_PEM"], old=False)  # Telethon trusts Telegram's keys only
    session = MemorySession()
    session.set_dc(2, env["SANDBOX_MTPROTO_HOST"], int(env["SANDBOX_MTPROTO_PORT"]))
    client = TelegramClient(session, 1, "sandbox")
    await client.start(phone=env["PHONE"], code_callback=lambda: env["LOGIN_CODE"])
    me = await client.get_me()
    say("login", id=me.id, layer=__import__("telethon").tl.alltlobjects.LAYER)

    bot = env["BOT"]
    menu = first(client, events.NewMessage(incoming=True), lambda e: e.message.message == env["MENU"])
    await client.send_message(bot, "/start")
    menu = (await asyncio.wait_for(menu, 10)).message
    say("keyboard", text=menu.message, buttons=[[b.text for b in row] for row in menu.buttons])

    edited = first(client, events.MessageEdited(), lambda e: e.message.id == menu.id)
    answer = await menu.click(0)
    say("press", answer=answer.message)
    say("edit", text=(await asyncio.wait_for(edited, 10)).message.message)

    await client.disconnect()
    say("offline")
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    missed = first(client, events.NewMessage(incoming=True), lambda e: e.message.message == env["MISSED"])
    await client.connect()
    await client.catch_up()
    say("caught_up", text=(await asyncio.wait_for(missed, 10)).message.message)
    await client.disconnect()


asyncio.run(main())
